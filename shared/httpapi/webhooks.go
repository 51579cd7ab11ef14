package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

// Signature schemes a delivery may be signed with.
const (
	// schemeStandard: Standard Webhooks (partnerlink.Verify); the delivery
	// id is the signed webhook-id.
	schemeStandard = "standard-webhooks"
	// schemeLegacy: Xborder-Signature over the body, the delivery id in
	// Xborder-Delivery-Id, unsigned; accepted until partner.LegacySunset.
	schemeLegacy = "xborder-signature"
)

// problemPartnerOrderRefReused: a partnerOrderRef that made an order comes
// again with another body.
const problemPartnerOrderRefReused = "/problems/partner-order-ref-reused"

// partnerWebhook accepts an order posted by a partner: the signature over
// the raw body (and, with Standard Webhooks, over the delivery id) proves
// who sent it; the delivery id makes every repeat — retries, ten copies at
// once — answer the first delivery; the partner's order reference makes
// every other delivery of the same order (a resend under a new id, a
// captured delivery replayed under one) answer the order it made, or 409
// with another body; and the partner's format is mapped into an order.
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
	now := a.cfg.Now().UTC()
	delivery, scheme, ok := a.verifyDelivery(w, r, p, raw, now)
	if !ok {
		return
	}
	if delivery == "" {
		// The signature failed with the secrets held: the partner may have
		// moved to a new one since this environment read the directory.
		// Read it again (at most every partner.DirectoryRereadEvery) and
		// check once more.
		rf, refreshes := a.cfg.Partners.(refresher)
		if !refreshes || !rf.Refresh(ctx) {
			a.refuseSignature(w, r)
			return
		}
		if p, ok = a.cfg.Partners.Get(id); !ok {
			a.refuseSignature(w, r)
			return
		}
		if delivery, scheme, ok = a.verifyDelivery(w, r, p, raw, now); !ok {
			return
		}
		if delivery == "" {
			a.refuseSignature(w, r)
			return
		}
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
	if len(errs) == 0 && !p.AllowsPayment(draft.Payment.Method) {
		// A partner posting card tokens would read each decline off its
		// callbacks: card only when its directory entry says so.
		errs = append(errs, order.FieldError{Field: "/payment/method", Code: order.CodeNotAllowed,
			Message: fmt.Sprintf("this partner may post orders paid by %v, not %s.", paymentMethods(p), draft.Payment.Method)})
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
	routeOf(o)
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
		"format", p.Format, "signature", scheme, "tradeMode", o.TradeMode, "destination", o.Destination(), "lines", len(o.Lines))
	writeJSON(w, http.StatusAccepted, body)
}

// verifyDelivery checks a delivery's signature and returns its id and the
// scheme it was signed with; false means the response is written. With
// any Standard Webhooks header the delivery is judged by that scheme alone
// and its id is the signed webhook-id (an Xborder-Delivery-Id beside it
// must be the same); otherwise by Xborder-Signature, with the delivery id
// of Xborder-Delivery-Id, and the answer says the scheme is deprecated.
func (a *API) verifyDelivery(w http.ResponseWriter, r *http.Request, p *partner.Partner, raw []byte, now time.Time) (string, string, bool) {
	ctx := r.Context()
	// A signature not accepted is no answer yet: "" and ok, for the caller
	// to read the directory again and try once more (refuseSignature).
	refuse := func(scheme string, err error) (string, string, bool) {
		a.cfg.Logger.InfoContext(ctx, "webhook signature refused", "requestId", requestID(ctx), "partner", p.ID,
			"signature", scheme, "error", err.Error())
		return "", scheme, true
	}
	badID := func(detail string) (string, string, bool) {
		writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest, Detail: detail})
		return "", "", false
	}
	h := r.Header
	if h.Get(partnerlink.HeaderID) != "" || h.Get(partnerlink.HeaderTimestamp) != "" || h.Get(partnerlink.HeaderSignature) != "" {
		delivery := partnerlink.Header(h, partnerlink.HeaderID)
		if problem := checkDeliveryID(partnerlink.HeaderID, delivery); problem != "" && delivery != "" {
			return badID(problem)
		}
		signed, err := partnerlink.Verify(h, raw, now, a.cfg.SignatureTolerance, p.Secrets...)
		if err != nil {
			return refuse(schemeStandard, err)
		}
		if other := partnerlink.Header(h, partner.DeliveryHeader); other != "" && other != signed {
			return badID("The " + partner.DeliveryHeader + " header differs from the signed " + partnerlink.HeaderID + ": send one id, or only " + partnerlink.HeaderID + ".")
		}
		return signed, schemeStandard, true
	}
	// The scheme being retired: say so on every answer (RFC 9745, RFC 8594),
	// and refuse it from its sunset on.
	w.Header().Set("Deprecation", "@"+strconv.FormatInt(partner.LegacyDeprecated.Unix(), 10))
	w.Header().Set("Sunset", partner.LegacySunset.Format(http.TimeFormat))
	if !now.Before(partner.LegacySunset) {
		a.cfg.Logger.InfoContext(ctx, "webhook in the retired signature scheme", "requestId", requestID(ctx), "partner", p.ID)
		writeProblem(w, r, Problem{Type: problemSignature, Status: http.StatusUnauthorized,
			Detail: "The " + partner.SignatureHeader + " scheme was retired on " + partner.LegacySunset.Format(time.DateOnly) +
				": sign with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)."})
		return "", "", false
	}
	delivery := partnerlink.Header(h, partner.DeliveryHeader)
	if problem := checkDeliveryID(partner.DeliveryHeader, delivery); problem != "" {
		return badID(problem)
	}
	if err := partner.Verify(partnerlink.Header(h, partner.SignatureHeader), raw, p.Secrets, now, a.cfg.SignatureTolerance); err != nil {
		return refuse(schemeLegacy, err)
	}
	return delivery, schemeLegacy, true
}

// refresher is a partner directory that can be read again from its source
// (*partner.Refreshing).
type refresher interface {
	Refresh(ctx context.Context) bool
}

func (a *API) refuseSignature(w http.ResponseWriter, r *http.Request) {
	writeProblem(w, r, Problem{Type: problemSignature, Status: http.StatusUnauthorized, Detail: "The signature was not accepted."})
}

// answerReference answers a delivery whose partnerOrderRef made an order
// already (existing is the record of the delivery that made it): the same
// body is that delivery's answer again — the same status and order —
// another body is a conflict naming the field.
func (a *API) answerReference(w http.ResponseWriter, r *http.Request, existing idempotency.Record, ref, hash string, now time.Time) {
	a.cfg.Logger.InfoContext(r.Context(), "partner order reference used before", "requestId", requestID(r.Context()),
		"orderId", existing.ResourceID, "sameBody", existing.RequestHash == hash)
	if idempotency.Decide(existing, hash, now) == idempotency.Replay {
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, existing.StatusCode, existing.Body)
		return
	}
	writeProblem(w, r, Problem{Type: problemPartnerOrderRefReused, Status: http.StatusConflict,
		Title:  "Partner order reference already used",
		Detail: "This partnerOrderRef already made order " + existing.ResourceID + " with a different body; a partner order reference makes one order.",
		Errors: []order.FieldError{{Field: "/partnerOrderRef", Code: codeConflict,
			Message: fmt.Sprintf("partnerOrderRef %q already made order %s.", ref, existing.ResourceID)}}})
}

// codeConflict: the field's value is taken by another resource.
const codeConflict = "conflict"

// paymentMethods are the methods p may post.
func paymentMethods(p *partner.Partner) []string {
	if len(p.PaymentMethods) == 0 {
		return []string{order.PaymentPartnerAccount}
	}
	return p.PaymentMethods
}

// answerDelivery answers a delivery id seen before: the first answer again,
// 422 for the same id with another body, 409 while the first is in flight.
func (a *API) answerDelivery(w http.ResponseWriter, r *http.Request, existing idempotency.Record, hash string, now time.Time) {
	if idempotency.Decide(existing, hash, now) == idempotency.Mismatch {
		writeProblem(w, r, Problem{Type: problemIdempotencyReuse, Status: http.StatusUnprocessableEntity,
			Title:  "Delivery id reused",
			Detail: "This delivery id (" + partnerlink.HeaderID + " or " + partner.DeliveryHeader + ") was already used with a different body; a new order needs a new delivery id."})
		return
	}
	a.answerRepeat(w, r, existing, hash, now)
}

// checkDeliveryID returns why the delivery id in header is unacceptable,
// or "".
func checkDeliveryID(header, id string) string {
	if id == "" {
		return "The " + header + " header is required: a unique id per delivery, the same on every retry of it."
	}
	if len(id) > 255 || !printable(id) {
		return "The " + header + " header must be at most 255 printable ASCII characters without spaces."
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
