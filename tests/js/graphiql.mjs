// Opens the gateway's GraphiQL in headless Debian Chromium, reads its documentation pane, types
// the start of a field to see what autocompletion offers, runs a query from the editor and prints
// what happened as JSON: the docs, the hints, the result panel, the introspection query GraphiQL
// sent, CSP violations, requests to other hosts.
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
const outcome = {
  violations: [], foreign: [], errors: [], result: null, headers: null, csp: null,
  docs: null, queryFields: null, hints: null, introspection: null,
};
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
  page.on('request', (request) => {
    const body = request.postData();
    if (body && body.includes('__schema')) outcome.introspection = JSON.parse(body).query;
  });
  const response = await page.goto(`${base}/graphql`, { waitUntil: 'load' });
  outcome.csp = response.headers()['content-security-policy'] ?? null;
  const editor = '.graphiql-query-editor .CodeMirror';
  await page.waitForSelector(editor, { timeout: 30000 });

  // The documentation pane: the root types once the schema loaded ("Error fetching schema" if not).
  await page.click('button[aria-label="Show Documentation Explorer"]');
  const docs = '.graphiql-doc-explorer';
  await page.waitForFunction((selector) => {
    const text = document.querySelector(selector)?.innerText ?? '';
    return /Query/.test(text) || /Error fetching schema/i.test(text);
  }, docs, { timeout: 30000 });
  outcome.docs = await page.innerText(docs);
  if (/Query/.test(outcome.docs) && !/Error fetching schema/i.test(outcome.docs)) {
    await page.click(`${docs} a:has-text("Query")`);
    await page.waitForFunction((selector) => /products/.test(document.querySelector(selector)?.innerText ?? ''),
      docs, { timeout: 10000 });
    outcome.queryFields = await page.innerText(docs);
  }

  // Autocompletion: typing the start of a field offers the fields that match.
  await page.click(editor);
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type('{ prod', { delay: 50 });
  await page.waitForSelector('.CodeMirror-hints', { timeout: 10000 });
  outcome.hints = await page.$$eval('.CodeMirror-hints li', (items) => items.map((li) => li.innerText));
  await page.keyboard.press('Escape');

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
