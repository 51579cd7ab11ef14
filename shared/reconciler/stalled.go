package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/steps"
)

// Executions is what the reconciler reads of Step Functions: the
// executions that ended without compensating, and why.
type Executions interface {
	ListExecutions(ctx context.Context, in *sfn.ListExecutionsInput, opts ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error)
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
}

// Staller marks the order of a failed execution STALLED (steps.Steps).
type Staller interface {
	Stall(ctx context.Context, c steps.ExecutionStatusChange) (steps.Result, error)
}

// OrderReader reads one order.
type OrderReader interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
}

// StallWindow is how far back the reconciler looks for executions that
// failed: longer than any execution of the workflow lasts (customs 6 h,
// the warehouse 48 h).
const StallWindow = 72 * time.Hour

// stalls finds the executions of the last StallWindow that failed, timed
// out or were aborted while their order is neither ended nor STALLED — the
// status-change event that marks it was lost, or marking it failed past its
// retries — and marks them STALLED, so that an operator can redrive or
// cancel them. Executions are listed newest first; the walk stops at the
// first one older than the window.
func (h *Handler) stalls(ctx context.Context, now time.Time, rep *Report) error {
	if h.Executions == nil || h.Stalls == nil {
		return nil
	}
	reader, ok := h.Orders.(OrderReader)
	if !ok {
		return errors.New("reconciler: the order store cannot read one order")
	}
	for _, status := range []types.ExecutionStatus{types.ExecutionStatusFailed, types.ExecutionStatusTimedOut, types.ExecutionStatusAborted} {
		in := &sfn.ListExecutionsInput{StateMachineArn: aws.String(h.StateMachineARN), StatusFilter: status, MaxResults: 100}
	pages:
		for {
			out, err := h.Executions.ListExecutions(ctx, in)
			if err != nil {
				return fmt.Errorf("reconciler: list %s executions: %w", status, err)
			}
			for _, x := range out.Executions {
				if x.StartDate != nil && x.StartDate.Before(now.Add(-StallWindow)) {
					break pages
				}
				h.stallOne(ctx, reader, x, rep)
			}
			if out.NextToken == nil {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	if rep.Stalled > 0 {
		h.Logger.WarnContext(ctx, "marked orders of failed executions stalled", "stalled", rep.Stalled)
	}
	return nil
}

// stallOne marks the order of one failed execution STALLED when it needs it.
func (h *Handler) stallOne(ctx context.Context, reader OrderReader, x types.ExecutionListItem, rep *Report) {
	id := aws.ToString(x.Name)
	o, err := reader.GetOrder(ctx, id)
	switch {
	case errors.Is(err, order.ErrNotFound):
		return // not an order's execution
	case err != nil:
		rep.Failed++
		h.Logger.WarnContext(ctx, "read the order of a failed execution", "orderId", id, "error", err.Error())
		return
	case o.Status.Terminal() || o.Status == order.StatusStalled || o.Status == order.StatusDispatched:
		return
	}
	d, err := h.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil {
		rep.Failed++
		h.Logger.WarnContext(ctx, "describe a failed execution", "orderId", id, "error", err.Error())
		return
	}
	if d.Status != x.Status {
		return // redriven meanwhile
	}
	if _, err := h.Stalls.Stall(ctx, steps.ExecutionStatusChange{ExecutionARN: aws.ToString(x.ExecutionArn), StateMachineARN: h.StateMachineARN,
		Name: id, Status: string(d.Status), Error: aws.ToString(d.Error), Cause: aws.ToString(d.Cause)}); err != nil {
		rep.Failed++
		h.Logger.WarnContext(ctx, "mark the order of a failed execution stalled", "orderId", id, "error", err.Error())
		return
	}
	rep.Stalled++
}
