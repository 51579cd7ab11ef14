// The ops API (/v1/ops/…) on this page's own origin, with the operator's
// bearer token. The token lives in sessionStorage: this tab only, gone
// when it closes.

const KEY = 'xborder.ops.token';
const BASE = '/v1/ops';

export const session = {
  token() {
    try { return sessionStorage.getItem(KEY) || ''; } catch { return ''; }
  },
  save(t) {
    sessionStorage.setItem(KEY, t);
  },
  clear() {
    try { sessionStorage.removeItem(KEY); } catch { /* storage disabled */ }
  },
};

// ApiError carries the API's RFC 9457 problem (type, title, status, detail).
export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `status ${status}`);
    this.status = status;
    this.problem = p;
  }

  // describe is what to tell the operator.
  describe() {
    const p = this.problem;
    if (this.status === 0) return this.message;
    const head = p.title ? `${p.title} (${this.status})` : `Status ${this.status}`;
    return p.detail ? `${head}: ${p.detail}` : head;
  }
}

async function call(method, path, { signal, xml } = {}) {
  const token = session.token();
  if (!token) throw new ApiError(401, { title: 'Not signed in', detail: 'Sign in with an ops token.' });
  let res;
  try {
    res = await fetch(BASE + path, {
      method,
      headers: { Authorization: `Bearer ${token}`, Accept: xml ? 'application/xml, application/problem+json' : 'application/json, application/problem+json' },
      cache: 'no-store',
      credentials: 'omit',
      redirect: 'error',
      signal,
    });
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, { title: 'Network error', detail: 'The API did not answer. Is the stack running?' });
  }
  let body = null;
  const text = await res.text();
  if (xml && res.ok) return { status: res.status, body: text };
  if (text) {
    try { body = JSON.parse(text); } catch { body = { detail: text.slice(0, 300) }; }
  }
  if (!res.ok) throw new ApiError(res.status, body);
  return { status: res.status, body: body || {} };
}

const seg = encodeURIComponent;

export const ops = {
  summary: (o) => call('GET', '/summary', o).then((r) => r.body),
  orders: (status, limit, cursor, o) => {
    const q = new URLSearchParams({ limit: String(limit) });
    if (status) q.set('status', status);
    if (cursor) q.set('cursor', cursor);
    return call('GET', `/orders?${q}`, o).then((r) => r.body);
  },
  stuck: (minutes, limit, cursor, o) => {
    const q = new URLSearchParams({ minutes: String(minutes), limit: String(limit) });
    if (cursor) q.set('cursor', cursor);
    return call('GET', `/orders/stuck?${q}`, o).then((r) => r.body);
  },
  order: (id, o) => call('GET', `/orders/${seg(id)}`, o).then((r) => r.body),
  redrive: (id) => call('POST', `/orders/${seg(id)}/redrive`),
  cancel: (id) => call('POST', `/orders/${seg(id)}/cancel`),
  dlqs: (o) => call('GET', '/dlqs', o).then((r) => r.body),
  messages: (queue, max) => call('GET', `/dlqs/${seg(queue)}/messages?max=${seg(String(max))}`).then((r) => r.body),
  replay: (queue, messageId) => call('POST', `/dlqs/${seg(queue)}/messages/${seg(messageId)}/replay`),
  // declarationXML is one CEB message of an order, as text.
  declarationXML: (id, type) => call('GET', `/orders/${seg(id)}/declarations/${seg(type)}`, { xml: true }).then((r) => r.body),
};

// ---- signing in through the hosted UI (authorization code with PKCE) -------

const PKCE_KEY = 'xborder.ops.pkce';

// signInConfig is where operators sign in (config.json): {url, clientId},
// or null when none is configured.
export async function signInConfig() {
  try {
    const r = await fetch('config.json', { cache: 'no-cache' });
    const c = await r.json();
    return c.signIn && c.signIn.url && c.signIn.clientId ? c.signIn : null;
  } catch {
    return null;
  }
}

function toBase64Web(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString() {
  const b = new Uint8Array(32);
  crypto.getRandomValues(b);
  return toBase64Web(b);
}

// callbackAddress is this page, where the hosted UI sends the operator back.
function callbackAddress() {
  return `${location.origin}${location.pathname}`;
}

// startSignIn sends the browser to the hosted UI with a fresh PKCE
// verifier and state, kept in this tab until the callback.
export async function startSignIn(cfg) {
  const verifier = randomString();
  const state = randomString();
  const challenge = toBase64Web(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const q = new URLSearchParams({
    response_type: 'code', client_id: cfg.clientId, redirect_uri: callbackAddress(), scope: 'openid email',
    state, code_challenge: challenge, code_challenge_method: 'S256',
  });
  location.assign(`${cfg.url}/oauth2/authorize?${q}`);
}

// finishSignIn exchanges the callback's code for a token (the access
// token, which the API's authorizer takes) when this page is the callback;
// it returns null when it is not. The code leaves the address bar at once.
export async function finishSignIn(cfg) {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const returned = params.get('state');
  if (!code && !params.get('error')) return null;
  history.replaceState(null, '', callbackAddress() + location.hash);
  let saved = null;
  try { saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || 'null'); } catch { /* none */ }
  sessionStorage.removeItem(PKCE_KEY);
  if (params.get('error')) throw new Error(`The sign-in page refused: ${params.get('error')}.`);
  if (!saved || saved.state !== returned) throw new Error('This sign-in did not start here (its state does not match). Sign in again.');
  const r = await fetch(`${cfg.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: cfg.clientId, code, redirect_uri: callbackAddress(), code_verifier: saved.verifier,
    }),
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok || !body.access_token) throw new Error(`The sign-in could not be completed (${body.error || r.status}). Sign in again.`);
  return body.access_token;
}

// signOutAddress ends the hosted UI's session and comes back here.
export function signOutAddress(cfg) {
  const q = new URLSearchParams({ client_id: cfg.clientId, logout_uri: callbackAddress() });
  return `${cfg.url}/logout?${q}`;
}

