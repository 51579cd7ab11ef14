package reconciler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

type enqueued struct {
	ids  []string
	fail string
}

func (e *enqueued) Enqueue(_ context.Context, id string) error {
	if id == e.fail {
		return errors.New("queue unavailable")
	}
	e.ids = append(e.ids, id)
	return nil
}

func TestReconcileRequeuesOnlyStrandedOrders(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	store := memstore.New()
	mk := func(n int, age time.Duration) *order.Order {
		o := storetest.Order(fmt.Sprintf("01KRECON00000000000000000%02d", n), "alice", now.Add(-age))
		if _, err := store.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
			storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
			t.Fatal(err)
		}
		return o
	}
	var stranded []string
	for i := range 150 { // more than one page
		stranded = append(stranded, mk(i, 2*time.Minute+time.Duration(i)*time.Second).ID)
	}
	mk(200, 10*time.Second)          // young: the API's own hand-over is still due
	mk(201, 48*time.Hour)            // outside the window
	moved := mk(202, 10*time.Minute) // already in the workflow
	ev, _ := moved.Transition(order.StatusStockReserved, "", "workflow", now.Add(-9*time.Minute))
	_ = store.SaveTransition(ctx, moved, ev)

	q := &enqueued{fail: stranded[7]}
	h := &Handler{Orders: store, Workflow: q, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	rep, err := h.Reconcile(ctx, events.EventBridgeEvent{DetailType: "Scheduled Event", Source: "aws.events"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requeued != 149 || rep.Failed != 1 {
		t.Fatalf("report %+v, want 149 requeued and 1 failed", rep)
	}
	want := append(append([]string{}, stranded[:7]...), stranded[8:]...)
	sort.Strings(want)
	sort.Strings(q.ids)
	if fmt.Sprint(q.ids) != fmt.Sprint(want) {
		t.Fatal("requeued the wrong orders")
	}
}

func TestReconcilerTakesTheScheduledEvent(t *testing.T) {
	raw, err := os.ReadFile("../../events/eventbridge/scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	q := &enqueued{}
	h := &Handler{Orders: memstore.New(), Workflow: q, Logger: slog.New(slog.DiscardHandler)}
	out, err := lambda.NewHandler(h.Reconcile).Invoke(context.Background(), raw)
	if err != nil || string(out) != `{"requeued":0,"failed":0,"woken":0,"stalled":0}` {
		t.Fatalf("%s %v", out, err)
	}
}

type woken struct{ ids, tokens []string }

func (w *woken) Wake(_ context.Context, id, token string) error {
	w.ids, w.tokens = append(w.ids, id), append(w.tokens, token)
	return nil
}

// Every run wakes the customs step of each order waiting for China's
// customs, with the token it waits on — and no other order.
func TestReconcileWakesOrdersWaitingForChina(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	store := memstore.New()
	mk := func(n int, awaiting bool, token string) *order.Order {
		o := storetest.Order(fmt.Sprintf("01KRECONCHINA00000000000%02d", n), "alice", now.Add(-time.Hour))
		if _, err := store.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
			storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
			t.Fatal(err)
		}
		for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized} {
			ev, err := o.Transition(st, "", "workflow", now.Add(-30*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if err := store.SaveTransition(ctx, o, ev); err != nil {
				t.Fatal(err)
			}
		}
		o.Customs = &order.CustomsRecord{AwaitingChina: awaiting}
		o.TaskToken = token
		if err := store.SaveTransition(ctx, o, o.Note("awaiting", "workflow", now.Add(-20*time.Minute))); err != nil {
			t.Fatal(err)
		}
		return o
	}
	waiting := mk(1, true, "token-1")
	mk(2, false, "token-2") // with the broker: its worker answers
	mk(3, true, "")         // no token to wake it with
	w := &woken{}
	h := &Handler{Orders: store, Workflow: &enqueued{}, Customs: w, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	rep, err := h.Reconcile(ctx, events.EventBridgeEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Woken != 1 || fmt.Sprint(w.ids) != "["+waiting.ID+"]" || fmt.Sprint(w.tokens) != "[token-1]" {
		t.Fatalf("report %+v, woke %v %v", rep, w.ids, w.tokens)
	}
}
