// The chat page: no build step, no framework. Without ?user it frames four devices (two users, two
// devices each); with ?user=…&device=… it is one device, which keeps its sync cursor and the
// messages it has in localStorage, syncs on every push and on every (re)connect, and pages history.
'use strict';

const params = new URLSearchParams(location.search);
if (params.get('user') === null) frameDevices();
else startDevice(params.get('user'), params.get('device') || 'web').catch((error) => (document.body.textContent = `could not start: ${error.message}`));

function frameDevices() {
  document.body.className = 'grid';
  const h1 = el('h1', {}, 'tablestore-timeline chat ', el('small', {}, '— two users, two devices each; demo users are fixed (no sign-in)'));
  document.body.append(h1);
  for (const [user, device] of [['alice', 'phone'], ['bob', 'phone'], ['alice', 'laptop'], ['bob', 'laptop']]) {
    document.body.append(el('iframe', { src: `/?user=${user}&device=${device}`, title: `${user} ${device}`, name: `${user}-${device}` }));
  }
}

/** Builds an element: el('div', { class: 'x', onclick }, 'text', child…). Text goes in as text, never as HTML. */
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  node.append(...children.filter((c) => c !== undefined && c !== null));
  return node;
}

/** A random id for messageId / requestId (getRandomValues works outside secure contexts too). */
function newId() {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, '0')).join('');
}

const clock = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

/** Seqs travel as decimal strings (64-bit); compare them as BigInt. */
const bySeq = (a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : BigInt(a.seq) > BigInt(b.seq) ? 1 : 0);

async function startDevice(user, device) {
  document.body.className = 'device';
  document.title = `${user} · ${device}`;
  const storageKey = `chat:${user}:${device}`;
  // What the device keeps across reloads: its cursor, the messages it has, and its history paging.
  const fresh = () => ({ cursor: undefined, messages: {}, paging: {}, open: undefined });
  let state = Object.assign(fresh(), JSON.parse(localStorage.getItem(storageKey) || '{}'));
  const save = () => localStorage.setItem(storageKey, JSON.stringify(state));
  let conversations = []; // this user's fixed conversations, from the server
  let list = new Map(); // conversationId -> item of Messenger.conversations()
  const marked = new Map(); // conversationId -> the seq this device last sent to markRead
  let editing; // { seq } while the composer edits a message
  let outbox; // { text, messageId }: a failed send is retried with the same id (no duplicate)
  // Counters the browser test reads: sync calls made, messages received by sync, cursor resets.
  let syncs = 0;
  let received = 0;
  let resets = 0;

  const dom = {
    status: el('span', { class: 'status' }),
    list: el('nav', { class: 'list' }),
    messages: el('div', { class: 'messages' }),
    input: el('input', { name: 'text', maxlength: 2000, autocomplete: 'off', placeholder: 'Message' }),
    button: el('button', { type: 'submit' }, 'Send'),
  };
  const form = el('form', { onsubmit: (e) => (e.preventDefault(), submit()) }, dom.input, dom.button);
  document.body.append(
    el('header', {}, el('span', { class: 'dot' }), el('b', {}, `${user} · ${device}`), dom.status, el('button', { onclick: () => location.reload() }, 'reload')),
    dom.list,
    el('section', { class: 'pane' }, dom.messages, form),
  );

  async function api(method, path, body) {
    const query = method === 'GET' ? `?${new URLSearchParams(Object.entries({ user, ...body }).filter(([, v]) => v !== undefined))}` : '';
    const res = await fetch(path + query, method === 'GET' ? {} : { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, ...body }) });
    const json = await res.json();
    if (!res.ok) throw Object.assign(new Error(json.error.message), { code: json.error.code });
    return json;
  }

  // Keep, per message, the state with the highest revision seen (history, sync entries and events alike).
  function put(entry) {
    const conv = (state.messages[entry.conversationId] ??= {});
    const had = conv[entry.seq];
    if (had === undefined || (entry.revision ?? 0) >= (had.revision ?? 0)) conv[entry.seq] = entry;
  }

  function apply(event) {
    const conv = state.messages[event.conversationId];
    const had = conv?.[event.seq];
    if (event.type === 'delete') return void (conv && delete conv[event.seq]);
    // A message this device does not hold yet comes from history, already changed.
    if (had === undefined || (had.revision ?? 0) >= event.revision) return;
    if (event.type === 'recall') conv[event.seq] = { ...had, message: null, recalled: { by: event.by, at: event.at }, revision: event.revision };
    if (event.type === 'edit') conv[event.seq] = { ...had, message: event.message, editedAt: event.editedAt, editCount: event.editCount, revision: event.revision };
    // 'read' events need nothing here: the list is refreshed after every sync. Unknown types are ignored.
  }

  // One sync at a time; a push during a sync runs one more round after it.
  let running;
  let again = false;
  function sync() {
    if (running) return (again = true), running;
    running = (async () => {
      do {
        again = false;
        await syncRounds();
      } while (again);
    })()
      .catch((error) => setStatus(`sync failed: ${error.message}`, true))
      .finally(() => (running = undefined));
    return running;
  }

  async function syncRounds() {
    for (let round = 0; round < 50; round++) {
      let r;
      try {
        r = await api('GET', '/api/sync', { cursor: state.cursor });
      } catch (error) {
        if (error.code !== 'INVALID_CURSOR') throw error;
        // The server no longer accepts this cursor (e.g. an in-memory server restarted): start over.
        resets += 1;
        state = { ...fresh(), open: state.open };
        continue;
      }
      // A cursor older than the inbox TTL: what it missed may be gone from the inbox, so the
      // device drops what it holds and refetches history.
      if (r.limited) state = { ...fresh(), open: state.open };
      r.entries.forEach(put);
      received += r.entries.length;
      r.events.forEach(apply);
      state.cursor = r.cursor;
      save();
      syncs += 1;
      if (!r.hasMore) break;
    }
    if (state.open !== undefined && !state.paging[state.open]?.loaded) await loadHistory(state.open);
    if (dom.status.textContent.startsWith('sync failed')) setStatus('');
    await refreshList();
  }

  async function refreshList() {
    const page = await api('GET', '/api/conversations');
    list = new Map(page.items.map((item) => [item.conversationId, item]));
    render();
    await readOpen();
    await loadReceipt();
  }

  // "Seen by" under the user's newest message, for conversations fanned out to inboxes (a large
  // group keeps read positions on the members' side only, so it has no receipts).
  let receipt; // { conversationId, seq, readBy }
  async function loadReceipt() {
    const id = state.open;
    const mine = Object.values(state.messages[id] ?? {}).filter((m) => m.senderId === user && !m.recalled).sort(bySeq).at(-1);
    if (mine === undefined || list.get(id)?.diffusion !== 'write') return void (receipt = undefined);
    const { readBy } = await api('GET', '/api/receipts', { conversation: id, seq: mine.seq });
    receipt = { conversationId: id, seq: mine.seq, readBy };
    render();
  }

  async function loadHistory(conversationId) {
    const paging = state.paging[conversationId];
    const page = await api('GET', '/api/history', { conversation: conversationId, before: paging?.next });
    page.entries.forEach(put);
    state.paging[conversationId] = { loaded: true, hasMore: page.hasMore, next: page.next };
    save();
    render();
  }

  async function open(conversationId) {
    state.open = conversationId;
    editing = undefined;
    save();
    render();
    if (!state.paging[conversationId]?.loaded) await loadHistory(conversationId);
    await readOpen();
  }

  // Reading the open conversation moves the read position, for all of this user's devices.
  async function readOpen() {
    const id = state.open;
    const newest = Object.values(state.messages[id] ?? {}).sort(bySeq).at(-1);
    if (newest === undefined || !(list.get(id)?.unread > 0)) return;
    const done = marked.get(id); // guards against marking the same seq twice while the list catches up
    if (done !== undefined && BigInt(done) >= BigInt(newest.seq)) return;
    marked.set(id, newest.seq);
    await api('POST', '/api/read', { conversation: id, seq: newest.seq });
    await refreshList();
  }

  async function submit() {
    const text = dom.input.value;
    if (text.trim() === '' || state.open === undefined) return;
    try {
      if (editing !== undefined) {
        const { entry } = await api('POST', '/api/edit', { conversation: state.open, seq: editing.seq, text, requestId: editing.requestId });
        put(entry);
        editing = undefined;
      } else {
        if (outbox?.text !== text || outbox.conversation !== state.open) outbox = { text, conversation: state.open, messageId: newId() };
        const { entry } = await api('POST', '/api/send', { conversation: state.open, text, messageId: outbox.messageId });
        put(entry);
        outbox = undefined;
      }
      dom.input.value = '';
      save();
      setStatus('');
      await refreshList(); // the list's preview and order, without waiting for the push
    } catch (error) {
      setStatus(error.message, true);
    }
    render();
  }

  async function recall(entry) {
    try {
      put((await api('POST', '/api/recall', { conversation: entry.conversationId, seq: entry.seq, requestId: newId() })).entry);
      save();
      await refreshList();
    } catch (error) {
      setStatus(error.message, true);
    }
    render();
  }

  function setStatus(text, isError = false) {
    dom.status.className = isError ? 'status error' : 'status';
    dom.status.textContent = text;
  }

  function render() {
    document.body.dataset.syncs = String(syncs);
    document.body.dataset.received = String(received);
    document.body.dataset.resets = String(resets);
    const known = new Set(conversations.map((c) => c.id));
    const ordered = [...[...list.keys()].filter((id) => known.has(id)), ...conversations.map((c) => c.id).filter((id) => !list.has(id))];
    dom.list.replaceChildren(
      ...ordered.map((id) => {
        const c = conversations.find((x) => x.id === id);
        const item = list.get(id);
        const last = item?.lastMessage;
        const preview = last === undefined ? 'no messages yet' : `${last.senderId}: ${last.recalled ? 'message recalled' : last.message.text}`;
        const unread = item === undefined ? 0 : item.unread;
        return el(
          'button',
          { class: id === state.open ? 'conv open' : 'conv', 'data-conv': id, onclick: () => open(id) },
          el('span', { class: 'title' }, el('span', {}, c.title), el('span', { class: 'badge', 'data-count': unread }, item?.unreadCapped ? `${unread}+` : String(unread))),
          el('div', { class: 'preview' }, preview),
        );
      }),
    );
    if (state.open === undefined) {
      dom.messages.replaceChildren(el('p', { class: 'hint' }, 'Pick a conversation'));
    } else {
      const paging = state.paging[state.open];
      const entries = Object.values(state.messages[state.open] ?? {}).sort(bySeq);
      dom.messages.replaceChildren(
        ...(paging?.hasMore ? [el('button', { class: 'older', onclick: () => loadHistory(state.open) }, 'older messages')] : []),
        ...entries.map((m) => {
          const mine = m.senderId === user;
          const actions = mine && !m.recalled ? [el('button', { class: 'edit', onclick: () => startEdit(m) }, 'edit'), el('button', { class: 'recall', onclick: () => recall(m) }, 'recall')] : [];
          return el(
            'div',
            { class: `msg${mine ? ' mine' : ''}${m.recalled ? ' recalled' : ''}`, 'data-seq': m.seq, 'data-message-id': m.messageId },
            el('div', { class: 'who', title: `seq ${m.seq}` }, `${m.senderId} · ${clock(m.sentAt)}${m.editCount ? ' · edited' : ''}`, ...actions),
            el('div', { class: 'text' }, m.recalled ? `recalled by ${m.recalled.by}` : m.message.text),
            receipt?.conversationId === m.conversationId && receipt.seq === m.seq
              ? el('div', { class: 'receipt' }, receipt.readBy.length === 0 ? 'not seen yet' : `seen by ${receipt.readBy.join(', ')}`)
              : undefined,
          );
        }),
      );
      dom.messages.scrollTop = dom.messages.scrollHeight;
    }
    dom.button.textContent = editing === undefined ? 'Send' : 'Save';
  }

  function startEdit(entry) {
    editing = { seq: entry.seq, requestId: newId() };
    dom.input.value = entry.message.text;
    dom.input.focus();
    render();
  }

  conversations = (await api('GET', '/api/me')).conversations;
  render();
  // The push channel. Every (re)connect syncs: whatever was missed while offline arrives by cursor.
  let events;
  const connect = () => {
    events = new EventSource(`/api/events?user=${encodeURIComponent(user)}`);
    events.onopen = () => {
      document.body.dataset.online = 'true';
      sync();
    };
    events.addEventListener('pull', () => sync());
    events.onerror = () => {
      document.body.dataset.online = 'false';
      // EventSource retries by itself after a network error; after an HTTP error it gives up.
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
    };
  };
  connect();
}
