// How the Support page talks to Parley: an ID token on every fetch, a retry when
// Parley asks for a fresh one, and an event stream opened with a short-lived ticket.
//
// The ID token comes from App Bridge (`shopify.idToken()`) inside the Shopify admin;
// in development without App Bridge, from the sign-in Parley names (`boot.signIn`, the
// demo's `/demo/id-token`); otherwise the token this
// document was loaded with is all there is (it lives one minute). Inside the Saleor
// Dashboard (boot.platform "saleor") it is the Dashboard token that host-saleor.js
// received by postMessage, sent with the Saleor-Api-Url header.

export const boot = JSON.parse(document.getElementById('parley-boot').textContent);
const saleor = boot.platform === 'saleor' ? window.ParleySaleor : null;

// The id_token on the URL lives a minute: keep it out of the address a reload or a copied
// link would use (a load without one is sent for a fresh one). App Home shows the inbox at /.
{
  const url = new URL(location.href);
  url.searchParams.delete('id_token');
  history.replaceState(history.state, '', (url.pathname === '/' ? '/app' : url.pathname) + url.search + url.hash);
}

const SIGN_IN_TOKEN_REUSE_MS = 30_000; // ID tokens live 60 s; ask again well before that
let signInToken = null;

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status; // 0: Parley could not be reached
    this.code = code;
    this.field = field || null;
  }
}

const hasAppBridge = () => typeof window.shopify === 'object' && window.shopify !== null && typeof window.shopify.idToken === 'function';

export async function idToken({ fresh = false } = {}) {
  if (saleor) {
    try {
      return await saleor.token({ fresh });
    } catch {
      throw new ApiError(401, 'no_dashboard_token', 'Open Parley from the Saleor Dashboard: it did not hand over a session.');
    }
  }
  if (hasAppBridge()) return window.shopify.idToken();
  if (boot.signIn) {
    if (!fresh && signInToken && Date.now() - signInToken.at < SIGN_IN_TOKEN_REUSE_MS) return signInToken.token;
    const response = await fetch(boot.signIn + '/id-token?shop=' + encodeURIComponent(boot.shop), { cache: 'no-store' });
    if (!response.ok) throw new ApiError(response.status, 'demo_sign_in', 'The development sign-in did not answer.');
    signInToken = { token: (await response.text()).trim(), at: Date.now() };
    return signInToken.token;
  }
  return boot.idToken;
}

/** The staff member the token names (its `sub`), for "You" labels; display only. */
export async function staffId() {
  try {
    const payload = (await idToken()).split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload.padEnd(payload.length + ((4 - (payload.length % 4)) % 4), '=')));
    return String(claims.sub ?? claims.user_id ?? ''); // Saleor names the staff member `user_id`
  } catch {
    return null;
  }
}

/** An authorised request: the token (and the Saleor header) on it, renewed once on a 401 worth renewing. */
async function authorised(method, path, body, retried = false) {
  const headers = { Accept: 'application/json' };
  let response;
  try {
    headers.Authorization = 'Bearer ' + (await idToken({ fresh: retried }));
    if (saleor) Object.assign(headers, saleor.headers());
    const init = { method, headers, cache: 'no-store' };
    if (body instanceof Blob) {
      // A file (a picture) goes as it is, its own type on it.
      headers['Content-Type'] = body.type || 'application/octet-stream';
      init.body = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    response = await fetch(path, init);
  } catch (error) {
    if (error instanceof ApiError) throw error;
    throw new ApiError(0, 'network', 'Parley could not be reached. Check your connection.');
  }
  // Shopify marks a token worth renewing; a Saleor token is renewed once on any 401.
  const renew = saleor || response.headers.get('X-Shopify-Retry-Invalid-Session-Request') === '1';
  if (response.status === 401 && !retried && renew) {
    signInToken = null;
    return authorised(method, path, body, true);
  }
  if (!response.ok) {
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    const fallback = response.status === 401
      ? `Your session has expired. Open Parley again from the ${saleor ? 'Saleor Dashboard' : 'Shopify admin'}.`
      : `Parley answered ${response.status}.`;
    throw new ApiError(response.status, (data && data.error) || 'http_' + response.status, (data && data.message) || fallback, data && data.field);
  }
  return response;
}

/** An authorised request answered as it came (a picture's bytes); rejects with ApiError. */
export function authorisedFetch(method, path, body) {
  return authorised(method, path, body);
}

/** A JSON call to the admin API. Resolves to the parsed answer (null for 204); rejects with ApiError. */
export async function api(method, path, body) {
  const response = await authorised(method, path, body);
  if (response.status === 204) return null;
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/** Save what a GET answers as a file (CSV, JSON exports): a plain link would carry no token. */
export async function downloadFile(path, fallbackName) {
  const response = await authorised('GET', path);
  const name = /filename="([^"]+)"/.exec(response.headers.get('Content-Disposition') || '');
  const href = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = href;
  link.download = name ? name[1] : fallbackName;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** The URL of another page of the app, carrying shop/host and a fresh id_token. */
export async function pageUrl(href) {
  const url = new URL(href, location.origin);
  if (url.origin !== location.origin) return url.href;
  // Templates and scripts name pages by their Shopify paths (/app/…); a host mounts them under its base.
  if (boot.base && (url.pathname === '/app' || url.pathname.startsWith('/app/'))) url.pathname = boot.base + url.pathname;
  for (const [key, value] of new URLSearchParams(boot.query)) if (!url.searchParams.has(key)) url.searchParams.set(key, value);
  // The Saleor Dashboard never puts its token on a URL: the next page gets it by postMessage.
  if (saleor) return url.href;
  try {
    url.searchParams.set('id_token', await idToken({ fresh: true }));
  } catch {
    url.searchParams.delete('id_token'); // the server bounces for a fresh one
  }
  return url.href;
}

export async function navigate(href) {
  location.assign(await pageUrl(href));
}

/** Links marked data-nav open with a fresh ID token (document loads verify it). */
export function wireNavigation(root = document) {
  root.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[data-nav]');
    if (!link || event.defaultPrevented || event.button !== 0) return;
    event.preventDefault();
    const newTab = event.metaKey || event.ctrlKey || event.shiftKey;
    pageUrl(link.getAttribute('href')).then((url) => (newTab ? window.open(url, '_blank', 'noopener') : location.assign(url)));
  });
}

/**
 * The shop's live events. `handlers` has a function per event kind (message, typing,
 * read, cart, status) and optionally `state('live' | 'reconnecting')`. Resumes after
 * the last message id seen; each (re)connection mints a new ticket (they live 60 s).
 */
export function liveEvents(handlers, startAfter = 0) {
  // null: the page did not say (the Saleor pages render no shop data); start where the first ticket says.
  let lastId = startAfter === null ? null : Number(startAfter) || 0;
  let source = null;
  let timer = null;
  let delay = 1000;
  let stopped = false;

  const dispatch = (kind) => (event) => {
    let data = null;
    try {
      data = JSON.parse(event.data);
    } catch {
      return;
    }
    if (kind === 'message' && event.lastEventId) lastId = Math.max(lastId, Number(event.lastEventId) || 0);
    if (handlers[kind]) handlers[kind](data);
  };

  function retryLater() {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30_000);
  }

  async function connect() {
    if (stopped) return;
    let ticket;
    try {
      const answer = await api('POST', '/admin/api/stream-ticket');
      ticket = answer.ticket;
      if (lastId === null) lastId = Number(answer.last_event_id) || 0;
    } catch {
      if (handlers.state) handlers.state('reconnecting');
      retryLater();
      return;
    }
    if (stopped) return;
    source = new EventSource(`/admin/api/stream?ticket=${encodeURIComponent(ticket)}&last_event_id=${lastId}`);
    source.addEventListener('open', () => {
      delay = 1000;
      if (handlers.state) handlers.state('live');
    });
    for (const kind of ['message', 'typing', 'read', 'cart', 'status']) source.addEventListener(kind, dispatch(kind));
    source.addEventListener('error', () => {
      // The browser would retry with the same (soon expired) ticket; take over instead.
      source.close();
      if (handlers.state) handlers.state('reconnecting');
      retryLater();
    });
  }

  connect();
  return {
    get lastId() {
      return lastId;
    },
    close() {
      stopped = true;
      clearTimeout(timer);
      if (source) source.close();
    },
  };
}
