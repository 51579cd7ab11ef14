package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// cancelOrder records the owner's request to cancel (202, and the same 202
// again). If a step is waiting on the customs broker or the warehouse, its
// task token is failed with OrderCancelled so the workflow compensates now;
// otherwise the workflow sees the request before its next step. After
// dispatch: 409.
func (a *API) cancelOrder(w http.ResponseWriter, r *http.Request) {
	caller := identity(r.Context())
	o, ok := a.requestCancel(w, r, r.PathValue("id"), caller.Subject, "customer:"+caller.Subject, "cancelled_by_customer")
	if ok {
		a.writeCancelled(w, r, o)
	}
}

// requestCancel records actor's request to cancel order id — the owner's
// only, unless owner is "" (an operator) — and fails the task token of a
// step waiting on it with cause. It answers the request itself and returns
// false when it cannot go on (no such order, too late, a store failure).
func (a *API) requestCancel(w http.ResponseWriter, r *http.Request, id, owner, actor, cause string) (*order.Order, bool) {
	ctx := r.Context()
	var o *order.Order
	for attempt := 0; ; attempt++ {
		var err error
		o, err = a.cfg.Store.GetOrder(ctx, id)
		if errors.Is(err, order.ErrNotFound) || (err == nil && owner != "" && o.CustomerID != owner) {
			writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such order."})
			return nil, false
		}
		if err != nil {
			a.internalError(w, r, "get order", err)
			return nil, false
		}
		ev, changed, err := o.RequestCancel(actor, a.cfg.Now())
		if errors.Is(err, order.ErrTooLate) {
			writeProblem(w, r, Problem{Type: problemConflict, Status: http.StatusConflict,
				Detail: "The order was dispatched and can no longer be cancelled."})
			return nil, false
		}
		if err != nil || !changed {
			break // already requested, or already ended: nothing more to do
		}
		err = a.cfg.Store.SaveTransition(ctx, o, ev)
		if errors.Is(err, order.ErrVersionConflict) && attempt < 3 {
			continue // the workflow moved the order meanwhile: look again
		}
		if err != nil {
			a.internalError(w, r, "record cancellation", err)
			return nil, false
		}
		a.cfg.Logger.InfoContext(ctx, "cancellation requested", "requestId", requestID(ctx), "orderId", o.ID, "status", o.Status)
		break
	}
	if o.CancelRequested && o.TaskToken != "" && a.cfg.Tasks != nil && !o.Status.Terminal() {
		if err := a.cfg.Tasks.FailTask(ctx, o.TaskToken, workflow.ErrOrderCancelled, cause); err != nil {
			// The request is recorded; the workflow honours it at its next step.
			a.cfg.Logger.WarnContext(ctx, "fail waiting task", "requestId", requestID(ctx), "orderId", o.ID, "error", err.Error())
		}
	}
	return o, true
}

// writeCancelled answers a recorded cancellation: 202 and the order.
func (a *API) writeCancelled(w http.ResponseWriter, r *http.Request, o *order.Order) {
	b, err := a.besideOf(r.Context(), o)
	if err != nil {
		a.internalError(w, r, "get order documents", err)
		return
	}
	body, err := json.Marshal(viewOf(o, nil, b))
	if err != nil {
		a.internalError(w, r, "encode order", err)
		return
	}
	w.Header().Set("Location", orderLocation(o.ID))
	writeJSON(w, http.StatusAccepted, body)
}
