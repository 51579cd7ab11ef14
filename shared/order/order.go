// Package order is the cross-border order: what a shopper or partner asks for
// (a Draft), how it is validated, and the Order the pipeline carries through
// its statuses. It is pure Go and knows nothing of AWS.
package order

import (
	"errors"
	"time"

	"github.com/xborder/xborder/shared/money"
)

// Channel is how the order reached us.
type Channel string

// Channels.
const (
	ChannelMobile  Channel = "mobile"
	ChannelPartner Channel = "partner"
	ChannelWeb     Channel = "web"
)

// TradeMode is the business mode of the sale.
type TradeMode string

// Trade modes (see ../shared/seeds): business to business, business to
// consumer, consumer to consumer, and manufacturer to business to consumer
// (stock moved ahead to an overseas warehouse and sold locally).
const (
	TradeB2B   TradeMode = "B2B"
	TradeB2C   TradeMode = "B2C"
	TradeC2C   TradeMode = "C2C"
	TradeM2B2C TradeMode = "M2B2C"
)

// Fulfilment is where the goods ship from.
type Fulfilment string

// Fulfilment modes.
const (
	FulfilOverseasWarehouse Fulfilment = "overseas_warehouse"
	FulfilDirectMail        Fulfilment = "direct_mail"
	FulfilSupplierDirect    Fulfilment = "supplier_direct"
	FulfilBondedWarehouse   Fulfilment = "bonded_warehouse"
)

// Carrier is how a parcel travels, where thresholds depend on it (Canada
// relieves courier shipments from the US or Mexico under CUSMA, and any
// shipment by post only up to C$20: CBSA Customs Notice 20-18).
type Carrier string

// Carriers.
const (
	CarrierCourier Carrier = "courier"
	CarrierPost    Carrier = "post"
)

// Incoterm says who pays duties and taxes: DDP (the seller, quoted at
// checkout) or DAP (the buyer, on delivery).
type Incoterm string

// Incoterms accepted.
const (
	IncotermDDP Incoterm = "DDP"
	IncotermDAP Incoterm = "DAP"
)

// Address is a postal address; Country is ISO 3166-1 alpha-2.
type Address struct {
	Line1      string `json:"line1" dynamodbav:"line1"`
	Line2      string `json:"line2,omitempty" dynamodbav:"line2,omitempty"`
	City       string `json:"city" dynamodbav:"city"`
	Region     string `json:"region,omitempty" dynamodbav:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty" dynamodbav:"postalCode,omitempty"`
	Country    string `json:"country" dynamodbav:"country"`
}

// Party is a buyer or a consignee.
type Party struct {
	Name    string  `json:"name" dynamodbav:"name"`
	Email   string  `json:"email,omitempty" dynamodbav:"email,omitempty"`
	Phone   string  `json:"phone,omitempty" dynamodbav:"phone,omitempty"`
	Address Address `json:"address" dynamodbav:"address"`
	// VATNumber is an EU VAT identification number (country prefix + digits).
	VATNumber string `json:"vatNumber,omitempty" dynamodbav:"vatNumber,omitempty"`
	// IOSSNumber is the EU Import One-Stop Shop number ("IM" + 10 digits).
	IOSSNumber string `json:"iossNumber,omitempty" dynamodbav:"iossNumber,omitempty"`
	// BusinessRegistration is the buyer's company registration; required for B2B.
	BusinessRegistration string `json:"businessRegistration,omitempty" dynamodbav:"businessRegistration,omitempty"`
	// Identity is the buyer's identity document: required of the buyer of a
	// retail import into China, refused on any other order and on the
	// consignee (see Draft.Validate). Personal data: stored for the
	// declaration, shown masked, never logged.
	Identity *Identity `json:"identity,omitempty" dynamodbav:"identity,omitempty"`
}

// Line is one product line of an order.
type Line struct {
	SKU       string      `json:"sku" dynamodbav:"sku"`
	Title     string      `json:"title" dynamodbav:"title"`
	HSCode    string      `json:"hsCode" dynamodbav:"hsCode"`
	Quantity  int64       `json:"quantity" dynamodbav:"quantity"`
	UnitPrice money.Money `json:"unitPrice" dynamodbav:"unitPrice"`
	// LineTotal must equal UnitPrice × Quantity.
	LineTotal     money.Money `json:"lineTotal" dynamodbav:"lineTotal"`
	WeightGrams   int64       `json:"weightGrams" dynamodbav:"weightGrams"`
	OriginCountry string      `json:"originCountry" dynamodbav:"originCountry"`
}

// PaymentPartnerAccount: a partner's order paid on the partner's account
// (a marketplace that collected from its shopper, a B2B buyer on invoice):
// no card is charged, and the token is empty.
const PaymentPartnerAccount = "partner_account"

// Payment names how the shopper pays. Token is a provider token (never card
// data) and is never logged.
type Payment struct {
	Method string `json:"method" dynamodbav:"method"`
	Token  string `json:"token" dynamodbav:"token"`
}

// Draft is an order as submitted, before the pipeline accepts it.
type Draft struct {
	Channel    Channel    `json:"channel" dynamodbav:"channel"`
	TradeMode  TradeMode  `json:"tradeMode" dynamodbav:"tradeMode"`
	Fulfilment Fulfilment `json:"fulfilment" dynamodbav:"fulfilment"`
	// Carrier is courier (the default) or post.
	Carrier   Carrier  `json:"carrier,omitempty" dynamodbav:"carrier,omitempty"`
	Incoterm  Incoterm `json:"incoterm,omitempty" dynamodbav:"incoterm,omitempty"`
	Currency  string   `json:"currency" dynamodbav:"currency"`
	Buyer     Party    `json:"buyer" dynamodbav:"buyer"`
	Consignee Party    `json:"consignee" dynamodbav:"consignee"`
	Lines     []Line   `json:"lines" dynamodbav:"lines"`
	// Shipping is the shipping charge; it may be omitted (free shipping).
	Shipping *money.Money `json:"shipping,omitempty" dynamodbav:"shipping,omitempty"`
	// Insurance is the transport insurance charge, if the shopper pays one.
	Insurance *money.Money `json:"insurance,omitempty" dynamodbav:"insurance,omitempty"`
	// Total must equal Σ line totals + shipping + insurance. Duties and taxes
	// are not part of it: an accepted quote (QuoteID) adds what it collects
	// at checkout to the amount charged (see Order.ChargeAmount).
	Total   money.Money `json:"total" dynamodbav:"total"`
	Payment Payment     `json:"payment" dynamodbav:"payment"`
	// PartnerOrderRef is the partner's own reference, for partner orders.
	PartnerOrderRef string `json:"partnerOrderRef,omitempty" dynamodbav:"partnerOrderRef,omitempty"`
	// Gift marks a bona fide gift from one private person to another; only
	// C2C orders can be gifts, and some destinations relieve them of duty.
	Gift bool `json:"gift,omitempty" dynamodbav:"gift,omitempty"`
	// QuoteID is the landed-cost quote (POST /v1/quotes) the shopper
	// accepted; the order must be the cart that was quoted.
	QuoteID string `json:"quoteId,omitempty" dynamodbav:"quoteId,omitempty"`
}

// Destination is the consignee's country, where the goods are imported.
func (d *Draft) Destination() string { return d.Consignee.Address.Country }

// Order is an accepted order and where it stands.
type Order struct {
	ID         string `json:"orderId" dynamodbav:"orderId"`
	CustomerID string `json:"customerId" dynamodbav:"customerId"`
	Status     Status `json:"status" dynamodbav:"status"`
	// Reason explains a failure or terminal status (see the failure table).
	Reason string `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	// Version increases by one on every change; writes are conditional on it.
	Version   int64     `json:"version" dynamodbav:"version"`
	CreatedAt time.Time `json:"createdAt" dynamodbav:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt" dynamodbav:"updatedAt"`
	// StatusSince is when the order entered its status (its last status
	// change; UpdatedAt moves with any change). The status lists sort by
	// it; zero in orders stored before it existed, which stores read as
	// UpdatedAt.
	StatusSince time.Time `json:"statusSince,omitzero" dynamodbav:"statusSince"`
	Draft
	// Fulfilment records what the workflow has done, so that compensation
	// undoes exactly that and a retried step does nothing twice.
	Warehouse string `json:"warehouse,omitempty" dynamodbav:"warehouse,omitempty"`
	// ShipFrom is the country the parcel ships from: at intake, the
	// country of the warehouse the stock step would pick; once stock is
	// reserved, its warehouse's. It decides whether the parcel crosses a
	// border at all (a domestic supply, an intra-EU distance sale) and
	// which thresholds apply (CUSMA's by where it ships from).
	ShipFrom           string  `json:"shipFrom,omitempty" dynamodbav:"shipFrom,omitempty"`
	StockReserved      bool    `json:"stockReserved,omitempty" dynamodbav:"stockReserved,omitempty"`
	Charge             *Charge `json:"charge,omitempty" dynamodbav:"charge,omitempty"`
	CustomsDeclaration string  `json:"customsDeclaration,omitempty" dynamodbav:"customsDeclaration,omitempty"`
	// FX is the reference rate from the order's currency into the
	// destination's, locked at intake.
	FX *FXRate `json:"fx,omitempty" dynamodbav:"fx,omitempty"`
	// Customs is the landed cost, as quoted at checkout and as assessed by
	// the customs step, and where the customs clearance stands. Its
	// documents (the declaration, China's messages and receipts) and the
	// partner's callbacks are kept beside the order, not in it, so that the
	// order stays small whatever its life brings.
	Customs *CustomsRecord `json:"customs,omitempty" dynamodbav:"customs,omitempty"`
	// Screening is the list entry that refused the order, if one did.
	Screening      *ScreeningHit `json:"screening,omitempty" dynamodbav:"screening,omitempty"`
	TrackingNumber string        `json:"trackingNumber,omitempty" dynamodbav:"trackingNumber,omitempty"`
	// PartnerID is the partner whose webhook placed the order.
	PartnerID string `json:"partnerId,omitempty" dynamodbav:"partnerId,omitempty"`
	// CancelRequested is set by POST /v1/orders/{id}/cancel; the workflow
	// checks it before each step.
	CancelRequested bool   `json:"cancelRequested,omitempty" dynamodbav:"cancelRequested,omitempty"`
	CancelledBy     string `json:"-" dynamodbav:"cancelledBy,omitempty"`
	// TaskToken is the token of the step waiting on the customs broker or the
	// warehouse, stored when its worker picks it up, so a cancellation can
	// fail it. Never shown to callers.
	TaskToken string `json:"-" dynamodbav:"taskToken,omitempty"`
}

// ChargeStatus is where the order's payment stands.
type ChargeStatus string

// Charge statuses.
const (
	ChargeAuthorized ChargeStatus = "authorized"
	ChargeCaptured   ChargeStatus = "captured"
	ChargeVoided     ChargeStatus = "voided"
	ChargeRefunded   ChargeStatus = "refunded"
)

// Charge is the order's payment at the provider.
type Charge struct {
	ID     string       `json:"id" dynamodbav:"id"`
	Status ChargeStatus `json:"status" dynamodbav:"status"`
	Amount money.Money  `json:"amount" dynamodbav:"amount"`
	// Captured and Refunded are what moved; Captured may be less than Amount.
	Captured *money.Money `json:"captured,omitempty" dynamodbav:"captured,omitempty"`
	Refunded *money.Money `json:"refunded,omitempty" dynamodbav:"refunded,omitempty"`
	// FX is the exchange rate locked at intake, stored with the payment
	// (and in the provider's metadata).
	FX *FXRate `json:"fx,omitempty" dynamodbav:"fx,omitempty"`
}

// Event is one entry of an order's append-only history.
type Event struct {
	OrderID string    `json:"-" dynamodbav:"orderId"`
	Version int64     `json:"version" dynamodbav:"version"`
	At      time.Time `json:"at" dynamodbav:"at"`
	From    Status    `json:"from,omitempty" dynamodbav:"from,omitempty"`
	To      Status    `json:"to" dynamodbav:"to"`
	Reason  string    `json:"reason,omitempty" dynamodbav:"reason,omitempty"`
	// Actor is who caused the change: "customer:<sub>", "partner:<id>",
	// "workflow", "ops:<sub>".
	Actor string `json:"actor" dynamodbav:"actor"`
}

// Accept turns a validated draft into a RECEIVED order with its first history
// event. It does not validate: call Validate first. It defaults the incoterm
// to DDP and writes the check character of the buyer's identity number in
// upper case (NormalizeIDNumber).
func Accept(d Draft, id, customerID, actor string, now time.Time) (*Order, Event) {
	now = now.UTC()
	if d.Incoterm == "" {
		d.Incoterm = IncotermDDP
	}
	if id := d.Buyer.Identity; id != nil {
		// A copy, so the order shares nothing with the draft; the check
		// character as printed on the card (X, not x).
		d.Buyer.Identity = &Identity{Type: id.Type, Number: NormalizeIDNumber(id.Number)}
	}
	o := &Order{ID: id, CustomerID: customerID, Status: StatusReceived, Version: 1, CreatedAt: now, UpdatedAt: now, StatusSince: now, Draft: d}
	return o, Event{OrderID: id, Version: 1, At: now, To: StatusReceived, Actor: actor}
}

// Errors an order store returns.
var (
	ErrNotFound        = errors.New("order: not found")
	ErrExists          = errors.New("order: already exists")
	ErrVersionConflict = errors.New("order: changed by someone else (version conflict)")
	ErrInvalidCursor   = errors.New("order: invalid page cursor")
)
