package httpapi

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// The ops API (/v1/ops/…) is for operations staff, each route for the role
// RouteRoles gives it (reading: groups ops or ops-read; acting: ops; the
// receipts route: ops or the E-Port forwarder's scope). It shows orders by status and the stuck ones, one
// order beside its workflow execution, and the dead-letter queues; it
// redrives stalled executions, cancels orders and replays dead letters,
// each action recorded in the order's history as "ops:<sub>".

// OpsStore is what the ops API needs of the order store besides OrderStore.
type OpsStore interface {
	// ListByStatus pages the orders in a status changed in [since, until),
	// newest first, showing of each what an ops list row shows.
	ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error)
	// StatusCounts counts the orders in every status at once (the DynamoDB
	// store sums its counter items: one read for the whole summary).
	StatusCounts(ctx context.Context) (map[order.Status]int, error)
	// CountByStatusBefore counts the orders in a status not changed since t.
	CountByStatusBefore(ctx context.Context, status order.Status, t time.Time) (int, error)
}

// Problem types of the ops API.
const (
	problemForbidden     = "/problems/forbidden"
	problemNotConfigured = "/problems/not-configured"
)

// DefaultStuckMinutes is how long a non-terminal order may go without a
// change before the ops API calls it stuck.
const DefaultStuckMinutes = 15

// maxStuckMinutes bounds ?minutes= (a week).
const maxStuckMinutes = 7 * 24 * 60

// ops lets only the ops group through.
// opsActor is who an operator's action is recorded as.
func opsActor(ctx context.Context) string { return "ops:" + identity(ctx).Subject }

func notConfigured(w http.ResponseWriter, r *http.Request, what string) {
	writeProblem(w, r, Problem{Type: problemNotConfigured, Status: http.StatusServiceUnavailable,
		Detail: "Not configured: this API was started without " + what + "."})
}

func badRequest(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest, Detail: detail})
}

func (a *API) writeValue(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		a.internalError(w, r, "encode response", err)
		return
	}
	writeJSON(w, status, body)
}

// stuckStatuses are the statuses an order can be stuck in: not terminal
// and not dispatched (the goods left; only the carrier moves it on).
func stuckStatuses() []order.Status {
	var out []order.Status
	for _, s := range order.Statuses {
		if !s.Terminal() && s != order.StatusDispatched {
			out = append(out, s)
		}
	}
	return out
}

// opsSummaryView is GET /v1/ops/summary.
type opsSummaryView struct {
	Counts map[order.Status]int `json:"counts"`
	Stuck  int                  `json:"stuck"`
	DLQs   []dlqDepth           `json:"dlqs,omitempty"`
	At     time.Time            `json:"at"`
}

type dlqDepth struct {
	Queue string `json:"queue"`
	Depth int    `json:"depth"`
}

// opsSummary counts the orders in every status (0 included), the stuck
// ones (no change for DefaultStuckMinutes) and, when configured, the
// messages in each dead-letter queue. The counts per status are one read
// of the store's counters; the stuck ones a count of each stuck status's
// orders changed before the cutoff, which reads only those.
func (a *API) opsSummary(w http.ResponseWriter, r *http.Request) {
	store := a.cfg.OpsOrders
	if store == nil {
		notConfigured(w, r, "an order store that counts by status")
		return
	}
	ctx := r.Context()
	now := a.cfg.Now().UTC()
	cutoff := now.Add(-DefaultStuckMinutes * time.Minute)
	stuck := stuckStatuses()
	var counts map[order.Status]int
	stale := make([]int, len(stuck))
	tasks := []func() error{func() (err error) { counts, err = store.StatusCounts(ctx); return }}
	for i, s := range stuck {
		tasks = append(tasks, func() (err error) { stale[i], err = store.CountByStatusBefore(ctx, s, cutoff); return })
	}
	if err := parallel(tasks); err != nil {
		a.internalError(w, r, "count orders", err)
		return
	}
	view := opsSummaryView{Counts: map[order.Status]int{}, At: now}
	for _, s := range order.Statuses {
		view.Counts[s] = counts[s]
	}
	for _, n := range stale {
		view.Stuck += n
	}
	if a.deadLettersConfigured() {
		dlqs, err := a.dlqDepths(ctx)
		if err != nil {
			a.internalError(w, r, "read dead-letter queues", err)
			return
		}
		for _, d := range dlqs {
			view.DLQs = append(view.DLQs, dlqDepth{Queue: d.Queue, Depth: d.Depth})
		}
	}
	a.writeValue(w, r, http.StatusOK, view)
}

// parallel runs the tasks at once and returns the first error.
func parallel(tasks []func() error) error {
	errs := make([]error, len(tasks))
	var wg sync.WaitGroup
	for i, t := range tasks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = t()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// opsOrderRow is one order of an ops list.
type opsOrderRow struct {
	ID          string          `json:"orderId"`
	Status      order.Status    `json:"status"`
	Reason      string          `json:"reason"`
	TradeMode   order.TradeMode `json:"tradeMode"`
	Channel     order.Channel   `json:"channel"`
	PartnerID   string          `json:"partnerId"`
	Destination string          `json:"destination"`
	Total       money.Money     `json:"total"`
	CreatedAt   time.Time       `json:"createdAt"`
	// StatusSince is when the order entered its status.
	StatusSince time.Time `json:"statusSince"`
}

type opsOrderPage struct {
	Orders     []opsOrderRow `json:"orders"`
	NextCursor string        `json:"nextCursor,omitempty"`
}

func opsPage(orders []order.Order, next string) opsOrderPage {
	page := opsOrderPage{Orders: make([]opsOrderRow, 0, len(orders)), NextCursor: next}
	for _, o := range orders {
		page.Orders = append(page.Orders, opsOrderRow{ID: o.ID, Status: o.Status, Reason: o.Reason, TradeMode: o.TradeMode,
			Channel: o.Channel, PartnerID: o.PartnerID, Destination: o.Destination(), Total: o.Total,
			CreatedAt: o.CreatedAt, StatusSince: o.Since()})
	}
	return page
}

// Bounds of an ops list's window when the query gives none.
var (
	beginningOfTime = time.Unix(0, 0).UTC()
	endOfTime       = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// opsListOrders lists the orders in a status (required) whose last change
// falls in [since, until), newest first, a page at a time.
func (a *API) opsListOrders(w http.ResponseWriter, r *http.Request) {
	store := a.cfg.OpsOrders
	if store == nil {
		notConfigured(w, r, "an order store that lists by status")
		return
	}
	q := r.URL.Query()
	status := order.Status(q.Get("status"))
	if !status.Valid() {
		badRequest(w, r, fmt.Sprintf("status is required, one of %v.", order.Statuses))
		return
	}
	since, err := timeParam(q, "since", beginningOfTime)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	until, err := timeParam(q, "until", endOfTime)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	if !since.Before(until) {
		badRequest(w, r, "since must be before until.")
		return
	}
	limit, err := intParam(q, "limit", defaultPageSize, 1, maxPageSize)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	orders, next, err := store.ListByStatus(r.Context(), status, since, until, limit, q.Get("cursor"))
	if errors.Is(err, order.ErrInvalidCursor) {
		badRequest(w, r, "cursor is not one this list returned for this status and window; start again without it.")
		return
	}
	if err != nil {
		a.internalError(w, r, "list orders by status", err)
		return
	}
	a.writeValue(w, r, http.StatusOK, opsPage(orders, next))
}

func timeParam(q url.Values, name string, def time.Time) (time.Time, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s must be an RFC 3339 time such as 2026-11-24T09:30:00Z", name)
	}
	return t.UTC(), nil
}

func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// stuckCursor resumes the stuck list: the cutoff of its first page, and
// where each status's list stands (a status that is read to the end is no
// longer in Next).
type stuckCursor struct {
	Before time.Time               `json:"b"`
	Next   map[order.Status]string `json:"n"`
}

// opsStuckOrders lists the orders that have not changed for ?minutes=
// (DefaultStuckMinutes) in a status that is not terminal nor DISPATCHED
// (STALLED included), newest first: the lists of those statuses merged. A
// cursor keeps the cutoff of the first page.
func (a *API) opsStuckOrders(w http.ResponseWriter, r *http.Request) {
	store := a.cfg.OpsOrders
	if store == nil {
		notConfigured(w, r, "an order store that lists by status")
		return
	}
	q := r.URL.Query()
	minutes, err := intParam(q, "minutes", DefaultStuckMinutes, 1, maxStuckMinutes)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	limit, err := intParam(q, "limit", defaultPageSize, 1, maxPageSize)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	cur := stuckCursor{Before: a.cfg.Now().UTC().Add(-time.Duration(minutes) * time.Minute), Next: map[order.Status]string{}}
	for _, s := range stuckStatuses() {
		cur.Next[s] = ""
	}
	if c := q.Get("cursor"); c != "" {
		if cur, err = decodeStuckCursor(c); err != nil {
			badRequest(w, r, "cursor is not one the stuck list returned; start again without it.")
			return
		}
	}
	orders, next, err := a.stuckPage(r.Context(), store, cur, limit)
	if errors.Is(err, order.ErrInvalidCursor) {
		badRequest(w, r, "cursor is not one the stuck list returned; start again without it.")
		return
	}
	if err != nil {
		a.internalError(w, r, "list stuck orders", err)
		return
	}
	a.writeValue(w, r, http.StatusOK, opsPage(orders, next))
}

// stuckPage merges one page of each status's list of orders changed before
// cur.Before and keeps the newest limit; a list the page took only part of
// is read again up to that part, for the cursor after it.
func (a *API) stuckPage(ctx context.Context, store OpsStore, cur stuckCursor, limit int) ([]order.Order, string, error) {
	type fetched struct {
		orders []order.Order
		next   string
	}
	lists := map[order.Status]fetched{}
	var all []order.Order
	for s, c := range cur.Next {
		orders, next, err := store.ListByStatus(ctx, s, beginningOfTime, cur.Before, limit, c)
		if err != nil {
			return nil, "", err
		}
		lists[s] = fetched{orders, next}
		all = append(all, orders...)
	}
	slices.SortFunc(all, func(x, y order.Order) int {
		if c := y.Since().Compare(x.Since()); c != 0 {
			return c
		}
		return cmp.Compare(y.ID, x.ID)
	})
	page := all[:min(limit, len(all))]
	taken := map[order.Status]int{}
	for _, o := range page {
		taken[o.Status]++
	}
	after := stuckCursor{Before: cur.Before, Next: map[order.Status]string{}}
	for s, f := range lists {
		switch n := taken[s]; {
		case n == 0:
			after.Next[s] = cur.Next[s]
		case n == len(f.orders):
			if f.next != "" {
				after.Next[s] = f.next
			}
		default:
			_, next, err := store.ListByStatus(ctx, s, beginningOfTime, cur.Before, n, cur.Next[s])
			if err != nil {
				return nil, "", err
			}
			after.Next[s] = next
		}
	}
	if len(after.Next) == 0 || len(page) < limit {
		return page, "", nil
	}
	raw, err := json.Marshal(after)
	if err != nil {
		return nil, "", err
	}
	return page, base64.RawURLEncoding.EncodeToString(raw), nil
}

func decodeStuckCursor(c string) (stuckCursor, error) {
	var cur stuckCursor
	if len(c) > 16<<10 {
		return cur, order.ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || json.Unmarshal(raw, &cur) != nil || cur.Before.IsZero() || len(cur.Next) == 0 {
		return cur, order.ErrInvalidCursor
	}
	stuck := stuckStatuses()
	for s := range cur.Next {
		if !slices.Contains(stuck, s) {
			return cur, order.ErrInvalidCursor
		}
	}
	return cur, nil
}
