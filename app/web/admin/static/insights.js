// Insights: what chat earns, for a chosen period. Every figure comes from
// /admin/api/insights; the charts arrive as SVG drawn by Parley's server.

import { ApiError, api, downloadFile, wireNavigation } from './api.js';
import { conversationPath, customerName, day, duration, h, money, replace, toast } from './ui.js';

const $ = (id) => document.getElementById(id);
const form = $('period');
const card = $('insights');
const download = $('download');
const RULES = {
  agent_code: 'Used the agent’s discount code',
  agent_cart: 'Bought what the agent sent',
  conversation: 'Marked on the order',
  cart_token: 'Cart seen in the chat',
  customer: 'Signed-in customer chatted',
};
const SVG = 'http://www.w3.org/2000/svg';
let zone = 'UTC';

/** Today in the shop's time zone as YYYY-MM-DD (en-CA writes dates that way). */
function shopToday() {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: zone }).format(new Date());
  } catch {
    return new Date().toISOString().slice(0, 10);
  }
}

function daysBefore(iso, days) {
  const date = new Date(iso + 'T00:00:00Z');
  date.setUTCDate(date.getUTCDate() - days);
  return date.toISOString().slice(0, 10);
}

function query() {
  const params = new URLSearchParams();
  if ($('from').value) params.set('from', $('from').value);
  if ($('to').value) params.set('to', $('to').value);
  return params.toString();
}

function figure(labelText, value, detail) {
  return h('div', { class: 'figure' }, h('span', { class: 'subdued' }, labelText), h('strong', {}, value), detail ? h('span', { class: 'subdued figure-detail' }, detail) : null);
}

const seconds = (value) => (value === null || value === undefined ? '—' : duration(value));
const amounts = (list) => (list.length ? list.map((m) => money(m.amount, m.currency)).join(' · ') : '—');

function figures(data) {
  const c = data.conversations;
  const left = data.orders.not_counted;
  const notCounted = Object.entries(left).filter(([, n]) => n).map(([why, n]) => `${n} ${why}`);
  const revenue = data.revenue.length
    ? data.revenue.map((m) => h('span', { class: 'figure-line' }, money(m.amount, m.currency)))
    : '—';
  return h('div', { class: 'figures' },
    figure('Conversations started', String(c.started), `${c.answered} answered · ${c.resolved} resolved`),
    figure('First response, median', seconds(data.first_response_seconds.median), `p90 ${seconds(data.first_response_seconds.p90)}`),
    figure('Resolution, median', seconds(data.resolution_seconds.median)),
    figure('Orders after a chat', String(data.orders.counted), notCounted.length ? `Not counted: ${notCounted.join(', ')}` : null),
    h('div', { class: 'figure' }, h('span', { class: 'subdued' }, 'Revenue after a chat'), h('strong', {}, revenue)),
    figure('Chat conversion', data.conversion.percent === null ? '—' : `${data.conversion.percent} %`,
      `${data.conversion.converted} of ${data.conversion.conversations} conversations`),
    figure('Abandoned carts', String(data.abandoned_carts.count), abandonedDetail(data)),
  );
}

/** "€75.50 · 1 cart still open": only the parts there are, never a dash for nothing. */
function abandonedDetail(data) {
  const carts = data.abandoned_carts;
  const parts = [];
  if (carts.value.length) parts.push(amounts(carts.value));
  if (carts.still_open) {
    parts.push(`${carts.still_open} ${carts.still_open === 1 ? 'cart' : 'carts'} still open (younger than ${data.attribution_window_days} days)`);
  }
  return parts.length ? parts.join(' · ') : 'None in this period';
}

function rules(data) {
  return data.by_rule.map((rule) => h('tr', {},
    h('td', {}, RULES[rule.rule] || rule.rule),
    h('td', {}, String(rule.orders)),
    h('td', {}, amounts(rule.revenue)),
    h('td', {}, rule.discount && rule.discount.length ? amounts(rule.discount) : '—'),
  ));
}

function safeUrl(url) {
  // Checkout links come from order webhooks: only ever an http(s) link, never javascript:.
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

function abandoned(data) {
  const carts = data.abandoned_carts;
  $('abandoned-summary').textContent = carts.count
    ? `Carts left without an order for ${data.attribution_window_days} days or more, biggest first.` + (carts.truncated ? ` The first ${carts.carts.length} are shown; the CSV has all ${carts.count}.` : '')
    : 'No abandoned carts in this period.';
  return carts.carts.map((cart) => {
    const checkout = cart.checkout_url && safeUrl(cart.checkout_url);
    return h('tr', {},
      h('td', {}, h('a', { href: conversationPath(cart.conversation_id), 'data-nav': true, dir: 'auto' }, customerName(cart.customer)),
        cart.customer.email && cart.customer.name ? h('div', { class: 'subdued' }, cart.customer.email) : null),
      h('td', {}, String(cart.item_count)),
      h('td', { class: 'cart-price' }, money(cart.value, cart.currency)),
      h('td', { dir: 'auto' }, cart.titles.join(', ')),
      h('td', {}, day(cart.at)),
      h('td', {}, checkout ? h('a', { href: checkout, target: '_blank', rel: 'noopener noreferrer' }, 'Checkout') : null),
    );
  });
}

/**
 * The only markup this page takes from a string: an SVG chart Parley's server drew and
 * escaped (app/web/charts.py). Parsed as XML, never as HTML, and only an <svg> root is kept.
 */
function chart(svg) {
  const parsed = new DOMParser().parseFromString(svg, 'image/svg+xml').documentElement;
  if (parsed.namespaceURI !== SVG || parsed.localName !== 'svg') return h('p', { class: 'subdued' }, 'The chart could not be drawn.');
  return document.importNode(parsed, true);
}

const overlap = (a, b) => a.left < b.right + 4 && b.left < a.right + 4 && a.top < b.bottom && b.top < a.bottom;

/**
 * The server draws labels at 12 px in a chart as wide as its card; on a narrow card some
 * would touch. Dates are thinned evenly (every 2nd, 4th … label, so the spacing stays
 * even); a bar's value that would touch a shown one is hidden (its bar's tooltip keeps it).
 */
function fitLabels(svg) {
  for (const text of svg.querySelectorAll('text.x-label, text.bar-value')) text.removeAttribute('visibility');
  const dates = [...svg.querySelectorAll('text.x-label')];
  for (let stride = 1; stride <= dates.length; stride *= 2) {
    const shown = dates.filter((text) => Number(text.dataset.index) % stride === 0);
    const rects = shown.map((text) => text.getBoundingClientRect());
    if (rects.every((r, i) => i === 0 || !overlap(rects[i - 1], r))) {
      for (const text of dates) if (!shown.includes(text)) text.setAttribute('visibility', 'hidden');
      break;
    }
  }
  const kept = [...svg.querySelectorAll('text.y-label, text.panel-heading')].map((text) => text.getBoundingClientRect());
  for (const text of svg.querySelectorAll('text.bar-value')) {
    const r = text.getBoundingClientRect();
    if (kept.some((other) => overlap(other, r))) text.setAttribute('visibility', 'hidden');
    else kept.push(r);
  }
}

function fitCharts() {
  for (const svg of document.querySelectorAll('.chart svg')) fitLabels(svg);
}

const percent = (share) => (share === null || share === undefined ? '—' : `${Math.round(share * 1000) / 10} %`);
const CHANNEL_NAMES = { chat: 'Chat', email: 'E-mail' };

// The shop's assistant and the response targets (app/answers/insights.py, app/chat/targets_met.py).
function assistant(data) {
  const a = data.assistant;
  const reasons = Object.entries(a.handover_reasons).map(([reason, count]) => `${reason}: ${count}`).join(' · ');
  replace(
    $('assistant-figures'),
    figure('Answered by the assistant', String(a.answered), a.order_status ? `${a.order_status} with an order's status` : null),
    figure('Marked helpful', String(a.helpful), a.answered ? `${percent(a.helpful / a.answered)} of its answers` : null),
    figure('Handed over', String(a.handed_over), reasons || null),
    figure('Resolved without a human', percent(a.resolved_share), `${a.resolved_without_human} of ${a.conversations} conversations`),
  );
  $('handed-over-summary').textContent = a.most_handed_over.length
    ? 'After these answers shoppers most often asked for a person: worth rewriting.'
    : 'No answer was followed by a request for a person in this period.';
  replace(
    $('handed-over'),
    a.most_handed_over.map((row) => h('tr', {},
      h('td', { dir: 'auto' }, row.question),
      h('td', {}, row.language),
      h('td', {}, String(row.given)),
      h('td', {}, String(row.handed_over)))),
  );
  const t = data.first_response_target;
  $('targets-summary').textContent = `Target: a first reply within ${duration(t.minutes * 60)} (after hours: from opening).`;
  replace(
    $('targets'),
    t.channels.map((c) => figure(CHANNEL_NAMES[c.channel] || c.channel, percent(c.share),
      `${c.within} of ${c.answered} answered in time` + (c.waiting_past ? ` · ${c.waiting_past} waiting past target` : ''))),
  );
}

function show(data) {
  zone = data.period.timezone;
  $('from').value = data.period.from;
  $('to').value = data.period.to;
  $('period-zone').textContent = `${data.period.days} days, in the shop's time zone (${data.period.timezone}).`;
  $('window-days').textContent = String(data.attribution_window_days);
  replace(card, figures(data));
  replace($('chart-conversations'), chart(data.charts.conversations));
  replace($('chart-revenue'), chart(data.charts.revenue));
  fitCharts();
  replace($('rules'), rules(data));
  replace($('abandoned'), abandoned(data));
  assistant(data);
  download.disabled = false;
}

function periodError(message) {
  const error = $('period-error');
  error.textContent = message || '';
  error.hidden = !message;
  for (const id of ['from', 'to']) $(id).setAttribute('aria-invalid', message ? 'true' : 'false');
}

async function load() {
  card.setAttribute('aria-busy', 'true');
  periodError(null);
  const params = query();
  try {
    show(await api('GET', '/admin/api/insights' + (params ? '?' + params : '')));
    // Keep the period on the address (beside shop/host), so a reload shows the same figures.
    const url = new URL(location.href);
    url.searchParams.set('from', $('from').value);
    url.searchParams.set('to', $('to').value);
    history.replaceState(history.state, '', url.pathname + url.search);
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) periodError(error.message);
    else replace(card, h('p', { class: 'notice notice-warning' }, error.message));
  } finally {
    card.setAttribute('aria-busy', 'false');
  }
}

async function downloadCsv() {
  download.disabled = true;
  try {
    await downloadFile('/admin/api/insights.csv?' + query(), 'parley-insights.csv');
  } catch (error) {
    toast(error.message, { error: true });
  } finally {
    download.disabled = false;
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  load();
});
for (const button of form.querySelectorAll('[data-days]')) {
  button.addEventListener('click', () => {
    const to = shopToday();
    $('to').value = to;
    $('from').value = daysBefore(to, Number(button.dataset.days) - 1);
    load();
  });
}
download.addEventListener('click', downloadCsv);
let resizing = null;
addEventListener('resize', () => {
  clearTimeout(resizing);
  resizing = setTimeout(fitCharts, 100);
});

wireNavigation();
{
  const start = new URLSearchParams(location.search);
  if (start.get('from')) $('from').value = start.get('from');
  if (start.get('to')) $('to').value = start.get('to');
}
load();
