package order

import (
	"errors"
	"fmt"
	"time"
)

// Status is where an order stands. The happy path is
// RECEIVED → STOCK_RESERVED → PAYMENT_AUTHORIZED → CUSTOMS_CLEARED →
// PAYMENT_CAPTURED → DISPATCHED → DELIVERED.
type Status string

// Statuses, as in the failure table of architecture.md.
const (
	StatusReceived          Status = "RECEIVED"
	StatusStockReserved     Status = "STOCK_RESERVED"
	StatusPaymentAuthorized Status = "PAYMENT_AUTHORIZED"
	StatusCustomsCleared    Status = "CUSTOMS_CLEARED"
	StatusPaymentCaptured   Status = "PAYMENT_CAPTURED"
	StatusDispatched        Status = "DISPATCHED"
	StatusDelivered         Status = "DELIVERED"

	StatusRejected        Status = "REJECTED"
	StatusPaymentDeclined Status = "PAYMENT_DECLINED"
	StatusCustomsRejected Status = "CUSTOMS_REJECTED"
	StatusCancelled       Status = "CANCELLED"
	StatusFailed          Status = "FAILED"
	// StatusStalled is not terminal: an operator redrives or cancels it.
	StatusStalled Status = "STALLED"
)

// Statuses lists every status, happy path first.
var Statuses = []Status{
	StatusReceived, StatusStockReserved, StatusPaymentAuthorized, StatusCustomsCleared,
	StatusPaymentCaptured, StatusDispatched, StatusDelivered,
	StatusRejected, StatusPaymentDeclined, StatusCustomsRejected, StatusCancelled, StatusFailed, StatusStalled,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, k := range Statuses {
		if s == k {
			return true
		}
	}
	return false
}

// Terminal reports whether no further status can follow s.
func (s Status) Terminal() bool {
	switch s {
	case StatusDelivered, StatusRejected, StatusPaymentDeclined, StatusCustomsRejected, StatusCancelled, StatusFailed:
		return true
	}
	return false
}

// transitions lists, for each status, the statuses that may follow it.
var transitions = map[Status][]Status{
	StatusReceived:          {StatusStockReserved, StatusRejected, StatusCancelled, StatusStalled},
	StatusStockReserved:     {StatusPaymentAuthorized, StatusPaymentDeclined, StatusCancelled, StatusStalled},
	StatusPaymentAuthorized: {StatusCustomsCleared, StatusCustomsRejected, StatusCancelled, StatusStalled},
	StatusCustomsCleared:    {StatusPaymentCaptured, StatusCancelled, StatusStalled, StatusFailed},
	StatusPaymentCaptured:   {StatusDispatched, StatusFailed, StatusCancelled, StatusStalled},
	StatusDispatched:        {StatusDelivered},
	// A redriven execution resumes at the failed step and moves on from there;
	// a cancelled one compensates.
	StatusStalled: {StatusStockReserved, StatusPaymentAuthorized, StatusCustomsCleared, StatusPaymentCaptured,
		StatusDispatched, StatusRejected, StatusPaymentDeclined, StatusCustomsRejected, StatusCancelled, StatusFailed},
}

// ErrTransition reports a status change the lifecycle does not allow.
var ErrTransition = errors.New("order: status change not allowed")

// CanTransition reports whether an order may move from one status to another.
func CanTransition(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Transition moves o to status to, bumping its version, and returns the
// history event to store with it in the same write.
func (o *Order) Transition(to Status, reason, actor string, now time.Time) (Event, error) {
	if !CanTransition(o.Status, to) {
		return Event{}, fmt.Errorf("%w: %s → %s", ErrTransition, o.Status, to)
	}
	now = now.UTC()
	ev := Event{OrderID: o.ID, Version: o.Version + 1, At: now, From: o.Status, To: to, Reason: reason, Actor: actor}
	if to != o.Status {
		o.StatusSince = now
	}
	o.Status, o.Reason, o.Version, o.UpdatedAt = to, reason, o.Version+1, now
	return ev, nil
}

// ErrTooLate reports a cancellation after the goods left.
var ErrTooLate = errors.New("order: too late to cancel, the order was dispatched")

// RequestCancel records that the owner or an operator asked to cancel. The
// workflow notices before its next step (or through the waiting task token)
// and compensates. A second request changes nothing and returns ok=false.
func (o *Order) RequestCancel(actor string, now time.Time) (Event, bool, error) {
	if o.CancelRequested {
		return Event{}, false, nil
	}
	if o.Status == StatusDispatched || o.Status == StatusDelivered {
		return Event{}, false, ErrTooLate
	}
	if o.Status.Terminal() {
		return Event{}, false, nil // already ended: nothing to cancel
	}
	now = now.UTC()
	o.CancelRequested, o.CancelledBy, o.Version, o.UpdatedAt = true, actor, o.Version+1, now
	return Event{OrderID: o.ID, Version: o.Version, At: now, From: o.Status, To: o.Status, Reason: "cancel_requested", Actor: actor}, true, nil
}

// Annotate records in the history something that happened to the order
// without changing it (a customs receipt, a callback to the partner): an
// event of the version it follows, which does not move the order on, so
// that its store writes the history alone and not the order.
func (o *Order) Annotate(reason, actor string, now time.Time) Event {
	return Event{OrderID: o.ID, Version: o.Version, At: now.UTC(), From: o.Status, To: o.Status, Reason: reason, Actor: actor}
}

// Since is when o entered its status: StatusSince, or UpdatedAt for an
// order stored before StatusSince existed.
func (o *Order) Since() time.Time {
	if o.StatusSince.IsZero() {
		return o.UpdatedAt
	}
	return o.StatusSince
}

// Note records a change that is not a status change (a payment authorized,
// stock reserved, a token stored) in the history, bumping the version.
func (o *Order) Note(reason, actor string, now time.Time) Event {
	now = now.UTC()
	o.Version, o.UpdatedAt = o.Version+1, now
	return Event{OrderID: o.ID, Version: o.Version, At: now, From: o.Status, To: o.Status, Reason: reason, Actor: actor}
}
