// One conversation: the live thread, the reply box (saved replies, notes, typing,
// read marks) and the side panel with the cart, the customer and the orders.
// Keyboard: Esc goes back to the inbox, Alt+↓/↑ (or j/k outside the reply box) to the
// next or previous conversation, ←/→ between Reply and Note. Drafts survive leaving.

import { api, boot, liveEvents, navigate, staffId, wireNavigation } from './api.js';
import { messageArrived, refreshUnread, startNotify } from './notify.js';
import { pictureNode, pictureOf, wirePictureUpload } from './pictures.js';
import { saleNode, wireSelling } from './products.js';
import {
  ago, avatar, clock, conversationPath, customerName, day, debounce, duration, h, money, notice, replace, tickLocalTimes,
  toast, uuid, visitorFacts,
} from './ui.js';

// The server refuses longer messages (app/chat/conversations.py MAX_BODY).
const MAX_BODY = 5000;

const conversationId = document.getElementById('conversation').dataset.conversationId;
// On Saleor `boot.shop` is the GraphQL API URL, not a storefront: no product URL can be built from it.
const onSaleor = boot.platform === 'saleor';
const base = `/admin/api/conversations/${encodeURIComponent(conversationId)}`;

const el = {
  scroll: document.getElementById('thread-scroll'),
  thread: document.getElementById('thread'),
  earlier: document.getElementById('load-earlier'),
  typing: document.getElementById('typing'),
  name: document.getElementById('customer-name'),
  meta: document.getElementById('thread-meta'),
  facts: document.getElementById('thread-facts'),
  avatar: document.getElementById('thread-avatar'),
  count: document.getElementById('composer-count'),
  send: document.getElementById('send'),
  back: document.getElementById('back'),
  next: document.getElementById('next'),
  previous: document.getElementById('previous'),
  badge: document.getElementById('status-badge'),
  resolve: document.getElementById('resolve'),
  assign: document.getElementById('assign'),
  composer: document.getElementById('composer'),
  reply: document.getElementById('reply'),
  hint: document.getElementById('composer-hint'),
  saved: document.getElementById('saved-replies'),
  modes: [...document.querySelectorAll('[data-mode]')],
  cart: document.getElementById('cart'),
  customer: document.getElementById('customer'),
  orders: document.getElementById('orders'),
  productForm: document.getElementById('product-link'),
  product: document.getElementById('product'),
  productError: document.getElementById('product-error'),
};

const state = {
  me: null,
  conversation: null,
  messages: new Map(), // id → message, as stored
  pending: new Map(), // client_id → {body, internal, node}
  oldestId: null,
  hasMore: false,
  mode: 'reply',
  savedReplies: [],
  readUpTo: 0,
  fetchedAt: Date.now(),
};

// ------------------------------------------------------------------ the thread

function authorLabel(message) {
  if (message.author === 'shopper') return customerName(state.conversation && state.conversation.customer);
  if (message.author === 'bot') return 'Assistant';
  if (message.author === 'system') return 'Parley';
  return message.author_id && message.author_id === state.me ? 'You' : 'Staff';
}

// What the shop's assistant did, beside its message: the handover and why, the answer and
// the shopper's verdict on it (app/chat/auto_replies.py stores these in meta).
const HANDOVER_WHY = {
  'not sure': 'not sure of an answer',
  'asked for a person': 'the shopper asked for a person',
  'a complaint': 'a complaint',
  'order-specific': 'about an order',
  'order look-up failed': 'the order could not be looked up',
  'too many order look-ups': 'too many order look-ups',
};

function assistantNotes(message) {
  const meta = message.meta || {};
  if (message.author !== 'bot') return [];
  if (meta.handover) return [h('span', { class: 'badge badge-critical assistant-note' }, `Handed over: ${HANDOVER_WHY[meta.handover] || meta.handover}`)];
  const notes = [];
  if (meta.order_status) notes.push(h('span', { class: 'badge badge-info assistant-note' }, meta.order_status === 'found' || meta.order_status === 'no_orders' ? 'Order status from the store' : 'Order look-up'));
  else if (meta.answer_id != null) notes.push(h('span', { class: 'badge badge-info assistant-note' }, `Answer${meta.confidence != null ? ` · ${Math.round(meta.confidence * 100)} % sure` : ''}`));
  if (meta.feedback === 'helpful') notes.push(h('span', { class: 'badge badge-success assistant-note' }, 'Shopper: this helped'));
  if (meta.feedback === 'handover') notes.push(h('span', { class: 'badge assistant-note' }, 'Shopper asked for a person'));
  return notes;
}

function bubble(message, { pending = false } = {}) {
  const note = Boolean(message.internal);
  const meta = [];
  if (note) meta.push(h('span', { class: 'note-label' }, 'Internal note'));
  meta.push(h('span', {}, authorLabel(message)));
  meta.push(...assistantNotes(message));
  // The shopper answered an e-mail: said, so a reply here is known to reach them by e-mail too.
  if (message.channel === 'email') meta.push(h('span', { class: 'channel-email', title: 'This message came as a reply to an e-mail' }, 'by e-mail'));
  if (message.created_at) meta.push(h('time', { datetime: message.created_at }, clock(message.created_at)));
  if (pending) meta.push(h('span', { class: 'sending' }, 'Sending…'));
  else if (message.author === 'agent' && !note && message.read_at) meta.push(h('span', { class: 'seen' }, 'Seen'));
  return h(
    'li',
    {
      class: `msg from-${message.author}` + (note ? ' note' : '') + (pending ? ' pending' : ''),
      dataset: { id: message.id ?? '', clientId: message.client_id || '' },
    },
    pictureOf(message)
      ? h('div', { class: 'bubble picture' }, pictureNode(pictureOf(message)))
      : saleNode(message) || h('div', { class: 'bubble', dir: 'auto' }, message.body),
    h('div', { class: 'msg-meta' }, meta),
  );
}

function nearBottom() {
  return el.scroll.scrollHeight - el.scroll.scrollTop - el.scroll.clientHeight < 120;
}

function toBottom() {
  el.scroll.scrollTop = el.scroll.scrollHeight;
}

/** Put a stored message in its place by id (ids grow with time); pending ones stay last. */
function placeMessage(message) {
  const known = state.messages.get(message.id);
  if (known) {
    if (known.read_at !== message.read_at) {
      // The shopper has read it since: redraw its "Seen" mark.
      state.messages.set(message.id, message);
      const node = el.thread.querySelector(`[data-id="${message.id}"]`);
      if (node) node.replaceWith(bubble(message));
    }
    return false;
  }
  state.messages.set(message.id, message);
  const node = bubble(message);
  const waiting = message.client_id && state.pending.get(message.client_id);
  if (waiting) {
    waiting.node.replaceWith(node);
    state.pending.delete(message.client_id);
    return true;
  }
  const later = [...el.thread.children].find((child) => child.dataset.id && Number(child.dataset.id) > message.id);
  const firstPending = el.thread.querySelector('.msg.pending');
  el.thread.insertBefore(node, later || firstPending || null);
  if (state.oldestId === null || message.id < state.oldestId) state.oldestId = message.id;
  return true;
}

function showThread(messages, hasMore) {
  for (const message of messages) placeMessage(message);
  state.hasMore = hasMore;
  el.earlier.hidden = !hasMore;
}

async function loadEarlier() {
  if (!state.hasMore || state.oldestId === null) return;
  el.earlier.disabled = true;
  const height = el.scroll.scrollHeight;
  try {
    const data = await api('GET', `${base}/messages?before=${state.oldestId}`);
    showThread(data.messages, data.has_more);
    el.scroll.scrollTop += el.scroll.scrollHeight - height; // keep the reader's place
  } catch (error) {
    toast(error.message, { error: true });
  } finally {
    el.earlier.disabled = false;
  }
}

// ------------------------------------------------------------------ header and status

function renderHeader() {
  const c = state.conversation;
  if (!c) return;
  el.name.textContent = customerName(c.customer);
  document.title = `${customerName(c.customer)} · Parley`;
  replace(el.avatar, avatar(customerName(c.customer), c.customer && !c.customer.name && !c.customer.email ? c.visitor : null, 'avatar-small'));
  replace(el.facts, visitorFacts(c.visitor));
  const meta = [];
  if (c.customer && c.customer.email && c.customer.name) meta.push(c.customer.email);
  if (c.cart && Number(c.cart.total) > 0) meta.push(`${money(c.cart.total, c.cart.currency)} cart`);
  if (c.waiting_seconds !== null && c.waiting_seconds !== undefined) {
    meta.push(`waiting ${duration(c.waiting_seconds + (Date.now() - state.fetchedAt) / 1000)}`);
  }
  if (c.assignee) meta.push(c.assignee === state.me ? 'assigned to you' : 'assigned to a colleague');
  el.meta.textContent = meta.join(' · ');
  const resolved = c.status === 'resolved';
  el.badge.textContent = resolved ? 'Resolved' : 'Open';
  el.badge.className = resolved ? 'badge' : 'badge badge-success';
  el.resolve.textContent = resolved ? 'Reopen' : 'Resolve';
  el.assign.textContent = c.assignee && c.assignee === state.me ? 'Unassign' : 'Assign to me';
}

async function changeStatus() {
  const wanted = state.conversation.status === 'resolved' ? 'open' : 'resolved';
  el.resolve.disabled = true;
  try {
    const data = await api('POST', `${base}/status`, { status: wanted });
    state.conversation = data.conversation;
    state.fetchedAt = Date.now();
    renderHeader();
    toast(wanted === 'resolved' ? 'Conversation resolved' : 'Conversation reopened');
  } catch (error) {
    toast(error.message, { error: true });
  } finally {
    el.resolve.disabled = false;
  }
}

async function changeAssignee() {
  const mine = state.conversation.assignee && state.conversation.assignee === state.me;
  el.assign.disabled = true;
  try {
    const data = await api('POST', `${base}/assign`, { to: mine ? null : 'me' });
    state.conversation = data.conversation;
    renderHeader();
    toast(mine ? 'Unassigned' : 'Assigned to you');
  } catch (error) {
    toast(error.message, { error: true });
  } finally {
    el.assign.disabled = false;
  }
}

// ------------------------------------------------------------------ side panel

function lineLink(url) {
  // Cart lines carry storefront paths (Shopify) or nothing (Saleor); only http(s) targets become links.
  if (!url) return null;
  try {
    const target = onSaleor ? new URL(url) : new URL(url, `https://${boot.shop}`);
    return /^https?:$/.test(target.protocol) ? target.href : null;
  } catch {
    return null;
  }
}

function insertButton(line, href) {
  if (onSaleor) {
    return line.title ? h('button', { type: 'button', class: 'button plain small', onclick: () => insertProduct(line.title) }, 'Insert name') : null;
  }
  return href && /\/products\//.test(href)
    ? h('button', { type: 'button', class: 'button plain small', onclick: () => insertProduct(href) }, 'Insert link')
    : null;
}

function renderCart(cart, orders) {
  if (!cart) {
    replace(el.cart, h('p', { class: 'subdued' }, 'The shopper has not shared a cart yet.'));
    return;
  }
  if (!cart.item_count && !(cart.lines || []).length) {
    // An order from this chat emptied it: say so rather than "empty".
    const latest = (orders || []).filter((o) => o.ordered_at).sort((a, b) => Date.parse(b.ordered_at) - Date.parse(a.ordered_at))[0];
    replace(el.cart, h('p', { class: 'subdued' }, latest
      ? `Checked out: order ${latest.name || latest.id} (${ago(latest.ordered_at)}). The cart is empty now.`
      : `The cart is empty (updated ${ago(cart.at)}).`));
    return;
  }
  const lines = (cart.lines || []).map((line) => {
    const href = lineLink(line.url);
    return h(
      'li',
      { class: 'cart-line' },
      h(
        'span',
        { class: 'cart-title' },
        href ? h('a', { href, target: '_blank', rel: 'noopener noreferrer', dir: 'auto' }, line.title || 'Product') : h('bdi', {}, line.title || 'Product'),
        h('span', { class: 'subdued' }, ` ${line.quantity} × ${money(line.price, cart.currency)}`),
      ),
      h('span', { class: 'cart-price' }, money(line.line_price, cart.currency)),
      insertButton(line, href),
    );
  });
  replace(
    el.cart,
    lines.length ? h('ul', { class: 'cart-lines' }, lines) : h('p', { class: 'subdued' }, 'The cart is empty.'),
    h(
      'p',
      { class: 'cart-total' },
      h('strong', {}, money(cart.total, cart.currency)),
      h('span', { class: 'subdued' }, ` · ${cart.item_count} item${cart.item_count === 1 ? '' : 's'} · updated ${ago(cart.at)}`),
    ),
  );
}

function renderOrders(orders, revenue) {
  if (!orders || !orders.length) {
    replace(el.orders, h('p', { class: 'subdued' }, 'No order has followed this chat yet.'));
    return;
  }
  // Amounts come from the server as exact decimal strings, summed there per currency.
  replace(
    el.orders,
    h(
      'ul',
      { class: 'order-list' },
      orders.map((o) =>
        h(
          'li',
          { class: o.counted ? '' : 'cancelled' },
          h('span', {}, h('strong', {}, o.name || o.id), h('span', { class: 'subdued' }, ` · ${day(o.ordered_at)}`)),
          h('span', {}, money(o.refunded ? o.net : o.total, o.currency), o.refunded ? h('span', { class: 'subdued' }, ` of ${money(o.total, o.currency)}`) : null),
          h('span', { class: 'subdued order-status' }, [o.status, o.rule_label || (o.rule ? o.rule.replace(/_/g, ' ') : null)].filter(Boolean).join(' · ')),
        ),
      ),
    ),
    revenue && revenue.length
      ? h('p', { class: 'cart-total' }, 'Revenue from this chat: ', h('strong', {}, revenue.map((r) => money(r.amount, r.currency)).join(' + ')))
      : null,
  );
}

/** The platform now told us who this is: use the name in the header and on their messages. */
function nameTheShopper(person) {
  const known = state.conversation && state.conversation.customer;
  if (!known || (known.name && known.email) || !(person.name || person.email)) return;
  state.conversation.customer = { ...known, name: known.name || person.name, email: known.email || person.email };
  renderHeader();
  for (const node of el.thread.querySelectorAll('.msg.from-shopper[data-id]')) {
    const message = state.messages.get(Number(node.dataset.id));
    if (message) node.replaceWith(bubble(message));
  }
}

async function loadCustomer() {
  try {
    const data = await api('GET', `${base}/customer`);
    if (data.customer) nameTheShopper(data.customer);
    const parts = [];
    if (data.notice) parts.push(notice(data.notice, data.customer ? 'warning' : 'info'));
    if (data.customer) {
      const c = data.customer;
      parts.push(
        h(
          'div',
          { class: 'customer' },
          h('strong', { dir: 'auto' }, c.name || 'Customer'),
          c.email ? h('div', {}, h('a', { href: `mailto:${c.email}`, dir: 'auto' }, c.email)) : null,
          c.orders_count !== null && c.orders_count !== undefined ? h('div', { class: 'subdued' }, `${c.orders_count} order${Number(c.orders_count) === 1 ? '' : 's'} in total`) : null,
          data.source === 'cache' ? h('div', { class: 'subdued' }, 'Saved earlier') : null,
        ),
      );
      if (data.orders && data.orders.length) {
        parts.push(h('h3', {}, 'Last orders'));
        parts.push(
          h(
            'ul',
            { class: 'order-list' },
            data.orders.map((o) =>
              h(
                'li',
                {},
                h('span', {}, h('strong', {}, o.name || ''), h('span', { class: 'subdued' }, ` · ${day(o.created_at)}`)),
                h('span', {}, money(o.total, o.currency)),
                h('span', { class: 'subdued order-status' }, o.status_label || [o.financial_status, o.fulfillment_status].filter(Boolean).join(' · ').toLowerCase().replace(/_/g, ' ')),
              ),
            ),
          ),
        );
      }
    }
    if (!parts.length) parts.push(h('p', { class: 'subdued' }, 'Nothing known about this shopper.'));
    replace(el.customer, parts);
  } catch (error) {
    replace(el.customer, notice(error.message, 'warning'));
  }
}

// ------------------------------------------------------------------ sending

function setMode(mode, { focusReply = true } = {}) {
  state.mode = mode;
  for (const button of el.modes) {
    const on = button.dataset.mode === mode;
    button.setAttribute('aria-checked', String(on));
    button.tabIndex = on ? 0 : -1; // one tab stop for the group; arrows move inside it
  }
  el.composer.classList.toggle('note-mode', mode === 'note');
  el.reply.placeholder = mode === 'note'
    ? 'Internal note: only your team sees it'
    : 'Reply to the shopper… (Enter sends, Shift+Enter new line, / for saved replies)';
  if (focusReply) el.reply.focus();
}

/** Arrow keys move between Reply and Note, as in any radio group. */
function modeKeys(event) {
  const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key];
  if (!step) return;
  event.preventDefault();
  const at = el.modes.indexOf(event.currentTarget);
  const next = el.modes[(at + step + el.modes.length) % el.modes.length];
  setMode(next.dataset.mode, { focusReply: false });
  next.focus();
}

/** How long the reply is, and whether it can go: said before sending, never cut. */
function checkLength() {
  const length = el.reply.value.length;
  const over = length - MAX_BODY;
  el.composer.classList.toggle('too-long', over > 0);
  el.send.disabled = over > 0;
  el.reply.setAttribute('aria-invalid', String(over > 0));
  if (over > 0) {
    el.count.textContent = `${over.toLocaleString()} characters too long: a message can hold ${MAX_BODY.toLocaleString()}. Shorten it or send it in parts.`;
  } else {
    el.count.textContent = length > MAX_BODY - 500 ? `${(MAX_BODY - length).toLocaleString()} characters left` : '';
  }
  return over <= 0;
}

// -- drafts: leaving the page (Esc, next/previous, a link) keeps what was typed.
const draftKey = `parley.draft.${conversationId}`;

function saveDraft() {
  try {
    if (el.reply.value) sessionStorage.setItem(draftKey, JSON.stringify({ body: el.reply.value, mode: state.mode }));
    else sessionStorage.removeItem(draftKey);
  } catch {
    /* storage full or off: the draft lives as long as the page */
  }
}

function restoreDraft() {
  try {
    const draft = JSON.parse(sessionStorage.getItem(draftKey) || 'null');
    if (draft && typeof draft.body === 'string') {
      el.reply.value = draft.body;
      if (draft.mode === 'note') setMode('note', { focusReply: false });
    }
  } catch {
    /* nothing kept */
  }
}

function send() {
  const body = el.reply.value;
  if (!body.trim()) return;
  if (!checkLength()) {
    el.reply.focus();
    return;
  }
  const message = { client_id: uuid(), body, internal: state.mode === 'note', author: 'agent', author_id: state.me, created_at: null };
  const node = bubble(message, { pending: true });
  el.thread.append(node);
  state.pending.set(message.client_id, { ...message, node });
  el.reply.value = '';
  el.hint.textContent = '';
  checkLength();
  saveDraft();
  closeSaved();
  stopTyping();
  toBottom();
  queue(message.client_id);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Replies go out one after another, so a retried one cannot land after a later one.
let outbox = Promise.resolve();

function queue(clientId) {
  outbox = outbox.then(() => deliver(clientId));
}

async function deliver(clientId) {
  for (let attempt = 0; ; attempt++) {
    const item = state.pending.get(clientId);
    if (!item) return; // the stream already brought it
    const status = item.node.querySelector('.sending');
    try {
      const data = await api('POST', `${base}/messages`, { client_id: clientId, body: item.body, internal: item.internal });
      placeMessage(data.message); // swaps the pending bubble for the stored one, unless the stream did
      if (!item.internal) refreshPanel(); // a reply ends the wait: the header says so
      return;
    } catch (error) {
      const unsure = error.status === 0 || error.status >= 500 || error.status === 429;
      if (unsure && attempt < 5) {
        // Maybe stored, maybe not: the same client_id makes the resend safe.
        status.textContent = 'Retrying…';
        await sleep(Math.min(1000 * 2 ** attempt, 15_000));
        continue;
      }
      if (unsure) {
        item.node.classList.add('failed');
        replace(status, 'Not sent. ', h('button', { type: 'button', class: 'button plain small', onclick: () => {
          item.node.classList.remove('failed');
          replace(status, 'Sending…');
          queue(clientId);
        } }, 'Retry'));
        return;
      }
      // Refused (too long, empty, gone): give the text back with the reason.
      item.node.remove();
      state.pending.delete(clientId);
      if (!el.reply.value) el.reply.value = item.body;
      checkLength();
      saveDraft();
      el.hint.textContent = error.message;
      el.hint.classList.add('field-error-text');
      toast(error.message, { error: true });
      return;
    }
  }
}

// ------------------------------------------------------------------ typing, both ways

let typingSentAt = 0;
let typingIdle = null;
let shopperTypingHide = null;

function typed() {
  if (state.mode === 'note') return; // notes are not the shopper's business
  const now = Date.now();
  if (now - typingSentAt > 3000) {
    typingSentAt = now;
    api('POST', `${base}/typing`, { typing: true }).catch(() => {});
  }
  clearTimeout(typingIdle);
  typingIdle = setTimeout(stopTyping, 4000);
}

function stopTyping() {
  clearTimeout(typingIdle);
  if (!typingSentAt) return;
  typingSentAt = 0;
  api('POST', `${base}/typing`, { typing: false }).catch(() => {});
}

function shopperTyping(on) {
  clearTimeout(shopperTypingHide);
  el.typing.textContent = on ? `${customerName(state.conversation && state.conversation.customer)} is typing…` : '';
  if (on) shopperTypingHide = setTimeout(() => shopperTyping(false), 8000);
}

// ------------------------------------------------------------------ read marks

const markRead = debounce(() => {
  if (document.visibilityState !== 'visible') return;
  let upTo = 0;
  for (const message of state.messages.values()) if (message.author === 'shopper' && message.id > upTo) upTo = message.id;
  if (upTo <= state.readUpTo) return;
  state.readUpTo = upTo;
  api('POST', `${base}/read`, { up_to: upTo }).then(refreshUnread, () => {
    state.readUpTo = 0; // try again on the next occasion
  });
}, 300);

// ------------------------------------------------------------------ saved replies and product links

let suggestions = [];
let active = 0;

function slashWord() {
  const caret = el.reply.selectionStart;
  if (caret !== el.reply.selectionEnd) return null;
  const match = el.reply.value.slice(0, caret).match(/(?:^|\s)\/([a-z0-9_-]*)$/i);
  return match ? { start: caret - match[1].length - 1, end: caret, word: match[1].toLowerCase() } : null;
}

function offerSaved() {
  const slash = slashWord();
  suggestions = slash ? state.savedReplies.filter((r) => r.shortcut.startsWith(slash.word)) : [];
  if (!suggestions.length) return closeSaved();
  active = Math.min(active, suggestions.length - 1);
  replace(
    el.saved,
    suggestions.map((reply, index) =>
      h(
        'li',
        {
          role: 'option',
          id: `saved-${index}`,
          'aria-selected': String(index === active),
          onmousedown: (event) => {
            event.preventDefault();
            insertSaved(index);
          },
        },
        h('strong', {}, `/${reply.shortcut}`),
        ' ',
        h('bdi', { class: 'subdued', dir: 'auto' }, reply.text),
      ),
    ),
  );
  el.saved.hidden = false;
  el.reply.setAttribute('aria-activedescendant', `saved-${active}`);
}

function closeSaved() {
  suggestions = [];
  active = 0;
  el.saved.hidden = true;
  el.reply.removeAttribute('aria-activedescendant');
}

function insertAt(start, end, text) {
  const value = el.reply.value;
  el.reply.value = value.slice(0, start) + text + value.slice(end);
  const caret = start + text.length;
  el.reply.setSelectionRange(caret, caret);
  el.reply.focus();
}

function insertSaved(index) {
  const slash = slashWord();
  const reply = suggestions[index];
  if (!slash || !reply) return closeSaved();
  insertAt(slash.start, slash.end, reply.text);
  closeSaved();
  typed();
}

/** A product URL or handle → the product's address on this shop, or null. */
function productUrl(input) {
  let handle = input.trim();
  if (!handle) return null;
  if (/^https?:\/\//i.test(handle) || handle.startsWith('/')) {
    let path;
    try {
      path = new URL(handle, `https://${boot.shop}`).pathname;
    } catch {
      return null;
    }
    const match = path.match(/\/products\/([^/]+)/);
    if (!match) return null;
    handle = decodeURIComponent(match[1]);
  }
  handle = handle.replace(/^products\//, '').toLowerCase();
  if (!/^[\p{L}\p{N}][\p{L}\p{N}_-]*$/u.test(handle)) return null;
  return `https://${boot.shop}/products/${encodeURIComponent(handle)}`;
}

/** Saleor: what the staff member typed, as plain text: a product name, or a storefront URL they pasted (http(s) only). */
function productText(input) {
  const text = input.trim().replace(/\s+/g, ' ');
  if (!text) return null;
  // A scheme other than http(s) (javascript:, data:…) is refused; "Parka: wool" is a name.
  if (/^[a-z][a-z0-9+.-]*:\S/i.test(text) && !/^https?:\/\/\S+$/i.test(text)) return null;
  return text;
}

/** A product URL or name into the reply at the caret. */
function insertProduct(text) {
  const start = el.reply.selectionStart ?? el.reply.value.length;
  const end = el.reply.selectionEnd ?? start;
  const before = el.reply.value.slice(0, start);
  insertAt(start, end, (before && !/\s$/.test(before) ? ' ' : '') + text + ' ');
}

// ------------------------------------------------------------------ loading and live updates

async function loadConversation({ first = false } = {}) {
  try {
    const data = await api('GET', base);
    state.conversation = data.conversation;
    state.fetchedAt = Date.now();
    const stick = first || nearBottom();
    showThread(data.messages, first ? data.has_more : state.hasMore || data.has_more);
    if (stick) toBottom();
    renderHeader();
    renderCart(data.cart, data.orders);
    renderOrders(data.orders, data.revenue);
    markRead();
  } catch (error) {
    if (first) replace(el.thread, h('li', { class: 'msg from-system' }, notice(error.message, 'warning')));
    else toast(error.message, { error: true });
  }
}

async function loadSavedReplies() {
  try {
    const data = await api('GET', '/admin/api/settings');
    state.savedReplies = data.settings.saved_replies || [];
  } catch {
    state.savedReplies = [];
  }
}

const refreshPanel = debounce(() => loadConversation(), 300);

function unseenUpTo(upTo) {
  for (const message of state.messages.values()) {
    if (message.author === 'agent' && !message.internal && !message.read_at && message.id <= upTo) return true;
  }
  return false;
}

function onMessage(message) {
  // Any conversation's shopper message counts in the title; this one's is in view.
  messageArrived(message, { seen: message.conversation_id === conversationId });
  if (message.conversation_id !== conversationId) return;
  const stick = nearBottom() || (message.client_id && state.pending.has(message.client_id));
  if (!placeMessage(message)) return;
  if (message.author === 'shopper') {
    shopperTyping(false);
    markRead();
  }
  if (stick) toBottom();
  // The header's waiting time and the unread state follow the thread.
  refreshPanel();
}

// ------------------------------------------------------------------ wiring

el.reply.addEventListener('keydown', (event) => {
  if (!el.saved.hidden && suggestions.length) {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + suggestions.length) % suggestions.length;
      offerSaved();
      return;
    }
    if (event.key === 'Tab' || (event.key === 'Enter' && !event.shiftKey)) {
      event.preventDefault();
      insertSaved(active);
      return;
    }
    if (event.key === 'Escape') {
      event.preventDefault();
      closeSaved();
      return;
    }
  }
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
el.reply.addEventListener('input', () => {
  el.hint.textContent = '';
  el.hint.classList.remove('field-error-text');
  checkLength();
  saveDraft();
  offerSaved();
  if (el.reply.value) typed();
});
el.reply.addEventListener('click', offerSaved);
el.reply.addEventListener('blur', () => setTimeout(closeSaved, 100));
el.composer.addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
for (const button of el.modes) {
  button.addEventListener('click', () => setMode(button.dataset.mode));
  button.addEventListener('keydown', modeKeys);
}
el.earlier.addEventListener('click', loadEarlier);
wirePictureUpload({
  input: document.getElementById('attach-picture'),
  thread: el.thread,
  path: `${base}/attachments`,
  placed: (message) => {
    placeMessage(message);
    refreshPanel(); // a picture is a reply too: the wait ends
  },
  toBottom,
});
wireSelling({
  base,
  placed: (message) => {
    placeMessage(message);
    toBottom();
    refreshPanel();
  },
});
el.resolve.addEventListener('click', changeStatus);
el.assign.addEventListener('click', changeAssignee);
el.productForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = onSaleor ? productText(el.product.value) : productUrl(el.product.value);
  el.productError.hidden = Boolean(text);
  if (!text) {
    el.productError.textContent = onSaleor
      ? 'Enter a product name, or a storefront address (https://…).'
      : 'Enter a product URL (…/products/handle) or a handle like rain-jacket.';
    return;
  }
  insertProduct(text);
  el.product.value = '';
});
document.addEventListener('visibilitychange', markRead);
setInterval(() => {
  renderHeader(); // the waiting time ticks
  tickLocalTimes(el.facts);
}, 15_000);

// ------------------------------------------------------------------ keyboard: back, next, previous

/** The inbox's order as it was last shown (inbox.js keeps it), else the open tab's. */
async function inboxOrder() {
  try {
    const kept = JSON.parse(sessionStorage.getItem('parley.inbox') || 'null');
    if (kept && Array.isArray(kept.ids) && kept.ids.includes(conversationId)) return kept.ids;
  } catch {
    /* fall through */
  }
  try {
    const data = await api('GET', '/admin/api/inbox?tab=open&limit=100');
    return data.conversations.map((row) => row.id);
  } catch {
    return [];
  }
}

let order = [];
let neighbours = null; // the order's arrival, for a key pressed before it came

async function showNeighbours() {
  order = await inboxOrder();
  const at = order.indexOf(conversationId);
  el.previous.hidden = at <= 0;
  el.next.hidden = at === -1 || at >= order.length - 1;
}

async function goTo(step) {
  await neighbours;
  const at = order.indexOf(conversationId);
  const target = at === -1 ? null : order[at + step];
  if (!target) {
    toast(step > 0 ? 'This is the last conversation in the list.' : 'This is the first conversation in the list.');
    return;
  }
  saveDraft();
  navigate(conversationPath(target));
}

function inField(target) {
  return target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
}

document.addEventListener('keydown', (event) => {
  if (event.defaultPrevented || event.isComposing) return;
  if (event.key === 'Escape' && !event.altKey && !event.ctrlKey && !event.metaKey) {
    // Esc first closes what is open over the reply box (the saved replies), then goes back.
    if (!el.saved.hidden) return;
    event.preventDefault();
    saveDraft();
    navigate(el.back.getAttribute('href'));
    return;
  }
  const arrow = event.altKey && !event.ctrlKey && !event.metaKey && { ArrowDown: 1, ArrowUp: -1 }[event.key];
  const letter = !event.altKey && !event.ctrlKey && !event.metaKey && !inField(event.target) && { j: 1, k: -1 }[event.key];
  const step = arrow || letter;
  if (!step) return;
  event.preventDefault();
  goTo(step);
});
el.next.addEventListener('click', () => goTo(1));
el.previous.addEventListener('click', () => goTo(-1));
addEventListener('pagehide', saveDraft);

wireNavigation();

restoreDraft();
checkLength();
state.me = await staffId();
await Promise.all([loadConversation({ first: true }), loadSavedReplies()]);
neighbours = showNeighbours();
loadCustomer();
startNotify({ conversationId });
liveEvents(
  {
    message: onMessage,
    typing: (data) => data.conversation_id === conversationId && data.author === 'shopper' && shopperTyping(Boolean(data.typing)),
    cart: (data) => data.conversation_id === conversationId && refreshPanel(),
    // Read events name the shopper, not the conversation: look again only when one of
    // our unseen replies could be what was read.
    read: (data) => data.by === 'shopper' && unseenUpTo(data.up_to) && refreshPanel(),
    status: (data) => {
      if (data.conversation_id !== conversationId || !state.conversation) return;
      state.conversation = { ...state.conversation, status: data.status, assignee: data.assignee };
      renderHeader();
    },
    state: (s) => document.body.classList.toggle('reconnecting', s !== 'live'),
  },
  boot.lastEventId,
);
el.reply.focus();
