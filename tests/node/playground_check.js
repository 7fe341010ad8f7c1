// Drives Debian's headless Chromium through the playground with puppeteer-core and prints what
// it saw as JSON (one entry per check, with what was observed), for tests/e2e to assert.
// Usage: node playground_check.js <base url> <good key> <local clip.mp4> <screenshot folder>
'use strict';
const fs = require('fs');
const path = require('path');
const puppeteer = require('puppeteer-core');
const { audit } = require('./accessibility');

const [base, key, clip, shots] = process.argv.slice(2);
const checks = {};
const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => fs.existsSync(p));

async function main() {
  fs.mkdirSync(shots, { recursive: true });
  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--autoplay-policy=no-user-gesture-required'],
  });
  const page = await browser.newPage();
  await page.setViewport({ width: 900, height: 1200 });
  page.setDefaultTimeout(60000);
  const text = (sel) => page.$eval(sel, (e) => e.textContent);
  const shot = (name) => page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });

  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await shot('signin');
  checks.accessibility = { signin: await audit(page) };

  // A bad key gets a clear message and no form.
  await page.type('#key', 'ws_not_a_key');
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('account').textContent.includes('Sign-in failed'));
  checks.bad_key = { message: await text('#account'), form_hidden: await page.$eval('#create', (e) => e.hidden) };

  await page.$eval('#key', (e) => { e.value = ''; });
  await page.type('#key', key);
  await page.click('#key-form button[type=submit]');
  await page.waitForFunction(() => !document.getElementById('create').hidden && document.querySelector('#model option'));
  checks.signed_in = { account: await text('#account'), models: await page.$$eval('#model option', (o) => o.map((x) => x.textContent)) };

  const choose = async (model) => {
    await page.$eval('#model', (s, m) => {
      s.value = [...s.options].find((o) => o.textContent === m).value;
      s.dispatchEvent(new Event('change'));
    }, model);
  };
  const fill = async (name, value) => {
    await page.$eval(`[name="${name}"]`, (e, v) => { e.value = v; }, String(value));
  };
  // Submits and follows the task to its end; returns the statuses and progress seen.
  const taskId = async () => (await page.$eval('#task-status', (e) => e.textContent)).split(':')[0];
  const run = async () => {
    // The section still shows the previous task until the server answers: wait for the new one.
    const previous = await taskId();
    await page.click('#submit');
    await page.waitForFunction((p) => {
      const status = document.getElementById('task-status').textContent;
      return !document.getElementById('task').hidden && status && status.split(':')[0] !== p;
    }, {}, previous);
    const progress = new Set();
    for (let i = 0; i < 600; ++i) {
      const status = await text('#task-status');
      progress.add(await page.$eval('#task-progress', (e) => e.value));
      if (/: (completed|failed)/.test(status)) return { status, progress: [...progress] };
      await new Promise((r) => setTimeout(r, 100));
    }
    return { status: await text('#task-status'), progress: [...progress] };
  };

  // An image.
  await choose('wan-2.7-image');
  await fill('prompt', 'a lighthouse at dusk');
  checks.image = await run();
  await page.waitForFunction(() => { const i = document.querySelector('#results img'); return i && i.complete && i.naturalWidth > 0; });
  checks.image.width = await page.$eval('#results img', (i) => i.naturalWidth);
  await shot('image');
  checks.accessibility.result = await audit(page);

  // A video that plays, progress moving on the way.
  await choose('wan2.7-text-to-video');
  await fill('prompt', 'a boat on a lake');
  await fill('duration', 2);
  checks.video = await run();
  await page.waitForFunction(() => { const v = document.querySelector('#results video'); return v && v.readyState >= 2; });
  checks.video.plays = await page.$eval('#results video', async (v) => {
    v.muted = true;
    let error = '';
    try { await v.play(); } catch (e) { error = String(e); }
    for (let i = 0; i < 40 && v.currentTime === 0; ++i) await new Promise((r) => setTimeout(r, 100));
    return { duration: v.duration, time: v.currentTime, width: v.videoWidth, error,
             decoded: v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : -1 };
  });
  await shot('video');

  // Out of range: refused before it is sent.
  const before = await page.$$eval('#recent-rows tr', (r) => r.length);
  await fill('duration', 99);
  await page.click('#submit');
  checks.out_of_range = {
    message: await text('#form-error'),
    invalid: await page.$eval('[name="duration"]', (e) => !e.validity.valid),
    tasks_before: before,
    tasks_after: await page.$$eval('#recent-rows tr', (r) => r.length),
  };
  await fill('duration', 2);

  // Refused by the server: an edit of more pictures than editing takes.
  await choose('wan-2.7-image');
  await fill('prompt', 'in watercolour');
  await fill('image_urls', 'https://example.com/a.png\nhttps://example.com/b.png');
  await fill('n', 5);
  await page.click('#submit');
  await page.waitForFunction(() => document.getElementById('form-error').textContent.startsWith('Refused'));
  checks.server_refusal = { message: await text('#form-error') };

  // An upload, then an edit of it.
  await choose('wan2.7-video-edit');
  await fill('prompt', 'in clay');
  const input = await page.$('[name="video_urls"] ~ input[type=file]');
  await input.uploadFile(clip);
  await page.waitForFunction(() => document.querySelector('[name="video_urls"]').value.includes('/files/'));
  checks.edit = { uploaded: await page.$eval('[name="video_urls"]', (e) => e.value) };
  Object.assign(checks.edit, await run());
  await shot('edit');

  // Cancel a task while it runs.
  await choose('wan2.7-text-to-video');
  await fill('prompt', 'a long boat ride');
  await fill('duration', 15);
  const running = await taskId();
  await page.click('#submit');
  await page.waitForFunction((p) => document.getElementById('task-status').textContent.split(':')[0] !== p &&
                                    !document.getElementById('cancel').hidden, {}, running);
  await page.click('#cancel');
  await page.waitForFunction(() => /: failed/.test(document.getElementById('task-status').textContent));
  checks.cancel = { status: await text('#task-status') };
  // The list is asked again on each change, so it follows the task a moment later.
  await page.waitForFunction(() => {
    const newest = document.querySelector('#recent-rows tr td:nth-child(3)');
    return newest && /failed/.test(newest.textContent);
  });

  checks.recent = await page.$$eval('#recent-rows tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
  checks.curl = await page.evaluate(async () => {
    document.getElementById('copy-curl').click();
    await new Promise((r) => setTimeout(r, 200));
    return document.getElementById('curl-text').textContent;
  });
  await shot('playground');
  checks.accessibility.curl = await audit(page);

  // The other dialects: the form is made from their documents, tasks are created, polled and
  // shown in them, and the curl command is theirs.
  const speak = async (dialect, model) => {
    await page.select('#dialect', dialect);
    await page.waitForFunction((m) => [...document.querySelectorAll('#model option')].some((o) => o.textContent === m), {}, model);
    await choose(model);
  };
  checks.dialects = {};
  await speak('market', 'wan/2-7-image');
  await fill('input.prompt', 'a lighthouse at dusk');
  checks.dialects.market = await run();
  await page.waitForFunction(() => { const i = document.querySelector('#results img'); return i && i.complete && i.naturalWidth > 0; });
  await speak('skills_video', 'wan/wan-v2.7');
  await fill('prompt', 'a lighthouse at dawn');
  checks.dialects.skills_video = await run();
  await page.waitForFunction(() => { const i = document.querySelector('#results img'); return i && i.complete && i.naturalWidth > 0; });
  await speak('dashscope', 'wan2.7-t2v');
  await fill('input.prompt', 'a boat on a lake');
  await fill('parameters.duration', 2);
  checks.dialects.dashscope = await run();
  await page.waitForFunction(() => { const v = document.querySelector('#results video'); return v && v.readyState >= 2; });
  checks.dialects.fields = await page.$$eval('#fields [name]', (els) => els.map((e) => e.name));
  checks.curl_dashscope = await page.evaluate(async () => {
    document.getElementById('copy-curl').click();
    await new Promise((r) => setTimeout(r, 200));
    return document.getElementById('curl-text').textContent;
  });
  await shot('dashscope');
  // Readable on a phone: nothing wider than a 360 px screen.
  await page.setViewport({ width: 360, height: 800 });
  checks.phone = await page.evaluate(() => ({
    scroll_width: document.documentElement.scrollWidth,
    wider: [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 360)
      .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ${Math.round(e.getBoundingClientRect().right)}`),
  }));
  await shot('phone');
  await browser.close();
}

main().then(
  () => console.log(JSON.stringify(checks)),
  (err) => {
    console.log(JSON.stringify({ ...checks, failure: String(err && err.stack || err) }));
    process.exit(1);
  },
);
