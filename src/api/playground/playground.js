// The playground: sign in with a key, pick a dialect and a model, fill a form made from that
// dialect's OpenAPI document (its ranges and defaults are the server's), submit, watch, cancel,
// copy the exact request as curl.
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

// ---- dialects: how each one's tasks are created, read and canceled ----
// A task read in any dialect becomes one view: status (pending, processing, completed,
// failed), progress, result links, error, and whether it can still be canceled.
const finished = (status) => status === 'completed' || status === 'failed';
const dialects = {
  unified: {
    idOf: (j) => j.id,
    query: (id) => `/v1/tasks/${id}`,
    cancel: (id) => `/v1/tasks/${id}/cancel`,
    view: (j) => ({ id: j.id, status: j.status, progress: j.progress, results: j.results || [],
                    error: j.error && j.error.message, canCancel: Boolean(j.task_info && j.task_info.can_cancel) }),
  },
  market: {
    refused: (j) => !j || j.code !== 200,
    idOf: (j) => j.data.taskId,
    query: (id) => `/api/v1/jobs/recordInfo?taskId=${encodeURIComponent(id)}`,
    cancel: (id) => `/api/v1/jobs/cancelTask?taskId=${encodeURIComponent(id)}`,
    view: (j) => {
      const d = j.data;
      const status = { waiting: 'pending', generating: 'processing', success: 'completed', fail: 'failed' }[d.state] || d.state;
      const results = d.resultJson ? (JSON.parse(d.resultJson).resultUrls || []) : [];
      return { id: d.taskId, status, progress: d.progress, results, error: d.failMsg, canCancel: !finished(status) };
    },
  },
  skills_video: {
    idOf: (j) => j.id,
    query: (id) => `/api/v1/generation/${id}`,
    cancel: (id) => `/api/v1/generation/${id}/cancel`,
    view: (j) => {
      const status = { IN_QUEUE: 'pending', IN_PROGRESS: 'processing', COMPLETED: 'completed' }[j.status] || 'failed';
      const items = j.data ? (j.data.videos || j.data.images || []) : [];
      return { id: j.id, status, progress: j.progress, results: items.map((i) => i.url),
               error: j.status === 'CANCELED' ? 'canceled' : j.message, canCancel: !finished(status) };
    },
  },
  dashscope: {
    idOf: (j) => j.output.task_id,
    query: (id) => `/api/v1/tasks/${id}`,
    cancel: (id) => `/api/v1/tasks/${id}/cancel`,
    view: (j) => {
      const o = j.output;
      const status = { PENDING: 'pending', RUNNING: 'processing', SUCCEEDED: 'completed' }[o.task_status] || 'failed';
      const images = (o.choices || []).flatMap((c) => c.message.content.map((part) => part.image));
      return { id: o.task_id, status, progress: status === 'completed' ? 100 : 0,
               results: o.video_url ? [o.video_url] : images,
               error: o.task_status === 'CANCELED' ? 'canceled' : o.message, canCancel: o.task_status === 'PENDING' };
    },
  },
};
const dialect = () => dialects[$('dialect').value];

// ---- models and forms, from the dialect's OpenAPI document ----
// Every create operation's body shapes that a parser wrote (they carry examples); a shape with
// a model enum gives one entry per model, one without names its model in the path.
async function loadModels() {
  const doc = await (await fetch(`/openapi/${$('dialect').value}.json`)).json();
  state.shapes = [];
  for (const [path, operations] of Object.entries(doc.paths)) {
    const op = operations.post;
    const media = op && op.requestBody && op.requestBody.content['application/json'];
    if (!media || path.includes('/sse/')) continue;
    const headers = {};
    for (const p of op.parameters || []) {
      if (p.in === 'header' && p.required) headers[p.name] = p.schema.enum[0];
    }
    for (const shape of media.schema.oneOf || [media.schema]) {
      if (!shape.examples) continue;
      const model = shape.properties.model;
      const ids = !model ? [null] : model.enum || [model.const];
      for (const id of ids) {
        const named = path.split('/generation/')[1];
        const label = id || (shape.title && !named.endsWith(shape.title) ? `${named} · ${shape.title}` : named);
        state.shapes.push({ id, label, path, shape, headers });
      }
    }
  }
  const select = $('model');
  select.replaceChildren(...state.shapes.map((s, i) => new Option(s.label, String(i))));
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
    // Lists of objects (DashScope's messages and media), maps (voice bindings): edited as JSON.
    el = document.createElement('textarea');
    el.placeholder = 'JSON';
    el.dataset.json = 'true';
  }
  el.id = id;
  el.name = name;
  el.dataset.kind = el.dataset.json ? 'json' : isUriList(s) ? 'urls' : s.type === 'integer' ? 'integer'
    : s.type === 'boolean' ? 'boolean' : 'string';
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

// The shape's fields, nested objects flattened to dotted names ("input.prompt"), each with
// whether the body must carry it.
function fieldsOf(schema, prefix = '', required = true) {
  const needed = new Set(schema.required || []);
  return Object.entries(schema.properties).flatMap(([name, s]) => {
    const dotted = prefix + name;
    if (s.type === 'object' && s.properties) return fieldsOf(s, `${dotted}.`, required && needed.has(name));
    return [[dotted, s, required && needed.has(name)]];
  });
}

function exampleValue(dotted) {
  return dotted.split('.').reduce((v, part) => (v === undefined ? v : v[part]), current().shape.examples[0]);
}

function renderFields() {
  const { shape } = current();
  $('model-help').textContent = shape.description || '';
  const rows = [];
  for (const [name, s, required] of fieldsOf(shape)) {
    if (name === 'model' || (s.description || '').startsWith('another name for')) continue;
    const el = control(name, s, required);
    if (el.dataset.kind === 'json' && required) el.value = JSON.stringify(exampleValue(name), null, 1);
    const row = document.createElement('div');
    const label = document.createElement('label');
    label.htmlFor = el.id;
    label.textContent = required ? `${name} *` : name;
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

// The request body; throws a message naming the field when a JSON field does not parse.
function body() {
  const out = current().id ? { model: current().id } : {};
  const put = (dotted, value) => {
    const parts = dotted.split('.');
    let at = out;
    for (const part of parts.slice(0, -1)) at = at[part] = at[part] || {};
    at[parts[parts.length - 1]] = value;
  };
  for (const el of $('fields').querySelectorAll('[name]')) {
    const v = el.value.trim();
    if (!v) continue;
    if (el.dataset.kind === 'integer') put(el.name, Number(v));
    else if (el.dataset.kind === 'boolean') put(el.name, v === 'true');
    else if (el.dataset.kind === 'urls') put(el.name, v.split(/\s+/).filter(Boolean));
    else if (el.dataset.kind === 'json') {
      try { put(el.name, JSON.parse(v)); } catch { throw new Error(`${el.name}: not valid JSON`); }
    } else put(el.name, v);
  }
  return out;
}

function curl() {
  const quote = (text) => `'${text.replaceAll("'", "'\\''")}'`;
  const headers = Object.entries(current().headers).map(([name, value]) => ` -H ${quote(`${name}: ${value}`)}`).join('');
  return `curl -X POST ${quote(location.origin + current().path)} -H "Authorization: Bearer $WANSERVE_KEY" ` +
         `-H 'Content-Type: application/json'${headers} -d ${quote(JSON.stringify(body()))}`;
}

// ---- tasks ----
// Each task change asks again without waiting; an answer overtaken by a later request is
// dropped, so the list never goes back to an older state.
let recentAsked = 0;
async function renderRecent() {
  const asked = ++recentAsked;
  const answer = await api('GET', '/v1/tasks?limit=20');
  if (!answer.ok || asked !== recentAsked) return;
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

const isVideoUrl = (url) => /\.(mp4|webm|mov)(\?|$)/.test(new URL(url, location.href).pathname);

// Shows a task's view (dialects[…].view).
function showTask(task) {
  const known = state.task && state.task.id === task.id && state.task.status === task.status;
  state.task = task;
  if (!known) renderRecent();
  $('task').hidden = false;
  $('task-progress').value = task.progress || 0;
  let text = `${task.id}: ${task.status}, ${task.progress || 0}%`;
  if (task.status === 'failed' && task.error) text += ` (${task.error})`;
  $('task-status').textContent = text;
  $('cancel').hidden = !task.canCancel;
  if (task.status === 'completed') {
    const items = task.results.map((url) => {
      const video = isVideoUrl(url);
      const media = document.createElement(video ? 'video' : 'img');
      media.src = url;
      if (video) media.controls = true;
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

// A dialect's answer: refused (with the server's message) or the JSON.
function refusal(d, answer) {
  if (answer.ok && !(d.refused && d.refused(answer.json))) return '';
  const j = answer.json || {};
  return (j.error && j.error.message) || j.message || j.msg || `the server answered ${answer.status}`;
}

async function poll() {
  if (!state.task) return;
  const d = state.task.dialect;
  const answer = await api('GET', d.query(state.task.id));
  if (refusal(d, answer)) return;
  const view = { ...d.view(answer.json), dialect: d };
  showTask(view);
  if (finished(view.status)) {
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
  let request;
  try { request = JSON.stringify(body()); } catch (e) { $('form-error').textContent = e.message; return; }
  $('form-error').textContent = '';
  const d = dialect();
  const answer = await api('POST', current().path, request, { 'Content-Type': 'application/json', ...current().headers });
  const refused = refusal(d, answer);
  if (refused) {
    $('form-error').textContent = `Refused: ${refused}`;
    return;
  }
  showTask({ id: d.idOf(answer.json), status: 'pending', progress: 0, results: [], canCancel: true, dialect: d });
  clearInterval(state.timer);
  state.timer = setInterval(poll, 1000);
  poll();
}

document.addEventListener('DOMContentLoaded', () => {
  $('key-form').addEventListener('submit', (e) => { e.preventDefault(); signIn($('key').value.trim()); });
  $('sign-out').addEventListener('click', () => { sessionStorage.removeItem('wanserve.key'); location.reload(); });
  $('dialect').addEventListener('change', loadModels);
  $('model').addEventListener('change', renderFields);
  $('task-form').addEventListener('submit', submit);
  $('copy-curl').addEventListener('click', async () => {
    let text;
    try { text = curl(); } catch (e) { $('form-error').textContent = e.message; return; }
    $('curl-text').textContent = text;
    $('curl-text').hidden = false;
    try { await navigator.clipboard.writeText(text); $('form-error').textContent = 'Copied.'; }
    catch { $('form-error').textContent = 'Copy it from below.'; }
  });
  $('cancel').addEventListener('click', async () => {
    const d = state.task.dialect;
    const answer = await api('POST', d.cancel(state.task.id));
    const refused = refusal(d, answer);
    if (refused) $('task-status').textContent = `Cancel refused: ${refused}`;
    else poll();
  });
  if (state.key) { $('key').value = state.key; signIn(state.key); }
});
