package reconciler

import (
	"context"
	"encoding/json"
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

	// A catch-up run (a stack that starts again, an operator after an
	// incident) hands over the young order too, and every stranded one.
	q = &enqueued{}
	h.Workflow = q
	detail, _ := json.Marshal(CatchUp{CatchUp: true})
	if rep, err := h.Reconcile(ctx, events.EventBridgeEvent{Detail: detail}); err != nil || rep.Requeued != 151 {
		t.Fatalf("catch-up: %+v %v, want 151 requeued (the young one too)", rep, err)
	}
	if h.MinAge != 0 || h.Ahead != 0 {
		t.Fatal("a catch-up run changed the handler")
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

// waitingForChina creates order n as the customs step leaves it waiting for
// China's customs on token (none: "") — and, with a due time, as the step
// records when it must next be woken.
func waitingForChina(t *testing.T, store *memstore.Store, now time.Time, n int, awaiting bool, token string, due time.Time) *order.Order {
	t.Helper()
	ctx := context.Background()
	o := storetest.Order(fmt.Sprintf("01KRECONCHINA%013d", n), "alice", now.Add(-time.Hour))
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
	if !due.IsZero() {
		if err := store.SetDue(ctx, o.ID, due); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// Every run wakes the customs step of each order whose wait for China's
// customs is due, with the token the order holds — and no other order; a
// due time left by a wait that ended is cleared.
func TestReconcileWakesOrdersWaitingForChina(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	store := memstore.New()
	due := waitingForChina(t, store, now, 1, true, "token-1", now.Add(-time.Minute))
	dueNow := waitingForChina(t, store, now, 2, true, "token-2", now)
	waitingForChina(t, store, now, 3, true, "token-3", now.Add(time.Second))          // not yet due
	waitingForChina(t, store, now, 4, true, "token-4", time.Time{})                   // no due time: receipts wake it
	ended := waitingForChina(t, store, now, 5, false, "token-5", now.Add(-time.Hour)) // with the broker now: its worker answers
	noToken := waitingForChina(t, store, now, 6, true, "", now.Add(-time.Hour))       // no token to wake it with
	if err := store.SetDue(ctx, "01KGONE", now.Add(-time.Hour)); err != nil {         // no such order
		t.Fatal(err)
	}
	w := &woken{}
	h := &Handler{Orders: store, Workflow: &enqueued{}, Customs: w, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	rep, err := h.Reconcile(ctx, events.EventBridgeEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Woken != 2 || rep.Failed != 0 || fmt.Sprint(w.ids) != fmt.Sprint([]string{due.ID, dueNow.ID}) || fmt.Sprint(w.tokens) != "[token-1 token-2]" {
		t.Fatalf("report %+v, woke %v %v", rep, w.ids, w.tokens)
	}
	var left []string
	_ = store.EachDue(ctx, now.Add(time.Hour), func(id string, _ time.Time) { left = append(left, id) })
	if want := []string{due.ID, dueNow.ID, "01KRECONCHINA0000000000003"}; fmt.Sprint(left) != fmt.Sprint(want) {
		t.Fatalf("due times left %v, want %v (those of %s, %s and the missing order cleared)", left, want, ended.ID, noToken.ID)
	}
	// The step has not moved the due times: the next run wakes the same two.
	w2 := &woken{}
	h.Customs = w2
	if rep, err := h.Reconcile(ctx, events.EventBridgeEvent{}); err != nil || rep.Woken != 2 {
		t.Fatalf("the next run: %+v %v, want the two woken again", rep, err)
	}
}

// counting is the order store as the reconciler sees it, counting the
// items it reads: orders listed or read one by one, and due waits.
type counting struct {
	*memstore.Store
	read int
}

func (c *counting) ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error) {
	page, next, err := c.Store.ListByStatus(ctx, status, since, until, limit, cursor)
	c.read += len(page)
	return page, next, err
}

func (c *counting) GetOrder(ctx context.Context, id string) (*order.Order, error) {
	c.read++
	return c.Store.GetOrder(ctx, id)
}

func (c *counting) EachDue(ctx context.Context, now time.Time, f func(id string, at time.Time)) error {
	return c.Store.EachDue(ctx, now, func(id string, at time.Time) {
		c.read++
		f(id, at)
	})
}

// With a thousand orders waiting for China's customs and none due, a run
// reads nothing of them (it used to read all thousand, every minute, and
// wake each); with three due it reads those three and wakes them. The
// DynamoDB store's side of it, on DynamoDB Local, is
// dynamostore.TestDueReadsOnlyTheDue.
func TestReconcileReadsOnlyTheDueWaits(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	store := &counting{Store: memstore.New()}
	var waiting []*order.Order
	for i := range 1000 {
		// The step last woke within the quiet period: each is next due
		// within the next three minutes.
		waiting = append(waiting, waitingForChina(t, store.Store, now, 100+i, true, fmt.Sprint("token-", i),
			now.Add(time.Duration(1+i%180)*time.Second)))
	}
	w := &woken{}
	h := &Handler{Orders: store, Workflow: &enqueued{}, Customs: w, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	rep, err := h.Reconcile(ctx, events.EventBridgeEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Woken != 0 || len(w.ids) != 0 || store.read > 5 {
		t.Fatalf("1,000 waiting, none due: report %+v, %d items read, want none woken and at most a handful read", rep, store.read)
	}
	t.Logf("1,000 waiting, none due: %d items read", store.read)
	for _, o := range waiting[:3] {
		if err := store.SetDue(ctx, o.ID, now.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	store.read = 0
	rep, err = h.Reconcile(ctx, events.EventBridgeEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Woken != 3 || store.read != 6 {
		t.Fatalf("3 of 1,000 due: report %+v, %d items read; want 3 woken, 3 due waits and their 3 orders read", rep, store.read)
	}
}
