/* Parley loader: every storefront page view downloads it, so it only draws the launcher
 * (its styles ride here: no stylesheet in the page) and writes nothing. Hover, focus or touch
 * fetch parley-panel.js and parley.css from beside it; a click opens the panel. A shopper who
 * wrote before gets the panel at idle, at once if they left it open. The panel reads
 * `root.parley` (this state). */
(function () {
  'use strict';
  // Parley's /widget/ swaps in content-hashed names here.
  var FILES = { panel: 'parley-panel.js', css: 'parley.css' };
  // Scoped, and logical so dir="rtl" mirrors it.
  var CSS =
    '#parley-root{--parley-accent:#008060;--parley-on-accent:#fff;--parley-gap:20px;--parley-launcher:56px;' +
    'position:fixed;z-index:2147483000;inline-size:0;block-size:0}' +
    '#parley-root [hidden]{display:none!important}' +
    '#parley-root .parley-launcher{position:fixed;inset-block-end:calc(var(--parley-gap) + env(safe-area-inset-bottom,0px));' +
    'inset-inline-end:var(--parley-gap);display:flex;align-items:center;justify-content:center;box-sizing:border-box;' +
    'inline-size:var(--parley-launcher);block-size:var(--parley-launcher);min-inline-size:0;min-block-size:0;' +
    'margin:0;padding:0;border:0;border-radius:50%;background:var(--parley-accent);color:var(--parley-on-accent);' +
    'box-shadow:0 4px 14px rgba(0,0,0,.22);cursor:pointer;transition:transform .15s ease}' +
    '#parley-root.parley-left .parley-launcher{inset-inline-end:auto;inset-inline-start:var(--parley-gap)}' +
    '#parley-root .parley-launcher:hover{transform:scale(1.06)}' +
    '#parley-root .parley-launcher:focus-visible{outline:3px solid #1a1a1a;outline-offset:3px}' +
    '@media (max-width:639.98px){#parley-root.parley-hide-mobile .parley-launcher{display:none}}' +
    '@media (prefers-reduced-motion:reduce){#parley-root .parley-launcher{transition:none}}';

  // A theme's own tag may run this before the block's markup is parsed: wait.
  var script = document.currentScript || document.querySelector('script[src*="parley-loader"]');
  if (document.getElementById('parley-root') || document.readyState !== 'loading') start();
  else document.addEventListener('DOMContentLoaded', start);

  // Outside Shopify (Saleor) the script tag carries the data-* attributes (data-shop = the
  // API URL); the API lives beside this file on Parley (/widget/ → /api/storefront/v1).
  function mount() {
    if (!script || !script.dataset.shop || !document.body) return null;
    var el = document.createElement('div');
    el.id = 'parley-root';
    el.style.cssText = 'position:fixed;z-index:2147483000';
    for (var key in script.dataset) el.dataset[key] = script.dataset[key];
    if (!el.dataset.apiBase) el.dataset.apiBase = new URL('../api/storefront/v1', script.src).href;
    document.body.appendChild(el);
    return el;
  }

  function besideMe(name) {
    return new URL(name, script ? script.src : location.href).href;
  }

  // Constructed stylesheets are not inline <style> (a storefront's CSP may refuse those).
  function addStyles() {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      document.adoptedStyleSheets = [].concat(document.adoptedStyleSheets, sheet);
    } catch (e) {
      var style = document.createElement('style');
      style.textContent = CSS;
      document.head.appendChild(style);
    }
  }

  function start() {
    var root = document.getElementById('parley-root') || mount();
    if (!root || root.parley) return;
    addStyles();
    var data = root.dataset;
    var strings = {};
    var state = (root.parley = {
      root: root,
      strings: strings,
      wantOpen: false,
      panel: null,
      styled: null, // a promise: parley.css is in (true) or failed (false)
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
    // The panel adds the close icon and the unread badge: a page view needs neither.
    button.innerHTML =
      '<svg class="parley-icon-chat" viewBox="0 0 24 24" width="28" height="28" aria-hidden="true" focusable="false">' +
      '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
    state.button = button;
    root.appendChild(button);

    // Added by script, the stylesheet never blocks rendering; the panel waits for it.
    function loadStyles() {
      return new Promise(function (resolve) {
        if (getComputedStyle(root).getPropertyValue('--parley-panel-css')) return resolve(true);
        var link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = data.cssSrc || besideMe(FILES.css);
        link.onload = function () {
          resolve(true);
        };
        link.onerror = function () {
          link.remove();
          state.styled = null; // the next open tries again
          resolve(false);
        };
        document.head.appendChild(link);
      });
    }

    function load() {
      if (!state.styled) state.styled = loadStyles();
      if (state.loading) return;
      state.loading = true;
      var tag = document.createElement('script');
      tag.src = data.panelSrc || besideMe(FILES.panel);
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

    // Public hooks: open (a theme's "Contact us"); Saleor's signed-in customer (a token
    // Parley verifies) and checkout. Values set on window.Parley before we ran count too.
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

    // Reading is not writing: a stored visitor wrote before; parley:open left it open; a
    // resume link from an e-mail (?parley_resume=…) opens the conversation at once.
    try {
      if (/[?&]parley_resume=/.test(location.search) || sessionStorage.getItem('parley:open')) load();
      else if (sessionStorage.getItem('parley:visitor') || localStorage.getItem('parley:visitor')) {
        if (window.requestIdleCallback) requestIdleCallback(load, { timeout: 4000 });
        else setTimeout(load, 2000);
      }
    } catch (e) {
      /* storage blocked (private mode, sandbox): nothing to resume */
    }

    // Applies a #rgb or #rrggbb colour; false (and nothing changed) for anything else.
    function setAccent(color) {
      var hex = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(color || '') ? color.slice(1) : '';
      if (!hex) return false;
      if (hex.length === 3) hex = hex.replace(/./g, '$&$&');
      var n = parseInt(hex, 16);
      var lum = 0.2126 * channel(n >> 16) + 0.7152 * channel((n >> 8) & 255) + 0.0722 * channel(n & 255);
      root.style.setProperty('--parley-accent', '#' + hex);
      // Text on the accent: whichever of black or white contrasts more (WCAG luminance).
      root.style.setProperty('--parley-on-accent', lum > 0.179 ? '#000' : '#fff');
      return true;
    }

    function channel(c) {
      c /= 255;
      return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
    }
  }
})();
