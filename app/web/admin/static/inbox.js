// The inbox: three tabs, search, a sort by when the first answer is due, "Load more",
// and a list that follows the shop's event stream: a message, status or cart event
// redraws the row it names (asked for alone), and only a conversation the list does not
// hold yet reloads the list. Keyboard: ↓/↑ (or j/k) move between conversations, Enter
// opens one, / goes to the search.

import { ApiError, api, boot, liveEvents, staffId, wireNavigation } from './api.js';
import {
  ago, avatar, conversationPath, customerName, debounce, duration, h, money, replace, textDirection, tickLocalTimes, toast,
  visitorFacts,
} from './ui.js';
import { messageArrived, startNotify } from './notify.js';

const TABS = ['open', 'waiting', 'resolved'];
const SORTS = ['recent', 'due'];
const PAGE = 50;
const EMPTY = {
  open: 'No open conversations. New questions from the chat widget appear here.',
  waiting: 'Nobody is waiting for an answer.',
  resolved: 'No resolved conversations yet.',
};

const rowsEl = document.getElementById('rows');
const emptyEl = document.getElementById('empty');
const moreEl = document.getElementById('load-more');
const searchEl = document.getElementById('search');
const sortEl = document.getElementById('sort');
const tabEls = [...document.querySelectorAll('[data-tab]')];

const params = new URLSearchParams(location.search);
const state = {
  tab: TABS.includes(params.get('tab')) ? params.get('tab') : 'open',
  q: params.get('q') || '',
  sort: SORTS.includes(params.get('sort')) ? params.get('sort') : 'recent',
  rows: [],
  counts: null,
  cursor: null,
  fetchedAt: Date.now(),
  request: 0, // the answer to the newest request wins
  me: null,
};

// ------------------------------------------------------------------ rendering

function metaLine(row) {
  const parts = [];
  if (row.cart && Number(row.cart.total) > 0) parts.push(`${money(row.cart.total, row.cart.currency)} cart`);
  if (row.waiting_seconds !== null && row.waiting_seconds !== undefined) {
    parts.push(`waiting ${duration(row.waiting_seconds + (Date.now() - state.fetchedAt) / 1000)}`);
  }
  return parts.join(' · ');
}

/** "due in 12 min" / "overdue 5 min" while a first answer is owed; null once answered. */
function dueText(row) {
  if (row.due_seconds === null || row.due_seconds === undefined || row.status !== 'open') return null;
  // Counted from the server's "due in" at fetch time, not the browser's clock (which may be off).
  const seconds = row.due_seconds - (Date.now() - state.fetchedAt) / 1000;
  return seconds >= 0 ? { text: `due in ${duration(Math.max(seconds, 60))}`, over: false } : { text: `overdue ${duration(Math.max(-seconds, 60))}`, over: true };
}

function dueBadge(row) {
  const due = dueText(row);
  if (!due) return null;
  return h('span', { class: 'badge due' + (due.over ? ' badge-critical' : ''), dataset: { due: '' }, title: `First answer due ${new Date(row.due_at).toLocaleString()}` }, due.text);
}

function assigneeBadge(row) {
  if (!row.assignee) return null;
  return h('span', { class: 'badge badge-info' }, row.assignee === state.me ? 'Assigned to you' : 'Assigned');
}

// A search result says why it matched: the words around the match, the match marked
// (built from the server's offsets as text nodes, never as HTML).
const MATCHED_BY = { name: 'Name', email: 'E-mail', contact_email: 'E-mail', customer_id: 'Customer' };

function matchLine(match) {
  const text = match.snippet || '';
  const start = Math.max(0, Math.min(match.start, text.length));
  const end = Math.max(start, Math.min(match.end, text.length));
  const by = MATCHED_BY[match.field];
  return h(
    'span',
    { class: 'row-match', dir: textDirection(text) },
    by ? h('bdi', { class: 'row-author' }, by + ': ') : null,
    h('bdi', {}, text.slice(0, start), h('mark', {}, text.slice(start, end)), text.slice(end)),
  );
}

function renderRow(row, previous, refreshing) {
  const name = customerName(row.customer);
  // Rows that a live refresh brought in or changed flash once.
  const changed = refreshing && (!previous || previous.preview !== row.preview || previous.unread !== row.unread);
  const author = row.preview_author === 'agent' ? 'You: ' : row.preview_author === 'bot' ? 'Bot: ' : '';
  const facts = visitorFacts(row.visitor, { links: false });
  return h(
    'li',
    { class: 'row' + (row.unread ? ' unread' : '') + (changed ? ' fresh' : ''), dataset: { id: row.id } },
    h(
      'a',
      { class: 'row-link', href: conversationPath(row.id), 'data-nav': true },
      avatar(name, row.customer && !row.customer.name && !row.customer.email ? row.visitor : null),
      h(
        'span',
        { class: 'row-main' },
        h(
          'span',
          { class: 'row-top' },
          h('span', { class: 'row-name', dir: 'auto' }, name),
          row.customer && row.customer.email && row.customer.name ? h('span', { class: 'subdued row-email', dir: 'auto' }, row.customer.email) : null,
          h('time', { class: 'subdued row-time', datetime: row.last_message_at || '' }, ago(row.last_message_at)),
        ),
        // The author's prefix is ours; the text is the shopper's, in their direction.
        row.preview
          ? h('span', { class: 'row-preview', dir: textDirection(row.preview) }, author ? h('bdi', { class: 'row-author' }, author) : null, h('bdi', { class: 'row-text' }, row.preview))
          : h('span', { class: 'row-preview' }, 'No messages yet'),
        row.match ? matchLine(row.match) : null,
        facts.length ? h('span', { class: 'row-facts subdued' }, facts) : null,
        h(
          'span',
          { class: 'row-meta' },
          h('span', { class: 'row-figures', dataset: { figures: '' } }, metaLine(row)),
          dueBadge(row),
          assigneeBadge(row),
          row.status === 'resolved' ? h('span', { class: 'badge' }, 'Resolved') : null,
        ),
      ),
      row.unread ? h('span', { class: 'unread-badge', 'aria-label': `${row.unread} unread` }, String(row.unread)) : null,
    ),
  );
}

/** The list's order, for the conversation page's next/previous keys. */
function rememberOrder() {
  try {
    sessionStorage.setItem('parley.inbox', JSON.stringify({ tab: state.tab, q: state.q, ids: state.rows.map((r) => r.id) }));
  } catch {
    /* private mode: next/previous falls back to the open tab */
  }
}

function render(rows, counts, { append = false } = {}) {
  const before = new Map(state.rows.map((r) => [r.id, r]));
  const refreshing = !append && before.size > 0;
  state.rows = append ? state.rows.concat(rows) : rows;
  const items = (append ? rows : state.rows).map((row) => renderRow(row, before.get(row.id), refreshing));
  if (append) rowsEl.append(...items);
  else replace(rowsEl, items);
  rowsEl.setAttribute('aria-busy', 'false');
  if (counts) showCounts(counts);
  rememberOrder();
  emptyEl.hidden = state.rows.length > 0;
  emptyEl.textContent = state.q ? `Nothing matches “${state.q}”.` : EMPTY[state.tab];
  moreEl.hidden = !state.cursor;
}

// ------------------------------------------------------------------ loading

async function load({ append = false, keep = PAGE } = {}) {
  const ticket = ++state.request;
  const query = new URLSearchParams({ tab: state.tab, limit: String(Math.min(100, Math.max(PAGE, keep))) });
  if (state.q) query.set('q', state.q);
  if (state.sort !== 'recent') query.set('sort', state.sort);
  if (append && state.cursor) query.set('cursor', state.cursor);
  rowsEl.setAttribute('aria-busy', 'true');
  try {
    const data = await api('GET', '/admin/api/inbox?' + query);
    if (ticket !== state.request) return;
    state.fetchedAt = Date.now();
    state.cursor = data.next_cursor;
    render(data.conversations, data.counts, { append });
  } catch (error) {
    if (ticket !== state.request) return;
    rowsEl.setAttribute('aria-busy', 'false');
    toast(error instanceof ApiError ? error.message : 'The inbox could not be loaded.', { error: true });
  }
}

function remember() {
  const url = new URL(location.href);
  url.searchParams.set('tab', state.tab);
  if (state.q) url.searchParams.set('q', state.q);
  else url.searchParams.delete('q');
  if (state.sort !== 'recent') url.searchParams.set('sort', state.sort);
  else url.searchParams.delete('sort');
  history.replaceState(history.state, '', url.pathname + url.search);
}

function selectTab(tab) {
  state.tab = tab;
  labelSort();
  for (const el of tabEls) el.setAttribute('aria-selected', String(el.dataset.tab === tab));
  state.rows = [];
  state.cursor = null;
  remember();
  load();
}

// ------------------------------------------------------------------ one row at a time

function showCounts(counts) {
  state.counts = { ...counts };
  for (const tab of TABS) document.querySelector(`[data-count="${tab}"]`).textContent = counts[tab] ?? '';
}

/** Which tab a row belongs in now (the waiting tab is the open ones owed an answer). */
function tabsOf(row) {
  if (row.status === 'resolved') return ['resolved'];
  return row.waiting_since ? ['open', 'waiting'] : ['open'];
}

/** The tab counts after one row changed from `before` to `after`, without asking. */
function recount(before, after) {
  if (!state.counts) return;
  const counts = { ...state.counts };
  for (const tab of tabsOf(before)) counts[tab] -= 1;
  for (const tab of tabsOf(after)) counts[tab] += 1;
  showCounts(counts);
}

const changedIds = new Map(); // id → moved to the top (a message on a newest-first list)
let asking = null;

/** A row's conversation changed: ask for that row alone; a conversation the list lacks reloads it. */
function rowChanged(conversationId, { message = null } = {}) {
  if (!conversationId) return;
  if (!state.rows.some((r) => r.id === conversationId)) {
    // A new conversation (or one beyond the loaded page): its place and the counts come from the server.
    refresh();
    return;
  }
  const toTop = Boolean(message) && state.tab === 'open' && state.sort === 'recent' && !message.internal;
  changedIds.set(conversationId, changedIds.get(conversationId) || toTop);
  fetchChanged();
}

const fetchChanged = debounce(async () => {
  if (asking) {
    await asking;
  }
  const batch = new Map(changedIds);
  changedIds.clear();
  if (!batch.size) return;
  const ids = [...batch.keys()];
  asking = api('GET', '/admin/api/inbox/rows?ids=' + ids.map(encodeURIComponent).join(','))
    .then(({ conversations }) => {
      for (const row of conversations) putRow(row, batch.get(row.id));
      rememberOrder();
    })
    .catch(() => refresh()) // the row endpoint failed: the whole list, as before
    .finally(() => { asking = null; });
}, 250);

function putRow(row, toTop) {
  const at = state.rows.findIndex((r) => r.id === row.id);
  if (at === -1) return;
  const before = state.rows[at];
  recount(before, row);
  const node = rowsEl.querySelector(`.row[data-id="${CSS.escape(row.id)}"]`);
  const focused = node && node.contains(document.activeElement);
  if (!tabsOf(row).includes(state.tab)) {
    // Resolved from the open tab, answered on the waiting tab, reopened on the resolved tab: it leaves this list.
    state.rows.splice(at, 1);
    if (node) node.remove();
    emptyEl.hidden = state.rows.length > 0;
    return;
  }
  // Waiting times tick from the list's fetch time (metaLine): this row's was measured now.
  const since = (Date.now() - state.fetchedAt) / 1000;
  if (row.waiting_seconds !== null && row.waiting_seconds !== undefined) row.waiting_seconds -= since;
  if (row.due_seconds !== null && row.due_seconds !== undefined) row.due_seconds += since;
  state.rows[at] = row;
  const fresh = renderRow(row, before, true);
  if (toTop && at > 0) {
    state.rows.splice(at, 1);
    state.rows.unshift(row);
    if (node) node.remove();
    rowsEl.prepend(fresh);
  } else if (node) {
    node.replaceWith(fresh);
  }
  if (focused) fresh.querySelector('.row-link').focus();
}

// ------------------------------------------------------------------ wiring

for (const el of tabEls) {
  el.addEventListener('click', () => selectTab(el.dataset.tab));
  el.addEventListener('keydown', (event) => {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
    if (!step) return;
    const next = tabEls[(tabEls.indexOf(el) + step + tabEls.length) % tabEls.length];
    next.focus();
    selectTab(next.dataset.tab);
  });
}

searchEl.value = state.q;
searchEl.addEventListener(
  'input',
  debounce(() => {
    const q = searchEl.value.trim();
    if (q === state.q) return;
    state.q = q;
    state.cursor = null;
    remember();
    load();
  }, 300),
);

moreEl.addEventListener('click', () => load({ append: true }));

function labelSort() {
  // "Newest" on the open and resolved tabs; the waiting tab's own order is who waited longest.
  sortEl.querySelector('[data-recent-label]').textContent = state.tab === 'waiting' ? 'Longest waiting first' : 'Newest first';
}
sortEl.value = state.sort;
sortEl.addEventListener('change', () => {
  state.sort = SORTS.includes(sortEl.value) ? sortEl.value : 'recent';
  state.rows = [];
  state.cursor = null;
  remember();
  load();
});

// Waiting times tick without asking the server.
setInterval(() => {
  for (const el of rowsEl.querySelectorAll('[data-figures]')) {
    const row = state.rows.find((r) => r.id === el.closest('[data-id]').dataset.id);
    if (row) el.textContent = metaLine(row);
  }
  for (const el of rowsEl.querySelectorAll('[data-due]')) {
    const row = state.rows.find((r) => r.id === el.closest('[data-id]').dataset.id);
    const due = row && dueText(row);
    if (!due) continue;
    el.textContent = due.text;
    el.classList.toggle('badge-critical', due.over);
  }
  for (const el of rowsEl.querySelectorAll('time[datetime]')) el.textContent = ago(el.getAttribute('datetime'));
  tickLocalTimes(rowsEl);
}, 15_000);

// ------------------------------------------------------------------ keyboard

function rowLinks() {
  return [...rowsEl.querySelectorAll('.row-link')];
}

function typingInField(event) {
  const target = event.target;
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

document.addEventListener('keydown', (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  if (event.key === '/' && !typingInField(event)) {
    event.preventDefault();
    searchEl.focus();
    return;
  }
  const step = { ArrowDown: 1, ArrowUp: -1, j: 1, k: -1 }[event.key];
  if (!step) return;
  const inRows = rowsEl.contains(document.activeElement);
  // Arrows move within the list (and from the search into it); j/k anywhere but a field.
  if (typingInField(event) && !(event.target === searchEl && event.key === 'ArrowDown')) return;
  if (!inRows && event.key.startsWith('Arrow') && event.target !== searchEl && event.target !== document.body) return;
  const links = rowLinks();
  if (!links.length) return;
  event.preventDefault();
  const at = links.indexOf(document.activeElement);
  const next = at === -1 ? (step > 0 ? 0 : links.length - 1) : Math.min(Math.max(at + step, 0), links.length - 1);
  links[next].focus();
});

const refresh = debounce(() => load({ keep: state.rows.length }), 400);
liveEvents(
  {
    message: (message) => {
      const row = state.rows.find((r) => r.id === message.conversation_id);
      messageArrived(message, { name: row ? customerName(row.customer) : null });
      rowChanged(message.conversation_id, { message });
    },
    status: (event) => rowChanged(event.conversation_id),
    cart: (event) => rowChanged(event.conversation_id),
    state: (s) => document.body.classList.toggle('reconnecting', s !== 'live'),
  },
  boot.lastEventId,
);

/** Until the widget has been seen on the storefront: how to get it there (the template has the platform's banner). */
async function showEmbedBanner() {
  try {
    const { embed } = await api('GET', '/admin/api/settings');
    if (!embed || embed.active) return;
    if (boot.platform === 'saleor') {
      document.getElementById('snippet-banner').hidden = false;
      return;
    }
    document.getElementById('embed-activate').href = embed.activate_url;
    document.getElementById('embed-banner').hidden = false;
  } catch {
    /* the banner is a hint; the inbox works without it */
  }
}

wireNavigation();
for (const el of tabEls) el.setAttribute('aria-selected', String(el.dataset.tab === state.tab));
labelSort();
remember();
startNotify();
staffId().then((me) => {
  state.me = me;
  load();
});
showEmbedBanner();
