// GraphiQL's dialogs inject a <style>; the bundle gives it this nonce, which the CSP allows.
window.__webpack_nonce__ = document.querySelector('meta[name="csp-nonce"]').content;
