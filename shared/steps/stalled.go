package steps

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/order"
)

// ExecutionStatusChange is the detail of EventBridge's "Step Functions
// Execution Status Change" event.
type ExecutionStatusChange struct {
	ExecutionARN    string `json:"executionArn"`
	StateMachineARN string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Error           string `json:"error"`
	Cause           string `json:"cause"`
}

// MarkStalled records that an order's execution failed, timed out or was
// aborted without compensating — its retries ran out on a transient error —
// so an operator can redrive it once the cause is fixed, or cancel it. The
// execution is named by the order id.
func (s *Steps) MarkStalled(ctx context.Context, ev events.EventBridgeEvent) (Result, error) {
	var d ExecutionStatusChange
	if err := json.Unmarshal(ev.Detail, &d); err != nil || d.Name == "" {
		return Result{}, fmt.Errorf("steps: mark stalled: unusable event detail: %v", err)
	}
	return s.Stall(ctx, d)
}

// Stall marks the order of an execution that failed, timed out or was
// aborted STALLED, unless it has ended or is STALLED already (the
// reconciler calls it for the failures whose event was lost).
func (s *Steps) Stall(ctx context.Context, d ExecutionStatusChange) (Result, error) {
	switch d.Status {
	case "FAILED", "TIMED_OUT", "ABORTED":
	default:
		return Result{OrderID: d.Name}, nil // not a stall
	}
	reason := d.Error
	if reason == "" {
		reason = "execution_" + d.Status
	}
	for attempt := 0; ; attempt++ {
		o, err := s.Orders.GetOrder(ctx, d.Name)
		if errors.Is(err, order.ErrNotFound) {
			return Result{}, fmt.Errorf("steps: mark stalled: no order %s", d.Name)
		}
		if err != nil {
			return Result{}, transient("read order "+d.Name, err)
		}
		if o.Status.Terminal() || o.Status == order.StatusStalled || o.Status == order.StatusDispatched {
			return Result{OrderID: o.ID, Status: o.Status, Reason: o.Reason}, nil
		}
		e, err := o.Transition(order.StatusStalled, reason, actor, s.now())
		if err != nil {
			return Result{}, err
		}
		err = s.Orders.SaveTransition(ctx, o, e)
		if errors.Is(err, order.ErrVersionConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return Result{}, transient("save order "+o.ID, err)
		}
		s.log().WarnContext(ctx, "order stalled", "orderId", o.ID, "error", d.Error, "execution", d.ExecutionARN)
		s.publish(ctx, o, e)
		return Result{OrderID: o.ID, Status: o.Status, Reason: o.Reason}, nil
	}
}
