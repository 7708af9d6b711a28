// Drives the store console in headless Debian Chromium for tests/test_console.py, one command at
// a time: each line on stdin is a JSON command, each answer a JSON line on stdout. The page's
// CSP violations, script errors and requests to other hosts are collected for the `report`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const [base] = process.argv.slice(2);
const profile = mkdtempSync(join(tmpdir(), 'omnigate-console-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 }, // a 10-inch tablet in landscape
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const seen = { violations: [], errors: [], foreign: [] };
await context.addInitScript(() => {
  window.__violations = [];
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
});
const page = context.pages()[0] ?? (await context.newPage());
const local = new URL(base).host;
page.on('request', (request) => {
  const url = new URL(request.url());
  if (!['data:', 'blob:'].includes(url.protocol) && url.host !== local) seen.foreign.push(request.url());
});
page.on('pageerror', (error) => seen.errors.push(String(error)));
const TIMEOUT = 30000;

const commands = {
  async open() {
    const response = await page.goto(`${base}/console`, { waitUntil: 'load' });
    return response.headers()['content-security-policy'] ?? null;
  },
  async signIn({ token, store }) {
    await page.fill('#token', token);
    await page.waitForSelector(`#store option[value="${store}"]`, { state: 'attached', timeout: TIMEOUT });
    await page.selectOption('#store', store);
    await page.click('form.signin button[type=submit]');
    await page.waitForSelector('.top .store', { timeout: TIMEOUT });
    return page.innerText('.top .store');
  },
  async live({ link }) {
    await page.waitForSelector(`[data-link="${link}"]`, { timeout: TIMEOUT });
    return page.isVisible('.offline');
  },
  async tab({ name }) {
    await page.click(`[data-screen="${name}"]`);
    await page.waitForSelector(`[data-screen-name="${name}"]`, { timeout: TIMEOUT });
  },
  async wait({ selector }) {
    await page.waitForSelector(selector, { timeout: TIMEOUT });
  },
  async waitText({ selector, text }) {
    await page.waitForFunction(([s, t]) => document.querySelector(s)?.innerText.trim() === t,
      [selector, text], { timeout: TIMEOUT });
  },
  async click({ selector }) {
    await page.click(selector);
  },
  async fill({ selector, value }) {
    await page.fill(selector, value);
  },
  async text({ selector }) {
    return page.innerText(selector);
  },
  async attribute({ selector, name }) {
    return page.getAttribute(selector, name);
  },
  // The smallest button or field on screen: the touch targets' size.
  async smallestTarget() {
    return page.evaluate(() => Math.min(...[...document.querySelectorAll('button, input, select, textarea')]
      .filter((e) => e.offsetParent !== null).map((e) => Math.min(e.getBoundingClientRect().height,
        e.getBoundingClientRect().width))));
  },
  async viewport({ width, height }) {
    await page.setViewportSize({ width, height });
  },
  async screenshot({ path }) {
    await page.screenshot({ path, fullPage: true });
  },
  async report() {
    return { ...seen, violations: await page.evaluate(() => window.__violations) };
  },
};

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  if (command.op === 'quit') break;
  try {
    const value = await commands[command.op](command);
    process.stdout.write(`${JSON.stringify({ ok: true, value: value ?? null })}\n`);
  } catch (error) {
    const shot = join(tmpdir(), `omnigate-console-failure-${Date.now()}.png`);
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    process.stdout.write(`${JSON.stringify({ ok: false, error: `${error}`, screenshot: shot })}\n`);
  }
}
await context.close();
rmSync(profile, { recursive: true, force: true });
