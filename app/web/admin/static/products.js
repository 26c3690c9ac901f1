// Selling from the thread (docs/admin-api.md, "Selling from the thread"): the product
// search beside the conversation, cards and a checkout link sent to the shopper, codes
// picked or made within the shop's limits; and the agent's own cards drawn in the thread.

import { api } from './api.js';
import { h, replace, toast, uuid } from './ui.js';

const STOCK_WORDS = { in_stock: 'In stock', low: 'Only a few left', sold_out: 'Sold out' };

/** meta.cards / meta.checkout of an agent's message, or null. */
export function saleOf(message) {
  const meta = message && message.author === 'agent' && message.meta;
  return meta && (Array.isArray(meta.cards) || (meta.checkout && meta.checkout.url)) ? meta : null;
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, location.href);
    return ['http:', 'https:'].includes(parsed.protocol) ? parsed.href : null;
  } catch {
    return null;
  }
}

function thumb(src, alt) {
  const url = src && safeUrl(src);
  return url ? h('img', { class: 'sell-thumb', src: url, alt: alt || '', width: 48, height: 48, loading: 'lazy' }) : h('span', { class: 'sell-thumb' });
}

function stockBadge(stock) {
  return h('span', { class: `badge stock-${stock}` }, STOCK_WORDS[stock] || stock);
}

/** The thread's bubble for a message that carries cards: what the shopper sees, in small. */
export function saleNode(message) {
  const meta = saleOf(message);
  if (!meta) return null;
  const cards = (meta.cards || []).map((card) => h('div', { class: 'sale-card' },
    thumb(card.image, card.title),
    h('div', {},
      h('strong', { dir: 'auto' }, card.title), card.variant_title ? h('span', { class: 'subdued' }, ` · ${card.variant_title}`) : null,
      h('div', {}, card.price_text, ' ', stockBadge(card.stock)),
    ),
  ));
  const checkout = meta.checkout;
  if (checkout) {
    const url = safeUrl(checkout.url);
    cards.push(h('div', { class: 'sale-card checkout' },
      h('div', {},
        h('strong', {}, 'Checkout link'),
        h('ul', {}, (checkout.lines || []).map((line) => h('li', { dir: 'auto' }, `${line.quantity} × ${line.title}`))),
        checkout.code ? h('div', { class: 'subdued' }, `Code ${checkout.code}`) : null,
        h('div', {}, checkout.total_text, ' ', url ? h('a', { href: url, target: '_blank', rel: 'noopener' }, 'Open') : null),
      ),
    ));
  }
  return h('div', { class: 'bubble sale', dir: 'auto' }, meta.note ? h('p', {}, meta.note) : null, cards);
}

/** The side panel's selling tools for one conversation. `placed(message)` shows what was sent. */
export function wireSelling({ base, placed }) {
  const root = document.getElementById('sell');
  if (!root) return;
  const form = root.querySelector('#product-search');
  const query = root.querySelector('#product-query');
  const status = root.querySelector('#product-notice');
  const results = root.querySelector('#product-results');
  const cartBox = root.querySelector('#sell-cart');
  const linesList = root.querySelector('#sell-lines');
  const codeSelect = root.querySelector('#sell-code');
  const limitsText = root.querySelector('#sell-limits');
  const newCode = root.querySelector('#new-code');
  const error = root.querySelector('#sell-error');
  const lines = new Map(); // variant id → {title, price_text, quantity}
  let codesLoaded = false;

  const fail = (problem) => {
    error.textContent = problem.message || String(problem);
    error.hidden = false;
  };
  const clearError = () => { error.hidden = true; };

  function drawLines() {
    cartBox.hidden = lines.size === 0;
    replace(linesList, [...lines.entries()].map(([id, line]) => {
      const qty = h('input', { type: 'number', min: 1, max: 99, value: line.quantity, 'aria-label': `Quantity of ${line.title}`, class: 'sell-qty' });
      qty.addEventListener('change', () => { line.quantity = Math.max(1, Math.min(99, Number(qty.value) || 1)); });
      const remove = h('button', { type: 'button', class: 'button plain small', 'aria-label': `Remove ${line.title}` }, '×');
      remove.addEventListener('click', () => { lines.delete(id); drawLines(); });
      return h('li', {}, h('span', { dir: 'auto', class: 'sell-line-title' }, line.title), h('span', { class: 'subdued' }, line.price_text), qty, remove);
    }));
    if (lines.size && !codesLoaded) loadCodes();
  }

  async function loadCodes() {
    codesLoaded = true;
    try {
      const answer = await api('GET', '/admin/api/discounts');
      const { limits } = answer;
      limitsText.textContent = `Up to ${limits.discount_max_percent} % or ${limits.discount_max_amount} off, for at most ${limits.discount_max_days} days (Settings).`
        + (answer.notice ? ` ${answer.notice}` : '');
      for (const code of answer.codes) codeSelect.append(h('option', { value: code.code }, `${code.code} — ${code.summary || code.title}`));
    } catch (problem) {
      limitsText.textContent = problem.message;
      codesLoaded = false;
    }
  }

  async function sendCard(variant, button) {
    clearError();
    button.disabled = true;
    try {
      const answer = await api('POST', `${base}/cards`, { variant_ids: [variant.id], client_id: uuid() });
      placed(answer.message);
      toast('Card sent');
    } catch (problem) {
      fail(problem);
    } finally {
      button.disabled = false;
    }
  }

  function result(product) {
    const variants = product.variants;
    if (!variants.length) return null;
    const picker = variants.length > 1
      ? h('select', { 'aria-label': `Variant of ${product.title}`, class: 'sell-variant' }, variants.map((v, i) => h('option', { value: i }, `${v.title || v.sku || v.id} · ${v.price_text}`)))
      : null;
    const chosen = () => variants[picker ? Number(picker.value) : 0];
    const facts = h('div', { class: 'sell-facts' });
    const show = () => {
      const v = chosen();
      replace(facts, h('span', {}, v.price_text), ' ', stockBadge(v.stock), v.sku ? h('span', { class: 'subdued' }, ` SKU ${v.sku}`) : null);
      add.disabled = v.stock === 'sold_out';
    };
    const send = h('button', { type: 'button', class: 'button small' }, 'Send card');
    const add = h('button', { type: 'button', class: 'button plain small' }, 'Add to cart');
    send.addEventListener('click', () => sendCard(chosen(), send));
    add.addEventListener('click', () => {
      const v = chosen();
      const line = lines.get(v.id) || { title: product.title + (picker ? ` (${v.title})` : ''), price_text: v.price_text, quantity: 0 };
      line.quantity = Math.min(99, line.quantity + 1);
      lines.set(v.id, line);
      drawLines();
    });
    if (picker) picker.addEventListener('change', show);
    const item = h('li', { class: 'sell-result' }, thumb(product.image || chosen().image, product.title),
      h('div', { class: 'sell-result-body' }, h('strong', { dir: 'auto' }, product.title), picker, facts, h('div', { class: 'sell-buttons' }, send, add)));
    show();
    return item;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const text = query.value.trim();
    if (!text) return;
    status.textContent = 'Searching…';
    try {
      const answer = await api('GET', `/admin/api/products?q=${encodeURIComponent(text)}`);
      replace(results, answer.products.map(result));
      status.textContent = answer.notice || (answer.products.length ? '' : `No products match “${text}”.`);
    } catch (problem) {
      status.textContent = '';
      fail(problem);
    }
  });

  newCode.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError();
    const kind = newCode.querySelector('#code-kind').value;
    const raw = newCode.querySelector('#code-value').value.trim();
    const value = kind === 'percent' ? Number(raw) : raw;
    try {
      const made = await api('POST', `${base}/discounts`, { kind, value: kind === 'percent' && Number.isInteger(value) ? value : String(raw) });
      codeSelect.append(h('option', { value: made.code }, `${made.code} — ${made.summary}`));
      codeSelect.value = made.code;
      toast(`Code ${made.code} created`);
    } catch (problem) {
      fail(problem);
    }
  });

  root.querySelector('#send-checkout').addEventListener('click', async (event) => {
    clearError();
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const body = { lines: [...lines.entries()].map(([variant_id, line]) => ({ variant_id, quantity: line.quantity })), client_id: uuid() };
      if (codeSelect.value) body.code = codeSelect.value;
      const answer = await api('POST', `${base}/checkout-link`, body);
      placed(answer.message);
      lines.clear();
      drawLines();
      toast('Checkout link sent');
    } catch (problem) {
      fail(problem);
    } finally {
      button.disabled = false;
    }
  });
}
