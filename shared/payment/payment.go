// Package payment moves an order's money: authorize at order time, capture
// after customs clearance, void or refund when the saga compensates. Every
// call carries an idempotency key derived from the order id and the step, so
// a retried step never charges twice. Providers: Stripe (stripe.go, the
// official client) and Simulator (deterministic, for local runs and failure
// paths), chosen by configuration.
package payment

import (
	"errors"
	"fmt"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Authorization is a request to place a hold on the shopper's card.
type Authorization struct {
	// Key is the idempotency key: Key(orderID, "authorize").
	Key     string
	OrderID string
	// Amount in minor units of the order's currency.
	Amount money.Money
	// Token is the provider's payment method (a Stripe pm_… or tok_…),
	// never card data, and never logged.
	Token string
	// FX is the exchange rate locked when the order was accepted; it is
	// stored with the payment.
	FX *order.FXRate
}

// Declined is a business refusal by the provider (card_declined,
// insufficient_funds, authentication_required, …): the workflow ends the
// order PAYMENT_DECLINED.
type Declined struct{ Reason string }

func (e *Declined) Error() string { return "payment declined: " + e.Reason }

// ProviderError is a request the provider refused for a reason retrying will
// not change (an invalid request, an idempotency key reused with other
// parameters): a bug or a configuration problem for an operator. Code is the
// provider's error code.
type ProviderError struct {
	Op, Code, Message string
	Status            int
}

func (e *ProviderError) Error() string {
	return fmt.Sprintf("payment: %s refused by the provider (%d %s): %s", e.Op, e.Status, e.Code, e.Message)
}

// Errors a provider returns.
var (
	// ErrAuthorizationExpired: the authorization lapsed before capture.
	ErrAuthorizationExpired = errors.New("payment: authorization expired")
	// ErrAlreadyCaptured: a void found the charge captured; refund instead.
	ErrAlreadyCaptured = errors.New("payment: charge already captured")
	// ErrTransient: a network error, timeout, rate limit or 5xx; retrying
	// with the same idempotency key is safe.
	ErrTransient = errors.New("payment: transient provider error")
)

// Key is the idempotency key of one step's call for one order.
func Key(orderID, step string) string { return fmt.Sprintf("xborder:%s:%s", orderID, step) }
