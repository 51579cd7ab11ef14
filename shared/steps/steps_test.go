package steps_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/storetest"
	"github.com/xborder/xborder/shared/workflow"
)

type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) Publish(_ context.Context, o *order.Order, ev order.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, string(ev.To))
	return nil
}

type fixture struct {
	steps  *steps.Steps
	orders *memstore.Store
	stock  *memstore.Stock
	pay    *payment.Simulator
	events *recorder
	id     string
}

// newFixture stores one order from CN to DE (direct mail) with token tok
// and stocks the origin warehouse.
func newFixture(t *testing.T, tok string) *fixture {
	t.Helper()
	f := &fixture{orders: memstore.New(), stock: memstore.NewStock(), pay: payment.NewSimulator(), events: &recorder{}}
	f.steps = &steps.Steps{Orders: f.orders, Stock: f.stock, Payments: f.pay, Events: f.events,
		Now: func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }}
	o := storetest.Order("01KSTEPS0000000000000000001", "alice", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	o.Payment.Token = tok
	f.id = o.ID
	ctx := context.Background()
	if _, err := f.orders.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", "k", o.ID, o.CreatedAt), o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	_ = f.stock.Put(ctx, "CN-SZX-1", "SKU-1", 10)
	_ = f.stock.Put(ctx, "CN-SZX-1", "SKU-2", 10)
	return f
}

func (f *fixture) order(t *testing.T) *order.Order {
	t.Helper()
	o, err := f.orders.GetOrder(context.Background(), f.id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func (f *fixture) available(sku string) int64 {
	n, _ := f.stock.Available(context.Background(), "CN-SZX-1", sku)
	return n
}

// clearCustoms plays the customs worker's part for the unit tests.
func (f *fixture) clearCustoms(t *testing.T) {
	t.Helper()
	if _, err := f.steps.Advance(context.Background(), f.id, order.StatusCustomsCleared, nil); err != nil {
		t.Fatal(err)
	}
}

// caught turns a step's error into what a Catch hands Compensate.
func caught(t *testing.T, err error) steps.CaughtError {
	t.Helper()
	if err == nil {
		t.Fatal("want a business error, got none")
	}
	name := errorType(err)
	if !slices.Contains(workflow.BusinessErrors, name) {
		t.Fatalf("%T (%v) is not a business error", err, err)
	}
	cause, _ := json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": name})
	return steps.CaughtError{Error: name, Cause: string(cause)}
}

// errorType names err as the Lambda runtime does (aws-lambda-go's
// getErrorType): the type name, through one pointer. That name is what
// Step Functions' Retry and Catch match.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

func TestHappyPathEveryStepTwice(t *testing.T) {
	f := newFixture(t, "tok_visa")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	run := func(step func(context.Context, steps.Input) (steps.Result, error), want order.Status) {
		t.Helper()
		for range 2 { // Step Functions or Lambda may run a step again
			r, err := step(ctx, in)
			if err != nil || (want != "" && r.Status != want) {
				t.Fatalf("step: %+v %v, want %s", r, err, want)
			}
		}
	}
	run(f.steps.Screen, order.StatusReceived)
	run(f.steps.ReserveStock, order.StatusStockReserved)
	run(f.steps.AuthorizePayment, order.StatusPaymentAuthorized)
	f.clearCustoms(t)
	run(f.steps.CapturePayment, order.StatusPaymentCaptured)
	run(f.steps.MarkDispatched, order.StatusDispatched)

	o := f.order(t)
	if o.Warehouse != "CN-SZX-1" || o.Charge == nil || o.Charge.Status != order.ChargeCaptured || o.Version != 6 {
		t.Fatalf("order %+v", o)
	}
	if f.available("SKU-1") != 8 || f.available("SKU-2") != 9 {
		t.Fatalf("stock taken twice: %d %d", f.available("SKU-1"), f.available("SKU-2"))
	}
	if a, c, v, r := f.pay.Ledger(); a != 1 || c != 1 || v != 0 || r != 0 {
		t.Fatalf("ledger: %d authorized, %d captured, %d voided, %d refunded; want one charge captured once", a, c, v, r)
	}
	if got := strings.Join(f.events.events, ","); got != "STOCK_RESERVED,PAYMENT_AUTHORIZED,CUSTOMS_CLEARED,PAYMENT_CAPTURED,DISPATCHED" {
		t.Fatalf("published %s", got)
	}
}

func TestDeclinedReleasesStockAndCapturesNothing(t *testing.T) {
	f := newFixture(t, "tok_chargeDeclinedInsufficientFunds")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	_, err := f.steps.AuthorizePayment(ctx, in)
	var declined *workflow.PaymentDeclined
	if !errors.As(err, &declined) || declined.Reason != "insufficient_funds" {
		t.Fatalf("authorize: %v", err)
	}
	r, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, err)})
	if err != nil || r.Status != order.StatusPaymentDeclined || r.Reason != "insufficient_funds" {
		t.Fatalf("compensate: %+v %v", r, err)
	}
	if f.available("SKU-1") != 10 {
		t.Fatalf("stock not released: %d", f.available("SKU-1"))
	}
	if a, c, _, _ := f.pay.Ledger(); a != 0 || c != 0 {
		t.Fatal("a declined order holds a charge")
	}
	// Compensating again changes nothing.
	if r2, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, declined)}); err != nil || r2 != r {
		t.Fatalf("second compensation: %+v %v", r2, err)
	}
	if f.available("SKU-1") != 10 {
		t.Fatal("stock released twice")
	}
}

func TestCustomsRejectionVoidsTheAuthorization(t *testing.T) {
	f := newFixture(t, "tok_visa")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	_, _ = f.steps.AuthorizePayment(ctx, in)
	// The customs worker fails the task token with CustomsRejected and a plain cause.
	r, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id,
		Error: steps.CaughtError{Error: workflow.ErrCustomsRejected, Cause: "invoice_value_mismatch"}})
	if err != nil || r.Status != order.StatusCustomsRejected || r.Reason != "invoice_value_mismatch" {
		t.Fatalf("compensate: %+v %v", r, err)
	}
	if _, c, v, _ := f.pay.Ledger(); c != 0 || v != 1 {
		t.Fatalf("captured %d, voided %d; want the authorization voided", c, v)
	}
	if f.order(t).Charge.Status != order.ChargeVoided || f.available("SKU-1") != 10 {
		t.Fatal("charge not marked voided or stock not released")
	}
}

func TestWarehouseFailureAfterCaptureRefunds(t *testing.T) {
	f := newFixture(t, "tok_visa")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	_, _ = f.steps.AuthorizePayment(ctx, in)
	f.clearCustoms(t)
	_, _ = f.steps.CapturePayment(ctx, in)
	r, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id,
		Error: steps.CaughtError{Error: workflow.ErrOrderFailed, Cause: "warehouse_cannot_ship"}})
	if err != nil || r.Status != order.StatusFailed || r.Reason != "warehouse_cannot_ship" {
		t.Fatalf("compensate: %+v %v", r, err)
	}
	if _, c, v, rf := f.pay.Ledger(); c != 1 || v != 0 || rf != 1 {
		t.Fatalf("captured %d voided %d refunded %d; want one capture refunded", c, v, rf)
	}
}

func TestExpiredAuthorizationFailsTheOrder(t *testing.T) {
	f := newFixture(t, "tok_expiredAuthorization")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	_, _ = f.steps.AuthorizePayment(ctx, in)
	f.clearCustoms(t)
	_, err := f.steps.CapturePayment(ctx, in)
	var failed *workflow.OrderFailed
	if !errors.As(err, &failed) || failed.Reason != "authorization_expired" {
		t.Fatalf("capture: %v", err)
	}
	r, _ := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, err)})
	if r.Status != order.StatusFailed || r.Reason != "authorization_expired" {
		t.Fatalf("compensate: %+v", r)
	}
}

func TestCancelCompensatesWhatWasDone(t *testing.T) {
	f := newFixture(t, "tok_visa")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	_, _ = f.steps.AuthorizePayment(ctx, in)
	o := f.order(t)
	ev, changed, err := o.RequestCancel("customer:alice", time.Now())
	if err != nil || !changed {
		t.Fatal(err)
	}
	if err := f.orders.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	_, err = f.steps.CapturePayment(ctx, in)
	var cancelled *workflow.OrderCancelled
	if !errors.As(err, &cancelled) {
		t.Fatalf("capture after cancel: %v", err)
	}
	r, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, err)})
	if err != nil || r.Status != order.StatusCancelled || r.Reason != "cancelled_by_customer" {
		t.Fatalf("compensate: %+v %v", r, err)
	}
	if _, c, v, _ := f.pay.Ledger(); c != 0 || v != 1 || f.available("SKU-1") != 10 {
		t.Fatalf("captured %d voided %d stock %d", c, v, f.available("SKU-1"))
	}
}

func TestOutOfStockAndScreeningRejectBeforeMoney(t *testing.T) {
	f := newFixture(t, "tok_visa")
	ctx := context.Background()
	_ = f.stock.Put(ctx, "CN-SZX-1", "SKU-2", 0)
	_, err := f.steps.ReserveStock(ctx, steps.Input{OrderID: f.id})
	var rejected *workflow.Rejected
	if !errors.As(err, &rejected) || rejected.Reason != "out_of_stock" {
		t.Fatalf("reserve: %v", err)
	}
	if f.available("SKU-1") != 10 {
		t.Fatal("a failed reservation took stock")
	}
	r, _ := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, err)})
	if r.Status != order.StatusRejected || r.Reason != "out_of_stock" {
		t.Fatalf("%+v", r)
	}
	if a, _, _, _ := f.pay.Ledger(); a != 0 {
		t.Fatal("money touched")
	}
}

func TestTransientFailureStallsWithoutCompensating(t *testing.T) {
	f := newFixture(t, "tok_transient_3")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	for i := range 3 {
		_, err := f.steps.AuthorizePayment(ctx, in)
		var tr *workflow.TransientError
		if !errors.As(err, &tr) {
			t.Fatalf("attempt %d: %v, want TransientError", i, err)
		}
	}
	o := f.order(t)
	if o.Status != order.StatusStockReserved || f.available("SKU-1") != 8 {
		t.Fatal("a transient failure must change nothing: no status, no compensation")
	}
	// A redrive runs the step again and it goes through, once.
	if r, err := f.steps.AuthorizePayment(ctx, in); err != nil || r.Status != order.StatusPaymentAuthorized {
		t.Fatalf("after redrive: %+v %v", r, err)
	}
	if a, _, _, _ := f.pay.Ledger(); a != 1 {
		t.Fatalf("%d charges", a)
	}
}

// TestErrorNamesThroughLambda invokes a step the way the Lambda runtime does
// and checks the errorType Step Functions' Catch will see.
func TestErrorNamesThroughLambda(t *testing.T) {
	f := newFixture(t, "tok_chargeDeclined")
	raw, err := os.ReadFile("../../events/workflow/step-input.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "01KSAMPLEORDER00000000000000", f.id))
	if _, err := lambda.NewHandler(f.steps.ReserveStock).Invoke(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	_, err = lambda.NewHandler(f.steps.AuthorizePayment).Invoke(context.Background(), raw)
	if err == nil || errorType(err) != workflow.ErrPaymentDeclined || err.Error() != "card_declined" {
		t.Fatalf("Lambda reports %s: %v, want errorType PaymentDeclined, message card_declined", errorType(err), err)
	}
	craw, _ := os.ReadFile("../../events/workflow/compensate-input.json")
	craw = []byte(strings.ReplaceAll(string(craw), "01KSAMPLEORDER00000000000000", f.id))
	out, err := lambda.NewHandler(f.steps.Compensate).Invoke(context.Background(), craw)
	if err != nil || !strings.Contains(string(out), `"status":"PAYMENT_DECLINED"`) {
		t.Fatalf("compensate through Lambda: %s %v", out, err)
	}
}

// TestEveryStepThroughLambda runs the whole happy path with the step input
// event from events/, through the same Invoke the Lambda runtime uses.
func TestEveryStepThroughLambda(t *testing.T) {
	f := newFixture(t, "tok_visa")
	raw, err := os.ReadFile("../../events/workflow/step-input.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "01KSAMPLEORDER00000000000000", f.id))
	for _, tc := range []struct {
		name string
		h    any
		want order.Status
	}{
		{"screen", f.steps.Screen, order.StatusReceived},
		{"reserve-stock", f.steps.ReserveStock, order.StatusStockReserved},
		{"authorize-payment", f.steps.AuthorizePayment, order.StatusPaymentAuthorized},
		{"customs (worker)", nil, order.StatusCustomsCleared},
		{"capture-payment", f.steps.CapturePayment, order.StatusPaymentCaptured},
		{"mark-dispatched", f.steps.MarkDispatched, order.StatusDispatched},
	} {
		if tc.h == nil {
			f.clearCustoms(t)
			continue
		}
		out, err := lambda.NewHandler(tc.h).Invoke(context.Background(), raw)
		var res steps.Result
		if err != nil || json.Unmarshal(out, &res) != nil || res.Status != tc.want || res.OrderID != f.id {
			t.Fatalf("%s: %s %v, want %s", tc.name, out, err, tc.want)
		}
	}
}
