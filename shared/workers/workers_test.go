package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/storetest"
)

// taskLog records what Step Functions was told.
type taskLog struct {
	mu      sync.Mutex
	answers []string
	beats   int
}

func (l *taskLog) SucceedTask(_ context.Context, token, output string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, token+" success "+output)
	return nil
}

func (l *taskLog) FailTask(_ context.Context, token, name, cause string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.answers = append(l.answers, token+" "+name+" "+cause)
	return nil
}

func (l *taskLog) Heartbeat(context.Context, string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.beats++
	return nil
}

type fixture struct {
	store *memstore.Store
	tasks *taskLog
	s     *steps.Steps
}

// newOrder stores an order moved to status, with change applied first.
func (f *fixture) newOrder(t *testing.T, n int, status order.Status, change func(o *order.Order)) *order.Order {
	t.Helper()
	ctx := context.Background()
	o := storetest.Order(fmt.Sprintf("01KWORKER00000000000000%03d", n), "alice", time.Now().Add(-time.Hour))
	if status != order.StatusReceived && status != order.StatusStockReserved {
		// The authorization the payment step records, which China's payment record repeats.
		o.Charge = &order.Charge{ID: "ch_" + o.ID, Status: order.ChargeAuthorized, Amount: o.Total}
	}
	if change != nil {
		change(o)
	}
	if _, err := f.store.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared, order.StatusPaymentCaptured} {
		if steps.Reached(o, status) {
			break
		}
		ev, _ := o.Transition(st, "", "workflow", time.Now())
		if err := f.store.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
	}
	return o
}

// docsOf reads what the customs step keeps beside order id: the
// declaration, China's messages and customs' receipts.
func docsOf(t *testing.T, f *fixture, id string) order.CustomsDocuments {
	t.Helper()
	d, err := f.store.CustomsDocuments(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func newFixture() *fixture {
	f := &fixture{store: memstore.New(), tasks: &taskLog{}}
	f.s = &steps.Steps{Orders: f.store}
	return f
}

func batch(msgs ...TaskMessage) events.SQSEvent {
	var ev events.SQSEvent
	for i, m := range msgs {
		b, _ := json.Marshal(m)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: fmt.Sprint("m", i), Body: string(b)})
	}
	return ev
}

func TestCustomsClearsOnceAndAnswersRedeliveries(t *testing.T) {
	f := newFixture()
	o := f.newOrder(t, 1, order.StatusPaymentAuthorized, nil)
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	raw, err := os.ReadFile("../../events/sqs/customs.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "01KSAMPLEORDER00000000000001", o.ID))
	invoke := lambda.NewHandler(w.Handle)
	for range 2 { // SQS delivers twice
		out, err := invoke.Invoke(context.Background(), raw)
		if err != nil || strings.Contains(string(out), "itemIdentifier") {
			t.Fatalf("batch: %s %v", out, err)
		}
	}
	got, _ := f.store.GetOrder(context.Background(), o.ID)
	if got.Status != order.StatusCustomsCleared || got.CustomsDeclaration != "CD-"+o.ID || got.TaskToken != "" {
		t.Fatalf("order %+v", got)
	}
	want := `token-customs-1 success {"declaration":"CD-` + o.ID + `"}`
	if len(f.tasks.answers) != 2 || f.tasks.answers[0] != want || f.tasks.answers[1] != want {
		t.Fatalf("answers %v", f.tasks.answers)
	}
	h, _ := f.store.History(context.Background(), o.ID)
	if last := h[len(h)-1]; last.To != order.StatusCustomsCleared || h[len(h)-2].Reason != "awaiting_customs" {
		t.Fatalf("history %+v", h)
	}
}

func TestCustomsRefusalAndCancellation(t *testing.T) {
	f := newFixture()
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	refused := f.newOrder(t, 2, order.StatusPaymentAuthorized, func(o *order.Order) { o.Lines[0].HSCode = "3004900000" })
	cancelled := f.newOrder(t, 3, order.StatusPaymentAuthorized, nil)
	ev, _, _ := cancelled.RequestCancel("ops:bob", time.Now())
	_ = f.store.SaveTransition(context.Background(), cancelled, ev)
	resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: refused.ID, TaskToken: "t-refused"}, TaskMessage{OrderID: cancelled.ID, TaskToken: "t-cancelled"}, TaskMessage{OrderID: "x"}))
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "m2" {
		t.Fatalf("failures %+v, want only the message without a token", resp.BatchItemFailures)
	}
	if fmt.Sprint(f.tasks.answers) != "[t-refused CustomsRejected licence_required t-cancelled OrderCancelled cancelled]" {
		t.Fatalf("answers %v", f.tasks.answers)
	}
	if got, _ := f.store.GetOrder(context.Background(), refused.ID); got.Status != order.StatusPaymentAuthorized {
		t.Fatal("a refusal must leave the status to compensation")
	}
}

func TestCustomsOutageKeepsTheTokenForCancellation(t *testing.T) {
	f := newFixture()
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	o := f.newOrder(t, 4, order.StatusPaymentAuthorized, func(o *order.Order) { o.Lines[0].SKU = "SIM-CUSTOMS-FAIL-2" })
	for i := range 2 {
		resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-4"}))
		if len(resp.BatchItemFailures) != 1 {
			t.Fatalf("attempt %d: the outage must send the message back", i)
		}
	}
	if got, _ := f.store.GetOrder(context.Background(), o.ID); got.TaskToken != "t-4" {
		t.Fatalf("token %q not stored while waiting", got.TaskToken)
	}
	resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-4"}))
	if len(resp.BatchItemFailures) != 0 || len(f.tasks.answers) != 1 || !strings.HasPrefix(f.tasks.answers[0], "t-4 success") {
		t.Fatalf("third attempt: %+v %v", resp, f.tasks.answers)
	}
	if h, _ := f.store.History(context.Background(), o.ID); len(h) != 5 { // 3 statuses + awaiting_customs + cleared
		t.Fatalf("history has %d events: the token is stored once", len(h))
	}
}

func TestWarehouseShipsOrRefuses(t *testing.T) {
	f := newFixture()
	w := NewDispatch(f.s, f.tasks, &WarehouseSimulator{}, slog.New(slog.DiscardHandler))
	ok := f.newOrder(t, 5, order.StatusPaymentCaptured, nil)
	stuck := f.newOrder(t, 6, order.StatusPaymentCaptured, func(o *order.Order) { o.Lines[1].SKU = "SIM-CANNOT-SHIP" })
	for range 2 {
		resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: ok.ID, TaskToken: "t-ok"}, TaskMessage{OrderID: stuck.ID, TaskToken: "t-stuck"}))
		if len(resp.BatchItemFailures) != 0 {
			t.Fatalf("%+v", resp)
		}
	}
	got, _ := f.store.GetOrder(context.Background(), ok.ID)
	tracking := "XB" + ok.ID[len(ok.ID)-10:] + "DE"
	// The parcel's tracking number and the dispatch are one write;
	// MarkDispatched, the step after, finds it done.
	if got.TrackingNumber != tracking || got.Status != order.StatusDispatched || got.Reason != "" {
		t.Fatalf("shipped order %+v, want DISPATCHED with its tracking number", got)
	}
	if h, _ := f.store.History(context.Background(), ok.ID); h[len(h)-1].To != order.StatusDispatched || h[len(h)-1].Actor != "warehouse:"+got.Warehouse {
		t.Fatalf("history %+v: want the dispatch by the warehouse last", h)
	}
	want := []string{`t-ok success {"trackingNumber":"` + tracking + `"}`, "t-stuck OrderFailed warehouse_cannot_ship"}
	if fmt.Sprint(f.tasks.answers[:2]) != fmt.Sprint(want) || f.tasks.answers[2] != want[0] {
		t.Fatalf("answers %v", f.tasks.answers)
	}
}

func TestWarehouseEventThroughLambda(t *testing.T) {
	f := newFixture()
	o := f.newOrder(t, 7, order.StatusPaymentCaptured, nil)
	raw, err := os.ReadFile("../../events/sqs/warehouse.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "01KSAMPLEORDER00000000000001", o.ID))
	w := NewDispatch(f.s, f.tasks, &WarehouseSimulator{}, slog.New(slog.DiscardHandler))
	out, err := lambda.NewHandler(w.Handle).Invoke(context.Background(), raw)
	if err != nil || strings.Contains(string(out), "itemIdentifier") || len(f.tasks.answers) != 1 ||
		!strings.HasPrefix(f.tasks.answers[0], "token-warehouse-1 success") {
		t.Fatalf("%s %v %v", out, err, f.tasks.answers)
	}
}
