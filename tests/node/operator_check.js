// Drives headless Chromium through the operator page and prints what it saw as JSON.
// Usage: node operator_check.js <base url> <admin token> <screenshot folder>
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');
const { audit } = require('./accessibility');

const [base, token, shots] = process.argv.slice(2);
const checks = {};
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage();
  await page.setViewport({ width: 1000, height: 1200 });
  page.setDefaultTimeout(60000);
  const text = (sel) => page.$eval(sel, (e) => e.textContent);
  const rows = (sel) => page.$$eval(`${sel} tr`, (r) => r.map((tr) => [...tr.cells].map((c) => c.textContent)));
  await page.goto(base + '/operator', { waitUntil: 'networkidle0' });

  await page.type('#token', 'ws_wrong');
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('signin-status').textContent.includes('failed'));
  checks.bad_token = await text('#signin-status');

  await page.$eval('#token', (e) => { e.value = ''; });
  await page.type('#token', token);
  await page.click('#token-form button[type=submit]');
  await page.waitForFunction(() => !document.getElementById('console').hidden && document.getElementById('queue').textContent);
  checks.queue = await text('#queue');
  checks.providers = await rows('#providers');

  await page.type('#account-name', 'studio');
  await page.$eval('#account-credits', (e) => { e.value = '500'; });
  await page.click('#account-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('accounts').textContent.includes('studio'));
  checks.accounts = await rows('#accounts');

  const studio = checks.accounts.find((r) => r[1] === 'studio')[0];
  await page.select('#grant-account', studio);
  await page.type('#grant-credits', '250');
  await page.type('#grant-reason', 'welcome');
  await page.click('#grant-form button[type=submit]');
  await page.waitForFunction((id) => [...document.querySelectorAll('#accounts tr')]
    .some((tr) => tr.cells[0].textContent === id && tr.cells[2].textContent === '750'), {}, studio);
  checks.after_grant = await rows('#accounts');

  await page.select('#key-account', studio);
  await page.type('#key-name', 'studio-render');
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('new-key').textContent.includes('ws_'));
  checks.new_key = await text('#new-key');
  // The table is drawn again after the key is made: find its row once it is there, and click
  // its button in the same step.
  await page.waitForFunction(() => [...document.querySelectorAll('#keys tr')].some((tr) => tr.cells[1].textContent === 'studio-render'));
  await page.$$eval('#keys tr', (trs) => trs.find((tr) => tr.cells[1].textContent === 'studio-render').querySelector('button').click());
  await page.waitForFunction(() => [...document.querySelectorAll('#keys tr')]
    .some((tr) => tr.cells[1].textContent === 'studio-render' && tr.cells[4].textContent === 'revoked'));
  checks.keys = await rows('#keys');

  // A dead letter and its disabled endpoint (the test made them before opening the page).
  await page.waitForFunction(() => document.querySelectorAll('#dead-letters tr').length > 0);
  checks.dead_letters = await rows('#dead-letters');
  checks.endpoints = await rows('#endpoints');
  await page.$$eval('#endpoints tr', (trs) => trs.find((tr) => tr.cells[1].textContent === 'disabled').querySelector('button').click());
  await page.waitForFunction(() => [...document.querySelectorAll('#endpoints tr')].every((tr) => tr.cells[1].textContent === 'enabled'));
  checks.endpoints_after = await rows('#endpoints');
  await page.click('#resend-all');
  await page.waitForFunction(() => document.getElementById('resend-status').textContent.startsWith('Queued'));
  checks.resend = await text('#resend-status');

  await page.click('#check-ledger');
  await page.waitForFunction(() => document.getElementById('ledger').textContent.startsWith('Ledger'));
  checks.ledger = await text('#ledger');
  await page.screenshot({ path: path.join(shots, 'operator.png'), fullPage: true });
  checks.accessibility = await audit(page);
  await browser.close();
}

main().then(
  () => console.log(JSON.stringify(checks)),
  (err) => {
    console.log(JSON.stringify({ ...checks, failure: String((err && err.stack) || err) }));
    process.exit(1);
  },
);
