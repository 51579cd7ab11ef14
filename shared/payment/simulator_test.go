package payment

import (
	"context"
	"errors"
	"testing"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func auth(key string, amt money.Money, token string) Authorization {
	return Authorization{Key: key, OrderID: "order-" + key, Amount: amt, Token: token}
}

// TestSimulatorReplaysEveryStepOnce: every payment step called twice with
// its key moves money once.
func TestSimulatorReplaysEveryStepOnce(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(7496, "EUR")
	fx := &order.FXRate{From: "EUR", To: "EUR", Rate: "1", Date: "2026-11-30"}
	a := Authorization{Key: Key("o1", "authorize"), OrderID: "o1", Amount: amt, Token: "tok_visa", FX: fx}
	id1, err1 := s.Authorize(ctx, a)
	id2, err2 := s.Authorize(ctx, a)
	if err1 != nil || err2 != nil || id1 != id2 {
		t.Fatalf("replayed authorize: %s %s %v %v", id1, id2, err1, err2)
	}
	for range 2 {
		if err := s.Capture(ctx, Key("o1", "capture"), id1, amt); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Void(ctx, Key("o1", "void"), id1); !errors.Is(err, ErrAlreadyCaptured) {
		t.Fatalf("void after capture: %v", err)
	}
	for range 2 {
		if err := s.Refund(ctx, Key("o1", "refund"), id1, amt); err != nil {
			t.Fatal(err)
		}
	}
	l, ok := s.Order("o1")
	if !ok || l.Authorizations != 1 || l.Captures != 1 || l.Refunds != 1 || l.Voids != 0 || l.Captured != amt || l.FX != fx {
		t.Fatalf("ledger %+v", l)
	}
	if a, c, _, r := s.Ledger(); a != 1 || c != 1 || r != 1 {
		t.Fatalf("%d authorized, %d captured, %d refunded", a, c, r)
	}
	// Void twice: one void.
	id3, _ := s.Authorize(ctx, auth("k-void", amt, "tok_visa"))
	for range 2 {
		if err := s.Void(ctx, "k-void:void", id3); err != nil {
			t.Fatal(err)
		}
	}
	if l, _ := s.Order("order-k-void"); l.Voids != 1 || l.Captures != 0 {
		t.Fatalf("void ledger %+v", l)
	}
	if err := s.Capture(ctx, "k-void:capture", id3, amt); err == nil {
		t.Fatal("a voided charge cannot be captured")
	}
}

func TestSimulatorTokens(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(100, "JPY")
	var declined *Declined
	if _, err := s.Authorize(ctx, auth("k1", amt, "tok_chargeDeclined")); !errors.As(err, &declined) || declined.Reason != "card_declined" {
		t.Fatalf("decline: %v", err)
	}
	if _, err := s.Authorize(ctx, auth("k2", amt, "tok_chargeDeclinedInsufficientFunds")); !errors.As(err, &declined) || declined.Reason != "insufficient_funds" {
		t.Fatalf("insufficient funds: %v", err)
	}
	for i := range 2 {
		if _, err := s.Authorize(ctx, auth("k3", amt, "tok_transient_2")); !errors.Is(err, ErrTransient) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := s.Authorize(ctx, auth("k3", amt, "tok_transient_2")); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	id, _ := s.Authorize(ctx, auth("k4", amt, "tok_expiredAuthorization"))
	if err := s.Capture(ctx, "k4c", id, amt); !errors.Is(err, ErrAuthorizationExpired) {
		t.Fatalf("expired: %v", err)
	}
	if err := s.Capture(ctx, "k5", id, money.New(101, "JPY")); err == nil {
		t.Fatal("capturing more than was authorized must fail")
	}
}

// A timeout after the provider took the charge: the retry with the same key
// finds it, and only one charge exists.
func TestSimulatorTimeoutThenRetryChargesOnce(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(2500, "USD")
	for i := range 2 {
		if _, err := s.Authorize(ctx, auth("kt", amt, "tok_timeout_2")); !errors.Is(err, ErrTransient) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("attempt %d: %v, want a timeout", i, err)
		}
	}
	id, err := s.Authorize(ctx, auth("kt", amt, "tok_timeout_2"))
	if err != nil || id == "" {
		t.Fatalf("third attempt: %q %v", id, err)
	}
	if l, _ := s.Order("order-kt"); l.Authorizations != 1 || l.ChargeID != id {
		t.Fatalf("ledger %+v: one charge", l)
	}
	if a, _, _, _ := s.Ledger(); a != 1 {
		t.Fatalf("%d charges", a)
	}
}

// TestSimulatorAcrossProcesses: in AWS, authorize, capture and compensate run
// in different Lambdas; the charge id carries what they must agree on.
func TestSimulatorAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	amt := money.New(7496, "EUR")
	ok, _ := NewSimulator().Authorize(ctx, auth("a", amt, "tok_visa"))
	exp, _ := NewSimulator().Authorize(ctx, auth("b", amt, "tok_expiredAuthorization"))
	if err := NewSimulator().Capture(ctx, "c", ok, amt); err != nil {
		t.Fatalf("capture elsewhere: %v", err)
	}
	if err := NewSimulator().Capture(ctx, "d", exp, amt); !errors.Is(err, ErrAuthorizationExpired) {
		t.Fatalf("expired elsewhere: %v", err)
	}
	if err := NewSimulator().Refund(ctx, "e", ok, amt); err != nil {
		t.Fatalf("refund elsewhere: %v", err)
	}
	if err := NewSimulator().Void(ctx, "f", "ch_unknown"); err == nil {
		t.Fatal("an unknown charge id must be refused")
	}
}

// TestSimulatorLedgerShowsEveryChargeOfAnOrder: an order authorized twice
// under two keys — a step that is not idempotent — shows two
// authorizations in its ledger, not the last charge alone: what lets the
// chaos auditor see a double charge.
func TestSimulatorLedgerShowsEveryChargeOfAnOrder(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(1999, "EUR")
	first, err := s.Authorize(ctx, Authorization{Key: "o2:authorize-1", OrderID: "o2", Amount: amt, Token: "tok_visa"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := s.Authorize(ctx, Authorization{Key: "o2:authorize-2", OrderID: "o2", Amount: amt, Token: "tok_visa"})
	if err != nil || second == first {
		t.Fatalf("a second key: %s %v", second, err)
	}
	if err := s.Capture(ctx, "o2:capture", second, amt); err != nil {
		t.Fatal(err)
	}
	l, ok := s.Order("o2")
	if !ok || l.Authorizations != 2 || l.Captures != 1 || l.ChargeID != first || l.Amount != money.New(3998, "EUR") || l.Captured != amt {
		t.Fatalf("ledger %+v", l)
	}
}
