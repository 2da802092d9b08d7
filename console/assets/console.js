'use strict';
// The operator console: the queue, a conversation, and the stream of
// events that keeps both current. Events carry ids only; what was said is
// fetched from the (audited) conversation view.
(() => {
  const $ = id => document.getElementById(id);
  const state = { me: null, tenant: '', open: '', last: 0, conv: null, es: null, next: '' };

  async function api(path, body) {
    const init = { credentials: 'same-origin', headers: { 'Accept': 'application/json' } };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch('api/' + path, init);
    const data = await r.json().catch(() => ({}));
    if (!r.ok) {
      const e = new Error(data.message || ('Request failed (' + r.status + ')'));
      e.code = data.error;
      throw e;
    }
    return data;
  }
  const base = () => 'tenants/' + encodeURIComponent(state.tenant) + '/';
  const convPath = () => base() + 'conversations/' + encodeURIComponent(state.open);
  const when = t => t ? new Date(t).toLocaleString() : '';

  function say(text, isError) {
    const s = $('status');
    s.textContent = text;
    s.className = isError ? 'err' : '';
  }
  const failed = e => say(e.message, true);

  function el(tag, cls, text) {
    const n = document.createElement(tag);
    if (cls) n.className = cls;
    if (text !== undefined) n.textContent = text;
    return n;
  }

  async function loadQueue(more) {
    const q = await api(base() + 'queue' + (more && state.next ? '?cursor=' + encodeURIComponent(state.next) : ''));
    const ul = $('queue');
    if (!more) ul.replaceChildren();
    for (const c of q.conversations) {
      const b = el('button', 'item ' + (c.operator ? 'claimed' : 'waiting'));
      b.type = 'button';
      b.dataset.id = c.id;
      b.setAttribute('aria-current', String(c.id === state.open));
      b.append(c.customer + ' · ' + c.channel,
        el('small', '', c.operator ? (c.mine ? 'Yours' : 'Claimed by ' + c.operator) : 'Waiting since ' + when(c.since)));
      b.addEventListener('click', () => openConversation(c.id).catch(failed));
      const li = el('li');
      li.append(b);
      ul.append(li);
    }
    if (!ul.children.length) ul.append(el('li', 'none', 'No one is waiting.'));
    state.next = q.next || '';
    $('more').hidden = !state.next;
  }

  async function openConversation(id) {
    state.open = id;
    state.last = 0;
    $('log').replaceChildren();
    await refresh();
    $('conv').hidden = false;
    $('empty').hidden = true;
    for (const b of document.querySelectorAll('#queue .item')) b.setAttribute('aria-current', String(b.dataset.id === id));
  }

  async function refresh() {
    if (!state.open) return;
    const v = await api(convPath() + (state.last ? '?after=' + state.last : ''));
    render(v.conversation);
    const log = $('log');
    for (const m of v.messages) {
      if (m.id <= state.last) continue;
      const li = el('li', 'm ' + m.role);
      const who = { user: 'Customer', assistant: 'AI', system: 'Notice', operator: 'Operator', note: 'Internal note' }[m.role] || m.role;
      li.append(el('small', '', who + ' · ' + when(m.time) + (m.delivery && m.delivery !== 'pending' ? ' · ' + m.delivery : '')));
      li.append(m.removed ? '(removed by retention)' : (m.kind && m.kind !== 'text' && !m.text ? '[' + m.kind + ']' : m.text));
      log.append(li);
      state.last = Math.max(state.last, m.id);
    }
    log.scrollTop = log.scrollHeight;
  }

  function render(c) {
    state.conv = c;
    $('conv-h').textContent = c.name || c.customer;
    const owner = c.owner === 'ai' ? 'The AI answers' : c.operator ? (c.mine ? 'You hold it' : 'Held by ' + c.operator) : 'Waiting for a person';
    const parts = [c.channel, c.phone, owner];
    if (c.window_closes_at) parts.push(c.window_closed ? 'Reply window closed: template only' : 'Reply window open until ' + when(c.window_closes_at));
    $('conv-meta').textContent = parts.filter(Boolean).join(' · ');
    const human = c.owner === 'human';
    const mayAct = human && (c.mine || !c.operator);
    $('claim').hidden = c.mine;
    $('release').disabled = !mayAct;
    $('close').disabled = !mayAct;
    $('send').disabled = !c.mine;
  }

  async function act(what, message) {
    const r = await api(convPath() + '/' + what, {});
    say(message);
    render(Object.assign({}, state.conv, r.conversation, { customer: state.conv.customer }));
    await Promise.all([refresh(), loadQueue()]);
  }

  async function send(kind) {
    const text = $('text').value;
    if (!text.trim()) {
      say('Write something first.', true);
      $('text').focus();
      return;
    }
    const r = await api(convPath() + '/' + kind, { text });
    $('text').value = '';
    say(kind === 'notes' ? 'Note added.' : (r.template ? 'The reply window had closed: the template was sent instead.' : 'Reply sent.'));
    await refresh();
  }

  function listen() {
    if (state.es) state.es.close();
    const es = new EventSource('api/' + base() + 'events');
    state.es = es;
    let broken = false;
    const update = ev => {
      const d = JSON.parse(ev.data || '{}');
      loadQueue().catch(failed);
      if (d.conversation && d.conversation === state.open) refresh().catch(failed);
    };
    for (const name of ['waiting', 'claimed', 'customer_message', 'operator_reply', 'returned', 'note']) es.addEventListener(name, update);
    es.addEventListener('reload', () => {
      loadQueue().catch(failed);
      if (state.open) openConversation(state.open).catch(failed);
    });
    es.onerror = () => {
      broken = true;
      document.body.dataset.live = '';
    };
    // Once the stream is open nothing is missed: fetch then, and again
    // after a reconnection (the stream resumes from the last event, but
    // the console may have restarted).
    es.onopen = () => {
      document.body.dataset.live = 'true';
      loadQueue().catch(failed);
      if (broken) refresh().catch(failed);
      broken = false;
    };
  }

  async function selectTenant(t) {
    state.tenant = t;
    state.open = '';
    $('conv').hidden = true;
    $('empty').hidden = false;
    listen();
  }

  async function start() {
    state.me = await api('me');
    $('who').textContent = 'Signed in as ' + state.me.operator;
    $('text').maxLength = state.me.max_message_bytes;
    const sel = $('tenant');
    for (const t of state.me.tenants) sel.append(new Option(t, t));
    $('tenant-label').hidden = state.me.tenants.length < 2;
    sel.addEventListener('change', () => selectTenant(sel.value).catch(failed));
    $('more').addEventListener('click', () => loadQueue(true).catch(failed));
    $('claim').addEventListener('click', () => act('claim', 'You claimed the conversation.').catch(failed));
    $('release').addEventListener('click', () => act('release', 'Handed back to the AI.').catch(failed));
    $('close').addEventListener('click', () => act('close', 'Conversation closed.').catch(failed));
    $('reply-form').addEventListener('submit', ev => {
      ev.preventDefault();
      send('reply').catch(failed);
    });
    $('note').addEventListener('click', () => send('notes').catch(failed));
    $('text').addEventListener('keydown', ev => {
      if (ev.key === 'Enter' && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        $('reply-form').requestSubmit();
      }
    });
    if (state.me.tenants.length) await selectTenant(state.me.tenants[0]);
    else say('You may not see any business.', true);
  }
  start().catch(failed);
})();
