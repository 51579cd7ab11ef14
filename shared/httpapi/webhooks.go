package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
)

// Partners finds a partner by the id in the webhook's path.
type Partners interface {
	Get(id string) (*partner.Partner, bool)
}

// webhookAnswer is what a partner gets for an accepted delivery (and again,
// with Idempotent-Replayed, for every repeat of it).
type webhookAnswer struct {
	OrderID         string         `json:"orderId"`
	Status          order.Status   `json:"status"`
	PartnerOrderRef string         `json:"partnerOrderRef,omitempty"`
	DeliveryID      string         `json:"deliveryId"`
	Links           map[string]any `json:"links"`
}

// partnerWebhook accepts an order posted by a partner: the signature over
// the raw body proves who sent it, the delivery id makes every repeat —
// retries, replays, ten copies at once — answer the first delivery, and the
// partner's format is mapped into an order.
func (a *API) partnerWebhook(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("partner")
	p, ok := a.cfg.Partners.Get(id)
	if !ok {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such partner."})
		return
	}
	raw, ok := readJSONBody(w, r)
	if !ok {
		return
	}
	delivery := partnerlink.Header(r.Header, partner.DeliveryHeader)
	if problem := checkDeliveryID(delivery); problem != "" {
		writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest, Detail: problem})
		return
	}
	now := a.cfg.Now().UTC()
	if err := partner.Verify(partnerlink.Header(r.Header, partner.SignatureHeader), raw, p.Secrets, now, a.cfg.SignatureTolerance); err != nil {
		a.cfg.Logger.InfoContext(ctx, "webhook signature refused", "requestId", requestID(ctx), "partner", p.ID, "error", err.Error())
		writeProblem(w, r, Problem{Type: problemSignature, Status: http.StatusUnauthorized, Detail: "The signature was not accepted."})
		return
	}
	scope, hash := "partner:"+p.ID, canonicalHash(raw)
	// A delivery seen before is answered as it was, whatever has changed since.
	existing, found, err := a.cfg.Store.LookupKey(ctx, scope, delivery, now)
	if err != nil {
		a.internalError(w, r, "look up delivery", err)
		return
	}
	if found && idempotency.Decide(existing, hash, now) != idempotency.TakeOver {
		a.answerDelivery(w, r, existing, hash, now)
		return
	}

	// Only now — the signature over the raw bytes verified, a repeat
	// answered as it was — is the body read as JSON, as strictly as the
	// API's own bodies (one object, no key twice), whatever the format.
	if err := checkJSONObject(raw); err != nil {
		badRequest(w, r, err.Error())
		return
	}
	draft, mapErrs, err := p.Draft(raw, a.cfg.Catalogue)
	if err != nil {
		writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest, Detail: err.Error()})
		return
	}
	errs := mapErrs
	if len(errs) == 0 {
		errs = draft.Validate()
	}
	if len(errs) == 0 && !p.Allows(draft.TradeMode) {
		errs = append(errs, order.FieldError{Field: "/tradeMode", Code: order.CodeNotAllowed,
			Message: fmt.Sprintf("this partner may post %v orders, not %s.", p.TradeModes, draft.TradeMode)})
	}
	if len(errs) == 0 {
		errs = a.unsupported(&draft)
	}
	if len(errs) > 0 {
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Title: "The order is not valid", Detail: fmt.Sprintf("%d problem(s) with the order.", len(errs)), Errors: errs})
		return
	}

	o, first := order.Accept(draft, a.cfg.NewID(), scope, scope, now)
	o.PartnerID = p.ID
	if rate, err := a.cfg.Quoter.LockRate(o.Currency, o.Destination(), now); err == nil {
		o.FX = rate
	}
	body, err := json.Marshal(webhookAnswer{OrderID: o.ID, Status: o.Status, PartnerOrderRef: o.PartnerOrderRef, DeliveryID: delivery,
		Links: map[string]any{"order": orderLocation(o.ID)}})
	if err != nil {
		a.internalError(w, r, "encode answer", err)
		return
	}
	done := idempotency.Record{Scope: scope, Key: delivery, RequestHash: hash, State: idempotency.StateCompleted,
		StatusCode: http.StatusAccepted, Body: body, ResourceID: o.ID, CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
	if !a.storeOrder(w, r, o, first, done, a.answerDelivery) {
		return
	}
	a.cfg.Logger.InfoContext(ctx, "partner order received", "requestId", requestID(ctx), "orderId", o.ID, "partner", p.ID,
		"format", p.Format, "tradeMode", o.TradeMode, "destination", o.Destination(), "lines", len(o.Lines))
	writeJSON(w, http.StatusAccepted, body)
}

// answerDelivery answers a delivery id seen before: the first answer again,
// 422 for the same id with another body, 409 while the first is in flight.
func (a *API) answerDelivery(w http.ResponseWriter, r *http.Request, existing idempotency.Record, hash string, now time.Time) {
	if idempotency.Decide(existing, hash, now) == idempotency.Mismatch {
		writeProblem(w, r, Problem{Type: problemIdempotencyReuse, Status: http.StatusUnprocessableEntity,
			Title:  "Delivery id reused",
			Detail: "This " + partner.DeliveryHeader + " was already used with a different body; a new order needs a new delivery id."})
		return
	}
	a.answerRepeat(w, r, existing, hash, now)
}

// checkDeliveryID returns why a delivery id is unacceptable, or "".
func checkDeliveryID(id string) string {
	if id == "" {
		return "The " + partner.DeliveryHeader + " header is required: a unique id per delivery, the same on every retry of it."
	}
	if len(id) > 255 || !printable(id) {
		return "The " + partner.DeliveryHeader + " header must be at most 255 printable ASCII characters without spaces."
	}
	return ""
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
