package workflow

import (
	"encoding/json"
	"strings"

	"github.com/xborder/xborder/shared/order"
)

// Business errors end the order with a terminal status after compensation.
// Their Go type names are the error names Step Functions' Catch matches
// (aws-lambda-go reports a returned error's type name as its errorType), and
// their messages are the reason codes stored on the order.

// Rejected: screening refused the order (restricted_goods, denied_party) or
// no warehouse can fulfil it (out_of_stock).
type Rejected struct{ Reason string }

// PaymentDeclined: the payment provider declined (card_declined, insufficient_funds).
type PaymentDeclined struct{ Reason string }

// CustomsRejected: the broker or the customs authority refused the declaration.
type CustomsRejected struct{ Reason string }

// OrderCancelled: the owner or an operator cancelled before dispatch.
type OrderCancelled struct{ Reason string }

// OrderFailed: a business failure after capture (warehouse cannot ship) or
// an authorization that expired before capture.
type OrderFailed struct{ Reason string }

func (e *Rejected) Error() string        { return e.Reason }
func (e *PaymentDeclined) Error() string { return e.Reason }
func (e *CustomsRejected) Error() string { return e.Reason }
func (e *OrderCancelled) Error() string  { return e.Reason }
func (e *OrderFailed) Error() string     { return e.Reason }

// TransientError is a failure worth retrying (a timeout, a 5xx, throttling).
// When the retries run out the execution fails and the order is STALLED.
type TransientError struct{ Err error }

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// Error names as Step Functions sees them.
const (
	ErrRejected        = "Rejected"
	ErrPaymentDeclined = "PaymentDeclined"
	ErrCustomsRejected = "CustomsRejected"
	ErrOrderCancelled  = "OrderCancelled"
	ErrOrderFailed     = "OrderFailed"
	ErrTransient       = "TransientError"
)

// ErrChinaCustomsNoAnswer is the customs step's failure when China's
// customs decide nothing on an order's messages however often they are
// submitted again. It is neither caught nor retried: the execution fails
// and the order is STALLED with it as its reason, for an operator to look
// into and redrive (a new task token, which starts the wait afresh).
const ErrChinaCustomsNoAnswer = "ChinaCustomsNoAnswer"

// BusinessErrors are caught into compensation.
var BusinessErrors = []string{ErrRejected, ErrPaymentDeclined, ErrCustomsRejected, ErrOrderCancelled, ErrOrderFailed}

// TransientErrors are retried: ours, the Lambda service's own, and an
// execution environment lost mid-invocation — it ran out of memory, crashed
// or was killed (Runtime.ExitError), or ran out of time (Sandbox.Timedout):
// every step is idempotent, so running it again in a fresh environment is
// safe, and a step that keeps failing so still stalls the order after the
// retries.
var TransientErrors = []string{ErrTransient, "Lambda.ServiceException", "Lambda.AWSLambdaException",
	"Lambda.SdkClientException", "Lambda.TooManyRequestsException", "Runtime.ExitError", "Sandbox.Timedout"}

// terminal maps each business error to the status it ends the order in.
var terminal = map[string]order.Status{
	ErrRejected:        order.StatusRejected,
	ErrPaymentDeclined: order.StatusPaymentDeclined,
	ErrCustomsRejected: order.StatusCustomsRejected,
	ErrOrderCancelled:  order.StatusCancelled,
	ErrOrderFailed:     order.StatusFailed,
}

// Outcome says which terminal status and reason a caught error leads to.
// cause is the Catch's Cause: a Lambda error's JSON ({"errorMessage": …})
// or the plain text a worker passed to SendTaskFailure.
func Outcome(errorName, cause string) (order.Status, string, bool) {
	st, ok := terminal[errorName]
	if !ok {
		return "", "", false
	}
	reason := strings.TrimSpace(cause)
	var lambdaErr struct {
		ErrorMessage string `json:"errorMessage"`
	}
	if json.Unmarshal([]byte(reason), &lambdaErr) == nil && lambdaErr.ErrorMessage != "" {
		reason = lambdaErr.ErrorMessage
	}
	if reason == "" {
		reason = strings.ToLower(string(st))
	}
	return st, reason, true
}
