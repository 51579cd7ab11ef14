package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
)

// orderView is an order as its owner sees it: the payment token is not
// echoed back, and what is the merchant's or the operators' business stays
// out — the merchant's customs cost, the filing's internals (China's
// supervision mode, submissions and receipts, the declaration filed, the
// broker's reference), the list entry of a screening hit, and who among
// the operators acted (an event by an operator says "ops"). The ops views
// (opsOrderView) keep them all.
type orderView struct {
	*order.Order
	Payment paymentView `json:"payment"`
	// Screening is the list entry that refused the order: an operator's to
	// see, never the customer's (a denied-party match is not disclosed).
	Screening          *struct{}             `json:"screening,omitempty"`
	CustomsDeclaration *struct{}             `json:"customsDeclaration,omitempty"`
	Customs            *shopperCustoms       `json:"customs,omitempty"`
	Callbacks          *order.CallbackRecord `json:"callbacks,omitempty"`
	History            []order.Event         `json:"history,omitempty"`
	Links              map[string]any        `json:"links"`
}

type paymentView struct {
	Method string `json:"method"`
}

// shopperCustoms is what the shopper sees of customs: the duties, taxes
// and fees quoted at checkout and assessed for the order (the shopper never
// pays more than quoted).
type shopperCustoms struct {
	QuoteID  string               `json:"quoteId,omitempty"`
	Quoted   *order.LandedCharges `json:"quoted,omitempty"`
	Assessed *order.LandedCharges `json:"assessed,omitempty"`
}

// customsView is an order's customs record with the declaration the
// customs step filed, a document kept beside the order: the ops views'.
type customsView struct {
	*order.CustomsRecord
	Declaration json.RawMessage `json:"declaration,omitempty"`
}

// beside is what the owner's view shows of what is kept beside an order
// rather than in it.
type beside struct {
	callbacks *order.CallbackRecord
}

func viewOf(o *order.Order, history []order.Event, b beside) orderView {
	v := orderView{Order: o, Payment: paymentView{Method: o.Payment.Method}, Callbacks: b.callbacks,
		History: actorsByKind(history), Links: map[string]any{"self": orderLocation(o.ID)}}
	if c := o.Customs; c != nil {
		v.Customs = &shopperCustoms{QuoteID: c.QuoteID, Quoted: c.Quoted, Assessed: c.Assessed}
	}
	return v
}

// actorsByKind is history with each event's actor named by its kind only
// where it names a person of ours ("ops:<sub>" → "ops"): the customer
// learns that an operator acted, not which.
func actorsByKind(history []order.Event) []order.Event {
	out := make([]order.Event, len(history))
	for i, e := range history {
		if kind, _, ok := strings.Cut(e.Actor, ":"); ok && kind == "ops" {
			e.Actor = kind
		}
		out[i] = e
	}
	return out
}

// customsOf is o's customs record as the ops views show it, with the
// declaration filed: without the buyer's identity number, of which only
// the last four characters are shown ("**************123X"). The buyer's
// own identity marshals so (order.Identity.MarshalJSON); the declaration
// repeats the number in China's documents (buyerIdNumber, payerIdNumber),
// which are masked here.
func customsOf(o *order.Order, declaration json.RawMessage) *customsView {
	if o.Customs == nil {
		return nil
	}
	v := &customsView{CustomsRecord: o.Customs}
	if len(declaration) > 0 {
		v.Declaration = maskIDNumbers(declaration)
	}
	return v
}

// besideOf reads what the order's owner sees of what is kept beside it:
// what the partner of a partner's order was told. Any other order costs
// no read.
func (a *API) besideOf(ctx context.Context, o *order.Order) (beside, error) {
	var b beside
	var err error
	b.callbacks, err = a.callbacksOf(ctx, o)
	return b, err
}

// callbacksOf reads what the partner of a partner's order was told: nil
// for any other order, and for one the partner has not heard of yet.
func (a *API) callbacksOf(ctx context.Context, o *order.Order) (*order.CallbackRecord, error) {
	if o.PartnerID == "" {
		return nil, nil
	}
	c, err := a.cfg.Store.Callbacks(ctx, o.ID)
	if err != nil || (c.DeliveredVersion == 0 && len(c.Attempts) == 0) {
		return nil, err
	}
	return &c, nil
}

// maskIDNumbers masks, in a JSON document, every non-empty string whose
// key ends in "IdNumber" (any case: buyerIdNumber, PayerIDNumber, …) with
// order.MaskIDNumber. A document it cannot read is left out (nil) rather
// than shown unmasked.
func maskIDNumbers(raw json.RawMessage) json.RawMessage {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // amounts stay exact
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil
	}
	if !maskIn(doc) {
		return raw
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil
	}
	return out
}

// maskIn masks the identity numbers in a decoded JSON value in place and
// reports whether it masked any.
func maskIn(v any) bool {
	masked := false
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && s != "" && strings.HasSuffix(strings.ToLower(k), "idnumber") {
				x[k], masked = order.MaskIDNumber(s), true
			} else if maskIn(e) {
				masked = true
			}
		}
	case []any:
		for _, e := range x {
			if maskIn(e) {
				masked = true
			}
		}
	}
	return masked
}

func orderLocation(id string) string { return "/v1/orders/" + id }

// createOrder accepts an order exactly once per Idempotency-Key.
func (a *API) createOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	caller := identity(ctx)
	key := partnerlink.Header(r.Header, "Idempotency-Key")
	if problem := checkIdempotencyKey(key); problem != "" {
		writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest, Detail: problem})
		return
	}
	var draft order.Draft
	raw, ok := decodeJSONBody(w, r, &draft)
	if !ok {
		return
	}
	errs := draft.Validate()
	if draft.Channel == order.ChannelPartner {
		errs = append(errs, order.FieldError{Field: "/channel", Code: "not_allowed",
			Message: "partner orders arrive through the partner webhook, not this endpoint"})
	}
	if len(errs) == 0 {
		errs = a.unsupported(&draft)
	}
	if len(errs) > 0 {
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Title: "The order is not valid", Detail: fmt.Sprintf("%d problem(s) with the order.", len(errs)), Errors: errs})
		return
	}

	now := a.cfg.Now().UTC()
	scope, hash := "customer:"+caller.Subject, canonicalHash(raw)
	o, first := order.Accept(draft, a.cfg.NewID(), caller.Subject, scope, now)
	routeOf(o)
	if o.QuoteID != "" {
		problems, err := a.acceptQuote(ctx, o, caller.Subject, now)
		if err != nil {
			a.internalError(w, r, "accept quote", err)
			return
		}
		if len(problems) > 0 {
			a.refuseQuote(w, r, scope, key, hash, problems, now)
			return
		}
	} else if rate, err := a.cfg.Quoter.LockRate(o.Currency, o.Destination(), now); err == nil {
		o.FX = rate // a destination without rules has none to lock
	}
	body, err := json.Marshal(viewOf(o, nil, beside{}))
	if err != nil {
		a.internalError(w, r, "encode order", err)
		return
	}
	// The order, its history and the idempotency record are one transaction,
	// on condition that the key is free: a retry finds the record instead.
	done := idempotency.Record{
		Scope: scope, Key: key, RequestHash: hash, State: idempotency.StateCompleted,
		StatusCode: http.StatusAccepted, Location: orderLocation(o.ID), Body: body, ResourceID: o.ID,
		CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention),
	}
	if !a.storeOrder(w, r, o, first, done, a.answerRepeat) {
		return
	}
	a.cfg.Logger.InfoContext(ctx, "order received", "requestId", requestID(ctx), "orderId", o.ID,
		"tradeMode", o.TradeMode, "destination", o.Destination(), "lines", len(o.Lines), "quoteAccepted", o.Customs != nil)
	w.Header().Set("Location", done.Location)
	writeJSON(w, http.StatusAccepted, body)
}

// unsupported refuses, before anything is stored, an order the customs step
// could not assess or declare: a destination without customs rules, a
// currency without a reference rate.
func (a *API) unsupported(d *order.Draft) []order.FieldError {
	var errs []order.FieldError
	if dest := d.Destination(); !a.cfg.Quoter.Supports(dest) {
		errs = append(errs, order.FieldError{Field: "/consignee/address/country", Code: customs.CodeUnsupported,
			Message: "orders to " + dest + " cannot be declared yet: no customs rules for it (see POST /v1/quotes for the destinations covered)."})
	}
	if !a.cfg.Quoter.SupportsCurrency(d.Currency) {
		errs = append(errs, order.FieldError{Field: "/currency", Code: customs.CodeUnsupported,
			Message: "no reference exchange rate is published for " + d.Currency + "; use a currency such as EUR, USD, GBP or JPY."})
	}
	return errs
}

// refuseQuote answers an order whose quote cannot be accepted (any more)
// with 422 — unless the key says it is the retry of an order that was
// accepted with it, while the quote was good: that gets the first answer.
func (a *API) refuseQuote(w http.ResponseWriter, r *http.Request, scope, key, hash string, problems []order.FieldError, now time.Time) {
	existing, found, err := a.cfg.Store.LookupKey(r.Context(), scope, key, now)
	if err != nil {
		a.internalError(w, r, "look up idempotency key", err)
		return
	}
	if found && idempotency.Decide(existing, hash, now) != idempotency.TakeOver {
		a.answerRepeat(w, r, existing, hash, now)
		return
	}
	writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
		Title: "The order is not valid", Detail: fmt.Sprintf("%d problem(s) with the order.", len(problems)), Errors: problems})
}

// storeOrder writes the order, its first event and the completed
// idempotency record in one transaction and hands the order to the
// workflow. A key seen before is answered by repeat, a partner's order
// reference used before by answerReference; false means the response is
// written.
func (a *API) storeOrder(w http.ResponseWriter, r *http.Request, o *order.Order, first order.Event, done idempotency.Record,
	repeat func(w http.ResponseWriter, r *http.Request, existing idempotency.Record, hash string, now time.Time)) bool {
	ctx := r.Context()
	existing, err := a.cfg.Store.CreateOrder(ctx, o, first, done, done.CreatedAt)
	switch {
	case errors.Is(err, idempotency.ErrClaimed):
		repeat(w, r, existing, done.RequestHash, done.CreatedAt)
		return false
	case errors.Is(err, order.ErrReferenceTaken):
		// A partner's order reference made an order before (only partner
		// orders claim theirs): that order's answer, or 409 for another body.
		a.answerReference(w, r, existing, o.PartnerOrderRef, done.RequestHash, done.CreatedAt)
		return false
	case errors.Is(err, idempotency.ErrBusy):
		writeInFlight(w, r)
		return false
	case err != nil:
		a.internalError(w, r, "create order", err)
		return false
	}
	if a.cfg.Workflow != nil {
		if err := a.cfg.Workflow.Enqueue(ctx, o.ID); err != nil {
			// The order is stored: the reconciler hands it over within minutes.
			a.cfg.Logger.WarnContext(ctx, "hand order to workflow", "requestId", requestID(ctx), "orderId", o.ID, "error", err.Error())
		}
	}
	return true
}

// answerRepeat answers a request whose Idempotency-Key was seen before.
func (a *API) answerRepeat(w http.ResponseWriter, r *http.Request, existing idempotency.Record, hash string, now time.Time) {
	switch idempotency.Decide(existing, hash, now) {
	case idempotency.Replay:
		w.Header().Set("Idempotent-Replayed", "true")
		if existing.Location != "" {
			w.Header().Set("Location", existing.Location)
		}
		writeJSON(w, existing.StatusCode, existing.Body)
	case idempotency.Mismatch:
		writeProblem(w, r, Problem{Type: problemIdempotencyReuse, Status: http.StatusUnprocessableEntity,
			Title:  "Idempotency-Key reused",
			Detail: "This Idempotency-Key was already used with a different request body; use a new key for a new order."})
	default:
		writeInFlight(w, r)
	}
}

func writeInFlight(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Retry-After", "1")
	writeProblem(w, r, Problem{Type: problemConflict, Status: http.StatusConflict,
		Detail: "A request with this Idempotency-Key is still being processed; retry shortly."})
}

func (a *API) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.cfg.Logger.ErrorContext(r.Context(), what, "requestId", requestID(r.Context()), "error", err.Error())
	writeProblem(w, r, Problem{Type: problemInternal, Status: http.StatusInternalServerError,
		Detail: "Something went wrong on our side; retrying is safe (with the same Idempotency-Key for a POST)."})
}

// getOrder returns one order with its history, to its owner only: anyone else
// gets the same 404 as for an order that does not exist.
func (a *API) getOrder(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	o, err := a.cfg.Store.GetOrder(ctx, id)
	if errors.Is(err, order.ErrNotFound) || (err == nil && o.CustomerID != identity(ctx).Subject) {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such order."})
		return
	}
	if err != nil {
		a.internalError(w, r, "get order", err)
		return
	}
	history, err := a.cfg.Store.History(ctx, id)
	if err != nil {
		a.internalError(w, r, "get order history", err)
		return
	}
	b, err := a.besideOf(ctx, o)
	if err != nil {
		a.internalError(w, r, "get order documents", err)
		return
	}
	body, err := json.Marshal(viewOf(o, history, b))
	if err != nil {
		a.internalError(w, r, "encode order", err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// orderSummary is one row of the caller's order list.
type orderSummary struct {
	ID          string          `json:"orderId"`
	Status      order.Status    `json:"status"`
	Reason      string          `json:"reason,omitempty"`
	TradeMode   order.TradeMode `json:"tradeMode"`
	Destination string          `json:"destination"`
	Total       money.Money     `json:"total"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
	Links       map[string]any  `json:"links"`
}

type orderPage struct {
	Orders     []orderSummary `json:"orders"`
	NextCursor string         `json:"nextCursor,omitempty"`
}

// Page sizes of GET /v1/orders.
const (
	defaultPageSize = 20
	maxPageSize     = 100
)

// listOrders returns the caller's orders, newest first, a page at a time.
func (a *API) listOrders(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	limit := defaultPageSize
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageSize {
			writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest,
				Detail: fmt.Sprintf("limit must be a whole number from 1 to %d.", maxPageSize)})
			return
		}
		limit = n
	}
	orders, next, err := a.cfg.Store.ListByCustomer(ctx, identity(ctx).Subject, limit, q.Get("cursor"))
	if errors.Is(err, order.ErrInvalidCursor) {
		writeProblem(w, r, Problem{Type: problemBadRequest, Status: http.StatusBadRequest,
			Detail: "cursor is not one this API returned for you; start again without it."})
		return
	}
	if err != nil {
		a.internalError(w, r, "list orders", err)
		return
	}
	page := orderPage{Orders: make([]orderSummary, 0, len(orders)), NextCursor: next}
	for _, o := range orders {
		page.Orders = append(page.Orders, orderSummary{ID: o.ID, Status: o.Status, Reason: o.Reason, TradeMode: o.TradeMode,
			Destination: o.Destination(), Total: o.Total, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
			Links: map[string]any{"self": orderLocation(o.ID)}})
	}
	body, err := json.Marshal(page)
	if err != nil {
		a.internalError(w, r, "encode orders", err)
		return
	}
	writeJSON(w, http.StatusOK, body)
}

// canonicalHash fingerprints a JSON body ignoring insignificant whitespace,
// so a client that re-serialises the same request still matches.
func canonicalHash(raw []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return idempotency.Hash(raw)
	}
	return idempotency.Hash(buf.Bytes())
}

// checkIdempotencyKey returns why key is unacceptable, or "".
func checkIdempotencyKey(key string) string {
	if key == "" {
		return "The Idempotency-Key header is required: send a fresh unique value (a UUID) per order, and the same value when retrying it."
	}
	if len(key) > 255 {
		return "The Idempotency-Key header must be at most 255 characters."
	}
	if !printable(key) {
		return "The Idempotency-Key header must be printable ASCII without spaces."
	}
	return ""
}
