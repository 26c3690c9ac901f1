// Keeping the merchant told while the Support page is open: it says so to Parley every
// half minute while visible (so alert e-mails wait), shows how many conversations have
// unread messages in the tab title and a badge on the tab's icon, and, when the tab is
// hidden, can chime and show a browser notification. What this browser does is the
// merchant's choice in Settings, remembered here (localStorage), not on the server.

import { api, navigate } from './api.js';
import { conversationPath } from './ui.js';

const PREFS_KEY = 'parley.notify';
// Title and badge cost nothing and interrupt no one: on. Sound and pop-ups: asked for.
const DEFAULTS = { badge: true, sound: false, desktop: false };
// app/notify/presence.py counts a page as closed after 90 s without a word.
export const HEARTBEAT_MS = 30_000;

export function prefs() {
  try {
    return { ...DEFAULTS, ...JSON.parse(localStorage.getItem(PREFS_KEY) || '{}') };
  } catch {
    return { ...DEFAULTS }; // storage refused (private mode): the defaults
  }
}

export function setPref(name, value) {
  const next = { ...prefs(), [name]: Boolean(value) };
  try {
    localStorage.setItem(PREFS_KEY, JSON.stringify(next));
  } catch {
    /* not remembered, but applied for this page */
  }
  if (name === 'badge') showUnread(unread);
  return next;
}

// ------------------------------------------------------------------ presence

/** Tell Parley this page is open (on the inbox: null; on one conversation: its id) while it is visible. */
export function keepPresence(conversationId = null) {
  let timer = null;
  const beat = () => api('POST', '/admin/api/presence', { conversation_id: conversationId }).catch(() => {
    /* alerts then go out as if nobody watched: the safe side */
  });
  const follow = () => {
    clearInterval(timer);
    timer = null;
    if (document.visibilityState !== 'visible') return; // a hidden tab is not watching
    beat();
    timer = setInterval(beat, HEARTBEAT_MS);
  };
  document.addEventListener('visibilitychange', follow);
  follow();
}

// ------------------------------------------------------------------ unread: title and icon

const baseTitle = document.title;
let unread = 0;
let iconBase = null;

function iconLink() {
  let link = document.querySelector('link[rel="icon"]');
  if (!link) {
    link = document.createElement('link');
    link.rel = 'icon';
    document.head.append(link);
  }
  if (iconBase === null) iconBase = link.getAttribute('href') || '';
  return link;
}

/** The tab icon: Parley's mark, with the count on a red disc when there is one. */
function drawIcon(count) {
  const size = 64;
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const g = canvas.getContext('2d');
  if (!g) return null;
  g.fillStyle = '#008060';
  g.beginPath();
  g.roundRect(0, 0, size, size, 14);
  g.fill();
  g.fillStyle = '#fff';
  g.font = 'bold 42px system-ui, sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  g.fillText('P', size / 2, size / 2 + 2);
  if (count > 0) {
    const label = count > 9 ? '9+' : String(count);
    g.fillStyle = '#d72c0d';
    g.beginPath();
    g.arc(size - 20, 20, 20, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = '#fff';
    g.font = `bold ${label.length > 1 ? 22 : 28}px system-ui, sans-serif`;
    g.fillText(label, size - 20, 21);
  }
  return canvas.toDataURL('image/png');
}

function showUnread(count) {
  unread = count;
  const shown = prefs().badge ? count : 0;
  // Inside the Shopify admin, App Bridge carries document.title to the admin's title.
  document.title = shown > 0 ? `(${shown > 99 ? '99+' : shown}) ${baseTitle}` : baseTitle;
  const link = iconLink();
  const drawn = shown > 0 ? drawIcon(shown) : null;
  link.setAttribute('href', drawn || iconBase);
  link.dataset.unread = String(shown);
  // The Saleor Dashboard frames the page and shows neither title nor icon: the Inbox tab says it too.
  for (const el of document.querySelectorAll('[data-unread-count]')) {
    el.textContent = shown > 0 ? String(shown) : '';
    el.hidden = shown === 0;
  }
}

let asking = null;
let askAgain = false;

/** Ask Parley how many conversations have unread messages (one at a time; a burst asks once more). */
export async function refreshUnread() {
  if (asking) {
    askAgain = true;
    return asking;
  }
  asking = (async () => {
    try {
      const data = await api('GET', '/admin/api/notifications/unread');
      showUnread(Number(data.conversations) || 0);
    } catch {
      /* the title keeps its last count */
    }
  })();
  await asking;
  asking = null;
  if (askAgain) {
    askAgain = false;
    return refreshUnread();
  }
  return undefined;
}

// ------------------------------------------------------------------ sound

let audio = null;

function audioContext() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!audio && Context) audio = new Context();
  return audio;
}

/**
 * Browsers let a page make sound only after a click on it: the first click (or key) wakes
 * the sound up, if it is switched on (`force`: the click on "Play it now"). Resolves when awake.
 */
export async function wakeSound(force = false) {
  const context = force || prefs().sound ? audioContext() : null;
  if (context && context.state === 'suspended') {
    try {
      await context.resume();
    } catch {
      /* not allowed yet: the next click tries again */
    }
  }
  return context;
}

/** Two short notes. Nothing (false) until a click has allowed sound. */
export function chime() {
  if (!audio || audio.state !== 'running') return false;
  const start = audio.currentTime + 0.01;
  [880, 1318.5].forEach((frequency, index) => {
    const at = start + index * 0.16;
    const tone = audio.createOscillator();
    const level = audio.createGain();
    tone.type = 'sine';
    tone.frequency.value = frequency;
    level.gain.setValueAtTime(0.0001, at);
    level.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
    level.gain.exponentialRampToValueAtTime(0.0001, at + 0.3);
    tone.connect(level).connect(audio.destination);
    tone.start(at);
    tone.stop(at + 0.32);
  });
  return true;
}

addEventListener('pointerdown', () => wakeSound(), { capture: true });
addEventListener('keydown', () => wakeSound(), { capture: true });

// ------------------------------------------------------------------ browser notifications

export function notificationsSupported() {
  return 'Notification' in window;
}

/** The browser's answer: 'granted', 'denied', 'default' or 'unsupported'. Asks only when asked to. */
export async function askPermission() {
  if (!notificationsSupported()) return 'unsupported';
  if (Notification.permission !== 'default') return Notification.permission;
  try {
    return await Notification.requestPermission();
  } catch {
    return Notification.permission;
  }
}

function showNotification(message, name) {
  if (!prefs().desktop || !notificationsSupported() || Notification.permission !== 'granted') return;
  try {
    const shown = new Notification(name ? `${name} wrote` : 'A shopper wrote', {
      body: String(message.body || '').slice(0, 160),
      tag: `parley-${message.conversation_id}`, // one per conversation: a burst replaces, not piles up
    });
    shown.onclick = () => {
      window.focus();
      shown.close();
      navigate(conversationPath(message.conversation_id));
    };
  } catch {
    /* some browsers allow notifications only from a service worker: the title still counts */
  }
}

// ------------------------------------------------------------------ the entry point

/** Call with every live message event. `name`: what the page calls the shopper, if it knows. */
export function messageArrived(message, { name = null, seen = false } = {}) {
  if (!message || message.author !== 'shopper' || message.internal) return;
  refreshUnread();
  const visible = document.visibilityState === 'visible';
  // Seen: the merchant is looking at this very conversation; nothing to call them for.
  if (seen && visible) return;
  if (prefs().sound) chime();
  if (!visible) showNotification(message, name);
}

/** Start on a Support page: presence, and the unread count in the title and icon. */
export function startNotify({ conversationId = null } = {}) {
  keepPresence(conversationId);
  refreshUnread();
  // Back to the tab: what was read elsewhere meanwhile is no longer unread.
  document.addEventListener('visibilitychange', () => document.visibilityState === 'visible' && refreshUnread());
}
