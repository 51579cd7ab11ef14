package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/fx"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/quotes"
	"github.com/xborder/xborder/shared/screening"
	"github.com/xborder/xborder/shared/stock"
)

// Quoter computes landed costs: customs.Default() in production and tests.
type Quoter interface {
	// ValidateCart reports every problem with a cart, with the quote
	// request's field paths.
	ValidateCart(c *customs.Cart) []order.FieldError
	// Quote computes the landed cost of a valid cart.
	Quote(c customs.Cart) (*customs.Quote, error)
	// LockRate is the reference rate from an order's currency into its
	// destination's; an error for a destination without rules.
	LockRate(currency, destination string, on time.Time) (*order.FXRate, error)
	// Supports and SupportsCurrency say whether an order to a country, in a
	// currency, can be assessed and declared at all.
	Supports(country string) bool
	SupportsCurrency(currency string) bool
}

// GoodsScreen finds goods the destination restricts (screening.GoodsRules).
type GoodsScreen interface {
	Check(dest string, lines []order.Line, on time.Time) *screening.Hit
}

// codeRestricted: a cart line the destination restricts or prohibits.
const codeRestricted = "restricted"

// QuoteStore keeps issued quotes (memstore and dynamostore implement it).
type QuoteStore interface {
	// PutQuote stores a new quote; an id already stored is quotes.ErrExists.
	PutQuote(ctx context.Context, q quotes.Record) error
	// GetQuote reads one quote; quotes.ErrNotFound if there is none.
	GetQuote(ctx context.Context, id string) (*quotes.Record, error)
}

// DefaultQuoteTTL is how long a quote can be accepted by an order.
const DefaultQuoteTTL = time.Hour

// QuoteRequest is the body of POST /v1/quotes: a cart, without the parties.
type QuoteRequest struct {
	Lines            []order.Line `json:"lines"`
	ConsigneeCountry string       `json:"consigneeCountry"`
	// ConsigneeRegion is the province or state where taxes differ by
	// region (Canada's HST), as the order's consignee address will say.
	ConsigneeRegion string          `json:"consigneeRegion,omitempty"`
	Currency        string          `json:"currency"`
	Shipping        *money.Money    `json:"shipping,omitempty"`
	Insurance       *money.Money    `json:"insurance,omitempty"`
	TradeMode       order.TradeMode `json:"tradeMode"`
	Incoterm        order.Incoterm  `json:"incoterm,omitempty"`
	// OrderDate is the day whose rules apply: YYYY-MM-DD or an RFC 3339
	// time (its UTC day); now when omitted.
	OrderDate  string `json:"orderDate,omitempty"`
	IOSSNumber string `json:"iossNumber,omitempty"`
	Gift       bool   `json:"gift,omitempty"`
	// The route: the order's fulfilment, and — when the caller knows it —
	// the country the parcel ships from; without it the quote takes the
	// warehouse the stock step would pick for the fulfilment and says so.
	// Carrier is courier (the default) or post.
	Fulfilment order.Fulfilment `json:"fulfilment,omitempty"`
	ShipFrom   string           `json:"shipFrom,omitempty"`
	Carrier    order.Carrier    `json:"carrier,omitempty"`
}

// routeOf sets where a new order ships from: the country of the warehouse
// the stock step will try first (stock.Predict). The stock step sets it
// again from the warehouse that reserves the goods.
func routeOf(o *order.Order) {
	if w, ok := stock.Predict(o.Fulfilment, o.Destination()); ok {
		o.ShipFrom = w.Country
	}
}

// codeExpired: the quote an order names is past its expiresAt.
const codeExpired = "expired"

const maxRegion = 100

// cart is the request as the engine sees it, dated now unless it names an
// order date; the problems are those ValidateCart does not look at.
func (q *QuoteRequest) cart(now time.Time) (customs.Cart, []order.FieldError) {
	c := customs.Cart{Lines: q.Lines, Destination: q.ConsigneeCountry, Region: q.ConsigneeRegion, Currency: q.Currency,
		Shipping: money.New(0, q.Currency), Insurance: money.New(0, q.Currency), TradeMode: q.TradeMode,
		Incoterm: q.Incoterm, Date: now, IOSSNumber: q.IOSSNumber, Gift: q.Gift,
		Fulfilment: q.Fulfilment, ShipFrom: q.ShipFrom, Carrier: q.Carrier}
	if q.Shipping != nil {
		c.Shipping = *q.Shipping
	}
	if q.Insurance != nil {
		c.Insurance = *q.Insurance
	}
	if c.Incoterm == "" {
		c.Incoterm = order.IncotermDDP
	}
	var errs []order.FieldError
	switch q.Fulfilment {
	case "", order.FulfilOverseasWarehouse, order.FulfilDirectMail, order.FulfilSupplierDirect, order.FulfilBondedWarehouse:
	default:
		errs = append(errs, order.FieldError{Field: "/fulfilment", Code: order.CodeInvalid,
			Message: "fulfilment must be overseas_warehouse, direct_mail, supplier_direct or bonded_warehouse."})
	}
	switch q.Carrier {
	case "", order.CarrierCourier, order.CarrierPost:
	default:
		errs = append(errs, order.FieldError{Field: "/carrier", Code: order.CodeInvalid, Message: "carrier must be courier (the default) or post."})
	}
	switch {
	case q.ShipFrom != "" && !country.Valid(q.ShipFrom):
		errs = append(errs, order.FieldError{Field: "/shipFrom", Code: order.CodeInvalid,
			Message: "shipFrom must be an ISO 3166-1 alpha-2 code in upper case, such as AU."})
	case q.ShipFrom == "":
		// Where the stock step would take the goods from; without a
		// fulfilment, direct mail from China, as the quote says.
		if c.Fulfilment == "" {
			c.Fulfilment = order.FulfilDirectMail
		}
		if w, ok := stock.Predict(c.Fulfilment, q.ConsigneeCountry); ok {
			c.ShipFrom, c.Warehouse, c.RouteAssumed = w.Country, w.ID, true
		}
	}
	if utf8.RuneCountInString(q.ConsigneeRegion) > maxRegion {
		errs = append(errs, order.FieldError{Field: "/consigneeRegion", Code: order.CodeTooLong,
			Message: fmt.Sprintf("consigneeRegion must be at most %d characters.", maxRegion)})
	}
	if q.OrderDate != "" {
		if d, ok := parseOrderDate(q.OrderDate); ok {
			c.Date = d
		} else {
			errs = append(errs, order.FieldError{Field: "/orderDate", Code: order.CodeInvalid,
				Message: "orderDate must be a date (YYYY-MM-DD) or an RFC 3339 time; its UTC day is the one whose rules apply."})
		}
	}
	return c, errs
}

// parseOrderDate reads YYYY-MM-DD (midnight UTC) or an RFC 3339 time.
func parseOrderDate(s string) (time.Time, bool) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		return d, true
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}

// quoteView is a quote as the API answers it.
type quoteView struct {
	*customs.Quote
	Links map[string]any `json:"links"`
}

func quoteLocation(id string) string { return "/v1/quotes/" + id }

// createQuote computes, stores and returns the landed cost of a cart. It
// creates nothing an Idempotency-Key would protect: a retry gets a new quote.
func (a *API) createQuote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var req QuoteRequest
	if _, ok := decodeJSONBody(w, r, &req); !ok {
		return
	}
	now := a.cfg.Now().UTC()
	cart, errs := req.cart(now)
	errs = append(a.cfg.Quoter.ValidateCart(&cart), errs...)
	if len(errs) > 0 {
		writeInvalidQuote(w, r, errs)
		return
	}
	// Goods the order would be rejected for at screening are not quoted.
	if hit := a.cfg.Goods.Check(cart.Destination, cart.Lines, cart.Date); hit != nil {
		writeInvalidQuote(w, r, []order.FieldError{{Field: hit.Field, Code: codeRestricted,
			Message: fmt.Sprintf("this line cannot be shipped to %s: %s matches restricted-goods rule %s (%s).",
				cart.Destination, hit.Matched, hit.EntryID, hit.Source)}})
		return
	}
	q, err := a.cfg.Quoter.Quote(cart)
	if errors.Is(err, fx.ErrNoRate) {
		writeInvalidQuote(w, r, []order.FieldError{{Field: "/orderDate", Code: order.CodeOutOfRange,
			Message: "no reference exchange rate was published on or before orderDate; quote for a later day."}})
		return
	}
	if errors.Is(err, customs.ErrUnsupportedRoute) {
		writeInvalidQuote(w, r, []order.FieldError{{Field: "/shipFrom", Code: customs.CodeUnsupported,
			Message: fmt.Sprintf("no rules price a sale shipped from %s to %s yet: %v.", cart.ShipFrom, cart.Destination, err)}})
		return
	}
	if err != nil {
		a.internalError(w, r, "compute quote", err)
		return
	}
	q.QuoteID, q.ExpiresAt = a.cfg.NewID(), now.Add(a.cfg.QuoteTTL)
	body, err := json.Marshal(quoteView{Quote: q, Links: map[string]any{"self": quoteLocation(q.QuoteID)}})
	if err != nil {
		a.internalError(w, r, "encode quote", err)
		return
	}
	rec := quotes.Record{ID: q.QuoteID, CustomerID: identity(ctx).Subject, CartHash: customs.CartHash(cart), Quote: body,
		CreatedAt: now, ExpiresAt: q.ExpiresAt}
	if err := a.cfg.Quotes.PutQuote(ctx, rec); err != nil {
		a.internalError(w, r, "store quote", err)
		return
	}
	a.cfg.Logger.InfoContext(ctx, "quote issued", "requestId", requestID(ctx), "quoteId", q.QuoteID,
		"destination", q.Destination, "lines", len(q.Lines), "collection", q.Collection, "estimate", q.Estimate)
	w.Header().Set("Location", quoteLocation(q.QuoteID))
	writeJSON(w, http.StatusCreated, body)
}

func writeInvalidQuote(w http.ResponseWriter, r *http.Request, errs []order.FieldError) {
	writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
		Title: "The quote request is not valid", Detail: fmt.Sprintf("%d problem(s) with the cart.", len(errs)), Errors: errs})
}

// getQuote returns a quote to the customer who asked for it, expired or
// not (its expiresAt says); anyone else gets the 404 of an unknown quote.
func (a *API) getQuote(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	rec, err := a.cfg.Quotes.GetQuote(ctx, r.PathValue("id"))
	if errors.Is(err, quotes.ErrNotFound) || (err == nil && rec.CustomerID != identity(ctx).Subject) {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such quote."})
		return
	}
	if err != nil {
		a.internalError(w, r, "get quote", err)
		return
	}
	writeJSON(w, http.StatusOK, rec.Quote)
}

// acceptQuote checks the quote an order names — the caller's, not expired,
// for this very cart on this day — and records it on the order with its
// exchange rate. Problems come back as field errors for a 422.
func (a *API) acceptQuote(ctx context.Context, o *order.Order, customerID string, now time.Time) ([]order.FieldError, error) {
	refuse := func(code, msg string) []order.FieldError {
		return []order.FieldError{{Field: "/quoteId", Code: code, Message: msg}}
	}
	rec, err := a.cfg.Quotes.GetQuote(ctx, o.QuoteID)
	switch {
	case errors.Is(err, quotes.ErrNotFound) || (err == nil && rec.CustomerID != customerID):
		return refuse(order.CodeInvalid, "no such quote for you: quoteId must be one POST /v1/quotes returned to you."), nil
	case err != nil:
		return nil, fmt.Errorf("get quote: %w", err)
	case !now.Before(rec.ExpiresAt):
		return refuse(codeExpired, "the quote expired at "+rec.ExpiresAt.UTC().Format(time.RFC3339)+"; ask for a new one."), nil
	case customs.CartHash(customs.CartOf(o)) != rec.CartHash:
		return refuse(order.CodeMismatch, "the order must be the cart that was quoted — the same lines, destination and region, "+
			"currency, shipping, insurance, trade mode, incoterm, IOSS number and gift — on the day it was quoted for; ask for a new quote."), nil
	}
	var q customs.Quote
	if err := json.Unmarshal(rec.Quote, &q); err != nil {
		return nil, fmt.Errorf("decode quote %s: %w", rec.ID, err)
	}
	o.Customs = &order.CustomsRecord{QuoteID: rec.ID, Quoted: q.Record(now)}
	o.FX = q.OrderFX()
	return nil, nil
}
