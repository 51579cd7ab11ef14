package order

import (
	"errors"
	"testing"
	"time"
)

func TestAccept(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))
	d := valid()
	o, ev := Accept(d, "01KORDER", "alice", "customer:alice", now)
	if o.Status != StatusReceived || o.Version != 1 || o.Incoterm != IncotermDDP || o.CreatedAt.Location() != time.UTC ||
		!o.CreatedAt.Equal(now) || o.CustomerID != "alice" || o.ID != "01KORDER" {
		t.Fatalf("accepted order %+v", o)
	}
	if ev != (Event{OrderID: "01KORDER", Version: 1, At: now.UTC(), To: StatusReceived, Actor: "customer:alice"}) {
		t.Fatalf("first event %+v", ev)
	}
	d.Incoterm = IncotermDAP
	if o, _ := Accept(d, "x", "a", "a", now); o.Incoterm != IncotermDAP {
		t.Fatal("an explicit incoterm must be kept")
	}
}

func TestTransitions(t *testing.T) {
	happy := []Status{StatusReceived, StatusStockReserved, StatusPaymentAuthorized, StatusCustomsCleared, StatusPaymentCaptured, StatusDispatched, StatusDelivered}
	for i := 1; i < len(happy); i++ {
		if !CanTransition(happy[i-1], happy[i]) {
			t.Errorf("%s → %s must be allowed", happy[i-1], happy[i])
		}
	}
	// The failure table of architecture.md.
	for _, tc := range []struct{ from, to Status }{
		{StatusReceived, StatusRejected},
		{StatusStockReserved, StatusPaymentDeclined},
		{StatusPaymentAuthorized, StatusCustomsRejected},
		{StatusPaymentCaptured, StatusFailed},
		{StatusPaymentAuthorized, StatusCancelled},
		{StatusCustomsCleared, StatusStalled},
		{StatusStalled, StatusCustomsCleared},
		{StatusStalled, StatusCancelled},
	} {
		if !CanTransition(tc.from, tc.to) {
			t.Errorf("%s → %s must be allowed", tc.from, tc.to)
		}
	}
	for _, tc := range []struct{ from, to Status }{
		{StatusDispatched, StatusCancelled}, // 409 after dispatch
		{StatusReceived, StatusDispatched},
		{StatusRejected, StatusStockReserved},
		{StatusCancelled, StatusReceived},
		{StatusStockReserved, StatusRejected}, // screening happens before stock is touched
	} {
		if CanTransition(tc.from, tc.to) {
			t.Errorf("%s → %s must be refused", tc.from, tc.to)
		}
	}
	for _, s := range Statuses {
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
		if s.Terminal() && len(transitions[s]) > 0 {
			t.Errorf("terminal %s has successors", s)
		}
	}
	if Status("SHIPPED").Valid() || StatusStalled.Terminal() || !StatusCancelled.Terminal() {
		t.Fatal("Valid/Terminal wrong")
	}
}

func TestOrderTransition(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	o, _ := Accept(valid(), "01KORDER", "alice", "customer:alice", now)
	ev, err := o.Transition(StatusStockReserved, "", "workflow", now.Add(time.Second))
	if err != nil || o.Status != StatusStockReserved || o.Version != 2 || !o.UpdatedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("%+v %v", o, err)
	}
	if ev.From != StatusReceived || ev.To != StatusStockReserved || ev.Version != 2 || ev.Actor != "workflow" {
		t.Fatalf("event %+v", ev)
	}
	before := *o
	if _, err := o.Transition(StatusDelivered, "", "x", now); !errors.Is(err, ErrTransition) {
		t.Fatalf("err %v, want ErrTransition", err)
	}
	if o.Status != before.Status || o.Version != before.Version {
		t.Fatal("a refused transition changed the order")
	}
}

func TestTerminal(t *testing.T) {
	for _, tc := range []struct {
		s        Status
		terminal bool
	}{
		{StatusReceived, false}, {StatusStockReserved, false}, {StatusPaymentAuthorized, false},
		{StatusCustomsCleared, false}, {StatusPaymentCaptured, false}, {StatusDispatched, false},
		{StatusStalled, false},
		{StatusDelivered, true}, {StatusRejected, true}, {StatusPaymentDeclined, true},
		{StatusCustomsRejected, true}, {StatusCancelled, true}, {StatusFailed, true},
	} {
		if got := tc.s.Terminal(); got != tc.terminal {
			t.Errorf("%s.Terminal() = %v, want %v", tc.s, got, tc.terminal)
		}
		// Every status that is not terminal has somewhere to go.
		if !tc.terminal && len(transitions[tc.s]) == 0 {
			t.Errorf("%s is not terminal but has no successor", tc.s)
		}
	}
	if len(Statuses) != 13 {
		t.Fatalf("%d statuses: add the new one to this table", len(Statuses))
	}
}

func TestRequestCancel(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		status Status
		ok     bool
		err    error
	}{
		{StatusReceived, true, nil},
		{StatusPaymentAuthorized, true, nil},
		{StatusStalled, true, nil},
		{StatusDispatched, false, ErrTooLate},
		{StatusDelivered, false, ErrTooLate},
		{StatusCancelled, false, nil},
		{StatusRejected, false, nil},
	} {
		o, _ := Accept(valid(), "01KORDER", "alice", "customer:alice", now)
		o.Status = tc.status
		ev, ok, err := o.RequestCancel("customer:alice", now.Add(time.Minute))
		if ok != tc.ok || !errors.Is(err, tc.err) {
			t.Errorf("%s: ok %v err %v, want %v %v", tc.status, ok, err, tc.ok, tc.err)
			continue
		}
		if !ok {
			if o.CancelRequested || o.Version != 1 {
				t.Errorf("%s: a refused cancellation changed the order", tc.status)
			}
			continue
		}
		if !o.CancelRequested || o.CancelledBy != "customer:alice" || o.Version != 2 || o.Status != tc.status {
			t.Errorf("%s: order after cancel request %+v", tc.status, o)
		}
		if ev.Version != 2 || ev.From != tc.status || ev.To != tc.status || ev.Reason != "cancel_requested" {
			t.Errorf("%s: event %+v", tc.status, ev)
		}
		if _, again, err := o.RequestCancel("ops:bob", now); again || err != nil || o.CancelledBy != "customer:alice" {
			t.Errorf("%s: a second request must change nothing", tc.status)
		}
	}
}

func TestNote(t *testing.T) {
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	o, _ := Accept(valid(), "01KORDER", "alice", "customer:alice", now)
	ev := o.Note("stock_reserved", "workflow", now.Add(time.Second))
	if o.Version != 2 || o.Status != StatusReceived || !o.UpdatedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("order after note %+v", o)
	}
	if ev != (Event{OrderID: "01KORDER", Version: 2, At: now.Add(time.Second), From: StatusReceived, To: StatusReceived,
		Reason: "stock_reserved", Actor: "workflow"}) {
		t.Fatalf("event %+v", ev)
	}
}
