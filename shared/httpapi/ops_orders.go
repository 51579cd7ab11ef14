package httpapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/order"
)

// opsOrderView is the order as the store holds it, for operators:
// screening, customs, charge and callbacks included (the declaration and
// the callbacks from beside the order), and who asked to cancel; the
// payment token and the waiting task token are not shown, and the buyer's
// identity number shows its last four characters only (customsOf).
type opsOrderView struct {
	*order.Order
	Payment     paymentView           `json:"payment"`
	Customs     *customsView          `json:"customs,omitempty"`
	Callbacks   *order.CallbackRecord `json:"callbacks,omitempty"`
	CancelledBy string                `json:"cancelledBy,omitempty"`
}

// opsOrderDetail is GET /v1/ops/orders/{id}.
type opsOrderDetail struct {
	Order     opsOrderView   `json:"order"`
	History   []order.Event  `json:"history"`
	Execution *executionView `json:"execution"`
	Steps     []stepView     `json:"steps"`
	Actions   []string       `json:"actions"`
	// Declarations are China's CEB messages with their receipts.
	Declarations []declarationView `json:"declarations"`
}

// Actions an operator can take on an order.
const (
	actionRedrive = "redrive"
	actionCancel  = "cancel"
)

// opsGetOrder shows one order: its record, its history, its workflow
// execution with the steps drawn from the execution's history, and what
// an operator can do about it.
func (a *API) opsGetOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	history, err := a.cfg.Store.History(ctx, o.ID)
	if err != nil {
		a.internalError(w, r, "get order history", err)
		return
	}
	docs, err := a.cfg.Store.CustomsDocuments(ctx, o.ID)
	if err != nil {
		a.internalError(w, r, "get customs documents", err)
		return
	}
	told, err := a.callbacksOf(ctx, o)
	if err != nil {
		a.internalError(w, r, "get the order's callbacks", err)
		return
	}
	x, steps, err := a.execution(ctx, o.ID)
	if err != nil {
		a.internalError(w, r, "read the order's execution", err)
		return
	}
	if history == nil {
		history = []order.Event{}
	}
	a.writeValue(w, r, http.StatusOK, opsOrderDetail{
		Order: opsOrderView{Order: o, Payment: paymentView{Method: o.Payment.Method}, Customs: customsOf(o, docs.Declaration),
			Callbacks: told, CancelledBy: o.CancelledBy},
		History: history, Execution: x, Steps: steps, Actions: actionsFor(o, x), Declarations: declarationsOf(o.ID, docs),
	})
}

// opsOrder reads the order of the path, or answers 404.
func (a *API) opsOrder(w http.ResponseWriter, r *http.Request) (*order.Order, bool) {
	o, err := a.cfg.Store.GetOrder(r.Context(), r.PathValue("id"))
	if errors.Is(err, order.ErrNotFound) {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such order."})
		return nil, false
	}
	if err != nil {
		a.internalError(w, r, "get order", err)
		return nil, false
	}
	return o, true
}

// actionsFor: a stalled order whose execution failed, timed out or was
// aborted can be redriven; an order not yet ended nor dispatched can be
// cancelled. A business failure (REJECTED, PAYMENT_DECLINED,
// CUSTOMS_REJECTED, FAILED, CANCELLED) is final: nothing.
func actionsFor(o *order.Order, x *executionView) []string {
	acts := []string{}
	if o.Status == order.StatusStalled && x != nil && x.redrivable {
		acts = append(acts, actionRedrive)
	}
	if !o.Status.Terminal() && o.Status != order.StatusDispatched && !o.CancelRequested {
		acts = append(acts, actionCancel)
	}
	return acts
}

// redriveView is the answer to POST /v1/ops/orders/{id}/redrive.
type redriveView struct {
	OrderID      string `json:"orderId"`
	ExecutionARN string `json:"executionArn"`
	RedriveCount int    `json:"redriveCount"`
}

// opsRedrive redrives a STALLED order's failed execution: it resumes at
// the step that failed. Anything but STALLED is 409 — a business failure
// is final. The redrive is noted in the order's history.
func (a *API) opsRedrive(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Executions == nil || a.cfg.StateMachineARN == "" {
		notConfigured(w, r, "the workflow's Step Functions client and state machine")
		return
	}
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	if o.Status != order.StatusStalled {
		conflict(w, r, notRedrivable(o))
		return
	}
	count, refusal, err := a.redrive(r.Context(), o.ID)
	if err != nil {
		a.internalError(w, r, "redrive execution", err)
		return
	}
	if refusal != "" {
		conflict(w, r, refusal)
		return
	}
	a.writeValue(w, r, http.StatusAccepted, redriveView{OrderID: o.ID, ExecutionARN: a.executionARN(o.ID), RedriveCount: count})
}

func conflict(w http.ResponseWriter, r *http.Request, detail string) {
	writeProblem(w, r, Problem{Type: problemConflict, Status: http.StatusConflict, Detail: detail})
}

// notRedrivable says why an order that is not STALLED is not redriven.
func notRedrivable(o *order.Order) string {
	switch {
	case o.Status == order.StatusDelivered || o.Status == order.StatusDispatched:
		return fmt.Sprintf("The order is %s: its workflow completed; there is nothing to redrive.", o.Status)
	case o.Status.Terminal():
		return fmt.Sprintf("The order ended %s (%s): a business failure is final and is not redriven; only a STALLED order is.", o.Status, o.Reason)
	}
	return fmt.Sprintf("The order is %s, not STALLED: its workflow is still running; only a stalled execution is redriven.", o.Status)
}

// redrive redrives the order's execution if it failed, timed out or was
// aborted, and notes it on the order. refusal says why it was not (for a
// 409); the count is the execution's redrives after this one.
func (a *API) redrive(ctx context.Context, id string) (count int, refusal string, err error) {
	arn := a.executionARN(id)
	d, err := a.cfg.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return 0, "The order has no workflow execution to redrive.", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("describe execution: %w", err)
	}
	if !failedStatus(d.Status) {
		return 0, fmt.Sprintf("The order's execution is %s; only a failed, timed-out or aborted execution is redriven.", d.Status), nil
	}
	// Noted first: nothing else writes a stalled order meanwhile, so the
	// history reads in order (the redriven steps come after the note).
	if err := a.note(ctx, id, "redriven_by_ops"); err != nil {
		return 0, "", fmt.Errorf("record the redrive: %w", err)
	}
	_, err = a.cfg.Executions.RedriveExecution(ctx, &sfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		_ = a.note(ctx, id, "redrive_failed")
	}
	var refused *sfntypes.ExecutionNotRedrivable
	if errors.As(err, &refused) {
		return 0, "Step Functions will not redrive the execution: " + aws.ToString(refused.Message), nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("redrive execution: %w", err)
	}
	count = int(aws.ToInt32(d.RedriveCount)) + 1
	if after, err := a.cfg.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)}); err == nil {
		count = int(aws.ToInt32(after.RedriveCount))
	}
	a.cfg.Logger.InfoContext(ctx, "execution redriven", "requestId", requestID(ctx), "orderId", id, "redriveCount", count)
	return count, "", nil
}

func failedStatus(s sfntypes.ExecutionStatus) bool {
	switch s {
	case sfntypes.ExecutionStatusFailed, sfntypes.ExecutionStatusTimedOut, sfntypes.ExecutionStatusAborted:
		return true
	}
	return false
}

// note records an operator's action in the order's history as
// "ops:<sub>", retrying when the workflow changes the order meanwhile. A
// failure is logged (no order by that id is not one) and returned.
func (a *API) note(ctx context.Context, id, reason string) error {
	actor := opsActor(ctx)
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var o *order.Order
		if o, err = a.cfg.Store.GetOrder(ctx, id); err != nil {
			break
		}
		ev := o.Note(reason, actor, a.cfg.Now())
		if err = a.cfg.Store.SaveTransition(ctx, o, ev); !errors.Is(err, order.ErrVersionConflict) {
			break
		}
	}
	if errors.Is(err, order.ErrNotFound) {
		return nil // a dead letter may name an order that is gone
	}
	if err != nil {
		a.cfg.Logger.ErrorContext(ctx, "record ops action", "requestId", requestID(ctx), "orderId", id, "action", reason, "error", err.Error())
		return fmt.Errorf("note %s on order %s: %w", reason, id, err)
	}
	return nil
}

// opsCancel cancels any order before dispatch, as its owner can: 202 and
// the order; the workflow ends it CANCELLED (cancelled_by_ops) after
// compensating. A STALLED order's failed execution is redriven so that it
// sees the request and compensates now.
func (a *API) opsCancel(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	o, ok := a.requestCancel(w, r, r.PathValue("id"), "", opsActor(ctx), "cancelled_by_ops")
	if !ok {
		return
	}
	if o.Status == order.StatusStalled && o.CancelRequested && a.cfg.Executions != nil && a.cfg.StateMachineARN != "" {
		if _, refusal, err := a.redrive(ctx, o.ID); err != nil || refusal != "" {
			// The request is recorded; a later redrive compensates.
			a.cfg.Logger.WarnContext(ctx, "redrive cancelled order", "requestId", requestID(ctx), "orderId", o.ID,
				"error", fmt.Sprint(err), "refusal", refusal)
		}
	}
	a.writeCancelled(w, r, o)
}
