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

export function customerName(customer) {
  if (!customer) return 'Visitor';
  return customer.name || customer.email || (customer.customer_id ? `Customer ${customer.customer_id}` : 'Visitor');
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
  const item = h('div', { class: error ? 'toast toast-error' : 'toast' }, message);
  holder.append(item);
  setTimeout(() => item.classList.add('toast-leaving'), 3600);
  setTimeout(() => item.remove(), 4000);
}

/** An inline notice in a container: a sentence, subdued or as a warning. */
export function notice(text, kind = 'info') {
  return h('p', { class: `notice notice-${kind}` }, text);
}
