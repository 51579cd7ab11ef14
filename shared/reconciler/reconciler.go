// Package reconciler makes sure no order stays RECEIVED for ever: the API
// stores an order and then hands it to the workflow, and a crash between the
// two would strand it. Every minute the reconciler hands over again the
// orders still RECEIVED after a minute. That is safe because the execution is
// named by the order id: a second start of a running or finished execution
// starts nothing.
//
// It also wakes, every minute, the customs step of each order waiting for
// China's customs (order.CustomsRecord AwaitingChina): the step reads the
// receipts again, so a lost wake-up is made up for within a minute. A wake
// does not keep a dead wait alive: the step heartbeats its task only while
// the receipts progress, submits the messages again when they fall quiet,
// and fails the task (ChinaCustomsNoAnswer) when customs still decide
// nothing (workers.ChinaWait) — and a wake after that fails it again, in
// case the failure was lost.
package reconciler

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/order"
)

// Orders lists orders by status.
type Orders interface {
	ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error)
}

// Enqueuer hands an order to the workflow.
type Enqueuer interface {
	Enqueue(ctx context.Context, orderID string) error
}

// Waker wakes a waiting customs step (queue.Tasks on the customs queue).
type Waker interface {
	Wake(ctx context.Context, orderID, taskToken string) error
}

// Handler is the scheduled reconciler.
type Handler struct {
	Orders   Orders
	Workflow Enqueuer
	// Customs, when set, wakes the orders waiting for China's customs.
	Customs Waker
	Logger  *slog.Logger
	Now     func() time.Time
	// MinAge leaves young orders to the API's own hand-over (default 1 min);
	// Window bounds how far back it looks (default 24 h).
	MinAge, Window time.Duration
	// Executions and Stalls, when set, find the executions of
	// StateMachineARN that failed while their order is not STALLED, and
	// mark it.
	Executions      Executions
	StateMachineARN string
	Stalls          Staller
}

// Report says what one run did.
type Report struct {
	Requeued int `json:"requeued"`
	Failed   int `json:"failed"`
	// Woken counts the orders waiting for China's customs whose step was
	// woken.
	Woken int `json:"woken"`
	// Stalled counts the orders of failed executions marked STALLED.
	Stalled int `json:"stalled"`
}

// Reconcile re-enqueues stranded orders. It fails (and the schedule runs it
// again) only if it could not list them; a failed hand-over is counted and
// retried on the next run.
func (h *Handler) Reconcile(ctx context.Context, _ events.EventBridgeEvent) (Report, error) {
	now := time.Now()
	if h.Now != nil {
		now = h.Now()
	}
	minAge, window := h.MinAge, h.Window
	if minAge == 0 {
		minAge = time.Minute
	}
	if window == 0 {
		window = 24 * time.Hour
	}
	var rep Report
	err := h.each(ctx, order.StatusReceived, now.Add(-window), now.Add(-minAge), func(o *order.Order) {
		if err := h.Workflow.Enqueue(ctx, o.ID); err != nil {
			rep.Failed++
			h.Logger.WarnContext(ctx, "re-enqueue order", "orderId", o.ID, "error", err.Error())
			return
		}
		rep.Requeued++
	})
	if err != nil {
		return rep, err
	}
	if rep.Requeued+rep.Failed > 0 {
		h.Logger.InfoContext(ctx, "reconciled stranded orders", "requeued", rep.Requeued, "failed", rep.Failed)
	}
	if err := h.stalls(ctx, now, &rep); err != nil {
		return rep, err
	}
	if h.Customs == nil {
		return rep, nil
	}
	err = h.each(ctx, order.StatusPaymentAuthorized, now.Add(-window), now, func(o *order.Order) {
		if o.Customs == nil || !o.Customs.AwaitingChina || o.TaskToken == "" {
			return
		}
		if err := h.Customs.Wake(ctx, o.ID, o.TaskToken); err != nil {
			rep.Failed++
			h.Logger.WarnContext(ctx, "wake the customs step", "orderId", o.ID, "error", err.Error())
			return
		}
		rep.Woken++
	})
	return rep, err
}

// each calls f for every order in status whose last change is in
// [since, until), page by page.
func (h *Handler) each(ctx context.Context, status order.Status, since, until time.Time, f func(o *order.Order)) error {
	for cursor := ""; ; {
		page, next, err := h.Orders.ListByStatus(ctx, status, since, until, 100, cursor)
		if err != nil {
			return fmt.Errorf("reconciler: list %s orders: %w", status, err)
		}
		for i := range page {
			f(&page[i])
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
