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
	if err != nil || string(out) != `{"requeued":0,"failed":0}` {
		t.Fatalf("%s %v", out, err)
	}
}
