package steps_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/storetest"
	"github.com/xborder/xborder/shared/workflow"
)

// fixtureWith stores the fixture's order after change has edited it.
func fixtureWith(t *testing.T, change func(o *order.Order)) *fixture {
	t.Helper()
	f := &fixture{orders: memstore.New(), stock: memstore.NewStock(), pay: payment.NewSimulator(), events: &recorder{}}
	f.steps = &steps.Steps{Orders: f.orders, Stock: f.stock, Payments: f.pay, Events: f.events,
		Now: func() time.Time { return time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC) }}
	o := storetest.Order("01KSTEPS0000000000000000002", "alice", time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC))
	o.Payment.Token = "tok_visa"
	change(o)
	f.id = o.ID
	ctx := context.Background()
	if _, err := f.orders.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", "k2", o.ID, o.CreatedAt), o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	_ = f.stock.Put(ctx, "CN-SZX-1", "SKU-1", 10)
	_ = f.stock.Put(ctx, "CN-SZX-1", "SKU-2", 10)
	return f
}

func TestScreeningRecordsTheMatchedEntryAndRejects(t *testing.T) {
	cases := []struct {
		name       string
		change     func(o *order.Order)
		reason     string
		field      string
		entryEmpty bool
	}{
		{"restricted goods", func(o *order.Order) { o.Lines[0].HSCode = "930320" }, "restricted_goods", "/lines/0/hsCode", false},
		{"denied party (another word order, punctuation)", func(o *order.Order) { o.Consignee.Name = "Trading Sanctioned, ACME Co." }, "denied_party", "/consignee/name", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := fixtureWith(t, tc.change)
			ctx := context.Background()
			in := steps.Input{OrderID: f.id}
			for attempt := range 2 { // a retried Screen answers the same and records nothing twice
				_, err := f.steps.Screen(ctx, in)
				var rejected *workflow.Rejected
				if !errors.As(err, &rejected) || rejected.Reason != tc.reason {
					t.Fatalf("attempt %d: %v, want Rejected %s", attempt, err, tc.reason)
				}
			}
			o := f.order(t)
			if o.Screening == nil || o.Screening.Reason != tc.reason || o.Screening.Field != tc.field || o.Screening.EntryID == "" || o.Screening.Source == "" {
				t.Fatalf("screening record = %+v", o.Screening)
			}
			if o.Version != 2 {
				t.Fatalf("version %d: the hit must be noted once", o.Version)
			}
			_, err := f.steps.Screen(ctx, in)
			r, err := f.steps.Compensate(ctx, steps.CompensateInput{OrderID: f.id, Error: caught(t, err)})
			if err != nil || r.Status != order.StatusRejected || r.Reason != tc.reason {
				t.Fatalf("compensate: %+v %v", r, err)
			}
			if a, _, _, _ := f.pay.Ledger(); a != 0 || f.available("SKU-1") != 10 {
				t.Fatal("screening must decide before stock or money is touched")
			}
		})
	}
}

func TestAuthorizeChargesWhatTheQuoteCollectsAtCheckout(t *testing.T) {
	f := fixtureWith(t, func(o *order.Order) {
		o.FX = &order.FXRate{From: "EUR", To: "EUR", Rate: "1", Date: "2026-11-24", Source: "test"}
		o.Customs = &order.CustomsRecord{QuoteID: "Q1", Quoted: &order.LandedCharges{
			Duty: money.New(0, o.Currency), Tax: money.New(1424, o.Currency), AtCheckout: money.New(1424, o.Currency)}}
	})
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	if _, err := f.steps.ReserveStock(ctx, in); err != nil {
		t.Fatal(err)
	}
	if _, err := f.steps.AuthorizePayment(ctx, in); err != nil {
		t.Fatal(err)
	}
	o := f.order(t)
	if want := o.Total.Amount + 1424; o.Charge.Amount.Amount != want {
		t.Fatalf("authorized %v, want the total plus the quoted VAT: %d", o.Charge.Amount, want)
	}
	// The rate locked at intake goes with the payment, to the provider too.
	if o.Charge.FX == nil || *o.Charge.FX != *o.FX {
		t.Fatalf("charge fx %+v, order fx %+v", o.Charge.FX, o.FX)
	}
	if l, _ := f.pay.Order(o.ID); l.FX == nil || l.FX.Date != "2026-11-24" || l.Amount != o.Charge.Amount {
		t.Fatalf("provider ledger %+v", l)
	}
}
