/* Parley chat panel, fetched by parley-loader.js on the shopper's first interaction.
 *
 * It speaks the storefront API (docs/storefront-api.md):
 *   POST {proxy}/session           Shopify: through the app proxy, which signs the request
 *   POST {data-api-base}/session   other platforms: direct, with {shop}
 *   then {api_base}/messages, /cart, /typing, /read and the /stream event source,
 *   with the visitor token as a Bearer token; /contact when the shopper asks for the
 *   answer by e-mail, /resume when the page was opened from a resume link
 *   (?parley_resume=…, docs/notifications.md), /messages/<id>/feedback and /handover
 *   for the shop's assistant (its messages are author "bot", with meta).
 *
 * Rules it keeps:
 * - Message bodies are only ever set with textContent; links in them are built as
 *   <a> nodes (http and https only), never parsed from markup.
 * - The visitor token stays in memory until the shopper writes; then it goes to
 *   sessionStorage, and to localStorage only while the Customer Privacy API allows
 *   preferences (or there is no such API, on non-Shopify pages).
 * - Every message has a client-made id; a retry resends the same id, so the server
 *   stores it once, and the list dedupes by id and client id.
 * - Tabs of one visitor share one event stream: the tab holding the lock (Web Locks,
 *   or a heartbeat over BroadcastChannel where locks are missing) keeps the
 *   EventSource and rebroadcasts its events; another tab takes over when it closes.
 */
(function () {
  'use strict';

  const root = document.getElementById('parley-root');
  const loader = root && root.parley;
  if (!loader || loader.panel) return;

  const data = root.dataset;
  const STORE_KEY = 'parley:visitor';
  const CART_KEY = 'parley:cart';
  const OPEN_KEY = 'parley:open'; // the shopper left the panel open: reopen it on the next page
  const CART_URL = /\/cart\/(add|change|update|clear)(\.js|\.json)?(\?|$)/;
  const MAX_LENGTH = 5000; // characters (code points), as the server counts them
  const PHONE = '(max-width: 639.98px)'; // the panel takes the whole screen below this
  const EMAIL_KEY = 'parley:email'; // the visitor who gave an address here: never offered again
  const LATER_KEY = 'parley:email-later'; // the visitor who said "not now": not again this visit
  // Nobody answered the shopper's last message within this long: offer the answer by e-mail.
  const ANSWER_WAIT_MS = 3 * 60 * 1000;
  const RESUME_PARAM = 'parley_resume'; // a resume link from an e-mail ends on the storefront with it
  // The assistant's mark: a small robot face, so its messages never pass for a person's.
  const BOT =
    '<path fill="currentColor" fill-rule="evenodd" d="M11 2h2v3h4a3 3 0 0 1 3 3v8a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4zM9 10a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm6 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3z"/>';
  const CROSS = '<path fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/>';
  const TAB = Math.random().toString(36).slice(2);

  const ENGLISH = {
    launcher: 'Chat with us',
    launcher_unread: 'Chat with us (new messages)',
    title: 'Chat',
    close: 'Close chat',
    greeting: 'Hi! How can we help?',
    online: 'Online now',
    replies_in: 'Usually replies in {minutes} min',
    back_at: 'Back at {time}',
    placeholder: 'Write a message…',
    send: 'Send',
    you: 'You',
    team: 'Shop team',
    sending: 'Sending…',
    delivered: 'Delivered',
    read: 'Read',
    typing: 'Typing…',
    retrying: 'Not sent yet, retrying…',
    load_earlier: 'Load earlier messages',
    error_connect: 'Chat is unavailable right now. Please try again in a moment.',
    error_send: 'Message not sent.',
    retry: 'Try again',
    error_too_long: 'This message is too long. Please shorten it.',
    error_rate: "You're sending messages too quickly. Please wait a moment.",
    email_offer: 'Get the answer by e-mail',
    email_consent: "We'll send the answer to this address. Nothing else.",
    email_dismiss: 'Not now',
    email_saved: "Thanks! We'll e-mail the answer to:",
    email_error_invalid: "That doesn't look like an e-mail address. Please check it.",
    email_error_consent: 'Please confirm that we may e-mail you the answer.',
    email_error: "The address wasn't saved. Please try again.",
    resume_failed: 'This link no longer opens the conversation. Ask us again here.',
    assistant: 'Virtual assistant',
    helped: 'This helped',
    talk_to_person: 'Talk to a person',
    helped_done: 'You marked this as helpful. Thanks!',
    person_asked: 'You asked for a person.',
    feedback_error: "That didn't go through. Please try again.",
    add_to_cart: 'Add to cart',
    adding: 'Adding…',
    added_to_cart: 'Added to your cart.',
    sold_out: 'Sold out',
    sold_out_now: 'Sorry, this has sold out.',
    gone: 'Sorry, this item is no longer available.',
    few_left: 'Only a few left',
    cart_failed: "Couldn't add it to your cart.",
    view_product: 'View the product',
    checkout_ready: 'Your cart is ready',
    go_to_checkout: 'Go to checkout',
    code_applied: 'Code {code} applied',
    before_code: '{total} before the code',
    attach: 'Send a picture',
    picture: 'Picture',
    close_picture: 'Close picture',
    error_image_too_large: 'This picture is larger than 10 MB.',
    error_image_too_many_pixels: 'This picture has too many pixels.',
    error_image_not_an_image: "This file isn't a picture we can show (JPEG, PNG, WebP or GIF).",
  };
  const MAX_PICTURE = 10 * 1024 * 1024; // bytes, as the server caps an upload
  const PICTURE_ICON =
    '<path fill="currentColor" fill-rule="evenodd" d="M4 4h16a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm0 2v10l4-4 3 3 5-5 4 4V6zm4 1.5a2 2 0 1 1 0 4 2 2 0 0 1 0-4z"/>';

  const locale = data.locale || document.documentElement.lang || navigator.language || 'en';
  const rtl = /^(ar|he|fa|ur)\b/i.test(locale);
  const directMode = !data.proxy && !!data.apiBase;
  const cartEnabled = !directMode;
  const cartRoot = (window.Shopify && Shopify.routes && Shopify.routes.root) || data.root || '/';
  const nativeFetch = window.fetch.bind(window);

  // Visitor and conversation state.
  let token = null;
  let visitorId = null;
  let apiBase = '';
  let written = false; // the shopper has written as this visitor: the token may be stored
  let conversation = null;
  let settings = {};
  let sessionPromise = null;
  let checkoutSent = null; // the Saleor checkout id Parley last accepted for this conversation
  let historyLoaded = false;
  let historyPromise = null;
  let hasMore = false;
  let loadingEarlier = false;
  let lastId = 0; // highest message id seen: where a new event stream resumes
  let unread = 0;
  let readUpTo = 0;
  let stampedFor = null;
  let lastCartSig = readSession(CART_KEY);
  let isOpen = false;
  let identified = false; // a signed-in customer: the shop has their address
  let emailOnFile = false; // the server has an address for this visitor
  let offerShown = false; // "get the answer by e-mail" is on screen
  let offerTimer = null;
  let clockOffset = 0; // the server's clock minus this browser's, from the answer to a send
  let handedOver = false; // the assistant's handover note is in the thread: a person has it
  let personAsked = null; // the conversation this tab asked a person for (the note follows)

  // Messages: one entry per message, found by server id or by client id.
  const byId = new Map();
  const byClient = new Map();
  const outbox = [];
  let pumping = false;

  function t(key, vars) {
    let text = loader.strings[key] || ENGLISH[key] || '';
    for (const name in vars || {}) text = text.split('{' + name + '}').join(vars[name]);
    return text;
  }

  // ---------------------------------------------------------------- the panel DOM

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value == null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children) if (child != null) el.append(child);
    return el;
  }

  // Constant icon markup only; nothing a shopper or merchant typed ever goes through innerHTML.
  function icon(path, size) {
    const span = h('span', { class: 'parley-icon', 'aria-hidden': 'true' });
    span.innerHTML =
      '<svg viewBox="0 0 24 24" width="' + size + '" height="' + size + '" focusable="false">' + path + '</svg>';
    return span;
  }

  const statusLine = h('p', { class: 'parley-status' });
  const alertText = h('span');
  const alertBox = h(
    'div',
    { class: 'parley-alert', role: 'alert', hidden: true },
    alertText,
    h('button', { type: 'button', class: 'parley-link', text: t('retry'), onclick: retryConnect }),
  );
  const earlier = h('button', {
    type: 'button',
    class: 'parley-earlier',
    hidden: true,
    text: t('load_earlier'),
    onclick: loadEarlier,
  });
  const greeting = h('p', { class: 'parley-greeting', dir: 'auto', text: t('greeting') });
  const awayNote = h('p', { class: 'parley-away', dir: 'auto', hidden: true });
  const log = h('ol', { class: 'parley-log', role: 'log', 'aria-live': 'polite', 'aria-labelledby': 'parley-title' });
  const typing = h('p', { class: 'parley-typing', role: 'status' });
  // "Get the answer by e-mail": one field, the one sentence that says what the address is
  // for (pressing Send is the consent), and what went wrong, beside the field.
  const emailInput = h('input', {
    id: 'parley-email',
    class: 'parley-email-input',
    type: 'email',
    name: 'email',
    autocomplete: 'email',
    inputmode: 'email',
    autocapitalize: 'off',
    spellcheck: 'false',
    dir: 'ltr', // an address reads left to right in every language
    'aria-describedby': 'parley-email-error parley-email-consent',
  });
  const emailError = h('p', { id: 'parley-email-error', class: 'parley-email-error', role: 'alert', hidden: true });
  const emailSend = h('button', { type: 'submit', class: 'parley-email-send', text: t('send') });
  const emailForm = h(
    'form',
    { class: 'parley-email', novalidate: true, hidden: true, 'aria-labelledby': 'parley-email-title' },
    h(
      'div',
      { class: 'parley-email-head' },
      h('label', { id: 'parley-email-title', class: 'parley-email-title', for: 'parley-email', text: t('email_offer') }),
      h('button', { type: 'button', class: 'parley-email-later', 'aria-label': t('email_dismiss'), onclick: () => later() }, icon(CROSS, 18)),
    ),
    h('div', { class: 'parley-email-row' }, emailInput, emailSend),
    emailError,
    h('p', { id: 'parley-email-consent', class: 'parley-email-consent', text: t('email_consent') }),
  );
  const scroller = h('div', { class: 'parley-scroll' }, earlier, greeting, awayNote, log, emailForm, typing);
  // No maxlength: it would cut a long paste silently. The shopper sees this note instead.
  const limitNote = h('p', { id: 'parley-limit', class: 'parley-limit', role: 'alert', hidden: true });
  const input = h('textarea', {
    id: 'parley-input',
    class: 'parley-input',
    rows: '1',
    'aria-describedby': 'parley-limit',
    placeholder: t('placeholder'),
    enterkeyhint: 'send',
    dir: 'auto',
    autocomplete: 'off',
  });
  // A picture from the camera or a file (accept="image/*" offers both on phones); the
  // server checks it by content, whatever the file claims to be.
  const fileInput = h('input', {
    type: 'file',
    accept: 'image/*',
    class: 'parley-sr',
    tabindex: '-1',
    'aria-hidden': 'true',
    onchange: () => {
      const file = fileInput.files && fileInput.files[0];
      fileInput.value = '';
      if (file) attach(file);
    },
  });
  const form = h(
    'form',
    { class: 'parley-composer', novalidate: true },
    h('label', { class: 'parley-sr', for: 'parley-input', text: t('placeholder') }),
    h('button', { type: 'button', class: 'parley-attach', 'aria-label': t('attach'), title: t('attach'), onclick: () => fileInput.click() }, icon(PICTURE_ICON, 22)),
    fileInput,
    input,
    h(
      'button',
      { type: 'submit', class: 'parley-send', 'aria-label': t('send') },
      icon('<path fill="currentColor" d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"/>', 22),
    ),
  );
  // "Talk to a person", one click away once the shop's assistant is in the conversation.
  const personError = h('p', { class: 'parley-person-error', role: 'alert', hidden: true });
  const personButton = h('button', { type: 'button', class: 'parley-person', text: t('talk_to_person'), onclick: askForPerson });
  const personBox = h('div', { class: 'parley-person-box', hidden: true }, personButton, personError);
  const panel = h(
    'section',
    {
      id: 'parley-panel',
      class: 'parley-panel',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': 'parley-title',
      lang: locale,
      dir: rtl ? 'rtl' : 'ltr',
      hidden: true,
    },
    h(
      'header',
      { class: 'parley-head' },
      h('div', { class: 'parley-head-text' }, h('h2', { id: 'parley-title', class: 'parley-title', text: t('title') }), statusLine, personBox),
      h(
        'button',
        { type: 'button', class: 'parley-close', 'aria-label': t('close'), onclick: () => close() },
        icon(CROSS, 22),
      ),
    ),
    alertBox,
    scroller,
    limitNote,
    form,
  );
  // A picture opened large, over the thread; a tap anywhere or Escape closes it. Its <img>
  // is made on the first tap: a thread without pictures holds none.
  let lightImg = null;
  const lightbox = h(
    'div',
    { class: 'parley-lightbox', hidden: true, onclick: () => showPicture(null) },
    h('button', { type: 'button', class: 'parley-lightbox-close', 'aria-label': t('close_picture') }, icon(CROSS, 22)),
  );
  panel.append(lightbox);
  root.appendChild(panel);
  loader.button.setAttribute('aria-controls', 'parley-panel');
  // What the launcher shows once there is a panel: a close icon while open, the unread badge.
  const closeIcon = icon(CROSS, 24);
  closeIcon.classList.add('parley-icon-close');
  loader.badge = h('span', { class: 'parley-badge', 'aria-hidden': 'true', hidden: true });
  loader.button.append(closeIcon, loader.badge);
  // The same offer while the panel is closed, beside the launcher: it opens the panel on it.
  const nudge = h(
    'div',
    { class: 'parley-nudge', hidden: true },
    h('button', { type: 'button', class: 'parley-nudge-open', text: t('email_offer'), onclick: () => openOffer() }),
    h('button', { type: 'button', class: 'parley-nudge-later', 'aria-label': t('email_dismiss'), onclick: () => later() }, icon(CROSS, 16)),
  );
  root.appendChild(nudge);

  // ---------------------------------------------------------------- open, close, focus

  // `restore`: reopened on a new page because the shopper left it open; the page keeps focus.
  function open(restore) {
    if (isOpen) return;
    isOpen = true;
    nudge.hidden = true;
    root.classList.add('parley-open');
    loader.button.setAttribute('aria-expanded', 'true');
    if (matchMedia(PHONE).matches) document.documentElement.classList.add('parley-lock');
    setUnread(unread);
    if (restore !== true) rememberOpen();
    // Shown once its stylesheet is in (or failed: a plain panel still works, and the
    // next open tries the stylesheet again).
    if (!loader.styled) loader.load();
    loader.styled.then(() => {
      if (!isOpen) return;
      panel.hidden = false;
      fit();
      scrollToBottom(); // history that arrived while the panel was hidden had nowhere to scroll
      if (restore !== true) input.focus();
    });
    connect()
      .then(() => conversation && loadHistory())
      .then(() => {
        scrollToBottom();
        syncCart();
        markRead();
      });
    startCartPolling();
  }

  function close() {
    if (!isOpen) return;
    isOpen = false;
    panel.hidden = true;
    panel.style.animation = '';
    rememberOpen();
    root.classList.remove('parley-open');
    document.documentElement.classList.remove('parley-lock');
    loader.button.setAttribute('aria-expanded', 'false');
    stopCartPolling();
    stopTyping();
    setUnread(unread);
    loader.button.focus();
    // Closing with a question nobody answered yet: the moment to offer the answer by e-mail.
    reconsiderOffer('close');
    nudge.hidden = !offerShown;
  }

  // Open or collapsed, the shopper's choice holds on the next page of this tab; stored only
  // once they have written (nothing is stored before), cleared when they collapse it.
  function rememberOpen() {
    write('sessionStorage', OPEN_KEY, isOpen && written ? '1' : null);
  }

  // ---------------------------------------------------------------- the page's own buttons

  // The panel floats over the page; it must not sit on the page's main action (checkout,
  // place order, pay, or a product page's one add-to-cart). A shop can name more with
  // data-parley-avoid. Where one is under the panel, the panel gets shorter (its top
  // below the button), else moves to the other side, else stays: the shopper can
  // collapse it, and that is remembered.
  const ACTIONS =
    '[data-parley-avoid],[name="checkout"],.shopify-payment-button,a[href*="/checkout"],form[action*="/checkout"] [type="submit"]';
  const ACTION_TEXT = /^\s*(check ?out|place (your )?order|complete (your )?(order|purchase)|pay( now)?|buy (it )?now)\b/i;
  const ADD_TEXT = /^\s*add to (cart|bag|basket)\b/i;
  const MIN_HEIGHT = 340;
  const SPACE = 12;

  function primaryActions() {
    const found = new Set(document.querySelectorAll(ACTIONS));
    const adds = [];
    for (const el of document.querySelectorAll('button, a[href], input[type="submit"], [role="button"]')) {
      const text = String((el.tagName === 'INPUT' ? el.value : el.textContent) || '').slice(0, 80);
      if (ACTION_TEXT.test(text)) found.add(el);
      else if (ADD_TEXT.test(text) || el.name === 'add') adds.push(el);
    }
    // A page of add-to-cart buttons (a collection) has no one main action; a product page has.
    const main = [...found].concat(adds.length === 1 ? adds : []);
    return main
      .filter((el) => !root.contains(el))
      .map((el) => el.getBoundingClientRect())
      .filter((box) => box.width > 0 && box.height > 0 && box.bottom > 0 && box.top < innerHeight);
  }

  function overlaps(a, b) {
    return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  }

  function fit() {
    const stick = nearBottom();
    panel.style.blockSize = '';
    panel.classList.remove('parley-flip');
    if (!isOpen || panel.hidden || matchMedia(PHONE).matches) return;
    const actions = primaryActions();
    const fitted = [false, true].some((flip) => {
      panel.classList.toggle('parley-flip', flip);
      const box = panel.getBoundingClientRect();
      const under = actions.filter((action) => overlaps(action, box));
      if (!under.length) return true;
      const top = Math.max(...under.map((action) => action.bottom)) + SPACE;
      if (box.bottom - top < MIN_HEIGHT) return false;
      panel.style.blockSize = box.bottom - top + 'px';
      return true;
    });
    if (!fitted) panel.classList.remove('parley-flip');
    if (stick) scrollToBottom();
  }

  // Measuring means a layout: once the page has settled, not on every scrolled frame.
  let fitting = null;
  function refit() {
    if (!isOpen) return;
    clearTimeout(fitting);
    fitting = setTimeout(fit, 100);
  }
  addEventListener('resize', refit, { passive: true });
  addEventListener('scroll', refit, { passive: true });
  // The page's layout changes (a checkout summary fills in): look again.
  if (window.ResizeObserver) new ResizeObserver(refit).observe(document.body);

  loader.button.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && isOpen) close();
  });

  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !lightbox.hidden) {
      event.preventDefault();
      showPicture(null);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    } else if (event.key === 'Tab') {
      // Keep focus inside the dialog while it is open.
      const items = [...panel.querySelectorAll('button, textarea, input, [tabindex]:not([tabindex="-1"])')].filter(
        (el) => !el.disabled && el.offsetParent !== null,
      );
      if (!items.length) return;
      const first = items[0];
      const last = items[items.length - 1];
      if (event.shiftKey && document.activeElement === first) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && document.activeElement === last) {
        event.preventDefault();
        first.focus();
      }
    }
  });

  // ---------------------------------------------------------------- storage and consent

  function storage(kind) {
    try {
      return window[kind];
    } catch (error) {
      return null; // blocked by the browser's privacy settings
    }
  }

  function readSession(key) {
    try {
      return storage('sessionStorage').getItem(key);
    } catch (error) {
      return null;
    }
  }

  function readStored() {
    for (const kind of ['sessionStorage', 'localStorage']) {
      try {
        const value = JSON.parse(storage(kind).getItem(STORE_KEY));
        if (value && value.token) return value;
      } catch (error) {
        /* missing, unreadable or blocked: try the next one */
      }
    }
    return null;
  }

  function write(kind, key, value) {
    try {
      if (value == null) storage(kind).removeItem(key);
      else storage(kind).setItem(key, value);
    } catch (error) {
      /* storage full or blocked: the token simply stays in memory */
    }
  }

  let consentAsked = null;
  let preferencesAllowed = false;

  // Resolves to whether the shopper's consent allows the "preferences" purpose.
  function askConsent() {
    if (consentAsked) return consentAsked;
    consentAsked = new Promise((resolve) => {
      const shopify = window.Shopify;
      const ask = () => {
        try {
          resolve(!!shopify.customerPrivacy.preferencesProcessingAllowed());
        } catch (error) {
          resolve(false);
        }
      };
      if (shopify && shopify.customerPrivacy) return ask();
      if (!shopify || typeof shopify.loadFeatures !== 'function') return resolve(true); // no consent API here
      setTimeout(() => resolve(false), 5000); // the API never answered: stay session-only
      shopify.loadFeatures([{ name: 'consent-tracking-api', version: '0.1' }], (error) =>
        error ? resolve(false) : ask(),
      );
    }).then((allowed) => (preferencesAllowed = allowed));
    return consentAsked;
  }

  document.addEventListener('visitorConsentCollected', (event) => {
    const shopify = window.Shopify;
    try {
      preferencesAllowed = !!shopify.customerPrivacy.preferencesProcessingAllowed();
    } catch (error) {
      preferencesAllowed = !!(event.detail && event.detail.preferencesAllowed);
    }
    consentAsked = Promise.resolve(preferencesAllowed);
    persist();
  });

  function persist() {
    if (!written || !token) return;
    const value = JSON.stringify({ token: token, visitor: visitorId });
    write('sessionStorage', STORE_KEY, value);
    askConsent().then((allowed) => write('localStorage', STORE_KEY, allowed ? value : null));
  }

  function forget() {
    write('sessionStorage', STORE_KEY, null);
    write('localStorage', STORE_KEY, null);
    write('sessionStorage', CART_KEY, null);
    write('sessionStorage', OPEN_KEY, null);
    for (const kind of ['sessionStorage', 'localStorage']) write(kind, EMAIL_KEY, null);
    write('sessionStorage', LATER_KEY, null);
  }

  // ---------------------------------------------------------------- session and API

  function connect() {
    if (!sessionPromise) {
      sessionPromise = startSession().catch((error) => {
        sessionPromise = null;
        showAlert(t('error_connect'));
        throw error;
      });
    }
    return sessionPromise.catch(() => {});
  }

  function retryConnect() {
    hideAlert();
    connect().then(() => {
      if (isOpen && conversation) loadHistory().then(scrollToBottom);
    });
    pump();
  }

  // The shop may show the page and the shopper's local time beside the thread: the page
  // without its query or fragment (either can carry personal data), the IANA time zone.
  function timeZone() {
    try {
      return Intl.DateTimeFormat().resolvedOptions().timeZone || undefined;
    } catch (error) {
      return undefined;
    }
  }

  async function startSession() {
    let stored = token ? null : readStored();
    const body = {
      visitor_token: token || (stored && stored.token) || undefined,
      locale: locale,
      page: location.origin + location.pathname,
      timezone: timeZone(),
    };
    let url;
    if (data.proxy) {
      url = data.proxy.replace(/\/+$/, '') + '/session';
    } else if (data.apiBase) {
      url = data.apiBase.replace(/\/+$/, '') + '/session';
      body.shop = data.shop;
      // A Saleor storefront's signed-in customer: Parley verifies the token itself.
      if (loader.customerToken) body.customer_access_token = loader.customerToken;
    } else {
      throw new Error('parley: #parley-root needs data-proxy or data-api-base');
    }
    const ask = () =>
      nativeFetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify(body),
        credentials: data.proxy ? 'same-origin' : 'omit',
      });
    let response = await ask();
    if (response.status === 401 && body.visitor_token) {
      // A token the server no longer takes (its visitor was merged or erased): start over
      // as a new visitor rather than failing every time.
      forget();
      token = null;
      stored = null;
      delete body.visitor_token;
      response = await ask();
    }
    if (!response.ok) throw new Error('parley: session ' + response.status);
    adoptSession(await response.json(), stored);
    hideAlert();
  }

  function adoptSession(session, stored) {
    const previous = visitorId;
    token = session.visitor_token;
    visitorId = String(session.visitor_id);
    apiBase = String(session.api_base || data.apiBase || '').replace(/\/+$/, '');
    settings = session.settings || {};
    identified = session.identified === true;
    emailOnFile = session.email_on_file === true; // missing: none on file
    if (stored) {
      // The stored visitor comes back (perhaps with a refreshed token), or the server
      // no longer accepts it and issued a new anonymous visitor: then drop the old one.
      written = stored.visitor === visitorId;
      if (written) persist();
      else forget();
    } else if (previous && previous !== visitorId) {
      written = false;
    }
    if (previous && previous !== visitorId) {
      conversation = null;
      stampedFor = null;
      clearThread();
    }
    // The colour the merchant chose in Parley's Settings wins (the server sends null when
    // they chose none), then the theme embed's, then the built-in one.
    if (!loader.setAccent(settings.accent) && !loader.setAccent(data.accent)) {
      root.style.removeProperty('--parley-accent');
      root.style.removeProperty('--parley-on-accent');
    }
    greeting.textContent = settings.greeting || t('greeting');
    // The shop's own after-hours note, when the team is away.
    awayNote.textContent = settings.away_message || '';
    awayNote.hidden = !settings.away_message || (settings.team || {}).state !== 'away';
    renderStatus();
    setConversation(session.conversation);
    refreshAssistant();
    setUnread(session.unread || 0);
    joinTabs();
    reconsiderOffer('session');
  }

  // Another visitor now (the stored one was merged or erased, or a customer signed in):
  // the old thread is not theirs. Unsent messages stay; the new history loads as usual.
  function clearThread() {
    for (const [id, entry] of byId) {
      byId.delete(id);
      if (entry.msg.client_id) byClient.delete(entry.msg.client_id);
      entry.el.remove();
    }
    lastId = 0;
    readUpTo = 0;
    hasMore = false;
    historyLoaded = false;
    historyPromise = null;
    triedHistory = false;
    earlier.hidden = true;
    greeting.hidden = false;
    for (const el of log.querySelectorAll('.parley-note')) el.remove();
    refreshAssistant();
  }

  async function api(method, path, body) {
    await connect();
    if (!token) throw new Error('parley: no session');
    const call = () =>
      nativeFetch(apiBase + path, {
        method: method,
        headers: Object.assign(
          { Authorization: 'Bearer ' + token, Accept: 'application/json' },
          body === undefined ? {} : { 'Content-Type': 'application/json' },
        ),
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'omit',
      });
    const used = token;
    const response = await call();
    if (response.status !== 401) return response;
    // The token expired or was revoked: ask for a session again (once for all the
    // calls that failed with this token) and retry.
    if (token === used) {
      sessionPromise = null;
      token = null;
    }
    await connect();
    return token ? call() : response;
  }

  function setConversation(next) {
    if (!next) return;
    const changed = !conversation || conversation.id !== next.id;
    conversation = next;
    if (changed) {
      watchCartCalls();
      startStream();
      if (isOpen) syncCart();
      checkoutSent = null;
      syncCheckout();
    }
  }

  function showAlert(text) {
    alertText.textContent = text;
    alertBox.hidden = false;
  }

  function hideAlert() {
    alertBox.hidden = true;
  }

  // ---------------------------------------------------------------- team status line

  function renderStatus() {
    const team = settings.team || {};
    let text = '';
    if (team.state === 'online') {
      text = t('online');
    } else if (team.back_at && !isNaN(Date.parse(team.back_at))) {
      text = t('back_at', { time: formatBackAt(new Date(team.back_at)) });
    } else if (team.replies_in_minutes) {
      text = t('replies_in', { minutes: format({}, team.replies_in_minutes, 'number') });
    }
    statusLine.textContent = text;
  }

  // Formats in the shopper's own time zone (the browser's), in the storefront's language.
  function format(options, value, kind) {
    try {
      return kind === 'number'
        ? new Intl.NumberFormat(locale).format(value)
        : new Intl.DateTimeFormat(locale, options).format(value);
    } catch (error) {
      return kind === 'number' ? String(value) : new Intl.DateTimeFormat(undefined, options).format(value);
    }
  }

  function formatBackAt(date) {
    const clock = { hour: 'numeric', minute: '2-digit' };
    const now = new Date();
    if (date.toDateString() === now.toDateString()) return format(clock, date);
    if (date - now < 6 * 86400000) return format({ weekday: 'long', ...clock }, date);
    return format({ month: 'short', day: 'numeric', ...clock }, date);
  }

  // ---------------------------------------------------------------- messages

  function entryFor(msg) {
    return (msg.id != null && byId.get(msg.id)) || (msg.client_id && byClient.get(msg.client_id)) || null;
  }

  // Adds or updates one message. Returns true when it was new to this tab.
  function upsert(msg, where) {
    let entry = entryFor(msg);
    const isNew = !entry;
    if (isNew) {
      entry = { msg: {}, el: null };
      entry.el = renderMessage(entry, msg);
      entry.el.parleyEntry = entry;
    }
    const gotId = !isNew && entry.msg.id == null && msg.id != null;
    Object.assign(entry.msg, msg);
    if (pictureOf(entry.msg)) renderPicture(entry);
    else if (saleOf(entry.msg)) renderSale(entry);
    else renderText(entry.body, String(entry.msg.body == null ? '' : entry.msg.body));
    if (msg.id != null) {
      byId.set(msg.id, entry);
      lastId = Math.max(lastId, msg.id);
    }
    if (msg.client_id) byClient.set(msg.client_id, entry);
    if (entry.msg.author === 'shopper' && msg.id != null && !['read', 'failed'].includes(entry.msg.state)) {
      entry.msg.state = msg.read_at ? 'read' : 'delivered';
    }
    if (gotId) entry.el.remove(); // sent: it now has its place among the server's messages
    if (isNew || gotId) place(entry, where);
    renderMeta(entry);
    if (entry.msg.author === 'bot' || entry.msg.author === 'agent') refreshAssistant();
    return isNew;
  }

  // http(s) addresses in a message become links; everything else stays text. A link's
  // end leaves out punctuation that closes the sentence, and a bracket it did not open.
  const URL_IN_TEXT = /\bhttps?:\/\/[^\s<>"'`]+/gi;

  function trimUrl(url) {
    for (;;) {
      const last = url.slice(-1);
      const opened = { ')': '(', ']': '[', '}': '{' }[last];
      if (/[.,;:!?»”’]/.test(last)) url = url.slice(0, -1);
      else if (opened && url.split(opened).length < url.split(last).length) url = url.slice(0, -1);
      else return url;
    }
  }

  function safeHref(text) {
    try {
      const url = new URL(text);
      return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname ? url.href : null;
    } catch (error) {
      return null;
    }
  }

  function renderText(el, text) {
    const parts = [];
    let at = 0;
    for (const match of text.matchAll(URL_IN_TEXT)) {
      const url = trimUrl(match[0]);
      const href = safeHref(url);
      if (!href) continue;
      parts.push(text.slice(at, match.index));
      parts.push(h('a', { class: 'parley-url', href: href, target: '_blank', rel: 'noopener noreferrer', text: url }));
      at = match.index + url.length;
    }
    parts.push(text.slice(at));
    el.replaceChildren(...parts);
  }

  function pictureOf(msg) {
    const picture = msg.meta && msg.meta.attachment;
    return picture && typeof picture === 'object' ? picture : null;
  }

  // A picture in its bubble, laid out at its own proportions before it loads (no jump);
  // the shopper's own shows from the file at once, while it uploads.
  function renderPicture(entry) {
    const picture = pictureOf(entry.msg);
    if (entry.msg.file && !entry.local) entry.local = URL.createObjectURL(entry.msg.file);
    const src =
      entry.local ||
      (picture.id ? apiBase + '/attachments/' + encodeURIComponent(picture.id) + '?token=' + encodeURIComponent(token) : '');
    if (!entry.img) {
      entry.img = h('img', { alt: t('picture'), decoding: 'async' });
      entry.img.addEventListener('load', () => entry.local && scrollToBottom());
      entry.body.classList.add('parley-picture');
      entry.body.replaceChildren(
        h('button', { type: 'button', class: 'parley-picture-open', 'aria-label': t('picture'), onclick: () => showPicture(entry.img.src) }, entry.img),
      );
    }
    if (picture.width && picture.height) {
      entry.img.width = picture.width;
      entry.img.height = picture.height;
    }
    if (src && entry.img.getAttribute('src') !== src) entry.img.src = src;
  }

  // What cannot be shown (Parley refused it) is named instead: the file's name in the bubble.
  function refusePicture(entry) {
    if (entry.local) URL.revokeObjectURL(entry.local);
    entry.local = entry.img = null;
    Object.assign(entry.msg, { refused: true, meta: null, body: entry.msg.file.name || t('picture') });
    entry.body.classList.remove('parley-picture');
    renderText(entry.body, entry.msg.body);
  }

  function showPicture(src) {
    lightbox.hidden = !src;
    if (!lightImg) lightbox.prepend((lightImg = h('img', { class: 'parley-lightbox-img', alt: t('picture') })));
    if (src) {
      lightImg.src = src;
      lightbox.lastElementChild.focus();
    } else lightImg.removeAttribute('src');
  }

  function renderMessage(entry, msg) {
    const author = msg.author || 'agent';
    entry.body = h('p', { class: 'parley-bubble', dir: 'auto' });
    entry.meta = h('div', { class: 'parley-meta' });
    if (author === 'bot') {
      // Labelled in words (and for screen readers) as the shop's assistant, not the team.
      entry.extra = h('div', { class: 'parley-extra' });
      return h(
        'li',
        { class: 'parley-msg parley-from-bot' },
        h('span', { class: 'parley-by' }, icon(BOT, 14), t('assistant')),
        entry.body,
        entry.extra,
        entry.meta,
      );
    }
    const who = author === 'shopper' ? t('you') : author === 'system' ? '' : t('team');
    return h(
      'li',
      { class: 'parley-msg parley-from-' + author },
      who ? h('span', { class: 'parley-sr', text: who + ': ' }) : null,
      entry.body,
      entry.meta,
    );
  }

  // Server messages in id order; the shopper's unsent ones stay at the end.
  function place(entry, where) {
    const id = entry.msg.id;
    if (where === 'top') {
      log.insertBefore(entry.el, log.firstChild);
      return;
    }
    let after = log.lastElementChild;
    while (after) {
      const other = after.parleyEntry.msg;
      if (id != null && (other.id == null || other.id > id)) after = after.previousElementSibling;
      else break;
    }
    log.insertBefore(entry.el, after ? after.nextSibling : log.firstChild);
  }

  function renderMeta(entry) {
    const msg = entry.msg;
    entry.el.classList.toggle('parley-state-failed', msg.state === 'failed');
    entry.el.classList.toggle('parley-state-read', msg.state === 'read');
    const parts = [];
    if (msg.created_at && !isNaN(Date.parse(msg.created_at))) {
      parts.push(h('time', { datetime: msg.created_at, text: format({ hour: 'numeric', minute: '2-digit' }, new Date(msg.created_at)) }));
    }
    if (msg.author === 'shopper') {
      if (msg.state === 'delivered' || msg.state === 'read') {
        parts.push(
          h('span', { class: 'parley-tick', 'aria-hidden': 'true', text: msg.state === 'read' ? '✓✓' : '✓' }),
          h('span', { class: 'parley-sr', text: t(msg.state) }),
        );
      } else if (msg.state === 'failed') {
        parts.push(h('span', { text: msg.error || t('error_send') }));
        // A refused picture would be refused again: nothing to retry.
        if (!msg.refused) parts.push(h('button', { type: 'button', class: 'parley-link', text: t('retry'), onclick: () => resend(entry) }));
      } else {
        const sending = msg.progress != null ? t('sending') + ' ' + msg.progress + '%' : t('sending');
        parts.push(h('span', { text: msg.state === 'retrying' ? msg.error || t('retrying') : sending }));
      }
    }
    entry.meta.replaceChildren(...parts);
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
  }

  function onMessage(msg) {
    if (!msg || msg.internal || (msg.id == null && !msg.client_id)) return;
    if (msg.conversation_id && (!conversation || msg.conversation_id !== conversation.id)) {
      setConversation({ id: msg.conversation_id, status: 'open' });
    }
    const stick = nearBottom();
    const isNew = upsert(msg);
    if (msg.author !== 'shopper') {
      showTyping(false);
      const seen = isOpen && document.visibilityState === 'visible';
      if (isNew && !seen && !msg.read_at && msg.id > readUpTo) setUnread(unread + 1);
      markRead();
    }
    reconsiderOffer('message');
    if (stick || msg.author === 'shopper') scrollToBottom();
  }

  // The latest page of the thread, fetched once: on open, or before this tab's first
  // stream (without a last id the server would replay the whole thread).
  function loadHistory() {
    if (!historyPromise) {
      historyPromise = fetchPage()
        .then((page) => {
          if (!page) throw new Error('parley: history');
          quietly(() => page.messages.forEach((msg) => msg.internal || upsert(msg)));
          historyLoaded = true;
          reconsiderOffer('history');
        })
        .catch(() => {
          historyPromise = null;
          if (isOpen) showAlert(t('error_connect'));
        });
    }
    return historyPromise;
  }

  async function loadEarlier() {
    if (loadingEarlier || !hasMore || !byId.size) return;
    loadingEarlier = true;
    const height = scroller.scrollHeight;
    const page = await fetchPage(Math.min(...byId.keys())).catch(() => null);
    loadingEarlier = false;
    if (!page) return;
    quietly(() => page.messages.slice().reverse().forEach((msg) => msg.internal || upsert(msg, 'top')));
    scroller.scrollTop += scroller.scrollHeight - height; // keep the reader's place
    // Still at the top (a short thread): keep filling.
    if (hasMore && page.messages.length && scroller.scrollTop < 40) setTimeout(loadEarlier, 0);
  }

  async function fetchPage(before) {
    const query = '?limit=50' + (before != null && isFinite(before) ? '&before=' + encodeURIComponent(before) : '');
    const response = await api('GET', '/messages' + query);
    if (!response.ok) return null;
    const page = await response.json();
    if (page.conversation) setConversation(page.conversation);
    hasMore = !!page.has_more;
    earlier.hidden = !hasMore;
    greeting.hidden = hasMore; // the greeting opens the thread, above its first message
    if (hasMore) awayNote.hidden = true;
    page.messages = page.messages || [];
    return page;
  }

  // History is not news: keep screen readers from reading a page of old messages aloud.
  function quietly(fn) {
    log.setAttribute('aria-live', 'off');
    fn();
    setTimeout(() => log.setAttribute('aria-live', 'polite'), 0);
  }

  // Loads the previous page when the shopper scrolls to the top of the thread.
  scroller.addEventListener(
    'scroll',
    () => {
      if (scroller.scrollTop < 40 && historyLoaded) loadEarlier();
    },
    { passive: true },
  );

  // ---------------------------------------------------------------- sending

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    if (window.crypto && crypto.getRandomValues) crypto.getRandomValues(bytes);
    else for (let i = 0; i < 16; i++) bytes[i] = (Math.random() * 256) | 0;
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
    return hex.replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });

  input.addEventListener('keydown', (event) => {
    // Enter sends, Shift+Enter breaks the line; never while an IME is composing.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      submit();
    }
  });

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 140) + 'px';
  }

  input.addEventListener('input', () => {
    autosize();
    checkLength();
    typed();
  });

  function characters(text) {
    let count = 0;
    for (const _ of text) count++; // code points: an emoji is one, as on the server
    return count;
  }

  // Says so while the draft is over the limit, with how far over; true when it fits.
  function checkLength() {
    const text = input.value.trim();
    // A string of at most MAX_LENGTH UTF-16 units has at most that many code points.
    const count = text.length > MAX_LENGTH ? characters(text) : 0;
    tooLong(count > MAX_LENGTH ? count : 0);
    return count <= MAX_LENGTH;
  }

  function tooLong(count, refused) {
    const over = count > 0 || !!refused;
    input.setAttribute('aria-invalid', String(over));
    limitNote.hidden = !over;
    if (over) {
      const numbers = count ? format({}, count, 'number') + ' / ' + format({}, MAX_LENGTH, 'number') : null;
      limitNote.replaceChildren(t('error_too_long'), numbers ? ' ' : '', numbers ? h('bdi', { text: numbers }) : '');
    }
  }

  function submit() {
    const body = input.value.trim();
    if (!body) return;
    if (!checkLength()) {
      input.focus(); // the draft stays as it is, for the shopper to shorten
      return;
    }
    tooLong(0);
    hideAlert();
    input.value = '';
    input.style.height = '';
    stopTyping();
    const msg = {
      client_id: uuid(),
      author: 'shopper',
      body: body,
      created_at: new Date().toISOString(),
      sentAt: Date.now(),
      state: 'sending',
    };
    upsert(msg);
    scrollToBottom();
    outbox.push(byClient.get(msg.client_id));
    pump();
  }

  function attach(file) {
    hideAlert();
    const msg = {
      client_id: uuid(),
      author: 'shopper',
      body: '',
      meta: { attachment: {} },
      file: file,
      created_at: new Date().toISOString(),
      sentAt: Date.now(),
      state: 'sending',
    };
    const tooBig = file.size > MAX_PICTURE;
    // Refused here already: its name stands in the bubble, the reason under it.
    if (tooBig) Object.assign(msg, { state: 'failed', refused: true, error: t('error_image_too_large'), meta: null, body: file.name });
    upsert(msg);
    scrollToBottom();
    if (tooBig) return;
    outbox.push(byClient.get(msg.client_id));
    pump();
  }

  // Up with XHR, the one browser API that reports an upload's progress; answered as fetch does.
  function upload(entry) {
    const send = () =>
      new Promise((resolve, reject) => {
        const xhr = new XMLHttpRequest();
        const form = new FormData();
        form.append('client_id', entry.msg.client_id);
        form.append('file', entry.msg.file, entry.msg.file.name || 'picture');
        xhr.open('POST', apiBase + '/attachments');
        xhr.setRequestHeader('Authorization', 'Bearer ' + token);
        xhr.setRequestHeader('Accept', 'application/json');
        xhr.upload.onprogress = (event) => {
          if (!event.lengthComputable) return;
          entry.msg.progress = Math.round((event.loaded * 100) / event.total);
          renderMeta(entry);
        };
        xhr.onload = () =>
          resolve(new Response(xhr.responseText, { status: xhr.status, headers: { 'Retry-After': xhr.getResponseHeader('Retry-After') || '' } }));
        xhr.onerror = () => reject(new Error('parley: upload'));
        xhr.send(form);
      });
    const used = token;
    return send().then(async (response) => {
      if (response.status !== 401) return response;
      if (token === used) {
        sessionPromise = null;
        token = null;
      }
      await connect();
      return token ? send() : response;
    });
  }

  function resend(entry) {
    entry.msg.state = 'sending';
    entry.msg.error = null;
    renderMeta(entry);
    outbox.push(entry);
    pump();
  }

  // Sends queued messages one at a time, in order.
  async function pump() {
    if (pumping) return;
    pumping = true;
    try {
      while (outbox.length) {
        await deliver(outbox[0]);
        outbox.shift();
      }
    } finally {
      pumping = false;
    }
  }

  async function deliver(entry) {
    const msg = entry.msg;
    let delay = 1000;
    for (;;) {
      // The stream may have confirmed it while an answer was lost: stored, so stop.
      if (msg.id != null) return;
      let response = null;
      try {
        await connect();
        if (!token) throw new Error('parley: offline');
        if (!written) {
          written = true; // the shopper wrote: now the visitor may be remembered
          persist();
        }
        const body = { client_id: msg.client_id, body: msg.body };
        entry.cartSig = null;
        if (!conversation && cartEnabled) {
          // The first message carries the cart; a cart that cannot be read never blocks it.
          const cart = await readCart().catch(() => null);
          if (cart) {
            body.cart = cart;
            entry.cartSig = cartSignature(cart);
          }
        }
        response = msg.file ? await upload(entry) : await api('POST', '/messages', body);
      } catch (error) {
        response = null; // network failure: retry below with the same client_id
      }
      if (response && response.ok) {
        const result = await response.json().catch(() => ({}));
        delivered(entry, result);
        return;
      }
      if (response && response.status !== 429 && response.status < 500) {
        const problem = await response.json().catch(() => ({}));
        if (problem.error === 'message_too_long' && !input.value.trim()) return backToDraft(entry);
        msg.state = 'failed';
        if (msg.file) refusePicture(entry);
        msg.error =
          problem.error === 'message_too_long'
            ? t('error_too_long')
            : (msg.file && (t('error_' + problem.error) || problem.message)) || t('error_send');
        renderMeta(entry);
        return;
      }
      if (msg.id != null) return;
      msg.state = 'retrying';
      msg.error = response && response.status === 429 ? t('error_rate') : null;
      renderMeta(entry);
      const retryAfter = response && Number(response.headers.get('Retry-After'));
      await sleep(retryAfter > 0 ? retryAfter * 1000 : delay);
      delay = Math.min(delay * 2, 30000);
    }
  }

  // The server refused it as too long (its limit may be lower than ours): the text goes
  // back into the empty composer, never lost, and the shopper is told why.
  function backToDraft(entry) {
    byClient.delete(entry.msg.client_id);
    entry.el.remove();
    input.value = entry.msg.body;
    autosize();
    tooLong(0, true);
    input.focus();
  }

  function delivered(entry, result) {
    const isFirst = !conversation || (result.conversation && result.conversation.id !== conversation.id);
    if (!written) {
      // Sent as a new visitor (the old token was refused on the way): remember this one.
      written = true;
      persist();
    }
    rememberOpen();
    if (entry.cartSig) rememberCart(entry.cartSig);
    if (result.conversation) setConversation(result.conversation);
    const stamped = result.message && Date.parse(result.message.created_at);
    if (stamped) clockOffset = stamped - Date.now(); // created just now, by the server's clock
    if (result.message) upsert(result.message);
    else {
      entry.msg.state = 'delivered';
      renderMeta(entry);
    }
    if (isFirst && conversation) {
      post({ kind: 'conversation', token: token, visitor: visitorId, conversation: conversation });
      stampCart();
    }
    reconsiderOffer('sent');
  }

  function sleep(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  // ---------------------------------------------------------------- typing and read marks

  let typingSentAt = 0;
  let typingIdle = null;
  let typingHide = null;

  function typed() {
    if (!conversation || !token) return;
    const now = Date.now();
    if (now - typingSentAt > 3000) {
      typingSentAt = now;
      api('POST', '/typing', { typing: true }).catch(() => {});
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 5000);
  }

  function stopTyping() {
    clearTimeout(typingIdle);
    if (!typingSentAt) return;
    typingSentAt = 0;
    api('POST', '/typing', { typing: false }).catch(() => {});
  }

  function showTyping(on) {
    clearTimeout(typingHide);
    typing.textContent = on ? t('typing') : '';
    // Typing is a hint that is not replayed; if "stopped" never arrives, stop anyway.
    if (on) typingHide = setTimeout(() => showTyping(false), 8000);
  }

  function markRead() {
    if (!isOpen || document.visibilityState !== 'visible' || !conversation) return;
    let upTo = 0;
    for (const [id, entry] of byId) if (entry.msg.author !== 'shopper' && id > upTo) upTo = id;
    if (upTo <= readUpTo) {
      if (unread) setUnread(0);
      return;
    }
    readUpTo = upTo;
    setUnread(0);
    api('POST', '/read', { up_to: upTo }).catch(() => {});
    post({ kind: 'read', up_to: upTo });
  }

  function onRead(event) {
    if (!event) return;
    if (event.by === 'shopper') {
      // Read in another tab or on another device.
      readUpTo = Math.max(readUpTo, event.up_to);
      setUnread(0);
      return;
    }
    for (const [id, entry] of byId) {
      if (entry.msg.author === 'shopper' && id <= event.up_to && entry.msg.state !== 'read') {
        entry.msg.state = 'read';
        renderMeta(entry);
      }
    }
  }

  function setUnread(count) {
    unread = count;
    loader.badge.textContent = count > 99 ? '99+' : String(count);
    loader.badge.hidden = !count || isOpen;
    loader.button.setAttribute('aria-label', t(count && !isOpen ? 'launcher_unread' : 'launcher'));
  }

  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') markRead();
  });

  // ---------------------------------------------------------------- events, tabs, stream

  const channel = 'BroadcastChannel' in window ? new BroadcastChannel('parley') : null;
  let joined = null; // the visitor whose tab group this tab is in
  let electing = false; // this tab is in the election for that visitor's stream
  let leader = false;
  let source = null;
  let releaseLock = null;
  let abortLock = null;
  let heartbeat = null;
  let lastBeat = 0;
  let streamFailures = 0;
  let triedHistory = false;

  function post(message) {
    if (channel) channel.postMessage(Object.assign({ visitor: visitorId, tab: TAB }, message));
  }

  function dispatch(type, payload) {
    if (type === 'message') onMessage(payload);
    else if (type === 'typing') showTyping(payload && payload.author !== 'shopper' && payload.typing);
    else if (type === 'read') onRead(payload);
  }

  if (channel) {
    channel.onmessage = ({ data: message }) => {
      if (!message || message.tab === TAB) return;
      if (message.kind === 'conversation' && message.visitor !== visitorId && !conversation && !outbox.length) {
        // The shopper started writing in another tab: this tab joins that visitor.
        token = message.token;
        visitorId = message.visitor;
        written = true;
        persist();
        joinTabs();
      }
      if (message.visitor !== visitorId) return;
      if (message.kind === 'event') {
        dispatch(message.type, message.payload);
      } else if (message.kind === 'conversation') {
        setConversation(message.conversation);
        if (isOpen) loadHistory().then(scrollToBottom);
      } else if (message.kind === 'read') {
        onRead({ by: 'shopper', up_to: message.up_to });
      } else if (message.kind === 'who') {
        if (leader) post({ kind: 'beat' });
      } else if (message.kind === 'beat') {
        lastBeat = Date.now();
        if (leader && message.tab < TAB) stepDown(); // two leaders: the lower tab id keeps it
      } else if (message.kind === 'bye') {
        lastBeat = 0;
      } else if (message.kind === 'email') {
        emailOnFile = true; // given in another tab
        reconsiderOffer('email');
      }
    };
  }

  // Joins the tab group of the current visitor; it elects a leader once there is a
  // conversation to stream.
  function joinTabs() {
    if (joined === visitorId) return;
    leaveTabs();
    joined = visitorId;
    if (conversation) elect();
  }

  function leaveTabs() {
    stepDown();
    if (abortLock) abortLock.abort();
    abortLock = null;
    clearInterval(heartbeat);
    electing = false;
    joined = null;
  }

  function startStream() {
    if (joined !== visitorId) return; // joinTabs() elects when the session arrives
    if (!electing) elect();
    else if (leader && !source) openSource();
  }

  function elect() {
    electing = true;
    if (!channel) return becomeLeader(); // no way to share: every tab streams for itself
    if (navigator.locks && window.AbortController) {
      // The lock is held until this tab leaves or closes; the next waiting tab gets it.
      abortLock = new AbortController();
      navigator.locks
        .request('parley-stream:' + visitorId, { signal: abortLock.signal }, () =>
          new Promise((release) => {
            releaseLock = release;
            becomeLeader();
          }),
        )
        .catch(() => {}); // aborted: this tab left the election
      return;
    }
    // No Web Locks: the leader beats every second; 3 s of silence means it is gone.
    lastBeat = Date.now() - 2500;
    post({ kind: 'who' });
    heartbeat = setInterval(() => {
      if (leader) post({ kind: 'beat' });
      else if (Date.now() - lastBeat > 3000) {
        becomeLeader();
        post({ kind: 'beat' });
      }
    }, 1000);
  }

  function becomeLeader() {
    leader = true;
    if (conversation) openSource();
  }

  function stepDown() {
    leader = false;
    if (source) source.close();
    source = null;
    if (releaseLock) releaseLock();
    releaseLock = null;
  }

  function openSource() {
    if (source || !token || !apiBase) return;
    if (!lastId && !historyLoaded && !triedHistory) {
      triedHistory = true;
      loadHistory().then(() => leader && !source && openSource());
      return;
    }
    // EventSource cannot send headers: the token rides in the query (per the contract);
    // last_event_id resumes where this tab group left off when a new leader takes over.
    const url =
      apiBase + '/stream?token=' + encodeURIComponent(token) + (lastId ? '&last_event_id=' + encodeURIComponent(lastId) : '');
    const es = new EventSource(url);
    source = es;
    const relay = (type) => (event) => {
      let payload;
      try {
        payload = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      streamFailures = 0;
      dispatch(type, payload);
      post({ kind: 'event', type: type, payload: payload });
    };
    es.addEventListener('message', relay('message'));
    es.addEventListener('typing', relay('typing'));
    es.addEventListener('read', relay('read'));
    es.onerror = () => {
      // EventSource reconnects by itself (with Last-Event-ID) unless the server refused
      // the stream outright; then reopen after a pause, with a fresh session if needed.
      if (es.readyState !== EventSource.CLOSED || source !== es) return;
      source = null;
      streamFailures += 1;
      setTimeout(async () => {
        if (streamFailures >= 3) {
          streamFailures = 0;
          sessionPromise = null;
          await connect();
        }
        if (leader && !source) openSource();
      }, Math.min(30000, 2000 * 2 ** streamFailures));
    };
  }

  // Leave the back/forward cache usable: drop the stream and the lock on the way out.
  window.addEventListener('pagehide', () => {
    if (leader) post({ kind: 'bye' });
    leaveTabs();
  });
  window.addEventListener('pageshow', (event) => {
    if (event.persisted && visitorId) joinTabs();
  });

  // ---------------------------------------------------------------- the shop's assistant

  // Its answers (meta.answer_id) offer "this helped" / "talk to a person" until the shopper
  // chose (meta.feedback, so a reload shows the same); its handover note (meta.handover)
  // says when a person will answer, until one has. Redrawn only when that state changes,
  // so a focused button stays focused while other messages arrive.
  function refreshAssistant() {
    let spoke = false;
    let lastAgent = 0;
    handedOver = false;
    for (const [id, entry] of byId) {
      if (entry.msg.author === 'agent') lastAgent = Math.max(lastAgent, id);
      if (entry.msg.author !== 'bot') continue;
      spoke = true;
      if (entry.msg.meta && entry.msg.meta.handover) handedOver = true;
    }
    for (const [id, entry] of byId) if (entry.msg.author === 'bot') renderBot(entry, id > lastAgent);
    // The one-click way to a person, while the assistant has the conversation.
    personBox.hidden = !conversation || !spoke || handedOver || personAsked === conversation.id;
  }

  function renderBot(entry, latest) {
    const meta = entry.msg.meta || {};
    const verdict = { helpful: 'helped_done', handover: 'person_asked' }[meta.feedback];
    const when = meta.handover && latest ? waitText() : '';
    const answer = !meta.handover && meta.answer_id != null;
    const state = [!!meta.handover, when, answer, verdict, entry.busy, entry.failed, handedOver].join('|');
    if (state === entry.drawn) return;
    entry.drawn = state;
    entry.el.classList.toggle('parley-handover', !!meta.handover);
    const parts = [];
    if (when) parts.push(h('p', { class: 'parley-when', dir: 'auto', text: when }));
    if (answer && verdict) parts.push(h('p', { class: 'parley-verdict', text: t(verdict) }));
    else if (answer) {
      const choice = (helpful, key) =>
        h('button', { type: 'button', class: 'parley-choice', disabled: entry.busy, text: t(key), onclick: () => feedback(entry, helpful) });
      // Once a person has it, asking for one again means nothing; "this helped" still closes the question.
      parts.push(h('div', { class: 'parley-choices' }, choice(true, 'helped'), handedOver ? null : choice(false, 'talk_to_person')));
      if (entry.failed) parts.push(h('p', { class: 'parley-feedback-error', role: 'alert', text: t('feedback_error') }));
    }
    entry.extra.replaceChildren(...parts);
  }

  // When a person will answer: when the team is back, else how long it usually takes.
  function waitText() {
    const team = settings.team || {};
    if (team.state !== 'online' && team.back_at && !isNaN(Date.parse(team.back_at))) {
      return t('back_at', { time: formatBackAt(new Date(team.back_at)) });
    }
    if (team.replies_in_minutes) return t('replies_in', { minutes: format({}, team.replies_in_minutes, 'number') });
    return team.state === 'online' ? t('online') : '';
  }

  async function feedback(entry, helpful) {
    if (entry.busy) return;
    entry.busy = true;
    entry.failed = false;
    refreshAssistant();
    let stored = false;
    try {
      const response = await api('POST', '/messages/' + encodeURIComponent(entry.msg.id) + '/feedback', { helpful: helpful });
      if (response.ok) {
        stored = true;
        const answer = (await response.json().catch(() => ({}))).message;
        if (answer && answer.id === entry.msg.id) {
          upsert(answer); // its meta.feedback is the verdict, as a reload shows it
          post({ kind: 'event', type: 'message', payload: answer }); // the shopper's other tabs
        } else entry.msg.meta = Object.assign({}, entry.msg.meta, { feedback: helpful ? 'helpful' : 'handover' });
      }
    } catch (error) {
      stored = false; // offline: the buttons come back with a sentence
    }
    entry.busy = false;
    entry.failed = !stored;
    if (stored) reconsiderOffer('message');
    refreshAssistant();
    if (!panel.contains(document.activeElement)) input.focus(); // its button is gone
  }

  // The handover note then arrives by the stream, like any message.
  async function askForPerson() {
    if (personButton.disabled || !conversation) return;
    const asked = conversation.id;
    personButton.disabled = true;
    personError.hidden = true;
    let ok = false;
    try {
      ok = (await api('POST', '/handover')).ok;
    } catch (error) {
      ok = false;
    }
    personButton.disabled = false;
    if (ok) personAsked = asked;
    else {
      personError.textContent = t('feedback_error');
      personError.hidden = false;
    }
    refreshAssistant();
    if (!panel.contains(document.activeElement) || document.activeElement === personButton) input.focus();
  }

  // ---------------------------------------------------------------- the answer by e-mail

  // Offered only once the shopper has asked something nobody has answered yet, and only
  // when it helps: the team is away, nobody answered within ANSWER_WAIT_MS, or the shopper
  // is leaving (the pointer out through the top of the window, or the panel closed).
  // Never to a signed-in customer or a visitor whose address Parley has.

  function remembered(key) {
    for (const kind of key === LATER_KEY ? ['sessionStorage'] : ['sessionStorage', 'localStorage']) {
      try {
        if (visitorId && storage(kind).getItem(key) === visitorId) return true;
      } catch (error) {
        /* blocked: nothing remembered */
      }
    }
    return false;
  }

  // The latest stored question with no answer from the team after it, or null.
  function waitingQuestion() {
    for (let el = log.lastElementChild; el; el = el.previousElementSibling) {
      const msg = el.parleyEntry && el.parleyEntry.msg;
      if (!msg || msg.note) continue;
      if (msg.author === 'agent' || (msg.author === 'bot' && msg.meta && msg.meta.feedback === 'helpful')) return null;
      if (msg.author === 'shopper' && msg.id != null) return msg;
    }
    return null;
  }

  function reconsiderOffer(trigger) {
    clearTimeout(offerTimer);
    const wanted =
      !!conversation && !!visitorId && !identified && !emailOnFile && !remembered(EMAIL_KEY) && !remembered(LATER_KEY);
    const question = wanted ? waitingQuestion() : null;
    if (!question) {
      // Answered meanwhile: the offer goes, unless the shopper is filling it in.
      const touched = emailInput.value.trim() || document.activeElement === emailInput;
      if (offerShown && (!wanted || !touched)) hideOffer();
      return;
    }
    if (offerShown) return;
    // Sent from this tab: by this browser's clock. Else by the server's time of the message,
    // less how far the browser's clock is off.
    const at = question.sentAt || Date.parse(question.created_at) - clockOffset || Date.now();
    const waited = Math.max(0, Date.now() - at);
    const away = (settings.team || {}).state === 'away';
    if (away || trigger === 'leave' || trigger === 'close' || waited >= ANSWER_WAIT_MS) showOffer();
    else offerTimer = setTimeout(() => reconsiderOffer('wait'), ANSWER_WAIT_MS - waited + 50);
  }

  function showOffer() {
    const stick = nearBottom();
    offerShown = true;
    emailForm.hidden = false;
    nudge.hidden = isOpen;
    if (stick) scrollToBottom();
  }

  function hideOffer() {
    offerShown = false;
    emailForm.hidden = true;
    nudge.hidden = true;
  }

  // From the nudge beside the launcher: the panel, with the field ready.
  function openOffer() {
    open();
    loader.styled.then(() => {
      if (!isOpen || !offerShown) return;
      scrollToBottom();
      emailInput.focus();
    });
  }

  // "Not now": not offered again during this visit.
  function later() {
    write('sessionStorage', LATER_KEY, visitorId);
    const focusLauncher = !isOpen;
    hideOffer();
    if (focusLauncher) loader.button.focus();
    else input.focus();
  }

  function emailProblem(text) {
    emailError.textContent = text;
    emailError.hidden = false;
    emailInput.setAttribute('aria-invalid', 'true');
    emailInput.focus(); // what they typed stays, to correct
  }

  emailForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (emailSend.disabled) return;
    const email = emailInput.value.trim();
    if (!email) return emailProblem(t('email_error_invalid'));
    emailSend.disabled = true;
    emailForm.setAttribute('aria-busy', 'true');
    let problem = null;
    try {
      // Pressing Send beside the sentence that says what the address is for is the consent.
      const response = await api('POST', '/contact', { email: email, consent: true });
      if (response.ok) {
        const result = await response.json().catch(() => ({}));
        return emailGiven(typeof result.contact_email === 'string' ? result.contact_email : email);
      }
      problem = (await response.json().catch(() => ({}))).error;
    } catch (error) {
      problem = null; // offline: the generic sentence
    } finally {
      emailSend.disabled = false;
      emailForm.removeAttribute('aria-busy');
    }
    const sentence = { invalid_email: 'email_error_invalid', consent_required: 'email_error_consent' }[problem];
    emailProblem(t(sentence || 'email_error'));
  });

  emailInput.addEventListener('input', () => {
    if (emailError.hidden) return;
    emailError.hidden = true;
    emailInput.removeAttribute('aria-invalid');
  });

  function emailGiven(address) {
    emailOnFile = true;
    write('sessionStorage', EMAIL_KEY, visitorId);
    const visitor = visitorId;
    askConsent().then((allowed) => allowed && write('localStorage', EMAIL_KEY, visitor));
    post({ kind: 'email' });
    emailInput.value = '';
    emailError.hidden = true;
    emailInput.removeAttribute('aria-invalid');
    hideOffer();
    note(t('email_saved'), ' ', h('bdi', { text: address }));
    input.focus();
  }

  // A line of the widget's own in the thread (not a message: nothing stored, gone on reload).
  // It sorts after the messages it came after, so later ones are placed below it.
  function note(...parts) {
    const el = h('li', { class: 'parley-msg parley-from-system parley-note' }, h('p', { class: 'parley-note-text', dir: 'auto' }, ...parts));
    el.parleyEntry = { msg: { id: lastId + 0.5, author: 'system', note: true } };
    log.appendChild(el);
    scrollToBottom();
  }

  // Leaving through the top of the window (to the tabs, the address bar): a desktop pointer.
  document.addEventListener('mouseout', (event) => {
    if (!event.relatedTarget && event.clientY <= 0) reconsiderOffer('leave');
  });

  // ---------------------------------------------------------------- resume links

  // The parameter leaves the address at once, before any request: a reload, a bookmark or
  // a shared URL never uses the link again.
  function takeResumeToken() {
    let url;
    try {
      url = new URL(location.href);
    } catch (error) {
      return null;
    }
    const value = url.searchParams.get(RESUME_PARAM);
    if (value === null) return null;
    url.searchParams.delete(RESUME_PARAM);
    try {
      history.replaceState(history.state, '', url.pathname + url.search + url.hash);
    } catch (error) {
      /* a sandboxed page: the link is single-purpose on the server anyway */
    }
    return value;
  }

  // This device takes the conversation: the link is exchanged for the visitor's token, which
  // becomes this widget's own (a session with it brings the thread and its settings).
  async function resume(value) {
    let outcome = 'network';
    try {
      const response = await api('POST', '/resume', { token: value });
      const claim = await response.json().catch(() => ({}));
      if (response.ok && claim && typeof claim.visitor_token === 'string') {
        token = claim.visitor_token;
        sessionPromise = null;
        await connect();
        if (token) {
          written = true;
          persist();
          outcome = 'resumed';
        }
      } else if (response.status === 404 || response.status === 410) {
        outcome = 'refused'; // unknown, expired or revoked
      }
    } catch (error) {
      outcome = 'network';
    }
    open();
    if (outcome === 'refused') note(t('resume_failed'));
    else if (outcome === 'network') showAlert(t('error_connect'));
  }

  // ---------------------------------------------------------------- cards from the agent
  // meta.cards: products the agent sent, each with a button that puts it into the shopper's
  // real cart (Shopify: the storefront's Ajax Cart API; Saleor: the checkout through Parley).
  // meta.checkout: a cart the agent built, as one link to checkout. Built once per message.

  function saleOf(msg) {
    const meta = msg.author === 'agent' && msg.meta;
    return meta && (Array.isArray(meta.cards) || (meta.checkout && meta.checkout.url)) ? meta : null;
  }

  function renderSale(entry) {
    const meta = saleOf(entry.msg);
    const note = typeof meta.note === 'string' ? meta.note : '';
    renderText(entry.body, note);
    entry.body.hidden = !note;
    if (entry.sale) return;
    entry.el.classList.add('parley-sale');
    const items = (meta.cards || []).map(productCard);
    if (meta.checkout) items.push(checkoutCard(meta.checkout));
    entry.sale = h('div', { class: 'parley-cards' }, ...items);
    entry.body.after(entry.sale);
  }

  function picture(src, alt) {
    const safe = safeHref(src || '');
    return safe ? h('img', { class: 'parley-card-img', src: safe, alt: alt || '', width: 64, height: 64, loading: 'lazy' }) : h('span', { class: 'parley-card-img' });
  }

  function productCard(card) {
    const status = h('p', { class: 'parley-card-status', role: 'status' });
    const soldOut = card.stock === 'sold_out';
    const button = h('button', { type: 'button', class: 'parley-card-add', text: soldOut ? t('sold_out') : t('add_to_cart'), disabled: soldOut });
    const el = h(
      'article',
      { class: 'parley-card' + (soldOut ? ' parley-card-out' : '') },
      picture(card.image, card.title),
      h(
        'div',
        { class: 'parley-card-body' },
        h('p', { class: 'parley-card-title', dir: 'auto', text: card.title }),
        card.variant_title ? h('p', { class: 'parley-card-variant', dir: 'auto', text: card.variant_title }) : null,
        h('p', { class: 'parley-card-price', text: card.price_text || '' }),
        card.stock === 'low' ? h('p', { class: 'parley-card-stock', text: t('few_left') }) : null,
        button,
        status,
      ),
    );
    button.addEventListener('click', () => addToCart(card, button, status));
    return el;
  }

  function checkoutCard(checkout) {
    const href = safeHref(checkout.url);
    return h(
      'article',
      { class: 'parley-card parley-card-checkout' },
      h(
        'div',
        { class: 'parley-card-body' },
        h('p', { class: 'parley-card-title', text: t('checkout_ready') }),
        h('ul', { class: 'parley-card-lines' }, ...(checkout.lines || []).map((line) => h('li', { dir: 'auto', text: line.quantity + ' × ' + line.title }))),
        checkout.code ? h('p', { class: 'parley-card-code', text: t('code_applied', { code: checkout.code }) }) : null,
        // A code comes off at checkout: the total here is before it.
        h('p', { class: 'parley-card-price', text: checkout.code ? t('before_code', { total: checkout.total_text || '' }) : checkout.total_text || '' }),
        href ? h('a', { class: 'parley-card-add', href: href, target: '_top', text: t('go_to_checkout') }) : null,
      ),
    );
  }

  function cardFailed(card, button, status, text) {
    button.disabled = false;
    const page = safeHref(card.url || '');
    status.replaceChildren(text, page ? ' ' : '', page ? h('a', { href: page, target: '_top', text: t('view_product') }) : '');
  }

  async function addToCart(card, button, status) {
    button.disabled = true;
    status.textContent = t('adding');
    try {
      let response;
      if (cartEnabled) {
        response = await nativeFetch(cartRoot + 'cart/add.js', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({ items: [{ id: Number(card.variant_id), quantity: 1 }] }),
        });
      } else {
        response = await api('POST', '/cart/lines', { variant_id: card.variant_id, quantity: 1, checkout_id: checkoutId() });
      }
      if (response.ok) {
        status.textContent = t('added_to_cart');
        button.textContent = t('add_to_cart');
        button.disabled = false;
        if (cartEnabled) syncCart();
        else {
          const added = await response.json().catch(() => ({}));
          if (added.checkout_id) {
            loader.checkoutId = checkoutSent = added.checkout_id;
            // The storefront may adopt the checkout as its own cart.
            window.dispatchEvent(new CustomEvent('parley:checkout', { detail: { checkoutId: added.checkout_id } }));
          }
        }
        return;
      }
      const problem = await response.json().catch(() => ({}));
      const text = String(problem.description || problem.message || problem.error || '');
      if (response.status === 409 || /sold out/i.test(text)) {
        button.textContent = t('sold_out');
        status.textContent = t('sold_out_now');
      } else if (response.status === 404 || /cannot find variant/i.test(text)) {
        status.textContent = t('gone');
      } else cardFailed(card, button, status, t('cart_failed'));
    } catch (error) {
      cardFailed(card, button, status, t('cart_failed'));
    }
  }

  // ---------------------------------------------------------------- cart

  let cartTimer = null;
  let cartPoll = null;
  let cartAttributes = {};

  async function readCart() {
    const response = await nativeFetch(cartRoot + 'cart.js', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!response.ok) return null;
    const cart = await response.json();
    cartAttributes = cart.attributes || {};
    // Only the fields of the contract's cart: money stays in minor units.
    return {
      token: cart.token,
      currency: cart.currency,
      total_price: cart.total_price,
      item_count: cart.item_count,
      items: (cart.items || []).map((item) => ({
        variant_id: item.variant_id,
        product_id: item.product_id,
        title: item.title,
        quantity: item.quantity,
        price: item.price,
        line_price: item.line_price,
        url: item.url,
      })),
    };
  }

  // An empty cart may get a new token on every read, so the token only counts once
  // something is in it.
  function cartSignature(cart) {
    return JSON.stringify([
      cart.item_count ? cart.token : '',
      cart.total_price,
      cart.items.map((item) => [item.variant_id, item.quantity]),
    ]);
  }

  // Saleor: the checkout stands for the cart. The storefront names it (Parley.setCheckout),
  // or Saleor's storefront keeps its id in a `checkoutId-<channel>` cookie; Parley reads
  // the lines from Saleor and stamps the conversation id on the checkout.

  function checkoutId() {
    if (loader.checkoutId) return String(loader.checkoutId);
    const found = /(?:^|;\s*)checkoutId-[^=;]+=([^;]+)/.exec(document.cookie);
    return found ? decodeURIComponent(found[1]) : null;
  }

  async function syncCheckout() {
    const id = directMode && conversation && token ? checkoutId() : null;
    if (!id || id === checkoutSent) return;
    checkoutSent = id;
    try {
      const response = await api('POST', '/checkout', { checkout_id: id });
      if (!response.ok && response.status !== 400 && response.status !== 404) checkoutSent = null; // try again later
    } catch (error) {
      checkoutSent = null;
    }
  }

  async function syncCart() {
    syncCheckout();
    if (!cartEnabled || !conversation || !token) return;
    try {
      const cart = await readCart();
      if (!cart) return;
      stampCart();
      const signature = cartSignature(cart);
      if (signature === lastCartSig) return;
      const response = await api('PUT', '/cart', cart);
      if (response.ok) rememberCart(signature);
    } catch (error) {
      /* the next change or poll tries again */
    }
  }

  function rememberCart(signature) {
    lastCartSig = signature;
    if (written) write('sessionStorage', CART_KEY, signature);
  }

  // Tags the cart with the conversation so the order carries it back (note_attributes).
  async function stampCart() {
    if (!cartEnabled || !conversation || stampedFor === conversation.id) return;
    if (cartAttributes.parley_conversation === conversation.id) {
      stampedFor = conversation.id;
      return;
    }
    stampedFor = conversation.id;
    try {
      const response = await nativeFetch(cartRoot + 'cart/update.js', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ attributes: { parley_conversation: conversation.id } }),
      });
      if (!response.ok) stampedFor = null;
    } catch (error) {
      stampedFor = null;
    }
  }

  function scheduleCartSync() {
    clearTimeout(cartTimer);
    cartTimer = setTimeout(syncCart, 500);
  }

  function startCartPolling() {
    stopCartPolling();
    if (cartEnabled) cartPoll = setInterval(() => document.visibilityState === 'visible' && syncCart(), 10000);
  }

  function stopCartPolling() {
    clearInterval(cartPoll);
    cartPoll = null;
  }

  // Notice the theme's own cart calls (add to cart, quantity changes) right away;
  // hooked only once there is a conversation the cart belongs to.
  let watching = false;
  function watchCartCalls() {
    if (!cartEnabled || watching) return;
    watching = true;
    window.fetch = function (resource) {
      const result = nativeFetch.apply(null, arguments);
      try {
        const url = typeof resource === 'string' ? resource : (resource && resource.url) || String(resource);
        if (CART_URL.test(url)) result.then(scheduleCartSync, () => {});
      } catch (error) {
        /* never let our hook break the theme's request */
      }
      return result;
    };
    const xhrOpen = XMLHttpRequest.prototype.open;
    XMLHttpRequest.prototype.open = function (method, url) {
      try {
        if (CART_URL.test(String(url))) this.addEventListener('loadend', scheduleCartSync);
      } catch (error) {
        /* as above */
      }
      return xhrOpen.apply(this, arguments);
    };
  }

  // ---------------------------------------------------------------- start

  loader.panel = {
    open: open,
    close: close,
    toggle: () => (isOpen ? close() : open()),
    // Parley.identify(): a new session with the customer's token (the thread follows them).
    identify: () => {
      sessionPromise = null;
      connect();
    },
    syncCheckout: syncCheckout,
  };

  const resumeToken = takeResumeToken();
  if (resumeToken !== null) {
    resume(resumeToken);
  } else if (loader.wantOpen) {
    open();
  } else if (readStored()) {
    if (readSession(OPEN_KEY) && !matchMedia(PHONE).matches) {
      // Left open on the last page: open again (on a phone it would hide the whole page),
      // without the opening slide.
      panel.style.animation = 'none';
      open(true);
    } else {
      // A shopper who wrote before: reconnect quietly so replies and the badge reach them.
      connect().then(() => {
        if (conversation) syncCart();
      });
    }
  }
})();
