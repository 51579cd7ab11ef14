// Package partnerhttp is the workflow's partners as its steps use them —
// the customs broker (workers.Broker), the warehouse (workers.Warehouse),
// China's E-Port (workers.EPort) and the payment simulator
// (steps.Payments) — reached over the partner protocol (package
// partnerlink).
package partnerhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/workers"
)

// MessageID is the webhook-id of one step's request for one order: the
// idempotency key the partner keys on.
func MessageID(orderID, step string) string { return "xborder:" + orderID + ":" + step }

// Broker files declarations with a customs broker (workers.Broker).
type Broker struct {
	Endpoint partnerlink.Endpoint
	// CallbackURL is where the broker posts its notifications.
	CallbackURL string
}

// Clear files d, or asks again for the state of a declaration filed before.
func (b Broker) Clear(ctx context.Context, d *customs.Declaration) (string, error) {
	var a partnerlink.DeclarationAnswer
	err := b.Endpoint.Post(ctx, partnerlink.PathDeclarations, MessageID(d.OrderID, "customs-declaration"),
		partnerlink.DeclarationRequest{OrderID: d.OrderID, CallbackURL: b.CallbackURL, Declaration: d}, &a)
	if err := refusal(err); err != nil {
		return "", err
	}
	switch a.Status {
	case partnerlink.StatusCleared:
		if a.Reference == "" {
			return "", fmt.Errorf("%w: broker cleared %s without a reference", partnerlink.ErrUnavailable, d.OrderID)
		}
		return a.Reference, nil
	case partnerlink.StatusRefused:
		return "", &workers.Refused{Reason: reasonOr(a.Reason, "customs_refused")}
	case partnerlink.StatusPending:
		return "", workers.ErrPending
	default:
		return "", fmt.Errorf("%w: broker answered status %q for %s", partnerlink.ErrUnavailable, a.Status, d.OrderID)
	}
}

// WarehouseLink asks an overseas warehouse to ship (workers.Warehouse).
type WarehouseLink struct {
	Endpoint    partnerlink.Endpoint
	CallbackURL string
}

// Ship asks the warehouse to ship o, or asks again for the state of the
// shipment; it returns the first parcel's tracking number.
func (w WarehouseLink) Ship(ctx context.Context, o *order.Order) (string, error) {
	req := partnerlink.ShipmentRequest{OrderID: o.ID, Warehouse: o.Warehouse, Waybill: workers.WaybillNumber(o), CallbackURL: w.CallbackURL,
		ShipTo: partnerlink.ShipTo{Name: o.Consignee.Name, Phone: o.Consignee.Phone, Address: o.Consignee.Address}}
	for _, l := range o.Lines {
		req.Lines = append(req.Lines, partnerlink.ShipmentLine{SKU: l.SKU, Title: l.Title, Quantity: l.Quantity, WeightGrams: l.WeightGrams})
	}
	var a partnerlink.ShipmentAnswer
	err := w.Endpoint.Post(ctx, partnerlink.PathShipments, MessageID(o.ID, "shipment"), req, &a)
	if err := refusal(err); err != nil {
		return "", err
	}
	switch a.Status {
	case partnerlink.StatusShipped:
		if len(a.Parcels) == 0 || a.Parcels[0].TrackingNumber == "" {
			return "", fmt.Errorf("%w: warehouse shipped %s without a tracking number", partnerlink.ErrUnavailable, o.ID)
		}
		return a.Parcels[0].TrackingNumber, nil
	case partnerlink.StatusRefused:
		return "", &workers.Refused{Reason: reasonOr(a.Reason, "warehouse_cannot_ship")}
	case partnerlink.StatusPending:
		return "", workers.ErrPending
	default:
		return "", fmt.Errorf("%w: warehouse answered status %q for %s", partnerlink.ErrUnavailable, a.Status, o.ID)
	}
}

// EPortLink transmits CEB messages to China's E-Port through the
// enterprise's data exchange connector (workers.EPort).
type EPortLink struct {
	Endpoint    partnerlink.Endpoint
	CallbackURL string
}

// Submit transmits msgs; submitting the same messages again is a status
// query: the E-Port sends their receipts again.
func (e EPortLink) Submit(ctx context.Context, d *chinacustoms.Declaration, msgs []ceb.Message) error {
	sub := partnerlink.CEBSubmission{OrderNo: d.Order.OrderNo, CallbackURL: e.CallbackURL}
	id := "xborder:" + d.Order.OrderNo + ":ceb"
	for _, m := range msgs {
		sub.Messages = append(sub.Messages, partnerlink.CEBMessage{Type: m.Type, GUID: ceb.GUID(d.Order.OrderNo, m.Type, "message"), XML: string(m.XML)})
		id += ":" + m.Type
	}
	var a partnerlink.CEBAnswer
	if err := e.Endpoint.Post(ctx, partnerlink.PathCEBMessages, id, sub, &a); err != nil {
		return fmt.Errorf("china e-port: %w", err)
	}
	if a.Accepted != len(msgs) {
		return fmt.Errorf("%w: the e-port took %d of %d messages of %s", partnerlink.ErrUnavailable, a.Accepted, len(msgs), d.Order.OrderNo)
	}
	return nil
}

// refusal turns a 4xx answer with a reason code into the business refusal
// it is (422), and leaves any other error as it is: transient ones are
// retried, others go to the step's dead-letter queue after its retries.
func refusal(err error) error {
	var se *partnerlink.StatusError
	if errors.As(err, &se) && se.Status == http.StatusUnprocessableEntity && se.Problem.Code != "" {
		return &workers.Refused{Reason: se.Problem.Code}
	}
	return err
}

func reasonOr(reason, otherwise string) string {
	if reason != "" {
		return reason
	}
	return otherwise
}

// PaymentLink is a payment provider that speaks this protocol — the payment
// simulator of sandbox deployments (localstack/partnersim) — as a
// steps.Payments.
type PaymentLink struct{ Endpoint partnerlink.Endpoint }

// Authorize places a hold; the same key returns the same charge.
func (p PaymentLink) Authorize(ctx context.Context, a payment.Authorization) (string, error) {
	var out partnerlink.ChargeAnswer
	err := p.Endpoint.Post(ctx, partnerlink.PathAuthorizations, a.Key, partnerlink.AuthorizationRequest{OrderID: a.OrderID, Amount: a.Amount, Token: a.Token, FX: a.FX}, &out)
	if err != nil {
		return "", paymentError("authorize", err)
	}
	return out.ChargeID, nil
}

// Capture takes the authorized amount (or less), once.
func (p PaymentLink) Capture(ctx context.Context, key, chargeID string, amount money.Money) error {
	return paymentError("capture", p.Endpoint.Post(ctx, partnerlink.PathCharges+chargeID+"/capture", key, partnerlink.AmountRequest{Amount: amount}, nil))
}

// Void releases an uncaptured authorization, once.
func (p PaymentLink) Void(ctx context.Context, key, chargeID string) error {
	return paymentError("void", p.Endpoint.Post(ctx, partnerlink.PathCharges+chargeID+"/void", key, struct{}{}, nil))
}

// Refund returns captured money, once.
func (p PaymentLink) Refund(ctx context.Context, key, chargeID string, amount money.Money) error {
	return paymentError("refund", p.Endpoint.Post(ctx, partnerlink.PathCharges+chargeID+"/refunds", key, partnerlink.AmountRequest{Amount: amount}, nil))
}

// Ledger reads what the simulator did for one order.
func (p PaymentLink) Ledger(ctx context.Context, orderID string) (payment.OrderLedger, error) {
	var l payment.OrderLedger
	err := p.Endpoint.Get(ctx, partnerlink.PathLedger+"orders/"+orderID, &l)
	return l, err
}

func paymentError(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, partnerlink.ErrUnavailable) {
		return fmt.Errorf("payments %s: %w: %w", op, payment.ErrTransient, err)
	}
	var se *partnerlink.StatusError
	if !errors.As(err, &se) {
		return fmt.Errorf("payments %s: %w", op, err)
	}
	switch c := se.Problem.Code; {
	case se.Status == http.StatusPaymentRequired:
		return &payment.Declined{Reason: reasonOr(c, "card_declined")}
	case c == partnerlink.CodeAuthorizationExpired:
		return payment.ErrAuthorizationExpired
	case c == partnerlink.CodeAlreadyCaptured:
		return payment.ErrAlreadyCaptured
	default:
		return &payment.ProviderError{Op: op, Code: c, Message: se.Problem.Detail, Status: se.Status}
	}
}
