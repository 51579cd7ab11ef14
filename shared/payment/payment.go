// Package payment moves an order's money: authorize at order time, capture
// after customs clearance, void or refund when the saga compensates. Every
// call carries an idempotency key derived from the order id and the step, so
// a retried step never charges twice. Providers: Simulator (here, for local
// runs and failure paths) and, with the payments issue, Stripe.
package payment

import (
	"errors"
	"fmt"
)

// Declined is a business refusal by the provider (card_declined, insufficient_funds).
type Declined struct{ Reason string }

func (e *Declined) Error() string { return "payment declined: " + e.Reason }

// Errors a provider returns.
var (
	// ErrAuthorizationExpired: the authorization lapsed before capture.
	ErrAuthorizationExpired = errors.New("payment: authorization expired")
	// ErrAlreadyCaptured: a void found the charge captured; refund instead.
	ErrAlreadyCaptured = errors.New("payment: charge already captured")
	// ErrTransient: a network error, timeout or 5xx; retrying is safe.
	ErrTransient = errors.New("payment: transient provider error")
)

// Key is the idempotency key of one step's call for one order.
func Key(orderID, step string) string { return fmt.Sprintf("xborder:%s:%s", orderID, step) }
