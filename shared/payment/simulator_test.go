package payment

import (
	"context"
	"errors"
	"testing"

	"github.com/xborder/xborder/shared/money"
)

func TestSimulatorChargesOncePerKey(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(7496, "EUR")
	id1, err1 := s.Authorize(ctx, Key("o1", "authorize"), amt, "tok_visa")
	id2, err2 := s.Authorize(ctx, Key("o1", "authorize"), amt, "tok_visa")
	if err1 != nil || err2 != nil || id1 != id2 {
		t.Fatalf("replayed authorize: %s %s %v %v", id1, id2, err1, err2)
	}
	for range 2 {
		if err := s.Capture(ctx, Key("o1", "capture"), id1, amt); err != nil {
			t.Fatal(err)
		}
	}
	if a, c, _, _ := s.Ledger(); a != 1 || c != 1 {
		t.Fatalf("%d authorized, %d captured", a, c)
	}
	if err := s.Void(ctx, Key("o1", "void"), id1); !errors.Is(err, ErrAlreadyCaptured) {
		t.Fatalf("void after capture: %v", err)
	}
	if err := s.Refund(ctx, Key("o1", "refund"), id1, amt); err != nil {
		t.Fatal(err)
	}
	if err := s.Capture(ctx, Key("o2", "capture"), id1, money.New(9999, "EUR")); err != nil {
		t.Fatal("capturing a captured charge again is a no-op")
	}
}

func TestSimulatorTokens(t *testing.T) {
	s := NewSimulator()
	ctx := context.Background()
	amt := money.New(100, "JPY")
	var declined *Declined
	if _, err := s.Authorize(ctx, "k1", amt, "tok_chargeDeclined"); !errors.As(err, &declined) || declined.Reason != "card_declined" {
		t.Fatalf("decline: %v", err)
	}
	if _, err := s.Authorize(ctx, "k2", amt, "tok_chargeDeclinedInsufficientFunds"); !errors.As(err, &declined) || declined.Reason != "insufficient_funds" {
		t.Fatalf("insufficient funds: %v", err)
	}
	for i := range 2 {
		if _, err := s.Authorize(ctx, "k3", amt, "tok_transient_2"); !errors.Is(err, ErrTransient) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	if _, err := s.Authorize(ctx, "k3", amt, "tok_transient_2"); err != nil {
		t.Fatalf("third attempt: %v", err)
	}
	id, _ := s.Authorize(ctx, "k4", amt, "tok_expiredAuthorization")
	if err := s.Capture(ctx, "k4c", id, amt); !errors.Is(err, ErrAuthorizationExpired) {
		t.Fatalf("expired: %v", err)
	}
}

// TestSimulatorAcrossProcesses: in AWS, authorize, capture and compensate run
// in different Lambdas; the charge id carries what they must agree on.
func TestSimulatorAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	amt := money.New(7496, "EUR")
	ok, _ := NewSimulator().Authorize(ctx, "a", amt, "tok_visa")
	exp, _ := NewSimulator().Authorize(ctx, "b", amt, "tok_expiredAuthorization")
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
