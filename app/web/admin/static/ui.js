// Small DOM and formatting helpers shared by the pages. Text from shoppers, customers
// and settings only ever becomes a text node: nothing here parses HTML.

import { boot } from './api.js';

/** h('p', {class: 'x'}, 'text', child) → an element; strings become text nodes. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

const locale = () => (navigator.languages && navigator.languages[0]) || navigator.language || 'en';

/** "€480.00": amounts arrive as decimal strings with their currency. */
export function money(amount, currency) {
  if (amount === null || amount === undefined || amount === '') return '';
  const value = Number(amount);
  if (!currency) return value.toFixed(2);
  try {
    return new Intl.NumberFormat(locale(), { style: 'currency', currency }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

/** "6 min", "2 h 5 min", "3 d". */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return 'under a minute';
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

/** "just now", "5 min ago", "yesterday"…, from an ISO time. */
export function ago(iso) {
  if (!iso) return '';
  const seconds = (Date.now() - Date.parse(iso)) / 1000;
  if (seconds < 45) return 'just now';
  const format = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  if (seconds < 3600) return format.format(-Math.round(seconds / 60), 'minute');
  if (seconds < 86400) return format.format(-Math.round(seconds / 3600), 'hour');
  return format.format(-Math.round(seconds / 86400), 'day');
}

export function clock(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const sameDay = new Date().toDateString() === date.toDateString();
  return new Intl.DateTimeFormat(locale(), sameDay ? { timeStyle: 'short' } : { dateStyle: 'medium', timeStyle: 'short' }).format(date);
}

export function day(iso) {
  return iso ? new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso)) : '';
}

/** What the merchant calls the shopper: their name, e-mail, customer number, or the
 * stable made-up name the server gives an anonymous shopper ("Otter 42"). */
export function customerName(customer) {
  if (!customer) return 'Visitor';
  return customer.name || customer.email || customer.label || (customer.customer_id ? `Customer ${customer.customer_id}` : 'Visitor');
}

/**
 * 'rtl' or 'ltr' by the first letter of a text, as dir="auto" decides: for an element
 * whose own words (a "You: " prefix) must not decide the direction of the shopper's.
 */
export function textDirection(text) {
  const first = String(text || '').match(/\p{L}/u);
  return first && /[\u0590-\u08FF\uFB1D-\uFDFF\uFE70-\uFEFC]/.test(first[0]) ? 'rtl' : 'ltr';
}

/** The round picture beside a shopper: initials on a colour of their own (from the visitor id). */
export function avatar(label, visitor, extraClass = '') {
  const style = visitor && Number.isInteger(visitor.hue) ? `--avatar-hue: ${visitor.hue}` : null;
  // An anonymous shopper's made-up name ("Otter 42") shows its animal's letter only.
  const letters = style ? [...label][0].toUpperCase() : initials(label);
  return h('span', { class: `avatar${style ? ' avatar-hued' : ''}${extraClass ? ' ' + extraClass : ''}`, style, 'aria-hidden': 'true' }, letters);
}

/** "Estonian", in the merchant's language, for a shopper's locale ("et-EE"). */
export function languageName(tag) {
  if (!tag) return '';
  try {
    return new Intl.DisplayNames([locale()], { type: 'language' }).of(tag) || tag;
  } catch {
    return tag;
  }
}

/** The shopper's time of day now, in their own time zone ("14:05"), or ''. */
export function localTime(timeZone) {
  if (!timeZone) return '';
  try {
    return new Intl.DateTimeFormat(locale(), { timeStyle: 'short', timeZone }).format(new Date());
  } catch {
    return '';
  }
}

/** A page address as a short, safe link target: only http(s); shown as its path. */
export function pageLink(url) {
  try {
    const page = new URL(url);
    if (page.protocol !== 'https:' && page.protocol !== 'http:') return null;
    const path = decodeURI(page.pathname);
    return { href: page.href, path: path === '/' || !path ? 'home page' : path };
  } catch {
    return null;
  }
}

/**
 * What the shop knows of the shopper without asking, as short parts: their language,
 * the page they wrote from, their local time, returning or new. `{links: false}` for
 * places that are themselves a link (an inbox row).
 */
export function visitorFacts(visitor, { links = true } = {}) {
  if (!visitor) return [];
  const parts = [];
  if (visitor.locale) parts.push(h('span', { class: 'fact', title: 'Language' }, languageName(visitor.locale)));
  const page = visitor.page && pageLink(visitor.page);
  if (page) {
    parts.push(links
      ? h('a', { class: 'fact fact-page', href: page.href, target: '_blank', rel: 'noopener noreferrer', title: page.href, dir: 'auto' }, page.path)
      : h('span', { class: 'fact fact-page', title: page.href, dir: 'auto' }, page.path));
  }
  const time = localTime(visitor.timezone);
  if (time) parts.push(h('span', { class: 'fact', title: visitor.timezone, dataset: { localTime: visitor.timezone } }, `${time} local time`));
  parts.push(h('span', { class: 'fact' }, visitor.returning ? 'Returning' : 'New'));
  return parts;
}

/** Keep live local times in `root` ticking. */
export function tickLocalTimes(root) {
  for (const el of root.querySelectorAll('[data-local-time]')) {
    const time = localTime(el.dataset.localTime);
    if (time) el.textContent = `${time} local time`;
  }
}

export function initials(label) {
  const letters = label.split(/\s+/).filter(Boolean).slice(0, 2).map((word) => [...word][0]);
  return letters.join('').toUpperCase() || '?';
}

export function conversationPath(id) {
  return `/app/conversations/${encodeURIComponent(id)}${boot.query ? '?' + boot.query : ''}`;
}

export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A random UUID, also outside secure contexts (a demo opened over a LAN address). */
export function uuid() {
  if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The admin's own notification where there is one (App Bridge's toast in Shopify, the
 * Dashboard's `notification` action in Saleor), our toast otherwise. Never both: the
 * Dashboard draws its notification outside the iframe, and the same sentence twice on
 * screen reads like two events.
 */
export function toast(message, { error = false } = {}) {
  if (window.shopify && window.shopify.toast && typeof window.shopify.toast.show === 'function') {
    window.shopify.toast.show(message, { isError: error, duration: 4000 });
    return;
  }
  if (boot.platform === 'saleor' && window.ParleySaleor && window.parent !== window) {
    window.ParleySaleor.notify(error ? 'error' : 'success', message);
    return;
  }
  const holder = document.getElementById('toasts');
  placeToasts(holder);
  const item = h('div', { class: error ? 'toast toast-error' : 'toast' }, message);
  holder.append(item);
  setTimeout(() => item.classList.add('toast-leaving'), 3600);
  setTimeout(() => item.remove(), 4000);
}

/**
 * Toasts sit at the bottom of the window, except where a page marks what they must never
 * cover (the reply box, `data-toasts-above`): there they sit just above it.
 */
function placeToasts(holder) {
  const keepClear = document.querySelector('[data-toasts-above]');
  holder.style.bottom = '';
  if (!keepClear) return;
  const box = keepClear.getBoundingClientRect();
  if (box.bottom <= 0 || box.top >= innerHeight) return; // scrolled away: nothing to cover
  holder.style.bottom = `${Math.max(24, innerHeight - box.top + 12)}px`;
}

/** An inline notice in a container: a sentence, subdued or as a warning. */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice notice-${kind}` }, text);
}
