// The Saleor Dashboard's side of the Support page: a classic script, loaded before the
// page's modules, because the Dashboard may send its `handshake` as soon as the iframe
// loads and a listener registered later would miss it.
//
// Protocol (shared/platforms/saleor.md §A4, @saleor/app-sdk): the Dashboard posts
// {type, payload}: `handshake` and `tokenRefresh` carry the token (about 5 minutes of
// life, refreshed ~30 s before it ends), `theme` the colour scheme. The page posts
// actions to window.parent; every payload carries an `actionId` or the Dashboard
// ignores it. `notifyReady` makes the Dashboard answer with a fresh handshake.
//
// What api.js uses: window.ParleySaleor.token({fresh}) (waits for the first
// handshake), .headers() (Saleor-Api-Url for every fetch), .notify(status, title, text).
(function () {
  'use strict';
  var query = new URLSearchParams(location.search);
  var dashboardOrigin = findDashboardOrigin();
  var state = { token: null, apiUrl: query.get('saleorApiUrl') || '', appId: query.get('id') || '' };
  var waiting = [];

  setTheme(query.get('theme'));

  // The Dashboard is whoever embedded us; the SDK trusts messages from the referrer's
  // origin. Unlike the SDK's single-page apps, our pages are documents: after a click to
  // another page the referrer is our own previous page, so the first page's answer is
  // kept for the tab. Chromium and WebKit also name the parent in location.ancestorOrigins.
  function findDashboardOrigin() {
    var KEY = 'parley:saleor-dashboard';
    var origin = null;
    try {
      if (location.ancestorOrigins && location.ancestorOrigins.length) origin = location.ancestorOrigins[0];
      else if (document.referrer && new URL(document.referrer).origin !== location.origin) origin = new URL(document.referrer).origin;
    } catch (error) {
      origin = null;
    }
    try {
      if (origin) sessionStorage.setItem(KEY, origin);
      else origin = sessionStorage.getItem(KEY);
    } catch (error) {
      /* storage blocked: messages are still bound to window.parent below */
    }
    return origin;
  }

  function setTheme(theme) {
    document.documentElement.dataset.theme = theme === 'dark' ? 'dark' : 'light';
  }

  function actionId() {
    if (window.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
    // crypto.randomUUID needs a secure context (https or localhost); a Dashboard opened
    // over a LAN address is not one. getRandomValues works everywhere.
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join('');
    return hex.slice(0, 8) + '-' + hex.slice(8, 12) + '-' + hex.slice(12, 16) + '-' + hex.slice(16, 20) + '-' + hex.slice(20);
  }

  function send(type, payload) {
    if (window.parent === window) return; // opened outside the Dashboard: nobody to tell
    var body = Object.assign({}, payload || {}, { actionId: actionId() });
    window.parent.postMessage({ type: type, payload: body }, dashboardOrigin || '*');
  }

  function adopt(token) {
    if (typeof token !== 'string' || !token) return;
    state.token = token;
    var ready = waiting;
    waiting = [];
    ready.forEach(function (resolve) { resolve(token); });
  }

  window.addEventListener('message', function (event) {
    if (dashboardOrigin && event.origin !== dashboardOrigin) return;
    if (event.source && event.source !== window.parent) return;
    var data = event.data || {};
    var payload = data.payload || {};
    if (data.type === 'handshake' || data.type === 'tokenRefresh') adopt(payload.token);
    else if (data.type === 'theme') setTheme(payload.theme);
  });

  var TOKEN_WAIT_MS = 10000;

  // The next token the Dashboard sends. Outside the Dashboard none ever comes: give up
  // after a while so the page can say so instead of spinning forever.
  function nextToken() {
    return new Promise(function (resolve, reject) {
      var entry = function (token) {
        clearTimeout(timer);
        resolve(token);
      };
      var timer = setTimeout(function () {
        waiting = waiting.filter(function (other) { return other !== entry; });
        reject(new Error('no_dashboard_token'));
      }, TOKEN_WAIT_MS);
      waiting.push(entry);
    });
  }

  window.ParleySaleor = {
    apiUrl: state.apiUrl,
    appId: state.appId,
    /** The current Dashboard token; waits for the handshake. `fresh`: ask for a new one. */
    token: function (options) {
      if (options && options.fresh && state.token) {
        var previous = state.token;
        state.token = null;
        send('notifyReady'); // the Dashboard answers with a new handshake
        return nextToken().catch(function () { return previous; });
      }
      return state.token ? Promise.resolve(state.token) : nextToken();
    },
    headers: function () {
      return { 'Saleor-Api-Url': state.apiUrl };
    },
    notify: function (status, title, text) {
      send('notification', { status: status, title: title, text: text || '' });
    },
    redirect: function (to) {
      send('redirect', { to: to });
    },
  };

  // Extension pages: buttons that open a conversation in the app's own Dashboard page.
  document.addEventListener('click', function (event) {
    var button = event.target.closest && event.target.closest('[data-saleor-redirect]');
    if (button) window.ParleySaleor.redirect(button.getAttribute('data-saleor-redirect'));
  });

  send('notifyReady');
})();
