// The playground: sign in with a key, pick a model, fill a form made from the unified dialect's
// OpenAPI document (its ranges and defaults are the server's), submit, watch, cancel.
'use strict';

const $ = (id) => document.getElementById(id);
const state = { key: sessionStorage.getItem('wanserve.key') || '', shapes: [], task: null, timer: null };

function authHeaders(extra = {}) {
  return { Authorization: `Bearer ${state.key}`, ...extra };
}

async function api(method, path, body, headers = {}) {
  const init = { method, headers: authHeaders(headers) };
  if (body !== undefined) init.body = body;
  const res = await fetch(path, init);
  let json = null;
  try { json = await res.json(); } catch { json = null; }
  return { ok: res.ok, status: res.status, json };
}

function errorText(answer) {
  const e = answer.json && answer.json.error;
  if (e && e.message) return e.message;
  return `the server answered ${answer.status}`;
}

// ---- sign in ----
async function signIn(key) {
  state.key = key;
  const credits = await api('GET', '/v1/credits');
  if (!credits.ok) {
    $('account').textContent = `Sign-in failed: ${errorText(credits)}`;
    $('account').className = 'error';
    sessionStorage.removeItem('wanserve.key');
    state.key = '';
    return;
  }
  sessionStorage.setItem('wanserve.key', key);
  const user = credits.json.data.user;
  $('account').className = '';
  $('account').textContent = `Signed in. Credits remaining: ${user.remaining_credits} (used ${user.used_credits}).`;
  $('sign-out').hidden = false;
  $('create').hidden = false;
  $('recent').hidden = false;
  renderRecent();
  if (!state.shapes.length) await loadModels();
}

// ---- models and forms, from the OpenAPI document ----
async function loadModels() {
  const doc = await (await fetch('/openapi/unified.json')).json();
  const add = (path, schema) => {
    const shapes = schema.oneOf || [schema];
    for (const shape of shapes) {
      for (const id of shape.properties.model.enum) state.shapes.push({ id, path, shape });
    }
  };
  for (const path of ['/v1/images/generations', '/v1/videos/generations']) {
    add(path, doc.paths[path].post.requestBody.content['application/json'].schema);
  }
  const select = $('model');
  select.replaceChildren(...state.shapes.map((s, i) => new Option(s.id, String(i))));
  select.addEventListener('change', renderFields);
  renderFields();
}

function current() { return state.shapes[Number($('model').value)]; }

function isUri(s) { return s && (s.format === 'uri' || (s.oneOf && s.oneOf.some((b) => b.format === 'uri'))); }
function isUriList(s) { return s && ((s.type === 'array' && isUri(s.items)) || (s.oneOf && s.oneOf.some((b) => b.type === 'array'))); }

function help(name, s) {
  const parts = [];
  if (s.minimum !== undefined || s.maximum !== undefined) parts.push(`${s.minimum ?? ''}–${s.maximum ?? ''}`);
  if (s.maxLength !== undefined && !isUri(s)) parts.push(`up to ${s.maxLength} characters`);
  const list = isUriList(s) ? (s.maxItems !== undefined ? s : s.oneOf.find((b) => b.type === 'array')) : null;
  if (list && list.maxItems !== undefined) parts.push(`up to ${list.maxItems}, one per line`);
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  if (s.description) parts.push(s.description);
  return parts.join('; ');
}

function control(name, s, required) {
  const id = `field-${name}`;
  let el;
  const stringEnum = s.enum || (s.oneOf && (s.oneOf.find((b) => b.enum) || {}).enum);
  if (stringEnum) {
    el = document.createElement('select');
    if (!required) el.append(new Option('(default)', ''));
    for (const v of stringEnum) el.append(new Option(v, v));
    if (s.default !== undefined) el.value = s.default;
  } else if (s.type === 'integer') {
    el = document.createElement('input');
    el.type = 'number';
    el.step = '1';
    if (s.minimum !== undefined) el.min = s.minimum;
    if (s.maximum !== undefined) el.max = s.maximum;
    if (s.default !== undefined) el.placeholder = s.default;
  } else if (s.type === 'boolean') {
    el = document.createElement('select');
    el.append(new Option('(default)', ''), new Option('true', 'true'), new Option('false', 'false'));
  } else if (isUriList(s)) {
    el = document.createElement('textarea');
    el.placeholder = 'https://…  (one per line, or upload)';
  } else if (isUri(s)) {
    el = document.createElement('input');
    el.type = 'url';
    el.placeholder = s.pattern ? 'https://…' : 'https://…  (or upload)';
    if (s.maxLength) el.maxLength = s.maxLength;
  } else if (s.type === 'string') {
    el = document.createElement(name.includes('prompt') ? 'textarea' : 'input');
    if (el.tagName === 'INPUT') el.type = 'text';
    if (s.maxLength) el.maxLength = s.maxLength;
    if (s.minLength) el.minLength = s.minLength;
  } else {
    return null;  // an object (voice bindings): left to the API
  }
  el.id = id;
  el.name = name;
  el.dataset.kind = isUriList(s) ? 'urls' : s.type === 'integer' ? 'integer' : s.type === 'boolean' ? 'boolean' : 'string';
  if (required) el.required = true;
  return el;
}

async function upload(file, target) {
  $('form-error').textContent = `Uploading ${file.name}…`;
  const answer = await api('POST', '/v1/files', file, { 'Content-Type': file.type || 'application/octet-stream' });
  if (!answer.ok) {
    $('form-error').textContent = `Upload refused: ${errorText(answer)}`;
    return;
  }
  $('form-error').textContent = '';
  target.value = target.tagName === 'TEXTAREA' && target.value ? `${target.value}\n${answer.json.url}` : answer.json.url;
}

function renderFields() {
  const { shape } = current();
  $('model-help').textContent = shape.description || '';
  const required = new Set(shape.required || []);
  const rows = [];
  for (const [name, s] of Object.entries(shape.properties)) {
    if (name === 'model' || (s.description || '').startsWith('another name for')) continue;
    const el = control(name, s, required.has(name));
    if (!el) continue;
    const row = document.createElement('div');
    const label = document.createElement('label');
    label.htmlFor = el.id;
    label.textContent = required.has(name) ? `${name} *` : name;
    row.append(label, el);
    const text = help(name, s);
    if (text) {
      const p = document.createElement('p');
      p.className = 'help';
      p.id = `${el.id}-help`;
      p.textContent = text;
      el.setAttribute('aria-describedby', p.id);
      row.append(p);
    }
    if ((isUri(s) || isUriList(s)) && !s.pattern) {  // media, not the callback URL
      const file = document.createElement('input');
      file.type = 'file';
      file.className = 'upload';
      file.accept = 'image/*,video/*,audio/*';
      file.multiple = isUriList(s);
      file.setAttribute('aria-label', `upload for ${name}`);
      file.addEventListener('change', async () => {
        for (const f of file.files) await upload(f, el);
        file.value = '';
      });
      row.append(file);
    }
    rows.push(row);
  }
  $('fields').replaceChildren(...rows);
}

function body() {
  const out = { model: current().id };
  for (const el of $('fields').querySelectorAll('[name]')) {
    const v = el.value.trim();
    if (!v) continue;
    if (el.dataset.kind === 'integer') out[el.name] = Number(v);
    else if (el.dataset.kind === 'boolean') out[el.name] = v === 'true';
    else if (el.dataset.kind === 'urls') out[el.name] = v.split(/\s+/).filter(Boolean);
    else out[el.name] = v;
  }
  return out;
}

function curl() {
  const json = JSON.stringify(body()).replaceAll("'", "'\\''");
  return `curl -X POST '${location.origin}${current().path}' -H "Authorization: Bearer $WANSERVE_KEY" ` +
         `-H 'Content-Type: application/json' -d '${json}'`;
}

// ---- tasks ----
async function renderRecent() {
  const answer = await api('GET', '/v1/tasks?limit=20');
  if (!answer.ok) return;
  $('recent-rows').replaceChildren(...answer.json.data.map((t) => {
    const tr = document.createElement('tr');
    for (const v of [t.id, t.model, `${t.status}${t.status === 'processing' ? ` ${t.progress}%` : ''}`,
                     t.usage ? t.usage.credits_reserved : '']) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    return tr;
  }));
}

function showTask(task) {
  const known = state.task && state.task.id === task.id && state.task.status === task.status;
  state.task = task;
  if (!known) renderRecent();
  $('task').hidden = false;
  $('task-progress').value = task.progress || 0;
  let text = `${task.id}: ${task.status}, ${task.progress || 0}%`;
  if (task.status === 'failed' && task.error) text += ` (${task.error.message})`;
  $('task-status').textContent = text;
  $('cancel').hidden = !(task.task_info && task.task_info.can_cancel);
  if (task.status === 'completed') {
    const items = (task.results || []).map((url) => {
      const media = document.createElement(task.type === 'video' ? 'video' : 'img');
      media.src = url;
      if (task.type === 'video') media.controls = true;
      else media.alt = `result of ${task.id}`;
      const link = document.createElement('a');
      link.href = url;
      link.textContent = 'download';
      return [media, link];
    }).flat();
    const note = document.createElement('p');
    note.className = 'help';
    note.textContent = 'Links stay valid for 24 hours after completion.';
    $('results').replaceChildren(...items, note);
  } else {
    $('results').replaceChildren();
  }
}

async function poll() {
  if (!state.task) return;
  const answer = await api('GET', `/v1/tasks/${state.task.id}`);
  if (answer.ok) showTask(answer.json);
  if (answer.ok && (answer.json.status === 'completed' || answer.json.status === 'failed')) {
    clearInterval(state.timer);
    state.timer = null;
    await signIn(state.key);  // credits after the charge or the refund
  }
}

async function submit(event) {
  event.preventDefault();
  const form = $('task-form');
  if (!form.checkValidity()) {
    form.reportValidity();
    $('form-error').textContent = 'Some fields are outside what this model takes; they are marked.';
    return;
  }
  $('form-error').textContent = '';
  const answer = await api('POST', current().path, JSON.stringify(body()), { 'Content-Type': 'application/json' });
  if (!answer.ok) {
    $('form-error').textContent = `Refused: ${errorText(answer)}`;
    return;
  }
  showTask(answer.json);
  clearInterval(state.timer);
  state.timer = setInterval(poll, 1000);
}

document.addEventListener('DOMContentLoaded', () => {
  $('key-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('key').value.trim()); });
  $('sign-out').addEventListener('click', () => { sessionStorage.removeItem('wanserve.key'); location.reload(); });
  $('task-form').addEventListener('submit', submit);
  $('copy-curl').addEventListener('click', async () => {
    const text = curl();
    $('curl-text').textContent = text;
    $('curl-text').hidden = false;
    try { await navigator.clipboard.writeText(text); $('form-error').textContent = 'Copied.'; }
    catch { $('form-error').textContent = 'Copy it from below.'; }
  });
  $('cancel').addEventListener('click', async () => {
    const answer = await api('POST', `/v1/tasks/${state.task.id}/cancel`);
    if (answer.ok) showTask(answer.json); else $('task-status').textContent = `Cancel refused: ${errorText(answer)}`;
  });
  if (state.key) { $('key').value = state.key; signIn(state.key); }
});
