/* Parley loader: draws the chat launcher and fetches the chat panel on demand.
 *
 * Every storefront page view downloads this file, so it does as little as possible:
 * no framework, no fonts, no requests and no cookie/storage writes before the shopper
 * touches the launcher. Hover, focus or touch prefetches parley-panel.js (same folder
 * as this file); a click opens it. The one exception is a shopper who has already
 * written to the shop (a visitor id was stored after their first message): the panel
 * is then fetched when the browser is idle, so replies reach them on every page.
 *
 * The panel finds what it needs on the root element: `root.parley` (this state).
 */
(function () {
  'use strict';
  // Shopify may inject this script before the block's markup is parsed (async): wait.
  var script = document.currentScript || document.querySelector('script[src*="parley-loader"]');
  if (document.getElementById('parley-root') || document.readyState !== 'loading') start();
  else document.addEventListener('DOMContentLoaded', start);

  // Storefronts outside Shopify have no app embed block: the script tag itself carries
  // the data-* attributes (data-shop = the Saleor API URL), and the panel, the styles
  // and the API live beside this file on Parley (/widget/ → /api/storefront/v1).
  function mount() {
    if (!script || !script.dataset.shop || !document.body) return null;
    var el = document.createElement('div');
    el.id = 'parley-root';
    el.style.cssText = 'position:fixed;z-index:2147483000';
    for (var key in script.dataset) el.dataset[key] = script.dataset[key];
    if (!el.dataset.apiBase) el.dataset.apiBase = new URL('../api/storefront/v1', script.src).href;
    var css = document.createElement('link');
    css.rel = 'stylesheet';
    css.href = new URL('parley.css', script.src).href;
    document.head.appendChild(css);
    document.body.appendChild(el);
    return el;
  }

  function start() {
    var root = document.getElementById('parley-root') || mount();
    if (!root || root.parley) return;
    var data = root.dataset;
    var strings = {};
    var state = (root.parley = {
      root: root,
      strings: strings,
      wantOpen: false,
      panel: null,
      setAccent: setAccent,
      load: load,
    });

    // data-t-replies-in="…" → strings.replies_in, matching the keys of locales/*.json.
    for (var i = 0; i < root.attributes.length; i++) {
      var attr = root.attributes[i];
      if (attr.name.indexOf('data-t-') === 0) strings[attr.name.slice(7).replace(/-/g, '_')] = attr.value;
    }

    var locale = data.locale || document.documentElement.lang || '';
    if (/^(ar|he|fa|ur)\b/i.test(locale)) root.dir = 'rtl';
    root.classList.add(data.position === 'left' ? 'parley-left' : 'parley-right');
    if (data.hideMobile === 'true') root.classList.add('parley-hide-mobile');
    setAccent(data.accent);

    var button = document.createElement('button');
    button.type = 'button';
    button.className = 'parley-launcher';
    button.setAttribute('aria-label', strings.launcher || 'Chat with us');
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-haspopup', 'dialog');
    button.innerHTML =
      '<svg class="parley-icon-chat" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
      '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>' +
      '<svg class="parley-icon-close" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false">' +
      '<path fill="none" stroke="currentColor" stroke-width="2.5" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>' +
      '<span class="parley-badge" aria-hidden="true" hidden></span>';
    state.button = button;
    state.badge = button.lastChild;
    root.appendChild(button);

    function load() {
      if (state.loading) return;
      state.loading = true;
      var tag = document.createElement('script');
      tag.src = data.panelSrc || new URL('parley-panel.js', script ? script.src : location.href).href;
      tag.async = true;
      tag.onerror = function () {
        // Let the next interaction try again (flaky mobile network).
        state.loading = false;
        tag.remove();
      };
      document.head.appendChild(tag);
    }

    function open() {
      if (state.panel) return state.panel.open();
      state.wantOpen = true;
      load();
    }

    button.addEventListener('pointerenter', load);
    button.addEventListener('focus', load);
    button.addEventListener('touchstart', load, { passive: true });
    button.addEventListener('click', function () {
      if (state.panel) state.panel.toggle();
      else open();
    });

    // The public hooks: a theme's own "Contact us" link opens the chat; a Saleor
    // storefront names its signed-in customer (their access token, which Parley
    // verifies) and its checkout. Values set on window.Parley before we ran count too.
    var hooks = window.Parley || {};
    state.customerToken = hooks.customerToken || data.customerToken || null;
    state.checkoutId = hooks.checkoutId || data.checkoutId || null;
    hooks.open = hooks.open || open;
    hooks.identify = function (token) {
      state.customerToken = token || null;
      if (state.panel) state.panel.identify();
    };
    hooks.setCheckout = function (id) {
      state.checkoutId = id || null;
      if (state.panel) state.panel.syncCheckout();
    };
    window.Parley = hooks;

    // Reading is not writing: a stored visitor means this shopper chose to write before.
    try {
      if (sessionStorage.getItem('parley:visitor') || localStorage.getItem('parley:visitor')) {
        if (window.requestIdleCallback) requestIdleCallback(load, { timeout: 4000 });
        else setTimeout(load, 2000);
      }
    } catch (e) {
      /* storage blocked (private mode, sandbox): nothing to resume */
    }

    function setAccent(color) {
      var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(color || '') ? color.slice(1) : '';
      if (!hex) return;
      if (hex.length === 3) hex = hex.replace(/./g, '$&$&');
      var n = parseInt(hex, 16);
      var lum = 0.2126 * channel(n >> 16) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
      root.style.setProperty('--parley-accent', '#' + hex);
      // Text on the accent: whichever of black or white contrasts more (WCAG luminance).
      root.style.setProperty('--parley-on-accent', lum > 0.179 ? '#000' : '#fff');
    }

    function channel(c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }
  }
})();
