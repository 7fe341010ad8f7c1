// The operator page: the admin API (/admin/v1/…) behind an admin token, with /readyz and
// /metrics for the queue and the providers.
'use strict';

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem('wanserve.admin') || '';

async function admin(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  let json = null;
  try { json = await res.json(); } catch { json = null; }
  if (!res.ok) throw new Error((json && json.error && (json.error.message || json.error)) || `the server answered ${res.status}`);
  return json;
}

function cells(values) {
  const tr = document.createElement('tr');
  for (const v of values) {
    const td = document.createElement('td');
    if (v instanceof Node) td.append(v); else td.textContent = v ?? '';
    tr.append(td);
  }
  return tr;
}

async function refresh() {
  const [accounts, keys] = await Promise.all([admin('GET', '/admin/v1/accounts'), admin('GET', '/admin/v1/keys')]);
  const detailed = await Promise.all(accounts.data.map((a) => admin('GET', `/admin/v1/accounts/${a.id}`)));
  $('accounts').replaceChildren(...detailed.map((a) =>
    cells([a.id, a.name, a.unlimited ? 'unlimited' : a.available_credits, a.spent_credits, a.permanent_credits, a.subscription_credits])));
  for (const select of [$('grant-account'), $('key-account')]) {
    const was = select.value;
    select.replaceChildren(...detailed.map((a) => new Option(`${a.name} (${a.id})`, a.id)));
    if (was) select.value = was;
  }
  $('keys').replaceChildren(...keys.data.map((k) => {
    const revoke = button('Revoke', async () => { await admin('POST', `/admin/v1/keys/${k.id}/revoke`); },
                          Boolean(k.revoked_at));
    return cells([`${k.id} (${k.prefix}…)`, k.name, k.account_id, k.role, k.revoked_at ? 'revoked' : 'active', revoke]);
  }));
  await refreshCallbacks();
  const ready = await (await fetch('/readyz')).json();
  $('providers').replaceChildren(...Object.entries(ready.providers).map(([name, h]) =>
    cells([name, h.circuit_open ? 'open' : 'closed', h.configuration_fault || ''])));
  const metrics = await (await fetch('/metrics')).text();
  const gauge = (name, label) => {
    const line = metrics.split('\n').find((l) => l.startsWith(label ? `${name}{${label}}` : `${name} `));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  $('queue').textContent = `Queue: ${gauge('wanserve_queue_depth')} waiting, ` +
    `${gauge('wanserve_tasks', 'state="running"')} running; store ${ready.store}; ${ready.status}.`;
}

function button(label, onClick, disabled = false) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.disabled = disabled;
  b.addEventListener('click', () => act(onClick));
  return b;
}

async function refreshCallbacks() {
  const [dead, endpoints] = await Promise.all([admin('GET', '/admin/v1/callbacks/failed'),
                                               admin('GET', '/admin/v1/callbacks/endpoints')]);
  $('dead-letters').replaceChildren(...dead.data.map((d) => cells([d.id, d.task_id, d.event, d.url, d.attempts,
    d.last_error, button('Resend', async () => {
      const resent = await admin('POST', `/admin/v1/callbacks/${d.id}/resend`);
      $('resend-status').textContent = `Queued ${resent.id} to ${resent.url}.`;
    })])));
  $('resend-all').disabled = dead.data.length === 0;
  $('endpoints').replaceChildren(...endpoints.data.map((e) => cells([e.endpoint, e.disabled ? 'disabled' : 'enabled',
    e.consecutive_failures, e.failing_since || '', e.last_error,
    button('Enable', async () => { await admin('POST', '/admin/v1/callbacks/endpoints/enable', { endpoint: e.endpoint }); },
           !e.disabled)])));
}

async function act(fn) {
  $('error').textContent = '';
  try { await fn(); await refresh(); } catch (e) { $('error').textContent = e.message; }
}

async function signIn() {
  try {
    await admin('GET', '/admin/v1/accounts');
  } catch (e) {
    $('signin-status').textContent = `Sign-in failed: ${e.message}`;
    $('signin-status').className = 'error';
    $('console').hidden = true;
    return;
  }
  sessionStorage.setItem('wanserve.admin', token);
  $('signin-status').className = '';
  $('signin-status').textContent = 'Signed in.';
  $('console').hidden = false;
  await act(async () => {});
}

document.addEventListener('DOMContentLoaded', () => {
  $('token-form').addEventListener('submit', (e) => { e.preventDefault(); token = $('token').value.trim(); signIn(); });
  $('check-ledger').addEventListener('click', () => act(async () => {
    const check = await admin('GET', '/admin/v1/ledger/check');
    $('ledger').textContent = check.consistent ? 'Ledger: every balance explained, every hold settled once.'
                                               : `Ledger: ${check.problems.length} problem(s): ${JSON.stringify(check.problems)}`;
  }));
  $('account-form').addEventListener('submit', (e) => { e.preventDefault(); act(async () => {
    await admin('POST', '/admin/v1/accounts', { name: $('account-name').value, permanent_credits: Number($('account-credits').value) });
    $('account-name').value = '';
  }); });
  $('grant-form').addEventListener('submit', (e) => { e.preventDefault(); act(async () => {
    await admin('POST', `/admin/v1/accounts/${$('grant-account').value}/grants`,
                { permanent_credits: Number($('grant-credits').value), reason: $('grant-reason').value });
  }); });
  $('key-form').addEventListener('submit', (e) => { e.preventDefault(); act(async () => {
    const key = await admin('POST', '/admin/v1/keys', { account_id: $('key-account').value, name: $('key-name').value });
    $('new-key').textContent = `New key (shown once): ${key.key}`;
  }); });
  $('resend-all').addEventListener('click', () => act(async () => {
    const report = await admin('POST', '/admin/v1/callbacks/resend-failed', {});
    $('resend-status').textContent = `Queued ${report.resent} dead letter(s) again${report.more ? '; more remain' : ''}.`;
  }));
  if (token) { $('token').value = token; signIn(); }
});
