// Settings → Notifications: the shop's alert e-mails (who, about what, gathered for how
// long, quiet hours), the first-response target, what bounced or failed to go out, and
// what this browser does when a shopper writes (title and icon badge, sound, browser
// notification). The server checks every shop setting and names the field it refuses.

import { ApiError, api } from './api.js';
import { askPermission, chime, notificationsSupported, prefs, setPref, wakeSound } from './notify.js';
import { clock, h, replace, toast } from './ui.js';

const form = document.getElementById('notify-form');
const field = (id) => document.getElementById(id);
const NUMBERS = ['alert_batch_minutes', 'first_response_target_minutes', 'reply_email_after_minutes'];
const KINDS = { alert: 'Alert e-mail', reply: 'Reply by e-mail', resume: 'Resume link', webhook: 'Webhook' };

// ------------------------------------------------------------------ the shop's settings

function fill(data) {
  const settings = data.notifications;
  field('alert_emails').value = (settings.alert_emails || []).join('\n');
  field('alert_on').value = settings.alert_on;
  field('alert_language').value = settings.alert_language || 'en';
  for (const name of NUMBERS) field(name).value = settings[name] ?? '';
  field('quiet_from').value = settings.quiet_from || '';
  field('quiet_to').value = settings.quiet_to || '';
  showBounces(data.bounces || []);
  showFailures(data.failures || []);
}

function showBounces(bounces) {
  const list = field('alert-bounces');
  list.hidden = bounces.length === 0;
  replace(list, bounces.map((address) => h('li', { class: 'bounced' },
    h('bdi', {}, address), ': mail to this address bounced. Check it, or remove it; saving the list again clears the mark.')));
}

function showFailures(failures) {
  const box = field('notify-failures');
  box.hidden = failures.length === 0;
  if (!failures.length) return;
  replace(
    box,
    h('h3', {}, 'Not delivered'),
    h('p', { class: 'subdued help' }, 'Parley tried these several times and gave up.'),
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'When'), h('th', {}, 'What'), h('th', {}, 'Why'))),
      h('tbody', {}, failures.map((f) => h('tr', {},
        h('td', {}, clock(f.at)),
        h('td', {}, KINDS[f.kind] || f.kind),
        h('td', {}, f.error || 'refused'))))),
  );
}

function collect() {
  const payload = {
    alert_emails: field('alert_emails').value.split(/[\s,;]+/).map((a) => a.trim()).filter(Boolean),
    alert_on: field('alert_on').value,
    alert_language: field('alert_language').value,
    quiet_from: field('quiet_from').value || null,
    quiet_to: field('quiet_to').value || null,
  };
  for (const name of NUMBERS) {
    const value = field(name).value.trim();
    // Not a whole number: sent as typed, so the server's sentence names the field.
    payload[name] = /^\d+$/.test(value) ? Number(value) : value;
  }
  return payload;
}

function clearErrors() {
  for (const el of form.querySelectorAll('.field-error')) {
    el.hidden = true;
    el.textContent = '';
  }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

/** The reason beside its field ("alert_emails[2]" → alert_emails), or under the button. */
function showError(name, message) {
  const key = (name || '').replace(/\[\d+\]$/, '');
  const slot = (key && form.querySelector(`[data-error-for="${CSS.escape(key)}"]`)) || field('notify-error');
  slot.textContent = message;
  slot.hidden = false;
  const input = key && field(key);
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.focus({ preventScroll: true });
  }
  slot.scrollIntoView({ block: 'center' });
}

/** What the page can tell at once: quiet hours need both ends. */
function checkLocally(payload) {
  if (Boolean(payload.quiet_from) !== Boolean(payload.quiet_to)) {
    showError(payload.quiet_from ? 'quiet_to' : 'quiet_from', 'Quiet hours need a start and an end, or neither.');
    return false;
  }
  return true;
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const payload = collect();
  if (!checkLocally(payload)) return;
  const button = field('notify-save');
  button.disabled = true;
  try {
    fill(await api('PUT', '/admin/api/notifications', payload));
    toast('Notifications saved');
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) showError(error.field, error.message);
    else {
      showError('', error.message);
      toast(error.message, { error: true });
    }
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ this browser

function desktopStatus(text, kind = 'subdued') {
  const status = field('desktop-status');
  status.textContent = text;
  status.className = `help ${kind === 'error' ? 'field-error-text' : 'subdued'}`;
}

const FRAMED = window.top !== window;
const BLOCKED = FRAMED
  ? 'Your browser blocks notifications for this page here, inside the admin. Allow them for this site in the browser’s site settings, or open Parley in a tab of its own.'
  : 'Your browser blocks notifications from Parley. Allow them in the browser’s site settings (the icon left of the address), then switch this on again.';

function showDesktopPref() {
  const box = field('pref-desktop');
  if (!notificationsSupported()) {
    box.checked = false;
    box.disabled = true;
    desktopStatus('This browser cannot show notifications.');
    return;
  }
  box.checked = prefs().desktop && Notification.permission === 'granted';
  if (prefs().desktop && Notification.permission === 'denied') desktopStatus(BLOCKED, 'error');
  else desktopStatus(box.checked ? 'On: a notification appears while this tab is in the background.' : '');
}

async function toggleDesktop(event) {
  const box = event.currentTarget;
  if (!box.checked) {
    setPref('desktop', false);
    desktopStatus('');
    return;
  }
  // The browser asks the person only now, because they switched it on.
  box.disabled = true;
  desktopStatus('Waiting for your browser’s answer…');
  const answer = await askPermission();
  box.disabled = false;
  if (answer === 'granted') {
    setPref('desktop', true);
    box.checked = true;
    desktopStatus('On: a notification appears while this tab is in the background.');
    return;
  }
  setPref('desktop', false);
  box.checked = false;
  desktopStatus(answer === 'denied' ? BLOCKED : 'Not switched on: the browser was not given permission.', 'error');
}

function wirePrefs() {
  const current = prefs();
  field('pref-badge').checked = current.badge;
  field('pref-sound').checked = current.sound;
  field('pref-badge').addEventListener('change', (event) => setPref('badge', event.currentTarget.checked));
  field('pref-sound').addEventListener('change', (event) => {
    setPref('sound', event.currentTarget.checked);
    // The click that switched it on is what lets the page make sound at all: a sample.
    if (event.currentTarget.checked) wakeSound().then(() => chime());
  });
  field('test-sound').addEventListener('click', async (event) => {
    event.preventDefault(); // inside the label: do not toggle the box
    await wakeSound(true);
    if (!chime()) toast('This browser did not allow the sound.', { error: true });
  });
  field('pref-desktop').addEventListener('change', toggleDesktop);
  showDesktopPref();
}

// ------------------------------------------------------------------ start

form.addEventListener('submit', save);
wirePrefs();
try {
  fill(await api('GET', '/admin/api/notifications'));
  form.hidden = false;
} catch (error) {
  form.hidden = false;
  replace(form, h('h2', {}, 'Notifications'), h('p', { class: 'notice notice-warning' }, error.message));
}
