// Settings: the chat widget's greeting and colour, business hours, saved replies,
// notifications; the app embed's status (on Saleor, the storefront snippet); customer
// data requests. The server checks every value and names the field it refuses, and the
// page shows the reason there.

import { ApiError, api, boot, downloadFile, wireNavigation } from './api.js';
import { ago, clock, h, replace, toast } from './ui.js';
// The Notifications section saves through its own endpoint.
import './notify-settings.js';

const DAYS = [
  ['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'],
  ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday'],
];
// When the browser cannot list time zones (Intl.supportedValuesOf is recent).
const FALLBACK_ZONES = [
  'UTC', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Paris', 'Europe/Berlin', 'Europe/Madrid',
  'Europe/Rome', 'Europe/Amsterdam', 'Europe/Stockholm', 'Europe/Oslo', 'Europe/Copenhagen', 'Europe/Warsaw',
  'Europe/Helsinki', 'Europe/Tallinn', 'Europe/Riga', 'Europe/Vilnius', 'Europe/Athens', 'Europe/Istanbul',
  'Europe/Kyiv', 'Europe/Moscow', 'Asia/Jerusalem', 'Asia/Dubai', 'Asia/Riyadh', 'Asia/Kolkata', 'Asia/Singapore',
  'Asia/Shanghai', 'Asia/Tokyo', 'Australia/Sydney', 'Pacific/Auckland', 'America/Sao_Paulo', 'America/New_York',
  'America/Chicago', 'America/Denver', 'America/Los_Angeles', 'America/Toronto', 'America/Mexico_City',
];

// The widget's own languages (extensions/parley-chat/locales): each may get its own text.
const LANGUAGES = [['en', 'English'], ['et', 'Estonian'], ['he', 'Hebrew'], ['ar', 'Arabic'], ['pl', 'Polish'], ['ru', 'Russian']];
const RTL = new Set(['he', 'ar']);

const form = document.getElementById('settings-form');
const field = (id) => document.getElementById(id);
const hoursEl = field('hours');
const savedEl = field('saved');
let loaded = null; // the settings as the server last answered
const saleor = boot.platform === 'saleor' ? window.ParleySaleor : null;

// ------------------------------------------------------------------ the embed card

function lastSeen(embed) {
  return `The chat widget was last seen on your storefront ${ago(embed.last_seen)} (${clock(embed.last_seen)}).`;
}

function renderEmbed(embed) {
  const card = field('embed-card');
  card.setAttribute('aria-busy', 'false');
  if (saleor) {
    renderSnippet(card, embed);
    return;
  }
  if (embed.active) {
    card.className = 'card banner banner-success';
    replace(card, h('div', {}, h('h2', {}, 'Widget is live'), h('p', { class: 'subdued' }, lastSeen(embed))));
    return;
  }
  card.className = 'card banner banner-warning';
  replace(
    card,
    h('div', {}, h('h2', {}, 'Turn on the chat widget in your theme'),
      h('p', {}, 'Parley is installed, but shoppers cannot see the chat until the Parley app embed is switched on in your theme. One click opens the theme editor with it selected; then save the theme.')),
    h('a', { class: 'button primary', href: embed.activate_url, target: '_top', rel: 'noopener' }, 'Turn on the chat widget'),
  );
}

/** Saleor: no theme editor; the storefront pastes one script tag. Shown even once live, for the next storefront. */
function renderSnippet(card, embed) {
  card.className = 'card embed-snippet' + (embed.active ? '' : ' banner-warning');
  const code = h('code', { id: 'snippet' }, embed.snippet);
  replace(
    card,
    h('h2', {}, embed.active ? 'Widget is live' : 'Add the chat to your storefront'),
    h('p', { class: embed.active ? 'subdued' : '' }, embed.active
      ? lastSeen(embed)
      : 'Shoppers cannot see the chat yet. Paste this line into every page of your storefront, and list the storefront\'s address under Storefront origins below.'),
    h('div', { class: 'snippet' }, h('pre', {}, code),
      h('button', { type: 'button', class: 'button', id: 'copy-snippet', onclick: (event) => copySnippet(event.currentTarget, code) }, 'Copy')),
    h('p', { class: 'subdued help' },
      'To show the shopper\'s cart and name in the inbox, call ', h('code', {}, 'window.Parley.setCheckout(checkoutId)'),
      ' when the checkout changes and ', h('code', {}, 'window.Parley.identify(customerAccessToken)'),
      ' after sign-in (', h('code', {}, 'identify(null)'), ' after sign-out).'),
  );
}

async function copySnippet(button, code) {
  try {
    await navigator.clipboard.writeText(code.textContent);
  } catch {
    // The Dashboard's iframe may not grant clipboard-write: copy the selection instead.
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    let copied = false;
    try {
      copied = document.execCommand('copy');
    } catch {
      copied = false;
    }
    if (!copied) {
      flash(button, 'Selected: press Ctrl+C');
      return;
    }
  }
  flash(button, 'Copied');
}

function flash(button, label) {
  button.textContent = label;
  setTimeout(() => { button.textContent = 'Copy'; }, 2500);
}

// ------------------------------------------------------------------ business hours

function intervalRow(day, [start, end] = ['09:00', '17:00']) {
  // A closing time at or before the opening time is the next day's: a night shift.
  const overnight = h('span', { class: 'subdued overnight', hidden: true }, 'until the next day');
  const sync = () => {
    const opens = row.querySelector('[data-part="start"]').value;
    const closes = row.querySelector('[data-part="end"]').value;
    overnight.hidden = !(opens && closes && closes < opens);
  };
  const row = h(
    'div',
    { class: 'interval' },
    h('input', { type: 'time', value: start, 'aria-label': `${day} opens`, 'data-part': 'start', oninput: () => sync() }),
    h('span', { class: 'subdued' }, '–'),
    h('input', { type: 'time', value: end, 'aria-label': `${day} closes`, 'data-part': 'end', oninput: () => sync() }),
    overnight,
    h('button', { type: 'button', class: 'button plain small', onclick: () => { row.remove(); syncClosed(); } }, 'Remove'),
  );
  sync();
  return row;
}

function syncClosed() {
  for (const dayEl of hoursEl.querySelectorAll('[data-day]')) {
    dayEl.querySelector('.closed').hidden = dayEl.querySelectorAll('.interval').length > 0;
  }
}

function hoursMode() {
  return field('hours-set').checked ? 'set' : 'always';
}

/** No hours means always open: the days are shown (and may say "Closed") only for set hours. */
function showHoursMode(mode) {
  field('hours-always').checked = mode === 'always';
  field('hours-set').checked = mode === 'set';
  hoursEl.hidden = mode !== 'set';
  field('hours-help').textContent = mode === 'set'
    ? 'Outside these hours the widget says when the team is back and still takes questions. A closing time before the opening time means the next day.'
    : 'The widget says the team is online at any time of day.';
  if (mode === 'set' && !hoursEl.querySelector('.interval')) {
    // A start to edit rather than seven closed days: weekdays, nine to five.
    for (const key of ['mon', 'tue', 'wed', 'thu', 'fri']) {
      const dayEl = hoursEl.querySelector(`[data-day="${key}"]`);
      dayEl.querySelector('.intervals').append(intervalRow(DAYS.find(([k]) => k === key)[1]));
    }
    syncClosed();
  }
}

function renderHours(hours) {
  const weekly = (hours && hours.weekly) || {};
  replace(
    hoursEl,
    DAYS.map(([key, label]) => {
      const intervals = h('div', { class: 'intervals' }, (weekly[key] || []).map((pair) => intervalRow(label, pair)));
      return h(
        'div',
        { class: 'day', dataset: { day: key } },
        h('span', { class: 'day-name' }, label),
        h('div', { class: 'day-body' },
          h('span', { class: 'closed subdued' }, 'Closed'),
          intervals,
          h('p', { class: 'field-error', 'data-error-for': `hours.weekly.${key}`, hidden: true })),
        h('button', { type: 'button', class: 'button plain small', onclick: () => { intervals.append(intervalRow(label)); syncClosed(); } }, 'Add hours'),
      );
    }),
  );
  syncClosed();
}

function collectHours() {
  if (hoursMode() === 'always') return { timezone: field('timezone').value, weekly: {} };
  const weekly = {};
  for (const dayEl of hoursEl.querySelectorAll('[data-day]')) {
    weekly[dayEl.dataset.day] = [...dayEl.querySelectorAll('.interval')].map((row) => [
      row.querySelector('[data-part="start"]').value,
      row.querySelector('[data-part="end"]').value,
    ]);
  }
  return { timezone: field('timezone').value, weekly };
}

function fillZones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf('timeZone');
  } catch {
    zones = FALLBACK_ZONES;
  }
  const all = [...new Set(['UTC', current, ...zones].filter(Boolean))];
  replace(field('timezone'), all.map((zone) => h('option', { value: zone }, zone.replace(/_/g, ' '))));
  field('timezone').value = current || 'UTC';
}

// ------------------------------------------------------------------ saved replies

function savedRow({ shortcut = '', text = '' } = {}) {
  const row = h(
    'div',
    { class: 'saved-row' },
    h('label', { class: 'shortcut' }, h('span', { class: 'subdued' }, '/'),
      h('input', { value: shortcut, 'data-part': 'shortcut', placeholder: 'shipping', 'aria-label': 'Shortcut', spellcheck: 'false' })),
    h('textarea', { rows: 2, 'data-part': 'text', dir: 'auto', placeholder: 'We ship within 24 hours…', 'aria-label': 'Reply text' }, text),
    h('button', { type: 'button', class: 'button plain small', onclick: () => { row.remove(); renumberSaved(); } }, 'Remove'),
    h('p', { class: 'field-error', hidden: true }),
  );
  return row;
}

function renumberSaved() {
  [...savedEl.children].forEach((row, index) => {
    row.querySelector('.field-error').dataset.errorFor = `saved_replies[${index}]`;
  });
}

function collectSaved() {
  return [...savedEl.children].map((row) => ({
    shortcut: row.querySelector('[data-part="shortcut"]').value.trim().replace(/^\//, ''),
    text: row.querySelector('[data-part="text"]').value,
  }));
}

// ------------------------------------------------------------------ texts per language

/** The boxes of one text setting (greeting, away message): one for every language, and one per language. */
function renderLocalized(fieldset, texts) {
  const name = fieldset.dataset.localized;
  const limit = Number(fieldset.dataset.limit);
  const values = texts || {};
  const box = (language, label) => {
    const id = language === 'default' ? name : `${name}-${language}`;
    return h(
      'div',
      { class: 'localized-row' },
      h('label', { for: id }, label),
      h('textarea', {
        id, rows: 2, 'data-language': language, lang: language === 'default' ? null : language,
        dir: RTL.has(language) ? 'rtl' : 'auto', 'aria-describedby': `${id}-count`,
      }, values[language] || ''),
      h('p', { class: 'field-error', 'data-error-for': `${name}.${language}`, hidden: true }),
      h('p', { class: 'subdued help char-count', id: `${id}-count`, 'data-limit': String(limit) }),
    );
  };
  const own = LANGUAGES.filter(([code]) => values[code]).length;
  replace(
    fieldset.querySelector('.localized-rows'),
    box('default', 'For every language without its own text'),
    h('details', { class: 'localized-languages', open: own > 0 },
      h('summary', {}, own ? `Per language (${own} of ${LANGUAGES.length} written)` : 'Write it per language'),
      LANGUAGES.map(([code, label]) => box(code, label))),
  );
  for (const area of fieldset.querySelectorAll('textarea')) {
    area.addEventListener('input', () => countChars(area));
    countChars(area);
  }
}

/** Said before saving, never cut: how many characters are left, or how many too many. */
function countChars(area) {
  const note = document.getElementById(area.getAttribute('aria-describedby'));
  const limit = Number(note.dataset.limit);
  const over = area.value.trim().length - limit;
  area.setAttribute('aria-invalid', String(over > 0));
  note.classList.toggle('field-error-text', over > 0);
  const chars = (n) => `${n} character${n === 1 ? '' : 's'}`;
  note.textContent = over > 0
    ? `${chars(over)} too long (at most ${limit})`
    : area.value.length > limit * 0.8 ? `${chars(limit - area.value.trim().length)} left` : '';
}

function collectLocalized(fieldset, payload) {
  const name = fieldset.dataset.localized;
  const texts = {};
  for (const area of fieldset.querySelectorAll('textarea')) {
    const value = area.value.trim();
    if (value) texts[area.dataset.language] = value;
  }
  // Untouched and unset stays unset; emptied goes back to the widget's own words.
  if (Object.keys(texts).length || loaded[name]) payload[name] = Object.keys(texts).length ? texts : null;
}

// ------------------------------------------------------------------ the form

function fill(settings) {
  loaded = settings;
  for (const fieldset of form.querySelectorAll('[data-localized]')) renderLocalized(fieldset, settings[fieldset.dataset.localized]);
  field('accent').value = settings.accent || '';
  field('accent-picker').value = /^#[0-9a-f]{6}$/i.test(settings.accent || '') ? settings.accent : '#008060';
  fillZones((settings.hours && settings.hours.timezone) || 'UTC');
  renderHours(settings.hours);
  const weekly = (settings.hours && settings.hours.weekly) || {};
  showHoursMode(Object.values(weekly).some((intervals) => intervals && intervals.length) ? 'set' : 'always');
  field('replies_in_minutes').value = settings.replies_in_minutes ?? '';
  field('attribution_window_days').value = settings.attribution_window_days ?? '';
  for (const name of ['discount_max_percent', 'discount_max_amount', 'discount_max_days']) field(name).value = settings[name] ?? '';
  replace(savedEl, (settings.saved_replies || []).map(savedRow));
  renumberSaved();
  field('storefront_origins').value = (settings.storefront_origins || []).join('\n');
}

function collect() {
  const payload = {};
  for (const fieldset of form.querySelectorAll('[data-localized]')) collectLocalized(fieldset, payload);
  // Empty: no colour of the merchant's own (the theme's, or Parley's, is used).
  payload.accent = field('accent').value.trim() || null;
  payload.hours = collectHours();
  const minutes = field('replies_in_minutes').value.trim();
  payload.replies_in_minutes = /^\d+$/.test(minutes) ? Number(minutes) : minutes;
  const days = field('attribution_window_days').value.trim();
  payload.attribution_window_days = /^\d+$/.test(days) ? Number(days) : days;
  // Amounts stay text (no float rounds the merchant's limit); counts go as numbers.
  for (const name of ['discount_max_percent', 'discount_max_days']) {
    const value = field(name).value.trim();
    payload[name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  payload.discount_max_amount = field('discount_max_amount').value.trim();
  payload.saved_replies = collectSaved();
  payload.storefront_origins = field('storefront_origins').value.split(/\s+/).map((o) => o.trim()).filter(Boolean);
  return payload;
}

function clearErrors() {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** Where a refused field's reason goes: its own slot, else its parent's ("saved_replies[2].shortcut" → "saved_replies[2]"). */
function errorSlot(name) {
  let key = name || '';
  while (key) {
    const slot = form.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (slot) return slot;
    const shorter = key.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (shorter === key) break;
    key = shorter;
  }
  return field('form-error');
}

function showError(name, message) {
  const slot = errorSlot(name);
  slot.textContent = message;
  slot.hidden = false;
  const details = slot.closest('details');
  if (details) details.open = true; // a language's box may be folded away
  const container = slot.closest('.localized-row, .field, .day, .saved-row');
  const part = (name || '').split('.').pop();
  const input = (name && field(name))
    || (container && (container.querySelector(`[data-part="${CSS.escape(part)}"]`) || container.querySelector('input:not([type=color]), select, textarea')));
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus({ preventScroll: true });
  }
  slot.scrollIntoView({ block: 'center' });
}

/** What the page can tell before asking the server: set hours with no hours at all. */
function checkLocally() {
  if (hoursMode() === 'set' && !hoursEl.querySelector('.interval')) {
    showError('hours', 'Add opening hours to at least one day, or choose “Always open”.');
    return false;
  }
  return true;
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  if (!checkLocally()) return;
  const button = field('save');
  button.disabled = true;
  try {
    const data = await api('PUT', '/admin/api/settings', collect());
    fill(data.settings);
    renderEmbed(data.embed);
    toast('Settings saved');
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) {
      showError(error.field, error.message);
    } else {
      showError('', error.message);
      toast(error.message, { error: true });
    }
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ customer data requests

async function download(id) {
  try {
    await downloadFile('/admin/api/exports/' + encodeURIComponent(id), `parley-customer-data-${id}.json`);
  } catch (error) {
    toast(`The download failed: ${error.message}`, { error: true });
  }
}

async function loadExports() {
  const list = field('exports-list');
  try {
    const { exports } = await api('GET', '/admin/api/exports');
    if (!exports.length) {
      replace(list, h('p', { class: 'subdued' }, 'No customer has asked for their data.'));
      return;
    }
    replace(
      list,
      h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Requested'), h('th', {}, 'Customer'), h('th', {}, 'Conversations'), h('th', {}))),
        h('tbody', {}, exports.map((e) => h('tr', {},
          h('td', {}, clock(e.created_at)),
          h('td', {}, e.customer_email || e.customer_id || ''),
          h('td', {}, String(e.conversations)),
          h('td', {}, h('button', { type: 'button', class: 'button small', onclick: () => download(e.id) }, 'Download JSON')))))),
    );
  } catch (error) {
    replace(list, h('p', { class: 'notice notice-warning' }, error.message));
  }
}

// ------------------------------------------------------------------ wiring

field('accent-picker').addEventListener('input', (event) => {
  field('accent').value = event.target.value;
});
field('accent').addEventListener('input', (event) => {
  if (/^#[0-9a-f]{6}$/i.test(event.target.value)) field('accent-picker').value = event.target.value;
});
field('accent-clear').addEventListener('click', () => {
  field('accent').value = '';
  field('accent').focus();
});
for (const radio of form.querySelectorAll('[name="hours-mode"]')) radio.addEventListener('change', () => showHoursMode(hoursMode()));
field('add-saved').addEventListener('click', () => {
  const row = savedRow();
  savedEl.append(row);
  renumberSaved();
  row.querySelector('input').focus();
});
form.addEventListener('submit', save);
wireNavigation();

try {
  const data = await api('GET', '/admin/api/settings');
  fill(data.settings);
  renderEmbed(data.embed);
  form.hidden = false;
} catch (error) {
  replace(field('embed-card'), h('p', { class: 'notice notice-warning' }, error.message));
}
loadExports();
