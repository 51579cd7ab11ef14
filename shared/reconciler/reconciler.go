// Package reconciler makes sure no order stays RECEIVED for ever: the API
// stores an order and then hands it to the workflow, and a crash between the
// two would strand it. Every minute the reconciler hands over again the
// orders still RECEIVED after a minute. That is safe because the execution is
// named by the order id: a second start of a running or finished execution
// starts nothing.
//
// It also wakes the customs step of each order whose wait for China's
// customs is due. The step, when it waits on, records when it must next be
// woken (the store's SetDue: the end of the quiet period, when it submits
// again or gives up), and clears it when the wait ends (ClearDue); the
// reconciler reads only the waits due (EachDue) — not every order that
// waits — and wakes each through the customs queue with the token the order
// holds. A lost wake-up is made up for on the next run, as the wait stays
// due until the step moves it. A wait due for an order that no longer
// waits (its clear was lost) is cleared. A wake does not keep a dead wait
// alive: the step heartbeats its task only while the receipts progress,
// submits the messages again when they fall quiet, and fails the task
// (ChinaCustomsNoAnswer) when customs still decide nothing
// (workers.ChinaWait).
package reconciler

import (
	"context"
	"encoding/json"
	"errors"
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

// Waits are the due times of the orders waiting on a long step, which the
// order store keeps beside the orders (dynamostore's byDue index).
type Waits interface {
	// EachDue calls f with each order whose wait is due at or before now.
	EachDue(ctx context.Context, now time.Time, f func(id string, at time.Time)) error
	// ClearDueAt removes an order's due time if it is still at.
	ClearDueAt(ctx context.Context, id string, at time.Time) error
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
	// Customs, when set, wakes the orders whose wait for China's customs
	// is due; Orders must then keep the waits' due times (Waits) and read
	// one order (OrderReader).
	Customs Waker
	Logger  *slog.Logger
	Now     func() time.Time
	// MinAge leaves young orders to the API's own hand-over (default 1 min);
	// Window bounds how far back it looks (default 24 h).
	MinAge, Window time.Duration
	// Ahead wakes the waits due within this long from now, not only those
	// due already: the local stack's run at start wakes every wait once,
	// since a stop may have lost the wake-up of a receipt that settled it.
	Ahead time.Duration
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
	// Woken counts the orders whose wait for China's customs was due and
	// whose step was woken.
	Woken int `json:"woken"`
	// Stalled counts the orders of failed executions marked STALLED.
	Stalled int `json:"stalled"`
}

// CatchUp is the detail of an event that asks for a catch-up run: every
// order still RECEIVED however young, and every wait once, whenever due —
// what a stack does when it starts again after a stop, and what an
// operator asks for after an incident
// (aws lambda invoke --function-name <reconciler> --payload '{"detail":{"catchUp":true}}').
type CatchUp struct {
	CatchUp bool `json:"catchUp"`
}

// Reconcile re-enqueues stranded orders. It fails (and the schedule runs it
// again) only if it could not list them; a failed hand-over is counted and
// retried on the next run. An event whose detail is CatchUp{true} runs as
// a catch-up.
func (h *Handler) Reconcile(ctx context.Context, ev events.EventBridgeEvent) (Report, error) {
	var c CatchUp
	if len(ev.Detail) > 0 && json.Unmarshal(ev.Detail, &c) == nil && c.CatchUp {
		catchUp := *h
		catchUp.MinAge, catchUp.Ahead = time.Nanosecond, 365*24*time.Hour
		h.Logger.InfoContext(ctx, "catch-up run")
		return catchUp.reconcile(ctx)
	}
	return h.reconcile(ctx)
}

func (h *Handler) reconcile(ctx context.Context) (Report, error) {
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
	return rep, h.wakeDue(ctx, now, &rep)
}

// wakeDue wakes the customs step of each order whose wait is due, with the
// task token the order holds now (a redrive may have replaced the one the
// wait began with), and clears the due time of an order that waits no more.
func (h *Handler) wakeDue(ctx context.Context, now time.Time, rep *Report) error {
	waits, ok := h.Orders.(Waits)
	reader, ok2 := h.Orders.(OrderReader)
	if !ok || !ok2 {
		return errors.New("reconciler: the order store keeps no due times or cannot read one order")
	}
	err := waits.EachDue(ctx, now.Add(h.Ahead), func(id string, at time.Time) {
		o, err := reader.GetOrder(ctx, id)
		switch {
		case err != nil && !errors.Is(err, order.ErrNotFound):
			rep.Failed++
			h.Logger.WarnContext(ctx, "read an order whose wait is due", "orderId", id, "error", err.Error())
			return
		case err != nil || !awaitingChina(o):
			if err := waits.ClearDueAt(ctx, id, at); err != nil {
				rep.Failed++
				h.Logger.WarnContext(ctx, "clear the due time of a wait that ended", "orderId", id, "error", err.Error())
			}
			return
		}
		if err := h.Customs.Wake(ctx, o.ID, o.TaskToken); err != nil {
			rep.Failed++
			h.Logger.WarnContext(ctx, "wake the customs step", "orderId", o.ID, "error", err.Error())
			return
		}
		rep.Woken++
	})
	if err != nil {
		return fmt.Errorf("reconciler: find the due waits: %w", err)
	}
	if rep.Woken > 0 {
		h.Logger.InfoContext(ctx, "woke the customs steps whose wait is due", "woken", rep.Woken)
	}
	return nil
}

// awaitingChina reports whether o's customs step waits for China's customs
// on the task token o holds.
func awaitingChina(o *order.Order) bool {
	return o.Status == order.StatusPaymentAuthorized && o.Customs != nil && o.Customs.AwaitingChina && o.TaskToken != ""
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
