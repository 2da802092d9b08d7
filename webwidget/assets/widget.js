/* wagent web widget. Embed with
   <script src="https://shop.example/chat/widget.js" data-site="SITE_KEY" async></script>
   No cookies, no tracking: the anonymous visitor token, once the visitor
   writes, is kept in localStorage; whether the panel is open, in
   sessionStorage. */
(() => {
  'use strict';
  const me = document.currentScript || document.querySelector('script[data-site][src*="widget.js"]');
  const site = me && me.dataset.site;
  if (!site) return;
  const base = me.src.replace(/widget\.js([?#].*)?$/, '');
  const q = '?site=' + encodeURIComponent(site);
  const K = 'wagent:' + site + ':';
  // ls reads (v undefined), removes (null) or writes the key k of
  // localStorage, or of sessionStorage when tab is set.
  const ls = (k, v, tab) => {
    try {
      const s = tab ? sessionStorage : localStorage;
      if (v === undefined) return s.getItem(K + k);
      if (v === null) s.removeItem(K + k); else s.setItem(K + k, v);
    } catch (e) { /* storage disabled: the conversation lasts as long as the page */ }
    return null;
  };
  const NS = 'http://www.w3.org/2000/svg';
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  let cfg, L, token = ls('token'), cursor = '', ctrl = null, streaming = false, backoff = 1000,
    started = false, open = false, typingTimer = 0;
  const seen = new Set();

  const api = (method, path, body, headers, signal) => {
    const h = Object.assign({}, headers);
    if (token) h.Authorization = 'Bearer ' + token;
    if (body) h['Content-Type'] = 'application/json';
    return fetch(base + path + q, {
      method, headers: h, body: body && JSON.stringify(body), signal,
      cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
  };

  // el builds an element; strings become text nodes, never markup.
  const el = (tag, attrs, ...kids) => {
    const e = document.createElement(tag);
    for (const k in attrs) {
      const v = attrs[k];
      if (v == null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? '' : v);
    }
    e.append(...kids.filter(c => c != null));
    return e;
  };
  const icon = d => {
    const s = document.createElementNS(NS, 'svg'), p = document.createElementNS(NS, 'path');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    p.setAttribute('d', d);
    s.append(p);
    return s;
  };
  const safeURL = u => {
    try {
      const x = new URL(u);
      return x.protocol === 'https:' || x.protocol === 'http:' ? x.href : null;
    } catch (e) { return null; }
  };
  const link = (href, text) => el('a', { href, text, target: '_blank', rel: 'noopener noreferrer nofollow' });
  // rich turns text into text nodes and links to the http(s) URLs in it.
  const rich = text => {
    const f = document.createDocumentFragment();
    let at = 0;
    for (const m of text.matchAll(/\bhttps?:\/\/[^\s<>"']+/gi)) {
      const u = m[0].replace(/[.,;:!?)\]]+$/, ''), href = safeURL(u);
      f.append(text.slice(at, m.index), href ? link(href, u) : u);
      at = m.index + u.length;
    }
    f.append(text.slice(at));
    return f;
  };

  let root, launch, dot, panel, scroller, log, typ, stat, input, confirmBox, delBtn;

  const build = () => {
    const host = el('div', { 'data-wagent': site });
    host.style.setProperty('--wa', cfg.color); // CSSOM, allowed by a strict CSP
    host.style.setProperty('--wo', cfg.on_color);
    const sh = host.attachShadow({ mode: 'open' });
    const css = el('link', { rel: 'stylesheet', href: base + 'widget.css' });
    root = el('div', { class: 'w', hidden: true });
    css.addEventListener('load', () => { root.hidden = false; });
    dot = el('span', { class: 'dot', hidden: true });
    launch = el('button', {
      type: 'button', class: 'launch', 'aria-expanded': 'false', 'aria-controls': 'p', 'aria-label': L.open,
      onclick: () => setOpen(!open, true),
    }, icon('M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z'), dot);
    input = el('textarea', {
      rows: 1, 'aria-label': L.placeholder, placeholder: L.placeholder, 'aria-describedby': 'n',
      onkeydown: e => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
      },
      oninput: () => { input.style.height = 'auto'; input.style.height = Math.min(input.scrollHeight, 120) + 'px'; },
    });
    log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': L.messages });
    scroller = el('div', { class: 'scroll', tabindex: '0', 'aria-label': L.messages },
      el('p', { class: 'notice', id: 'n' }, cfg.notice + ' ', link(safeURL(cfg.policy_url) || '#', L.policy)),
      cfg.greeting ? el('div', { class: 'm assistant' }, el('p', {}, rich(cfg.greeting))) : null,
      log);
    typ = el('p', { class: 'typing', hidden: true, 'aria-live': 'polite', text: cfg.name + ' ' + L.typing });
    stat = el('p', { class: 'status', role: 'status' });
    confirmBox = el('div', { class: 'confirm', hidden: true, role: 'group', 'aria-labelledby': 'cq' },
      el('p', { id: 'cq', text: L.delete_confirm }),
      el('button', { type: 'button', class: 'yes', text: L.delete_yes, onclick: erase }),
      el('button', { type: 'button', text: L.cancel, onclick: () => { confirmBox.hidden = true; delBtn.focus(); } }));
    delBtn = cfg.erase ? el('button', {
      type: 'button', class: 'del', text: L.delete,
      onclick: () => { confirmBox.hidden = false; confirmBox.querySelector('.yes').focus(); },
    }) : null;
    panel = el('section', {
      id: 'p', class: 'panel', role: 'dialog', 'aria-labelledby': 't', hidden: true,
      onkeydown: e => {
        if (e.key !== 'Escape') return;
        e.preventDefault();
        if (!confirmBox.hidden) { confirmBox.hidden = true; delBtn.focus(); } else setOpen(false, true);
      },
    },
    el('header', {},
      el('div', {}, el('h2', { id: 't', text: cfg.name }), el('p', { class: 'sub', text: L.assistant })),
      el('button', { type: 'button', class: 'x', 'aria-label': L.close, text: '×', onclick: () => setOpen(false, true) })),
    scroller, typ, stat, confirmBox,
    el('form', { onsubmit: e => { e.preventDefault(); submit(); } },
      input,
      el('button', { type: 'submit', 'aria-label': L.send }, icon('M3 20.5 21 12 3 3.5v6.8l12.5 1.7L3 13.7z'))),
    delBtn);
    root.append(panel, launch);
    sh.append(css, root);
    document.body.append(host);
  };

  const status = t => { stat.textContent = t || ''; };
  const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };
  const disableChips = () => { for (const c of log.querySelectorAll('.chip')) c.disabled = true; };
  const hideTyping = () => { typ.hidden = true; clearTimeout(typingTimer); };
  const showTyping = () => {
    typ.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, 25000);
    toBottom();
  };

  // render shows a message once: records by id, visitor messages by the
  // client's id. It returns the bubble, or null for a message shown before.
  const render = (m, quiet) => {
    const key = m.client_id ? 'c' + m.client_id : m.id ? 'r' + m.id : '';
    if (key && seen.has(key)) return null;
    if (key) seen.add(key);
    const mine = m.role === 'visitor';
    if (mine) disableChips();
    const who = mine ? L.you : m.role === 'operator' ? L.operator : cfg.name;
    const b = el('div', { class: 'm ' + m.role }, el('span', { class: 'sr', text: who + ': ' }));
    if (m.role === 'operator') b.append(el('span', { class: 'who', 'aria-hidden': 'true', text: L.operator }));
    if (m.header) b.append(el('strong', { text: m.header }));
    const mu = m.media && safeURL(m.media.url);
    if (mu) {
      b.append(m.media.kind === 'image' || m.media.kind === 'sticker'
        ? el('img', { src: mu, alt: m.text || L.image, loading: 'lazy' })
        : link(mu, m.media.filename || mu));
    }
    if (m.text) b.append(el('p', {}, rich(m.text)));
    if (m.location) {
      const t = [m.location.name, m.location.address].filter(Boolean).join(', ');
      const u = safeURL(m.location.url);
      if (t) b.append(el('p', { text: t }));
      if (u) b.append(link(u, L.map));
    }
    if (m.footer) b.append(el('small', { text: m.footer }));
    if (m.chips) {
      b.append(el('div', { class: 'chips', role: 'group', 'aria-label': m.header || cfg.name },
        ...m.chips.map(c => el('button', {
          type: 'button', class: 'chip', text: c.title,
          onclick: () => send(c.title, { id: c.id, kind: c.kind }),
        }))));
    }
    log.append(b);
    if (!mine && !quiet) {
      hideTyping();
      if (!open) {
        dot.hidden = false;
        launch.setAttribute('aria-label', L.open + ' (' + L.new_message + ')');
      }
    }
    toBottom();
    return b;
  };

  const forget = () => {
    token = null;
    cursor = '';
    ls('token', null);
    if (ctrl) ctrl.abort();
  };

  // session gets a token for a new visitor, or refreshes the one kept.
  const session = async () => {
    const r = await api('POST', 'session');
    if (r.status === 401 && token) { forget(); return session(); }
    if (!r.ok) throw new Error('wagent: session ' + r.status);
    token = (await r.json()).token;
    ls('token', token);
  };

  const history = async () => {
    const r = await api('GET', 'history');
    if (r.status === 401) { forget(); return; }
    if (!r.ok) throw new Error('wagent: history ' + r.status);
    const h = await r.json();
    const pending = [...log.querySelectorAll('.pending,.failed')];
    log.replaceChildren();
    seen.clear();
    for (const m of h.messages) render(m, true);
    for (const b of pending) if (!seen.has(b.dataset.key)) { seen.add(b.dataset.key); log.append(b); }
    cursor = h.cursor;
    toBottom();
  };

  // begin starts the conversation: a token, the history, the event stream.
  // Callers racing (opening the panel, sending at once) share one start.
  let starting = null;
  const begin = () => starting || (starting = (async () => {
    started = true;
    try {
      await session();
      await history();
      stream();
    } finally {
      starting = null;
    }
  })());

  // stream reads the server-sent events, and reconnects with Last-Event-ID
  // so that nothing is missed or shown twice.
  const stream = async () => {
    if (streaming || !token) return;
    streaming = true;
    const c = ctrl = new AbortController();
    let reload = false;
    try {
      const r = await api('GET', 'events', null, cursor ? { 'Last-Event-ID': cursor } : {}, c.signal);
      if (r.status === 401) forget();
      if (!r.ok) throw new Error('wagent: events ' + r.status);
      backoff = 1000;
      const rd = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await rd.read();
        if (done) break;
        buf += value;
        for (let i; (i = buf.indexOf('\n\n')) >= 0;) {
          let ev = 'message', data = '', id = '';
          for (const line of buf.slice(0, i).split('\n')) {
            const j = line.indexOf(':');
            if (j === 0) continue;
            const f = j < 0 ? line : line.slice(0, j), v = j < 0 ? '' : line.slice(j + 1).replace(/^ /, '');
            if (f === 'event') ev = v; else if (f === 'data') data += v; else if (f === 'id') id = v;
          }
          buf = buf.slice(i + 2);
          if (id) cursor = id;
          if (ev === 'reload') reload = true;
          else if (ev === 'typing') showTyping();
          else if (ev === 'message' && data) render(JSON.parse(data));
        }
      }
    } catch (e) { /* reconnect below */ }
    streaming = false;
    if (c.signal.aborted || !token) return;
    if (reload) {
      try { await history(); } catch (e) { /* the next attempt reloads again */ }
      backoff = 1000;
    }
    setTimeout(stream, backoff);
    backoff = Math.min(backoff * 2, 30000);
  };

  const submit = () => {
    const t = input.value.trim();
    if (!t) return;
    if (new TextEncoder().encode(t).length > cfg.max_message_bytes) { status(L.too_long); return; }
    input.value = '';
    input.style.height = 'auto';
    send(t);
  };

  const send = (text, reply) => {
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    const id = Array.from(b, x => x.toString(16).padStart(2, '0')).join('');
    const bubble = render({ client_id: id, role: 'visitor', text });
    bubble.dataset.key = 'c' + id;
    post(bubble, { id, text, reply });
  };

  // post delivers a message, retrying with the same id: the server answers
  // each id once.
  const post = async (b, body) => {
    b.className = 'm visitor pending';
    const old = b.querySelector('.retry');
    if (old) old.remove();
    for (let i = 0; i < 5; i++) {
      let wait = 1000 << i;
      try {
        if (!token) await begin();
        const r = await api('POST', 'messages', body);
        if (r.status === 202) { b.classList.remove('pending'); status(''); return; }
        if (r.status === 401) { forget(); continue; }
        if (r.status === 413 || r.status === 400) { failed(b, body, r.status === 413 ? L.too_long : L.not_sent); return; }
        if (r.status === 429) status(L.too_fast);
        wait = 1000 * (+r.headers.get('Retry-After') || 1 << i);
      } catch (e) { /* offline: try again */ }
      await sleep(wait);
    }
    failed(b, body, L.not_sent);
  };
  const failed = (b, body, msg) => {
    b.className = 'm visitor failed';
    b.append(el('button', { type: 'button', class: 'retry', text: L.retry, onclick: () => post(b, body) }));
    status(msg);
  };

  const reset = () => {
    log.replaceChildren();
    seen.clear();
    hideTyping();
    started = false;
  };

  // erase asks the server to delete the visitor's data, then forgets the
  // token and the conversation here.
  async function erase() {
    confirmBox.hidden = true;
    if (token) {
      try {
        const r = await api('DELETE', 'data');
        if (r.status !== 204 && r.status !== 401) throw new Error('wagent: erase ' + r.status);
      } catch (e) {
        status(L.error);
        return;
      }
    }
    forget();
    ls('open', null, true);
    reset();
    status(L.deleted);
    input.focus();
  }

  const setOpen = (v, focus) => {
    open = v;
    panel.hidden = !v;
    launch.setAttribute('aria-expanded', String(v));
    launch.setAttribute('aria-label', v ? L.close : L.open);
    ls('open', v ? '1' : null, true);
    if (v) {
      dot.hidden = true;
      if (!started && token) begin().catch(() => { started = false; });
      if (focus) input.focus();
      toBottom();
    } else if (focus) launch.focus();
  };

  // Another tab erased the data or lost the token: follow it.
  addEventListener('storage', e => {
    if (e.key === K + 'token' && !e.newValue && token) {
      token = null;
      if (ctrl) ctrl.abort();
      reset();
    }
  });

  fetch(base + 'config' + q, { credentials: 'omit', referrerPolicy: 'no-referrer' })
    .then(r => { if (!r.ok) throw new Error('wagent: config ' + r.status); return r.json(); })
    .then(c => {
      cfg = c;
      L = c.labels;
      const go = () => { build(); if (ls('open', undefined, true) && token) setOpen(true, false); };
      if (document.body) go(); else addEventListener('DOMContentLoaded', go);
    })
    .catch(e => console.warn(e.message || e));
})();
