// Opens the gateway's GraphiQL in headless Debian Chromium, runs a query from the editor and
// prints what happened as JSON: the result panel, CSP violations, requests to other hosts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [base, query, screenshot] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'omnigate-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const outcome = { violations: [], foreign: [], errors: [], result: null, headers: null, csp: null };
try {
  await context.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const local = new URL(base).host;
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (!['data:', 'blob:'].includes(url.protocol) && url.host !== local) outcome.foreign.push(request.url());
  });
  page.on('pageerror', (error) => outcome.errors.push(String(error)));
  const response = await page.goto(`${base}/graphql`, { waitUntil: 'load' });
  outcome.csp = response.headers()['content-security-policy'] ?? null;
  const editor = '.graphiql-query-editor .CodeMirror';
  await page.waitForSelector(editor, { timeout: 30000 });
  await page.click(editor);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(query);
  await page.waitForTimeout(600); // GraphiQL re-derives the operation from what was typed
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const panel = document.querySelector('.result-window .CodeMirror');
    return panel && panel.CodeMirror.getValue().includes('"data"');
  }, null, { timeout: 30000 });
  outcome.result = await page.evaluate(() =>
    document.querySelector('.result-window .CodeMirror').CodeMirror.getValue());
  outcome.headers = await page.evaluate(() =>
    [...document.querySelectorAll('.graphiql-editor-tool .CodeMirror')].map((e) => e.CodeMirror.getValue()));
  outcome.violations = await page.evaluate(() => window.__violations);
  if (screenshot) await page.screenshot({ path: screenshot });
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(outcome));
