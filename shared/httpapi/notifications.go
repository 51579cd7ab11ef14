package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/receipts"
)

// StepWaker hands an order's waiting step its task message again (its
// queue's queue.Tasks), so that its worker asks the partner again.
type StepWaker interface {
	Wake(ctx context.Context, orderID, taskToken string) error
}

// PartnerLinks is what the partners' notification route needs: each
// partner's secret (partnerlink.Config.Secrets) and the queues of the steps
// their notifications wake. A partner without a secret is 404.
type PartnerLinks struct {
	Secrets map[string]string
	// Customs and Warehouse wake the customs and the dispatch steps.
	Customs, Warehouse StepWaker
}

// waitingStatus is the status an order is in while a partner's step waits
// on it: a notification wakes only that step, with the token the order
// holds, never another step's.
var waitingStatus = map[string]order.Status{
	partnerlink.CustomsBroker: order.StatusPaymentAuthorized,
	partnerlink.Warehouse:     order.StatusPaymentCaptured,
}

// partnerNotification takes a partner's notification (partnerlink's
// protocol): verified as Standard Webhooks over the raw body with the
// partner's secret, then read strictly. A declaration's or a shipment's
// notification wakes the waiting step, which asks the partner for the
// request's state — the notification itself decides nothing; a CEB
// receipt is recorded as the ops route records one.
func (a *API) partnerNotification(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	name := r.PathValue("partner")
	secret, ok := a.cfg.PartnerLinks.Secrets[name]
	if !ok || secret == "" {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such partner."})
		return
	}
	raw, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	msgID, err := partnerlink.Verify(r.Header, raw, a.cfg.Now(), a.cfg.SignatureTolerance, secret)
	if err != nil {
		a.cfg.Logger.InfoContext(ctx, "partner notification signature refused", "requestId", requestID(ctx), "partner", name, "error", err.Error())
		writeProblem(w, r, Problem{Type: problemSignature, Status: http.StatusUnauthorized, Detail: "The signature was not accepted."})
		return
	}
	var n partnerlink.Notification
	if err := decodeStrict(raw, &n); err != nil {
		badRequest(w, r, err.Error())
		return
	}
	want := map[string]string{partnerlink.CustomsBroker: partnerlink.NotifyDeclaration, partnerlink.Warehouse: partnerlink.NotifyShipment,
		partnerlink.ChinaEPort: partnerlink.NotifyCEBReceipt}[name]
	if n.Type != want {
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Detail: "This partner sends no such notification.",
			Errors: []order.FieldError{{Field: "type", Code: "unknown_type", Message: "must be " + want}}})
		return
	}
	if name == partnerlink.ChinaEPort {
		a.cebReceiptNotification(w, r, n, msgID)
		return
	}
	if n.OrderID == "" {
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity, Detail: "The notification names no order.",
			Errors: []order.FieldError{{Field: "orderId", Code: "required", Message: "is required"}}})
		return
	}
	o, err := a.cfg.Store.GetOrder(ctx, n.OrderID)
	switch {
	case errors.Is(err, order.ErrNotFound):
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such order."})
		return
	case err != nil:
		a.internalError(w, r, "read order", err)
		return
	}
	waker := a.cfg.PartnerLinks.Customs
	if name == partnerlink.Warehouse {
		waker = a.cfg.PartnerLinks.Warehouse
	}
	woken := false
	if o.Status == waitingStatus[name] && o.TaskToken != "" && waker != nil {
		if err := waker.Wake(ctx, o.ID, o.TaskToken); err != nil {
			a.internalError(w, r, "wake the waiting step", err)
			return // 5xx: the partner sends the notification again
		}
		woken = true
	}
	a.cfg.Logger.InfoContext(ctx, "partner notification", "partner", name, "orderId", o.ID, "status", n.Status, "woken", woken, "messageId", msgID)
	a.writeValue(w, r, http.StatusAccepted, map[string]any{"orderId": o.ID, "woken": woken})
}

// cebReceiptNotification records the receipt a China E-Port notification
// carries.
func (a *API) cebReceiptNotification(w http.ResponseWriter, r *http.Request, n partnerlink.Notification, msgID string) {
	if a.cfg.Receipts == nil {
		notConfigured(w, r, "a receipts recorder")
		return
	}
	results, err := a.cfg.Receipts.Record(r.Context(), []byte(n.XML), a.cfg.Now())
	var bad *ceb.ReceiptError
	var unknown *receipts.UnknownError
	switch {
	case errors.As(err, &bad):
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Detail: "The receipt cannot be read; nothing was recorded.",
			Errors: []order.FieldError{{Field: "xml/" + bad.Field, Code: "invalid_receipt", Message: bad.Problem}}})
		return
	case errors.As(err, &unknown):
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Detail: "The receipt answers a message this system did not declare; nothing was recorded.",
			Errors: []order.FieldError{{Field: "xml/" + unknown.Field, Code: "unknown_document", Message: unknown.Problem}}})
		return
	case err != nil:
		a.internalError(w, r, "record customs receipt", err)
		return
	}
	a.cfg.Logger.InfoContext(r.Context(), "customs receipt notified", "receipt", results[0].Type, "returns", len(results), "messageId", msgID)
	a.writeValue(w, r, http.StatusOK, map[string]any{"receipt": results[0].Type, "answers": results[0].Answers, "results": results})
}
