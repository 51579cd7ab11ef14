// The operations console. Everything the API returns is untrusted text:
// it reaches the page through textContent and attributes only, never as HTML.
import { ApiError, finishSignIn, ops, session, signInConfig, signOutAddress, startSignIn } from './api.js';
import * as fmt from './format.js';

const POLL_MS = 5000;
// After an action the open order is followed closely for a while.
const FOLLOW_MS = 1000;
const FOLLOW_FOR_MS = 90000;
const DLQ_EVERY = 10; // ticks between refreshes of the DLQ list (depths come with every summary)
const PAGE = 50;
const STUCK_MINUTES = 15;
const FILTER_KEY = 'xborder.ops.filter';

const $ = (id) => document.getElementById(id);

// el builds an element: attrs sets attributes ("text" the text content,
// "class" the class list, "on…" listeners); children are nodes or strings
// (as text).
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') e.textContent = String(v);
    else if (k === 'class') e.className = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function statusBadge(code, testid) {
  const s = fmt.statusInfo(code);
  return el('span', { class: `status ${s.kind}`, 'data-status': s.code, 'data-testid': testid, title: s.code, text: s.label });
}

function show(node, on) {
  node.hidden = !on;
}

function announce(text) {
  const live = $('live');
  live.textContent = '';
  // A fresh text node makes screen readers read it even when it repeats.
  setTimeout(() => { live.textContent = text; }, 50);
}

const state = {
  filter: 'STALLED',
  pages: 1,
  listKey: '',
  orders: [],
  nextCursor: '',
  counts: null,
  openId: '',
  orderKey: '',
  openStatus: '',
  paused: false,
  ticks: 0,
  inflight: false,
  timer: 0,
  follow: 0,
  followUntil: 0,
  following: false,
  dlqs: [],
  noDLQs: false,
  xml: new Map(), // "<orderId>/<type>" → a CEB message's XML, once fetched
  signIn: null, // where operators sign in (config.json), or null
};

// ---- sign-in ---------------------------------------------------------------

function signedIn() {
  const token = session.token();
  const c = fmt.claims(token);
  const groups = fmt.groupsOf(c);
  $('whoami').textContent = c && c.sub ? `Signed in as ${c.sub}${groups.length ? ` (${groups.join(', ')})` : ''}` : 'Signed in';
  if (c && c.exp) $('whoami').title = `Token expires ${fmt.when(c.exp * 1000)}`;
  show($('signin'), false);
  show($('session'), true);
  show($('console'), true);
  hideError();
  try { state.filter = sessionStorage.getItem(FILTER_KEY) || 'STALLED'; } catch { /* default */ }
  buildFilter();
  start();
  route();
}

function signOut(message) {
  stop();
  session.clear();
  state.listKey = state.orderKey = state.openId = '';
  $('orders-body').replaceChildren();
  closeOrder(false);
  show($('console'), false);
  show($('session'), false);
  show($('signin'), true);
  const err = $(state.signIn ? 'signin-hosted-error' : 'signin-error');
  err.textContent = message || '';
  show(err, Boolean(message));
  $('token').value = '';
  (state.signIn ? $('signin-start') : $('token')).focus();
}

async function onSignIn(ev) {
  ev.preventDefault();
  const err = $('signin-error');
  show(err, false);
  let token = $('token').value.trim().replace(/^bearer\s+/i, '');
  if (!token) return;
  const c = fmt.claims(token);
  if (c && c.exp && c.exp * 1000 < Date.now()) {
    err.textContent = `This token expired at ${fmt.when(c.exp * 1000)}. Mint a new one.`;
    show(err, true);
    return;
  }
  session.save(token);
  try {
    state.counts = null;
    renderSummary(await ops.summary());
  } catch (e) {
    session.clear();
    if (e instanceof ApiError && e.status === 403) {
      err.textContent = `This token is not allowed to use the ops API: it must belong to the ops group. ${e.problem.detail || ''}`.trim();
    } else if (e instanceof ApiError && e.status === 401) {
      err.textContent = `The API did not accept this token. ${e.problem.detail || ''}`.trim();
    } else {
      err.textContent = e instanceof ApiError ? e.describe() : String(e);
    }
    show(err, true);
    return;
  }
  $('token').value = '';
  signedIn();
  announce('Signed in.');
}

// ---- polling ---------------------------------------------------------------

function start() {
  stop();
  state.ticks = 0;
  tick();
  state.timer = setInterval(tick, POLL_MS);
}

function stop() {
  clearInterval(state.timer);
  clearInterval(state.follow);
  state.timer = state.follow = 0;
}

// followOrder re-reads the open order every FOLLOW_MS until it settles
// (or FOLLOW_FOR_MS pass), so that an operator sees a redrive or a
// cancellation go through step by step.
function followOrder() {
  state.followUntil = Date.now() + FOLLOW_FOR_MS;
  if (state.follow) return;
  state.follow = setInterval(async () => {
    const kind = fmt.statusInfo(state.openStatus).kind;
    const settled = kind === 'done' || kind === 'failure';
    if (!state.openId || Date.now() > state.followUntil || settled) {
      clearInterval(state.follow);
      state.follow = 0;
      return;
    }
    if (state.following || state.paused) return;
    state.following = true;
    try { await refreshOrder(); } catch (e) { handleAuthError(e); } finally { state.following = false; }
  }, FOLLOW_MS);
}

function handleAuthError(e) {
  if (e instanceof ApiError && e.status === 401) {
    signOut('The API no longer accepts the token (it may have expired). Sign in again.');
    return true;
  }
  if (e instanceof ApiError && e.status === 403) {
    const groups = fmt.groupsOf(fmt.claims(session.token()));
    if (groups.includes('ops-read')) {
      // A read-only operator tried to act: say so, stay signed in.
      showError(`Not allowed: ${e.problem.detail || 'read-only operators cannot act.'}`);
      return true;
    }
    signOut('This sign-in is not in an operators\' group (ops or ops-read).');
    return true;
  }
  return false;
}

function showError(text) {
  const b = $('app-error');
  b.textContent = text;
  show(b, true);
}

function hideError() {
  show($('app-error'), false);
}

async function tick(force = false) {
  if (!session.token() || state.inflight) return;
  if (!force && (state.paused || document.hidden)) return;
  state.inflight = true;
  const jobs = [refreshSummary(), refreshList()];
  if (state.openId) jobs.push(refreshOrder());
  if (state.ticks % DLQ_EVERY === 0) jobs.push(refreshDLQs());
  state.ticks++;
  const results = await Promise.allSettled(jobs);
  state.inflight = false;
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason);
  for (const e of failed) if (handleAuthError(e)) return;
  if (failed.length) {
    const e = failed[0];
    showError(`Could not refresh: ${e instanceof ApiError ? e.describe() : e}`);
  } else {
    hideError();
    $('updated').textContent = `Updated ${fmt.clock(Date.now())}`;
  }
}

// ---- counts ----------------------------------------------------------------

async function refreshSummary() {
  renderSummary(await ops.summary());
}

function renderSummary(s) {
  const counts = (s && s.counts) || {};
  const box = $('counts');
  const prev = state.counts;
  state.counts = counts;
  if (!box.childElementCount) {
    const groups = {
      flow: el('div', { class: 'count-group', role: 'group', 'aria-labelledby': 'counts-flow' }, el('p', { id: 'counts-flow', class: 'group-title', text: 'On the way and done' })),
      attention: el('div', { class: 'count-group attention', role: 'group', 'aria-labelledby': 'counts-attention' }, el('p', { id: 'counts-attention', class: 'group-title', text: 'Needs attention, and ended in failure' })),
    };
    box.append(groups.flow, groups.attention);
    for (const st of fmt.STATUSES) {
      const group = st.kind === 'stalled' || st.kind === 'failure' ? groups.attention : groups.flow;
      group.append(el('button', {
        type: 'button', class: `count ${st.kind}`, 'data-testid': `count-${st.code}`, 'data-status': st.code,
        'aria-pressed': 'false', onclick: () => setFilter(st.code),
      },
      el('span', { class: 'label', text: st.label }),
      el('span', { class: 'value', 'data-testid': `count-value-${st.code}`, text: '–' }),
      st.kind === 'stalled' ? el('span', { class: 'note', text: 'needs attention' }) : null));
    }
  }
  for (const btn of box.querySelectorAll('button.count')) {
    const code = btn.dataset.status;
    const n = Number(counts[code] ?? 0);
    btn.dataset.count = String(n);
    btn.querySelector('.value').textContent = String(n);
    btn.classList.toggle('zero', n === 0);
    btn.classList.toggle('nonzero', n > 0);
    btn.setAttribute('aria-label', `${fmt.statusInfo(code).label}: ${n} orders`);
    btn.setAttribute('aria-pressed', String(state.filter === code));
  }
  const stuck = Number(s && s.stuck) || 0;
  $('stuck-count').textContent = String(stuck);
  $('stuck').dataset.count = String(stuck);
  $('stuck').classList.toggle('alert', stuck > 0);
  $('stuck').setAttribute('aria-pressed', String(state.filter === 'stuck'));
  // No dlqs: this API was started without the queues.
  const dlqs = Array.isArray(s && s.dlqs) ? s.dlqs : null;
  const total = (dlqs || []).reduce((a, d) => a + (Number(d.depth) || 0), 0);
  $('dlq-total').textContent = dlqs ? String(total) : '–';
  $('dlq-jump').dataset.count = String(total);
  $('dlq-jump').classList.toggle('alert', total > 0);
  const full = (dlqs || []).filter((d) => Number(d.depth) > 0);
  $('dlq-summary').textContent = !dlqs ? 'not available' : full.length ? full.map((d) => `${d.queue}: ${d.depth}`).join(', ') : 'all empty';
  if (dlqs) renderDLQDepths(dlqs);
  updateFilterLabels();
  if (prev && Number(prev.STALLED ?? 0) !== Number(counts.STALLED ?? 0)) {
    announce(`Stalled orders: ${counts.STALLED ?? 0}.`);
  }
}

// ---- the list --------------------------------------------------------------

function filterOptions() {
  const opts = [
    { value: 'STALLED', label: 'Needs attention: stalled' },
    { value: 'stuck', label: `Stuck: no progress for ${STUCK_MINUTES} min` },
  ];
  for (const st of fmt.STATUSES) if (st.code !== 'STALLED') opts.push({ value: st.code, label: st.label });
  return opts;
}

function buildFilter() {
  const sel = $('status-filter');
  sel.replaceChildren(...filterOptions().map((o) => el('option', { value: o.value, text: o.label })));
  if (![...sel.options].some((o) => o.value === state.filter)) state.filter = 'STALLED';
  sel.value = state.filter;
  updateFilterLabels();
}

function updateFilterLabels() {
  const sel = $('status-filter');
  const counts = state.counts || {};
  for (const o of filterOptions()) {
    const opt = [...sel.options].find((x) => x.value === o.value);
    if (!opt) continue;
    const n = o.value === 'stuck' ? $('stuck-count').textContent : counts[o.value];
    opt.textContent = n === undefined || n === '–' ? o.label : `${o.label} (${n})`;
  }
}

function setFilter(value) {
  state.filter = value;
  state.pages = 1;
  state.listKey = '';
  try { sessionStorage.setItem(FILTER_KEY, value); } catch { /* ignore */ }
  $('status-filter').value = value;
  for (const b of $('counts').querySelectorAll('button.count')) b.setAttribute('aria-pressed', String(b.dataset.status === value));
  $('stuck').setAttribute('aria-pressed', String(value === 'stuck'));
  $('orders-body').replaceChildren();
  $('orders-note').textContent = 'Loading…';
  refreshList().catch((e) => { if (!handleAuthError(e)) showError(`Could not list orders: ${e instanceof ApiError ? e.describe() : e}`); });
}

async function refreshList() {
  const f = state.filter;
  let orders = [];
  let cursor = '';
  for (let page = 0; page < state.pages; page++) {
    const r = f === 'stuck' ? await ops.stuck(STUCK_MINUTES, PAGE, cursor) : await ops.orders(f, PAGE, cursor);
    orders = orders.concat(Array.isArray(r.orders) ? r.orders : []);
    cursor = r.nextCursor || '';
    if (!cursor) break;
  }
  if (f !== state.filter) return; // the filter changed meanwhile
  state.nextCursor = cursor;
  renderList(orders);
}

function renderList(orders) {
  const key = JSON.stringify([state.filter, orders, state.openId]);
  const label = filterOptions().find((o) => o.value === state.filter)?.label || state.filter;
  $('orders-caption').textContent = `Orders: ${label}`;
  $('orders-note').textContent = `${orders.length}${state.nextCursor ? '+' : ''} order${orders.length === 1 ? '' : 's'}, newest change first. Updates every ${POLL_MS / 1000} s.`;
  show($('orders-more'), Boolean(state.nextCursor));
  const empty = $('orders-empty');
  empty.textContent = state.filter === 'STALLED' ? 'No stalled orders: nothing needs attention.' : 'No orders here.';
  show(empty, orders.length === 0);
  if (key === state.listKey) {
    refreshAges();
    return;
  }
  state.listKey = key;
  state.orders = orders;
  const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest('#orders-body tr');
  const focusId = focused ? focused.dataset.orderId : '';
  const rows = orders.map((o) => {
    const id = String(o.orderId || '');
    const reason = o.reason ? String(o.reason) : '';
    const tr = el('tr', {
      'data-testid': 'order-row', 'data-order-id': id, 'data-status': o.status, class: id === state.openId ? 'selected' : '',
      onclick: (ev) => { if (!ev.target.closest('a')) openFromList(id); },
    },
    el('td', {}, el('a', { href: `#/orders/${encodeURIComponent(id)}`, 'data-testid': 'order-link', text: id })),
    el('td', {}, statusBadge(o.status)),
    el('td', { title: fmt.explainReason(reason) || null, text: reason || '–' }),
    el('td', { text: [o.tradeMode, o.channel, o.partnerId ? `partner ${o.partnerId}` : ''].filter(Boolean).join(' · ') || '–' }),
    el('td', { text: o.destination || '–' }),
    el('td', { class: 'num', text: fmt.money(o.total) }),
    el('td', { class: 'num age', 'data-at': o.statusSince || o.createdAt || '', title: fmt.when(o.statusSince || o.createdAt), text: fmt.ago(o.statusSince || o.createdAt) }));
    return tr;
  });
  $('orders-body').replaceChildren(...rows);
  if (focusId) {
    const link = [...$('orders-body').rows].find((r) => r.dataset.orderId === focusId)?.querySelector('a');
    if (link) link.focus();
  }
}

function refreshAges() {
  for (const td of document.querySelectorAll('#orders-body td.age')) td.textContent = fmt.ago(td.dataset.at);
}

function openFromList(id) {
  location.hash = `#/orders/${encodeURIComponent(id)}`;
}

// ---- one order -------------------------------------------------------------

function route() {
  const m = /^#\/orders\/([^/]+)$/.exec(location.hash);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (id !== state.openId) openOrder(id);
  } else if (state.openId) {
    closeOrder(false);
  }
}

async function openOrder(id) {
  state.openId = id;
  state.orderKey = '';
  state.openStatus = '';
  for (const r of $('orders-body').rows) r.classList.toggle('selected', r.dataset.orderId === id);
  const view = $('order-view');
  $('order-id').textContent = id;
  $('order-status').replaceChildren();
  delete $('order-status').dataset.status;
  delete $('order-reason').dataset.reason;
  $('order-reason').textContent = 'Loading…';
  $('order-explain').textContent = '';
  $('business').replaceChildren();
  $('execution').replaceChildren();
  $('timeline').replaceChildren();
  $('history-body').replaceChildren();
  show($('action-result'), false);
  show($('order-error'), false);
  for (const b of ['action-redrive', 'action-cancel', 'actions-none']) show($(b), false);
  show(view, true);
  $('order-view').parentElement.classList.add('with-order');
  view.scrollIntoView({ block: 'start' });
  view.focus({ preventScroll: true });
  try {
    await refreshOrder();
  } catch (e) {
    if (!handleAuthError(e)) orderError(e);
  }
}

function closeOrder(updateHash = true) {
  state.openId = '';
  state.orderKey = '';
  show($('order-view'), false);
  $('order-view').parentElement.classList.remove('with-order');
  for (const r of $('orders-body').rows) r.classList.remove('selected');
  if (updateHash && location.hash) history.pushState(null, '', location.pathname + location.search);
}

function orderError(e) {
  const box = $('order-error');
  box.textContent = e instanceof ApiError && e.status === 404
    ? `No order ${state.openId}.`
    : `Could not load the order: ${e instanceof ApiError ? e.describe() : e}`;
  show(box, true);
  $('order-reason').textContent = '';
}

async function refreshOrder() {
  const id = state.openId;
  if (!id) return;
  let d;
  try {
    d = await ops.order(id);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && id === state.openId) {
      orderError(e);
      return;
    }
    throw e;
  }
  if (id !== state.openId) return;
  show($('order-error'), false);
  const key = JSON.stringify(d);
  if (key === state.orderKey) return;
  state.orderKey = key;
  renderOrder(d);
}

function renderOrder(d) {
  const o = d.order || {};
  const status = String(o.status || '');
  const info = fmt.statusInfo(status);
  if (state.openStatus && state.openStatus !== status) announce(`Order ${o.orderId} is now ${info.label}.`);
  state.openStatus = status;
  $('order-status').replaceChildren(statusBadge(status, 'order-status-badge'));
  $('order-status').dataset.status = status;
  const reason = o.reason ? String(o.reason) : '';
  const words = fmt.explainReason(reason);
  $('order-reason').textContent = reason ? `${reason}${words ? ` — ${words}` : ''}` : '';
  $('order-reason').dataset.reason = reason;

  const steps = Array.isArray(d.steps) ? d.steps : [];
  const failedStep = [...steps].reverse().find((s) => s.status === 'failed');
  const explain = $('order-explain');
  let text = fmt.explainStatus(status);
  if (status === 'STALLED' && failedStep) {
    text = `${failedStep.name} failed${failedStep.error ? ` with ${failedStep.error}` : ''}. ${text}`;
  }
  explain.textContent = text;
  explain.className = `explain ${info.kind === 'failure' ? 'failure' : info.kind === 'stalled' ? 'stalled' : ''}`;
  show(explain, Boolean(text));

  renderActions(o, Array.isArray(d.actions) ? d.actions : null);
  renderBusiness(o, Array.isArray(d.declarations) ? d.declarations : []);
  renderExecution(d.execution, steps);
  renderHistory(Array.isArray(d.history) ? d.history : []);
}

function facts(pairs) {
  const dl = el('dl', { class: 'facts' });
  for (const [k, v, testid] of pairs) {
    if (v === undefined || v === null || v === '') continue;
    dl.append(el('dt', { text: k }), el('dd', { 'data-testid': testid }, v instanceof Node ? v : String(v)));
  }
  return dl;
}

function landed(title, c) {
  if (!c) return null;
  return [el('p', { class: 'subhead', text: title }), facts([
    ['Duty', fmt.money(c.duty)],
    ['Tax', fmt.money(c.tax)],
    ['Fees', fmt.money(c.fees)],
    ['Collection', c.collection],
    ['Due at checkout', fmt.money(c.atCheckout)],
    ['Due on delivery', fmt.money(c.onDelivery)],
    ['Landed total', fmt.money(c.landedTotal)],
    ['Estimate', c.estimate ? 'yes: not every figure is certain' : ''],
    ['Computed', c.at ? fmt.when(c.at) : ''],
  ])];
}

function address(a) {
  if (!a) return '';
  return [a.city, a.region, a.postalCode, a.country].filter(Boolean).join(', ');
}

// outcomeKind is how a receipt's outcome is drawn: released and cleared
// as done, rejected, failed and returned as failures, held as a warning.
function outcomeKind(outcome) {
  switch (outcome) {
    case 'released': case 'cleared': return 'done';
    case 'rejected': case 'failed': case 'returned': return 'failure';
    case 'held': case 'unknown': return 'stalled';
    default: return 'flow';
  }
}

// renderDeclarations is China's CEB messages of the order: each with the
// receipts customs sent (returnStatus in order) and its latest outcome,
// and the XML on demand.
function renderDeclarations(o, decls, open) {
  const form = Boolean(o.customs && o.customs.declarationForm);
  if (!decls.length && !form) return null;
  const box = el('div', { 'data-testid': 'declarations' });
  if (decls.length) {
    box.append(el('div', { class: 'table-wrap' }, el('table', {},
      el('thead', {}, el('tr', {}, ...['Message', 'Latest', 'Receipts', 'Last answer'].map((h) => el('th', { scope: 'col', text: h })))),
      el('tbody', {}, ...decls.map((d) => {
        const receipts = Array.isArray(d.receipts) ? d.receipts : [];
        const last = receipts[receipts.length - 1];
        const answer = last ? `${last.meaning || last.returnStatus}${last.info && last.info !== last.meaning ? ` — ${last.info}` : ''}` : 'no receipt yet';
        return el('tr', { 'data-testid': `declaration-${d.type}` },
          el('td', { class: 'mono', text: d.type }),
          el('td', {}, el('span', { class: `status ${outcomeKind(d.latest)}`, 'data-testid': `declaration-${d.type}-latest`, text: d.latest })),
          el('td', { class: 'mono', text: receipts.map((r) => r.returnStatus).join(' → ') || '—' }),
          el('td', { text: answer }));
      })))));
  }
  if (form) {
    box.append(el('p', { class: 'declaration-form', 'data-testid': 'declaration-form',
      text: 'The goods go on a customs declaration form (报关单, H2018), not an inventory list: a B2B consignment over ¥5,000.' }));
  }
  for (const d of decls) {
    const key = `xml-${d.type}`;
    const cacheKey = `${o.orderId}/${d.type}`;
    const pre = el('pre', { 'data-testid': key, text: state.xml.get(cacheKey) || 'Loading…' });
    const load = async () => {
      if (state.xml.has(cacheKey)) return;
      try {
        const text = await ops.declarationXML(o.orderId, d.type);
        state.xml.set(cacheKey, text);
        pre.textContent = text;
      } catch (e) {
        if (!handleAuthError(e)) pre.textContent = `Could not load ${d.type}: ${e instanceof ApiError ? e.describe() : e}`;
      }
    };
    const download = el('button', { type: 'button', class: 'secondary', 'data-testid': `download-${d.type}`, text: `Download ${d.type}.xml`,
      onclick: async () => {
        await load();
        const text = state.xml.get(cacheKey);
        if (!text) return;
        const a = el('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/xml' })), download: `${o.orderId}-${d.type}.xml` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      } });
    const details = el('details', { 'data-key': key, open: open.has(key) },
      el('summary', { text: `${d.type} as declared` }), download, pre);
    details.addEventListener('toggle', () => { if (details.open) load(); });
    if (open.has(key)) load();
    box.append(details);
  }
  return [el('p', { class: `subhead${decls.some((d) => outcomeKind(d.latest) === 'failure') ? ' failure' : ''}`, text: "China's customs messages" }), box];
}

function renderBusiness(o, decls = []) {
  const box = $('business');
  const open = new Set([...box.querySelectorAll('details[open]')].map((x) => x.dataset.key));
  const parts = [];
  const partyCountry = o.consignee && o.consignee.address ? o.consignee.address.country : '';
  parts.push(facts([
    ['Customer', o.customerId],
    ['Trade mode', [o.tradeMode, o.channel, o.fulfilment].filter(Boolean).join(' · ')],
    ['Partner', o.partnerId ? `${o.partnerId}${o.partnerOrderRef ? ` (their order ${o.partnerOrderRef})` : ''}` : ''],
    ['Ships to', o.destination || address(o.consignee && o.consignee.address) || partyCountry],
    ['Total', fmt.money(o.total)],
    ['Incoterm', o.incoterm],
    ['Quote', o.quoteId],
    ['Created', o.createdAt ? `${fmt.when(o.createdAt)} (${fmt.ago(o.createdAt)})` : ''],
    ['In this status since', o.statusSince ? `${fmt.when(o.statusSince)} (${fmt.ago(o.statusSince)})` : ''],
    ['Last change', o.updatedAt ? `${fmt.when(o.updatedAt)} (${fmt.ago(o.updatedAt)})` : ''],
    ['Cancellation', o.cancelRequested ? 'requested' : ''],
  ]));

  if (o.screening) {
    const s = o.screening;
    const hit = o.status === 'REJECTED';
    parts.push(el('p', { class: `subhead${hit ? ' failure' : ''}`, text: 'Screening hit' }),
      el('div', { 'data-testid': 'screening' }, facts([
        ['Reason', s.reason ? `${s.reason}${fmt.explainReason(s.reason) ? ` — ${fmt.explainReason(s.reason)}` : ''}` : ''],
        ['List', s.list],
        ['Entry', s.entryId, 'screening-entry'],
        ['Matched', s.matched],
        ['On field', s.field],
        ['Source', s.source],
      ])));
  }

  const payFacts = [];
  if (o.status === 'PAYMENT_DECLINED') {
    payFacts.push(['Declined', `${o.reason || 'declined'}${fmt.explainReason(o.reason) ? ` — ${fmt.explainReason(o.reason)}` : ''}`, 'decline-reason']);
  }
  if (o.payment && o.payment.method) payFacts.push(['Method', o.payment.method]);
  if (o.charge) {
    const c = o.charge;
    payFacts.push(['Charge', c.id, 'charge-id'], ['Charge status', c.status, 'charge-status'], ['Authorized', fmt.money(c.amount)]);
    if (c.captured) payFacts.push(['Captured', fmt.money(c.captured)]);
    if (c.refunded) payFacts.push(['Refunded', fmt.money(c.refunded)]);
  } else {
    payFacts.push(['Charge', 'none: no money was taken']);
  }
  parts.push(el('p', { class: `subhead${o.status === 'PAYMENT_DECLINED' ? ' failure' : ''}`, text: 'Payment' }),
    el('div', { 'data-testid': 'payment' }, facts(payFacts)));

  if (o.customs || o.customsDeclaration) {
    const c = o.customs || {};
    const cust = el('div', { 'data-testid': 'customs' },
      facts([
        ['Supervision mode', c.supervisionMode],
        ['Merchant bears', c.merchantCost ? fmt.money(c.merchantCost) : '', 'merchant-cost'],
        ['Broker reference', o.customsDeclaration],
      ]),
      landed('Quoted at checkout', c.quoted),
      landed('Assessed by the customs step', c.assessed));
    if (c.declaration) {
      cust.append(el('details', { 'data-key': 'declaration', open: open.has('declaration') },
        el('summary', { text: 'Declaration filed' }), el('pre', { text: fmt.pretty(c.declaration) })));
    }
    parts.push(el('p', { class: `subhead${o.status === 'CUSTOMS_REJECTED' ? ' failure' : ''}`, text: 'Customs' }), cust);
  }
  const china = renderDeclarations(o, decls, open);
  if (china) parts.push(...china);

  parts.push(el('p', { class: 'subhead', text: 'Fulfilment' }), el('div', { 'data-testid': 'fulfilment' }, facts([
    ['Warehouse', o.warehouse],
    ['Stock', o.stockReserved ? 'reserved' : 'not reserved'],
    ['Tracking', o.trackingNumber, 'tracking'],
  ])));

  if (Array.isArray(o.lines) && o.lines.length) {
    parts.push(el('details', { 'data-key': 'lines', open: open.has('lines') || o.lines.length <= 3 },
      el('summary', { text: `Lines (${o.lines.length})` }),
      el('div', { class: 'table-wrap' }, el('table', {},
        el('thead', {}, el('tr', {}, ...['SKU', 'Title', 'HS code', 'Qty', 'Total', 'Origin'].map((h) => el('th', { scope: 'col', text: h })))),
        el('tbody', {}, ...o.lines.map((l) => el('tr', {},
          el('td', { class: 'mono', text: l.sku }), el('td', { text: l.title }), el('td', { class: 'mono', text: l.hsCode }),
          el('td', { class: 'num', text: l.quantity }), el('td', { class: 'num', text: fmt.money(l.lineTotal || l.unitPrice) }),
          el('td', { text: l.originCountry }))))))));
  }

  if (o.callbacks) {
    const cb = o.callbacks;
    const attempts = Array.isArray(cb.attempts) ? cb.attempts : [];
    const last = attempts[attempts.length - 1];
    parts.push(el('p', { class: 'subhead', text: 'Partner callbacks' }), facts([
      ['Told up to', `version ${cb.deliveredVersion}`],
      ['Attempts', String(attempts.length)],
      ['Last', last ? `${last.status} at ${fmt.when(last.at)}: ${last.delivered ? 'delivered' : `not delivered${last.httpStatus ? ` (status ${last.httpStatus})` : ''}${last.error ? ` ${last.error}` : ''}`}` : ''],
    ]));
  }
  box.replaceChildren(...parts.flat().filter(Boolean));
}

const STEP_STATES = {
  succeeded: 'Succeeded',
  failed: 'Failed',
  caught: 'Failed, handled',
  running: 'Running',
  retrying: 'Retrying',
};

function renderExecution(x, steps) {
  const box = $('execution');
  if (!x) {
    box.replaceChildren(el('p', { class: 'muted', 'data-testid': 'no-execution', text: 'No workflow execution: the order has not been handed to the workflow yet.' }));
  } else {
    box.replaceChildren(el('div', { class: 'execution' }, facts([
      ['Execution', el('span', {}, el('span', { class: `status ${x.status === 'FAILED' || x.status === 'TIMED_OUT' || x.status === 'ABORTED' ? 'failure' : x.status === 'SUCCEEDED' ? 'done' : ''}`, 'data-testid': 'execution-status', text: x.status || '?' }))],
      ['Started', x.startDate ? fmt.when(x.startDate) : ''],
      ['Stopped', x.stopDate ? fmt.when(x.stopDate) : ''],
      ['Redriven', x.redriveCount ? `${x.redriveCount} time${x.redriveCount === 1 ? '' : 's'}` : ''],
      ['Error', x.error, 'execution-error'],
      ['Cause', x.cause ? el('pre', { text: fmt.pretty(x.cause) }) : ''],
      ['ARN', x.executionArn ? el('span', { class: 'mono', text: x.executionArn }) : ''],
    ])));
  }
  const lastFailed = [...steps].reverse().find((s) => s.status === 'failed');
  const stopped = x && ['FAILED', 'TIMED_OUT', 'ABORTED'].includes(x.status);
  const items = steps.map((s, i) => {
    const st = String(s.status || '');
    const isLastFailed = s === lastFailed && stopped;
    const retriedLater = st === 'failed' && steps.slice(i + 1).some((n) => n.name === s.name);
    const times = [
      s.start ? `${fmt.clock(s.start)}` : '',
      s.end ? `→ ${fmt.clock(s.end)}` : (st === 'running' || st === 'retrying' ? '→ …' : ''),
      s.durationMs !== undefined && s.durationMs !== null ? `· ${fmt.duration(s.durationMs)}` : '',
      Number(s.attempts) > 1 ? `· ${s.attempts} attempts` : '',
    ].filter(Boolean).join(' ');
    return el('li', {
      class: `step ${st}`, 'data-testid': 'step', 'data-step': s.name, 'data-state': st, 'data-index': i,
      'aria-current': isLastFailed ? 'step' : null,
    },
    el('div', { class: 'step-head' },
      el('span', { class: 'step-name', 'data-testid': 'step-name', text: s.name }),
      el('span', { class: 'step-state', 'data-testid': 'step-state', text: `${st === 'failed' ? '✕ ' : st === 'succeeded' ? '✓ ' : ''}${STEP_STATES[st] || st}${isLastFailed ? ' — the workflow stopped here' : retriedLater ? ' — run again after a redrive' : ''}` })),
    el('div', { class: 'step-times', title: [fmt.iso(s.start), fmt.iso(s.end)].filter(Boolean).join(' → ') || null, text: times }),
    s.error ? el('div', { class: 'step-error', 'data-testid': 'step-error', text: `Error: ${s.error}` }) : null,
    s.cause ? el('pre', { class: 'step-cause', 'data-testid': 'step-cause', text: fmt.pretty(s.cause) }) : null);
  });
  if (!items.length && x) items.push(el('li', { class: 'muted', text: 'No steps recorded yet.' }));
  $('timeline').replaceChildren(...items);
}

function renderHistory(h) {
  $('history-body').replaceChildren(...h.map((e) => el('tr', { 'data-testid': 'history-row' },
    el('td', { class: 'num', text: e.version }),
    el('td', { class: 'num', title: fmt.iso(e.at), text: fmt.when(e.at) }),
    el('td', {}, e.from ? statusBadge(e.from) : '–'),
    el('td', {}, e.from && e.from === e.to ? el('span', { class: 'muted', text: 'no change (a note)' }) : statusBadge(e.to)),
    el('td', { text: e.reason || '' }),
    el('td', { class: 'mono', text: e.actor || '' }))));
}

// ---- actions ---------------------------------------------------------------

const ACTIONS = {
  redrive: {
    button: 'action-redrive',
    title: 'Redrive this order?',
    verb: 'Redrive',
    ok: 'Redrive',
    effect: 'The failed execution is redriven (Step Functions RedriveExecution): it resumes at the step that failed, with the same input, and goes on from there. Steps that succeeded are not repeated.',
    done: 'Redrive requested. The execution resumes at the failed step; this view follows it.',
    call: (id) => ops.redrive(id),
  },
  cancel: {
    button: 'action-cancel',
    title: 'Cancel this order?',
    verb: 'Cancel',
    ok: 'Cancel the order',
    effect: 'The workflow stops and compensates what was done: the payment is voided or refunded and the stock released. The order ends CANCELLED. This cannot be undone.',
    done: 'Cancellation requested. The workflow compensates; this view follows it.',
    call: (id) => ops.cancel(id),
  },
};

function renderActions(o, actions) {
  let offered = actions;
  if (!offered) offered = fmt.statusInfo(o.status).kind === 'flow' || o.status === 'STALLED' ? ['cancel'] : [];
  for (const [name, a] of Object.entries(ACTIONS)) {
    const b = $(a.button);
    show(b, offered.includes(name));
    b.disabled = false;
  }
  const none = $('actions-none');
  const final = fmt.statusInfo(o.status).kind === 'failure' || o.status === 'DELIVERED';
  none.textContent = final ? 'No actions: this order has ended; a business failure is final and is not redriven.' : 'No actions are available for this order now.';
  show(none, !Object.keys(ACTIONS).some((n) => offered.includes(n)));
}

function confirmDialog({ title, message, effect, ok }) {
  const d = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-message').textContent = message;
  $('confirm-effect').textContent = effect || '';
  $('confirm-ok').textContent = ok;
  d.returnValue = '';
  return new Promise((resolve) => {
    const onClose = () => {
      if (d.open) return; // the close event of an earlier, already answered question
      d.removeEventListener('close', onClose);
      resolve(d.returnValue === 'ok');
    };
    d.addEventListener('close', onClose);
    d.showModal();
    $('confirm-no').focus();
  });
}

async function runAction(name) {
  const a = ACTIONS[name];
  const id = state.openId;
  if (!a || !id) return;
  const yes = await confirmDialog({ title: a.title, message: `${a.verb} order ${id}?`, effect: a.effect, ok: a.ok });
  if (!yes || id !== state.openId) {
    $(a.button).focus();
    return;
  }
  const result = $('action-result');
  for (const x of Object.values(ACTIONS)) $(x.button).disabled = true;
  try {
    const r = await a.call(id);
    result.className = 'result';
    result.dataset.outcome = 'ok';
    result.textContent = `${a.done} (status ${r.status})`;
  } catch (e) {
    if (handleAuthError(e)) return;
    result.className = 'result error';
    result.dataset.outcome = 'error';
    const what = name === 'redrive' ? 'Not redriven' : 'Not cancelled';
    result.textContent = `${what}: ${e instanceof ApiError ? e.describe() : e}`;
  } finally {
    for (const x of Object.values(ACTIONS)) $(x.button).disabled = false;
  }
  show(result, true);
  state.orderKey = '';
  try { await refreshOrder(); } catch (e) { if (!handleAuthError(e)) orderError(e); }
  if (result.dataset.outcome === 'ok') followOrder();
  tick(true);
}

// ---- dead-letter queues ----------------------------------------------------

async function refreshDLQs() {
  let r;
  try {
    r = await ops.dlqs();
  } catch (e) {
    if (e instanceof ApiError && e.status === 503) {
      // This API was started without the queues: say so in the panel only.
      $('dlq-body').dataset.key = '';
      $('dlq-body').replaceChildren(el('tr', {}, el('td', { colspan: 3, class: 'muted', 'data-testid': 'dlq-unavailable', text: e.problem.detail || 'Dead-letter queues are not available here.' })));
      state.dlqs = [];
      state.noDLQs = true;
      return;
    }
    throw e;
  }
  state.noDLQs = false;
  state.dlqs = Array.isArray(r.dlqs) ? r.dlqs : [];
  renderDLQDepths(state.dlqs);
}

function queueName(url) {
  if (!url) return '';
  const parts = String(url).split('/');
  return parts[parts.length - 1];
}

// dlqName is the dead-letter queue's own name; d.queue is the name of the
// queue it catches the failures of.
function dlqName(d) {
  return queueName(d.dlqUrl) || `${d.queue}-dlq`;
}

function renderDLQDepths(depths) {
  if (state.noDLQs) return;
  const known = new Map(state.dlqs.map((d) => [d.queue, d]));
  for (const d of depths) known.set(d.queue, { ...known.get(d.queue), ...d });
  const body = $('dlq-body');
  const rows = [...known.values()].sort((a, b) => String(a.queue).localeCompare(String(b.queue))).map((d) => {
    const depth = Number(d.depth) || 0;
    return el('tr', { 'data-testid': 'dlq-row', 'data-queue': d.queue, 'data-depth': depth },
      el('th', { scope: 'row' }, el('span', { class: 'mono', text: dlqName(d) }),
        el('span', { class: 'muted', text: ` — failures of ${d.queue}` })),
      el('td', { class: `num${depth > 0 ? ' depth-nonzero' : ''}`, 'data-testid': `dlq-depth-${d.queue}`, text: depth }),
      el('td', {}, el('button', {
        type: 'button', 'data-testid': `dlq-peek-${d.queue}`, 'aria-label': `Peek at the dead letters of ${d.queue}`, 'aria-controls': 'dlq-messages',
        disabled: depth === 0 ? true : null, onclick: () => peek(d.queue), text: 'Peek',
      })));
  });
  const key = JSON.stringify([...known.values()]);
  if (body.dataset.key === key) return;
  body.dataset.key = key;
  body.replaceChildren(...rows);
  if (!rows.length) body.append(el('tr', {}, el('td', { colspan: 3, class: 'muted', text: 'No dead-letter queues reported.' })));
}

async function peek(queue) {
  const box = $('dlq-messages');
  const err = $('dlq-error');
  show(err, false);
  $('dlq-messages-title').textContent = `Dead letters of ${queue}`;
  $('dlq-messages-note').textContent = 'Loading…';
  show(box, true);
  let r;
  try {
    r = await ops.messages(queue, 10);
  } catch (e) {
    if (handleAuthError(e)) return;
    err.textContent = `Could not read ${queue}: ${e instanceof ApiError ? e.describe() : e}`;
    show(err, true);
    $('dlq-messages-note').textContent = '';
    return;
  }
  const msgs = Array.isArray(r.messages) ? r.messages : [];
  $('dlq-messages-note').textContent = msgs.length
    ? `Showing ${msgs.length} message${msgs.length === 1 ? '' : 's'} (at most 10).`
    : 'No messages (they may be hidden for a moment after an earlier peek).';
  $('dlq-messages-list').replaceChildren(...msgs.map((m) => el('li', { class: 'dlq-message', 'data-testid': 'dlq-message', 'data-message-id': m.messageId },
    el('div', { class: 'meta' },
      el('span', { class: 'mono', text: m.messageId }),
      el('span', { text: `received ${m.receiveCount ?? '?'} times` }),
      el('span', { title: fmt.iso(m.sentAt), text: m.sentAt ? `sent ${fmt.when(m.sentAt)}` : '' }),
      el('span', { class: 'spacer' }),
      el('button', { type: 'button', 'data-testid': 'dlq-replay', onclick: (ev) => replay(queue, m.messageId, ev.currentTarget), text: 'Replay…' })),
    el('pre', { 'data-testid': 'dlq-body', text: fmt.pretty(m.body ?? '') }),
    el('p', { class: 'result', role: 'status', hidden: true, 'data-testid': 'dlq-replay-result' }))));
  $('dlq-messages-list').querySelector('button')?.focus();
}

async function replay(queue, messageId, button) {
  const src = queueName(state.dlqs.find((d) => d.queue === queue)?.sourceUrl) || queue;
  const yes = await confirmDialog({
    title: 'Replay this dead letter?',
    message: `Replay message ${messageId} from the dead-letter queue of ${queue} back to ${src}?`,
    effect: 'The message is sent back to the queue it came from and removed from the dead-letter queue; its consumer processes it again.',
    ok: 'Replay',
  });
  if (!yes) { button.focus(); return; }
  const result = button.closest('li').querySelector('[data-testid="dlq-replay-result"]');
  button.disabled = true;
  try {
    const r = await ops.replay(queue, messageId);
    result.className = 'result';
    result.textContent = `Replayed to ${src} (status ${r.status}).`;
  } catch (e) {
    if (handleAuthError(e)) return;
    result.className = 'result error';
    result.textContent = `Not replayed: ${e instanceof ApiError ? e.describe() : e}`;
    button.disabled = false;
  }
  show(result, true);
  tick(true);
}

// ---- wiring ----------------------------------------------------------------

async function init() {
  $('signin-form').addEventListener('submit', onSignIn);
  $('signin-start').addEventListener('click', () => startSignIn(state.signIn));
  $('signout').addEventListener('click', () => {
    signOut('Signed out.');
    if (state.signIn) location.assign(signOutAddress(state.signIn));
  });
  $('pause').addEventListener('click', (ev) => {
    state.paused = !state.paused;
    ev.currentTarget.setAttribute('aria-pressed', String(state.paused));
    ev.currentTarget.textContent = state.paused ? 'Resume updates' : 'Pause updates';
    announce(state.paused ? 'Updates paused.' : 'Updates resumed.');
    if (!state.paused) tick();
  });
  $('status-filter').addEventListener('change', (ev) => setFilter(ev.target.value));
  $('stuck').addEventListener('click', () => setFilter('stuck'));
  $('dlq-jump').addEventListener('click', () => { $('dlqs').scrollIntoView({ block: 'start' }); $('dlqs').focus({ preventScroll: true }); });
  $('orders-more').addEventListener('click', () => { state.pages++; state.listKey = ''; tick(true); });
  $('order-close').addEventListener('click', () => closeOrder(true));
  $('open-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const id = $('open-id').value.trim();
    if (id) openFromList(id);
  });
  $('action-redrive').addEventListener('click', () => runAction('redrive'));
  $('action-cancel').addEventListener('click', () => runAction('cancel'));
  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);
  document.addEventListener('visibilitychange', () => { if (!document.hidden) tick(); });
  // Operators sign in on the hosted UI when one is configured (its code
  // comes back to this page); otherwise the developer's token form.
  state.signIn = await signInConfig();
  show($('signin-hosted'), Boolean(state.signIn));
  show($('signin-form'), !state.signIn);
  if (state.signIn) {
    try {
      const token = await finishSignIn(state.signIn);
      if (token) session.save(token);
    } catch (e) {
      session.clear();
      signOut(e.message);
      return;
    }
  }
  if (session.token()) signedIn();
  else signOut('');
}

init();
