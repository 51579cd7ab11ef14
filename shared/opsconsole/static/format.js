// Statuses, reasons and formatting. Pure functions: no DOM.

// Every order status, the happy path first; kind drives the colours:
// flow (on its way), done, stalled (needs an operator), failure (final).
export const STATUSES = [
  { code: 'RECEIVED', label: 'Received', kind: 'flow' },
  { code: 'STOCK_RESERVED', label: 'Stock reserved', kind: 'flow' },
  { code: 'PAYMENT_AUTHORIZED', label: 'Payment authorized', kind: 'flow' },
  { code: 'CUSTOMS_CLEARED', label: 'Customs cleared', kind: 'flow' },
  { code: 'PAYMENT_CAPTURED', label: 'Payment captured', kind: 'flow' },
  { code: 'DISPATCHED', label: 'Dispatched', kind: 'done' },
  { code: 'DELIVERED', label: 'Delivered', kind: 'done' },
  { code: 'STALLED', label: 'Stalled', kind: 'stalled' },
  { code: 'REJECTED', label: 'Rejected', kind: 'failure' },
  { code: 'PAYMENT_DECLINED', label: 'Payment declined', kind: 'failure' },
  { code: 'CUSTOMS_REJECTED', label: 'Customs rejected', kind: 'failure' },
  { code: 'CANCELLED', label: 'Cancelled', kind: 'failure' },
  { code: 'FAILED', label: 'Failed', kind: 'failure' },
];

const byCode = new Map(STATUSES.map((s) => [s.code, s]));

export function statusInfo(code) {
  return byCode.get(code) || { code: String(code || '?'), label: String(code || 'unknown'), kind: 'flow' };
}

// What each status means for an operator.
const STATUS_EXPLAIN = {
  RECEIVED: 'Accepted by the API; the workflow starts it shortly.',
  STOCK_RESERVED: 'Stock is reserved in the warehouse; payment comes next.',
  PAYMENT_AUTHORIZED: 'The payment is authorized (not captured); customs clearance comes next.',
  CUSTOMS_CLEARED: 'Customs cleared the goods; the payment is captured next.',
  PAYMENT_CAPTURED: 'The payment is captured; the warehouse dispatches next.',
  DISPATCHED: 'The warehouse dispatched the parcel.',
  DELIVERED: 'Delivered.',
  STALLED: 'A step kept failing with a transient error after all its retries, and the workflow stopped there. Nothing was compensated. Fix the cause, then redrive: the execution resumes at the failed step. Or cancel the order, which compensates.',
  REJECTED: 'Refused before any money moved. This is final: it cannot be redriven.',
  PAYMENT_DECLINED: 'The payment was declined; the stock was released. This is final: it cannot be redriven.',
  CUSTOMS_REJECTED: 'Customs refused the goods; the payment was voided and the stock released. This is final.',
  CANCELLED: 'Cancelled; the workflow compensated what had been done. This is final.',
  FAILED: 'The workflow failed after the payment was taken and compensated. This is final.',
};

export function explainStatus(code) {
  return STATUS_EXPLAIN[code] || '';
}

// Reason codes the pipeline records, in words.
const REASONS = {
  restricted_goods: 'screening: the goods are restricted or prohibited at the destination',
  denied_party: 'screening: a party matches the denied-party list',
  out_of_stock: 'the warehouse has not enough stock for a line',
  card_declined: 'the card issuer declined the payment',
  insufficient_funds: 'the card has insufficient funds',
  generic_decline: 'the card issuer declined the payment without saying why',
  authentication_required: 'the card requires the shopper to authenticate (3-D Secure)',
  authorization_expired: 'the payment authorization expired before it was captured',
  amount_not_chargeable: 'the amount cannot be charged to this card',
  licence_required: 'customs: the goods need an import licence',
  china_customs_rejected: "China's customs rejected a CEB message: see China's customs messages for their answer",
  declaration_incomplete: 'customs: the declaration is incomplete',
  invoice_value_mismatch: 'customs: the declared value does not match the invoice',
  three_documents_mismatch: "China customs: the order, payment and waybill do not agree",
  supervision_mode_unsupported: "China customs: no supervision mode fits the order",
  over_retail_import_limit: "China customs: over the ¥5,000 retail-import limit",
  consignee_not_registered: "China customs: the consignee's identity is not registered",
  excise_goods_not_declared: 'customs: excise goods were not declared',
  no_renminbi_rate: 'customs: no renminbi exchange rate for the order date',
  landed_cost_unavailable: 'customs: the landed cost could not be computed',
  destination_not_supported: 'the destination is not supported',
  warehouse_cannot_ship: 'the warehouse cannot ship this order',
  cancelled_by_customer: 'the customer cancelled the order',
  cancelled_by_ops: 'operations cancelled the order',
  cancel_requested: 'a cancellation is under way',
  TransientError: 'a step kept failing with a transient error (a dependency was unavailable)',
  'States.Timeout': 'a step timed out',
  'States.TaskFailed': 'a step failed',
};

export function explainReason(reason) {
  if (!reason) return '';
  return REASONS[reason] || '';
}

// money formats {amount (integer minor units), currency} with the
// currency's own exponent (EUR 1999 = €19.99, JPY 1999 = ¥1,999).
export function money(m) {
  if (!m || typeof m !== 'object' || m.amount === undefined || m.amount === null) return '–';
  const currency = String(m.currency || '');
  try {
    const f = new Intl.NumberFormat(undefined, { style: 'currency', currency });
    const digits = f.resolvedOptions().maximumFractionDigits;
    return f.format(Number(m.amount) / 10 ** digits);
  } catch {
    return `${m.amount} ${currency} (minor units)`;
  }
}

const pad = (n) => String(n).padStart(2, '0');

function parseDate(v) {
  if (!v) return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

// when is a time as 2026-01-12 09:18:26, in the browser's time zone (the
// title of the element usually holds the UTC time).
export function when(v) {
  const d = parseDate(v);
  if (!d) return '–';
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(d)}`;
}

export function clock(v) {
  const d = parseDate(v);
  return d ? `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` : '–';
}

export function iso(v) {
  const d = parseDate(v);
  return d ? d.toISOString() : '';
}

// ago says how long before now a time was ("3 min ago").
export function ago(v, now = Date.now()) {
  const d = parseDate(v);
  if (!d) return '';
  const s = Math.round((now - d.getTime()) / 1000);
  if (s < 0) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// duration formats milliseconds for people.
export function duration(ms) {
  if (ms === undefined || ms === null || Number.isNaN(Number(ms))) return '–';
  ms = Number(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(ms < 10000 ? 2 : 1)} s`;
  const m = Math.floor(ms / 60000);
  const s = Math.round((ms % 60000) / 1000);
  if (m < 60) return `${m} min ${s} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// pretty re-indents JSON text; other text is returned as it is.
export function pretty(text) {
  if (typeof text !== 'string') {
    try { return JSON.stringify(text, null, 2); } catch { return String(text); }
  }
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) {
    try { return JSON.stringify(JSON.parse(t), null, 2); } catch { /* not JSON */ }
  }
  return text;
}

// claims reads a JWT's payload for display (it is not verified here: the
// API verifies every request).
export function claims(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

export function groupsOf(c) {
  if (!c) return [];
  const g = c['cognito:groups'] ?? c.groups;
  if (Array.isArray(g)) return g.map(String);
  if (typeof g === 'string') return g.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
  return [];
}
