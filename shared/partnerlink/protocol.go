// Package partnerlink reaches the partners the workflow depends on — the
// customs broker, the overseas warehouse (3PL) and its carrier, China's
// E-Port data exchange, and the payment simulator of sandbox deployments —
// over HTTP, through a protocol of this project's own (docs/partners/):
// JSON requests signed as Standard Webhooks are (signature.go), keyed by
// their webhook-id, which is the idempotency key: the same request sent
// again — a retried step, a redelivered message, a status query — is
// answered with the request's current state, never acted on twice.
//
// A partner answers at once (the decision) or later: "pending", and then a
// notification, signed the same way, to the callbackUrl the request named
// (a route of this project's API). A notification is a thin event: it says
// that a request's state changed, and the waiting step asks again for it,
// so a notification forged, lost or sent twice decides nothing by itself.
package partnerlink

import (
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Request states in answers and notifications.
const (
	StatusPending = "pending"
	StatusCleared = "cleared" // a declaration
	StatusShipped = "shipped" // a shipment
	StatusRefused = "refused"
)

// Partners, as they name themselves in the notification route
// (/v1/partners/{partner}/notifications) and in the endpoint configuration.
const (
	CustomsBroker = "customs-broker"
	Warehouse     = "warehouse"
	ChinaEPort    = "china-eport"
	Payments      = "payments"
)

// Paths of the partners' side of the protocol.
const (
	PathDeclarations   = "/v1/declarations"
	PathShipments      = "/v1/shipments"
	PathCEBMessages    = "/v1/ceb-messages"
	PathAuthorizations = "/v1/authorizations"
	// PathCharges is followed by /{chargeId}/capture, /void or /refunds.
	PathCharges = "/v1/charges/"
	// PathLedger is followed by orders/{orderId}: the payment simulator's
	// read-only ledger.
	PathLedger = "/v1/ledger/"
)

// DeclarationRequest files an order's customs declaration with the broker
// (POST /v1/declarations; webhook-id xborder:<orderId>:customs-declaration).
type DeclarationRequest struct {
	OrderID     string               `json:"orderId"`
	CallbackURL string               `json:"callbackUrl,omitempty"`
	Declaration *customs.Declaration `json:"declaration"`
}

// DeclarationAnswer is the broker's answer: pending, cleared with the
// declaration's reference, or refused with a reason code.
type DeclarationAnswer struct {
	OrderID   string `json:"orderId"`
	Status    string `json:"status"`
	Reference string `json:"reference,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// ShipmentRequest asks the warehouse to pick, pack and hand an order's
// goods to the carrier (POST /v1/shipments; webhook-id
// xborder:<orderId>:shipment). It carries what a 3PL needs and no more:
// the consignee's name, address and phone, never the buyer's identity.
type ShipmentRequest struct {
	OrderID     string         `json:"orderId"`
	Warehouse   string         `json:"warehouse"`
	Waybill     string         `json:"waybill"`
	CallbackURL string         `json:"callbackUrl,omitempty"`
	Lines       []ShipmentLine `json:"lines"`
	ShipTo      ShipTo         `json:"shipTo"`
}

// ShipmentLine is one SKU to pick.
type ShipmentLine struct {
	SKU         string `json:"sku"`
	Title       string `json:"title"`
	Quantity    int64  `json:"quantity"`
	WeightGrams int64  `json:"weightGrams"`
}

// ShipTo is where the parcel goes.
type ShipTo struct {
	Name    string        `json:"name"`
	Phone   string        `json:"phone,omitempty"`
	Address order.Address `json:"address"`
}

// ShipmentAnswer is the warehouse's answer: pending, shipped with its
// parcels, or refused with a reason code.
type ShipmentAnswer struct {
	OrderID string   `json:"orderId"`
	Status  string   `json:"status"`
	Parcels []Parcel `json:"parcels,omitempty"`
	Reason  string   `json:"reason,omitempty"`
}

// Parcel is one parcel handed to a carrier.
type Parcel struct {
	TrackingNumber string `json:"trackingNumber"`
	Carrier        string `json:"carrier"`
}

// CEBSubmission transmits an order's rendered CEB messages to China's
// E-Port (POST /v1/ceb-messages; webhook-id xborder:<orderNo>:ceb and the
// message types). The receipts come back as notifications.
type CEBSubmission struct {
	OrderNo     string       `json:"orderNo"`
	CallbackURL string       `json:"callbackUrl,omitempty"`
	Messages    []CEBMessage `json:"messages"`
}

// CEBMessage is one message as rendered (its guid is in the XML too).
type CEBMessage struct {
	Type string `json:"type"`
	GUID string `json:"guid"`
	XML  string `json:"xml"`
}

// CEBAnswer says how many messages the E-Port took.
type CEBAnswer struct {
	Accepted int `json:"accepted"`
}

// Notification types.
const (
	NotifyDeclaration = "declaration.updated"
	NotifyShipment    = "shipment.updated"
	NotifyCEBReceipt  = "ceb.receipt"
)

// Notification is what a partner posts to the callbackUrl
// (POST /v1/partners/{partner}/notifications), signed with the partner's
// secret. For a declaration or a shipment it names the order and its new
// state; for China's E-Port it carries one receipt message (XML).
type Notification struct {
	Type    string `json:"type"`
	OrderID string `json:"orderId,omitempty"`
	Status  string `json:"status,omitempty"`
	XML     string `json:"xml,omitempty"`
}

// AuthorizationRequest places a hold (POST /v1/authorizations; webhook-id
// xborder:<orderId>:authorize).
type AuthorizationRequest struct {
	OrderID string        `json:"orderId"`
	Amount  money.Money   `json:"amount"`
	Token   string        `json:"token"`
	FX      *order.FXRate `json:"fx,omitempty"`
}

// ChargeAnswer names the charge an authorization made.
type ChargeAnswer struct {
	ChargeID string `json:"chargeId"`
}

// AmountRequest is a capture's or a refund's amount.
type AmountRequest struct {
	Amount money.Money `json:"amount"`
}

// Problem is a partner's error answer (RFC 9457 problem+json): Code is the
// machine-readable reason (card_declined, licence_required, …).
type Problem struct {
	Type   string `json:"type,omitempty"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Code   string `json:"code"`
	Detail string `json:"detail,omitempty"`
}

// Problem codes of the payment simulator besides a decline's reason (402).
const (
	CodeAuthorizationExpired = "authorization_expired"
	CodeAlreadyCaptured      = "already_captured"
)
