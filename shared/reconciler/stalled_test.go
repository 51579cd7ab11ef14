package reconciler

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/storetest"
)

// executionList answers ListExecutions a page at a time, newest first, as
// Step Functions does, and DescribeExecution with each one's error.
type executionList struct {
	items    []types.ExecutionListItem
	pageSize int
	describe int
}

func (l *executionList) ListExecutions(_ context.Context, in *sfn.ListExecutionsInput, _ ...func(*sfn.Options)) (*sfn.ListExecutionsOutput, error) {
	var match []types.ExecutionListItem
	for _, x := range l.items {
		if x.Status == in.StatusFilter {
			match = append(match, x)
		}
	}
	from := 0
	if in.NextToken != nil {
		fmt.Sscan(*in.NextToken, &from)
	}
	to := min(from+l.pageSize, len(match))
	out := &sfn.ListExecutionsOutput{Executions: match[from:to]}
	if to < len(match) {
		out.NextToken = aws.String(fmt.Sprint(to))
	}
	return out, nil
}

func (l *executionList) DescribeExecution(_ context.Context, in *sfn.DescribeExecutionInput, _ ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error) {
	l.describe++
	for _, x := range l.items {
		if aws.ToString(x.ExecutionArn) == aws.ToString(in.ExecutionArn) {
			return &sfn.DescribeExecutionOutput{ExecutionArn: x.ExecutionArn, Status: x.Status, Error: aws.String("TransientError"),
				Cause: aws.String("the store did not answer")}, nil
		}
	}
	return nil, &types.ExecutionDoesNotExist{}
}

// TestReconcileStallsTheOrdersOfFailedExecutions: an execution that failed
// while its order was left PAYMENT_AUTHORIZED (marking it STALLED failed,
// or its event was lost) gets its order STALLED with the execution's error;
// orders already STALLED or ended, executions of no order and executions
// older than the window are left alone.
func TestReconcileStallsTheOrdersOfFailedExecutions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	store := memstore.New()
	mk := func(n int, to ...order.Status) *order.Order {
		o := storetest.Order(fmt.Sprintf("01KSTALL000000000000000%03d", n), "alice", now.Add(-time.Hour))
		if _, err := store.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
			storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
			t.Fatal(err)
		}
		for _, s := range to {
			ev, err := o.Transition(s, "x", "workflow", now.Add(-30*time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			if err := store.SaveTransition(ctx, o, ev); err != nil {
				t.Fatal(err)
			}
		}
		return o
	}
	const machine = "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow"
	item := func(name string, status types.ExecutionStatus, started time.Time) types.ExecutionListItem {
		return types.ExecutionListItem{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + name),
			Name: aws.String(name), Status: status, StartDate: aws.Time(started), StateMachineArn: aws.String(machine)}
	}
	list := &executionList{pageSize: 2}
	var stranded []string
	for i := range 5 { // more than one page
		o := mk(i, order.StatusStockReserved, order.StatusPaymentAuthorized)
		stranded = append(stranded, o.ID)
		list.items = append(list.items, item(o.ID, types.ExecutionStatusFailed, now.Add(-time.Duration(i+1)*time.Minute)))
	}
	timedOut := mk(10, order.StatusStockReserved)
	list.items = append(list.items, item(timedOut.ID, types.ExecutionStatusTimedOut, now.Add(-time.Hour)))
	stranded = append(stranded, timedOut.ID)
	already := mk(20, order.StatusStockReserved, order.StatusStalled)
	ended := mk(21, order.StatusRejected)
	old := mk(22, order.StatusStockReserved)
	list.items = append(list.items,
		item(already.ID, types.ExecutionStatusFailed, now.Add(-10*time.Minute)),
		item(ended.ID, types.ExecutionStatusFailed, now.Add(-11*time.Minute)),
		item("not-an-order", types.ExecutionStatusFailed, now.Add(-12*time.Minute)),
		item(old.ID, types.ExecutionStatusFailed, now.Add(-StallWindow-time.Minute)))

	s := &steps.Steps{Orders: store, Logger: slog.New(slog.DiscardHandler)}
	h := &Handler{Orders: store, Workflow: &enqueued{}, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Executions: list, StateMachineARN: machine, Stalls: s}
	rep, err := h.Reconcile(ctx, events.EventBridgeEvent{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Stalled != len(stranded) || rep.Failed != 0 {
		t.Fatalf("report %+v, want %d stalled", rep, len(stranded))
	}
	for _, id := range stranded {
		o, _ := store.GetOrder(ctx, id)
		if o.Status != order.StatusStalled || o.Reason != "TransientError" {
			t.Errorf("order %s: %s (%s), want STALLED (TransientError)", id, o.Status, o.Reason)
		}
	}
	if o, _ := store.GetOrder(ctx, old.ID); o.Status != order.StatusStockReserved {
		t.Errorf("an execution older than the window was looked at: %s", o.Status)
	}
	if o, _ := store.GetOrder(ctx, ended.ID); o.Status != order.StatusRejected {
		t.Errorf("an ended order was touched: %s", o.Status)
	}
	if list.describe != len(stranded) {
		t.Errorf("%d executions described, want only the %d whose orders needed it", list.describe, len(stranded))
	}
	// A second run finds nothing more to do.
	if rep, err := h.Reconcile(ctx, events.EventBridgeEvent{}); err != nil || rep.Stalled != 0 {
		t.Fatalf("second run: %+v %v", rep, err)
	}
}
