package steps

import (
	"context"
	"errors"
	"fmt"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/workflow"
)

// CaughtError is what a Catch puts at $.error.
type CaughtError struct {
	Error string `json:"Error"`
	Cause string `json:"Cause"`
}

// CompensateInput is the Compensate state's payload.
type CompensateInput struct {
	OrderID string      `json:"orderId"`
	Error   CaughtError `json:"error"`
}

// Compensate undoes, in reverse, whatever the order's records show was done —
// refund a captured payment or void an authorized one, release reserved
// stock — and ends the order in the terminal status its error calls for
// (the failure table of architecture.md). Every undo is idempotent, so a
// retried or repeated compensation changes nothing more.
func (s *Steps) Compensate(ctx context.Context, in CompensateInput) (Result, error) {
	status, reason, ok := workflow.Outcome(in.Error.Error, in.Error.Cause)
	if !ok {
		return Result{}, fmt.Errorf("steps: compensate %s: %q is not a business error", in.OrderID, in.Error.Error)
	}
	for attempt := 0; ; attempt++ {
		o, err := s.Orders.GetOrder(ctx, in.OrderID)
		if err != nil {
			return Result{}, transient("read order "+in.OrderID, err)
		}
		if o.Status.Terminal() {
			return Result{OrderID: o.ID, Status: o.Status, Reason: o.Reason}, nil // compensated before
		}
		who := actor
		if status == order.StatusCancelled && o.CancelledBy != "" {
			who, reason = o.CancelledBy, cancelReason(o.CancelledBy)
		}
		if err := s.undoPayment(ctx, o); err != nil {
			return Result{}, err
		}
		if err := s.Stock.Release(ctx, o.ID); err != nil {
			return Result{}, transient("release stock", err)
		}
		o.StockReserved = false
		ev, err := o.Transition(status, reason, who, s.now())
		if err != nil {
			return Result{}, fmt.Errorf("steps: compensate %s: %w", o.ID, err)
		}
		err = s.Orders.SaveTransition(ctx, o, ev)
		if errors.Is(err, order.ErrVersionConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Result{}, transient("save order "+o.ID, err)
		}
		s.publish(ctx, o, ev)
		return Result{OrderID: o.ID, Status: o.Status, Reason: o.Reason}, nil
	}
}

func (s *Steps) undoPayment(ctx context.Context, o *order.Order) error {
	c := o.Charge
	if c == nil {
		return nil
	}
	switch c.Status {
	case order.ChargeAuthorized:
		err := s.Payments.Void(ctx, payment.Key(o.ID, "void"), c.ID)
		if errors.Is(err, payment.ErrAlreadyCaptured) {
			// Captured before the order recorded it: refund instead.
			c.Status = order.ChargeCaptured
			return s.undoPayment(ctx, o)
		}
		if err != nil {
			return transient("void payment", err)
		}
		c.Status = order.ChargeVoided
	case order.ChargeCaptured:
		amount := c.Amount
		if c.Captured != nil {
			amount = *c.Captured
		}
		if err := s.Payments.Refund(ctx, payment.Key(o.ID, "refund"), c.ID, amount); err != nil {
			return transient("refund payment", err)
		}
		c.Status, c.Refunded = order.ChargeRefunded, &amount
	}
	return nil
}
