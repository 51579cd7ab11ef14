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
