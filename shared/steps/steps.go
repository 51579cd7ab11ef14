// Package steps holds the workflow's Lambda step handlers: plain typed
// functions func(ctx, In) (Out, error). Each is idempotent, keyed by order id
// and step: it reads the order, does nothing a second time that its records
// show done, writes the status change and its history item in one
// transaction, and publishes it. Business failures come back as the named
// errors of package workflow, which the state machine catches into
// compensation; anything else is a workflow.TransientError, retried.
package steps

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/screening"
	"github.com/xborder/xborder/shared/stock"
	"github.com/xborder/xborder/shared/workflow"
)

// Orders is what the steps need of the order store.
type Orders interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error
}

// Stock reserves and releases goods, idempotently per order.
type Stock interface {
	Reserve(ctx context.Context, orderID, warehouse string, items []stock.Item) (string, error)
	Release(ctx context.Context, orderID string) error
}

// Payments moves money, idempotently per key: a call repeated with the same
// key takes effect once. A *payment.Declined is a business refusal; anything
// else is retried.
type Payments interface {
	Authorize(ctx context.Context, a payment.Authorization) (string, error)
	Capture(ctx context.Context, key, chargeID string, amount money.Money) error
	Void(ctx context.Context, key, chargeID string) error
	Refund(ctx context.Context, key, chargeID string, amount money.Money) error
}

// Publisher announces an order's change on the order-events topic. Delivery
// is at least once: subscribers deduplicate on order id and version.
type Publisher interface {
	Publish(ctx context.Context, o *order.Order, ev order.Event) error
}

// Steps are the step handlers and what they use.
type Steps struct {
	Orders   Orders
	Stock    Stock
	Payments Payments
	Events   Publisher
	// Screening defaults to the embedded restricted-goods rules and
	// denied-party list.
	Screening Screener
	Logger    *slog.Logger
	Now       func() time.Time
}

// Input is what every Lambda step receives from the state machine.
type Input struct {
	OrderID string `json:"orderId"`
	// RetryCount is $$.State.RetryCount: 0 on the first attempt.
	RetryCount int `json:"retryCount,omitempty"`
}

// Result is what a step hands back to the state machine.
type Result struct {
	OrderID string       `json:"orderId"`
	Status  order.Status `json:"status"`
	Reason  string       `json:"reason,omitempty"`
}

const actor = "workflow"

// rank orders the happy path, so a replayed step can tell it already ran.
var rank = map[order.Status]int{
	order.StatusReceived: 1, order.StatusStockReserved: 2, order.StatusPaymentAuthorized: 3,
	order.StatusCustomsCleared: 4, order.StatusPaymentCaptured: 5, order.StatusDispatched: 6, order.StatusDelivered: 7,
}

// Reached reports whether o is at or past status s on the happy path.
func Reached(o *order.Order, s order.Status) bool {
	r, ok := rank[o.Status]
	return ok && r >= rank[s]
}

func (s *Steps) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Steps) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// transient wraps an unexpected error so the state machine retries it.
func transient(what string, err error) error {
	return &workflow.TransientError{Err: fmt.Errorf("%s: %w", what, err)}
}

// cancelReason is the reason code of a cancellation by actor.
func cancelReason(by string) string {
	if strings.HasPrefix(by, "ops:") {
		return "cancelled_by_ops"
	}
	return "cancelled_by_customer"
}

// Advance moves the order to status to after do has run, exactly once in
// effect: if the order already reached to it returns at once; if a
// cancellation was requested it fails with workflow.OrderCancelled before
// doing anything; a concurrent change (such as a cancellation request)
// makes it read the order again and retry.
func (s *Steps) Advance(ctx context.Context, id string, to order.Status, do func(o *order.Order) error) (*order.Order, error) {
	return s.advance(ctx, id, to, true, do)
}

func (s *Steps) advance(ctx context.Context, id string, to order.Status, cancellable bool, do func(o *order.Order) error) (*order.Order, error) {
	for attempt := 0; ; attempt++ {
		o, err := s.Orders.GetOrder(ctx, id)
		if err != nil {
			return nil, transient("read order "+id, err)
		}
		if to != "" && Reached(o, to) {
			return o, nil
		}
		if o.Status.Terminal() {
			return nil, fmt.Errorf("steps: order %s already ended as %s", id, o.Status)
		}
		if o.CancelRequested && cancellable {
			return nil, &workflow.OrderCancelled{Reason: cancelReason(o.CancelledBy)}
		}
		if do != nil {
			if err := do(o); err != nil {
				return nil, err
			}
		}
		if to == "" {
			return o, nil
		}
		ev, err := o.Transition(to, "", actor, s.now())
		if err != nil {
			return nil, err
		}
		err = s.Orders.SaveTransition(ctx, o, ev)
		if errors.Is(err, order.ErrVersionConflict) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, transient("save order "+id, err)
		}
		s.publish(ctx, o, ev)
		return o, nil
	}
}

// Announce publishes a stored status change and counts it: a log line in
// CloudWatch's embedded metric format (namespace xborder, metric
// StatusChanges by Status), which the operations dashboard graphs.
func (s *Steps) Announce(ctx context.Context, o *order.Order, ev order.Event) {
	s.publish(ctx, o, ev)
}

// metricsNamespace is the CloudWatch namespace of the status-change metric.
const metricsNamespace = "xborder"

func (s *Steps) publish(ctx context.Context, o *order.Order, ev order.Event) {
	if ev.From != ev.To {
		s.log().InfoContext(ctx, "status changed", "orderId", o.ID, "version", ev.Version, "Status", string(ev.To), "StatusChanges", 1,
			slog.Any("_aws", map[string]any{"Timestamp": ev.At.UnixMilli(), "CloudWatchMetrics": []map[string]any{{
				"Namespace": metricsNamespace, "Dimensions": [][]string{{"Status"}},
				"Metrics": []map[string]string{{"Name": "StatusChanges", "Unit": "Count"}}}}}))
	}
	if s.Events == nil {
		return
	}
	// The status is stored; a lost announcement is logged, not retried into a
	// second status change. The reconciler of callbacks re-announces.
	if err := s.Events.Publish(ctx, o, ev); err != nil {
		s.log().WarnContext(ctx, "publish order event", "orderId", o.ID, "version", ev.Version, "error", err.Error())
	}
}

// Screener screens an order against restricted goods and denied parties.
type Screener interface {
	Screen(o *order.Order, on time.Time) *screening.Hit
}

func (s *Steps) screener() Screener {
	if s.Screening == nil {
		return screening.Default()
	}
	return s.Screening
}

// Screen refuses restricted goods and denied parties before anything is
// touched. The entry that matched is recorded on the order (and in its
// history) before the workflow is told, so an operator sees why; a retried
// Screen finds it there and answers the same.
func (s *Steps) Screen(ctx context.Context, in Input) (Result, error) {
	var hit *screening.Hit
	o, err := s.Advance(ctx, in.OrderID, "", func(o *order.Order) error {
		if o.Screening != nil {
			return &workflow.Rejected{Reason: o.Screening.Reason}
		}
		hit = s.screener().Screen(o, s.now())
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	if hit != nil {
		o.Screening = &order.ScreeningHit{Reason: string(hit.Reason), EntryID: hit.EntryID, List: hit.List,
			Matched: hit.Matched, Field: hit.Field, Source: hit.Source}
		ev := o.Note(string(hit.Reason)+": "+hit.List+" entry "+hit.EntryID+" matched "+hit.Field, actor, s.now())
		if err := s.Orders.SaveTransition(ctx, o, ev); err != nil {
			return Result{}, transient("record screening hit of "+o.ID, err)
		}
		s.log().InfoContext(ctx, "screening hit", "orderId", o.ID, "reason", hit.Reason, "entryId", hit.EntryID, "field", hit.Field)
		return Result{}, &workflow.Rejected{Reason: string(hit.Reason)}
	}
	return Result{OrderID: o.ID, Status: o.Status}, nil
}

// ReserveStock reserves the goods in the first warehouse that has them all.
func (s *Steps) ReserveStock(ctx context.Context, in Input) (Result, error) {
	o, err := s.Advance(ctx, in.OrderID, order.StatusStockReserved, func(o *order.Order) error {
		items := stock.Items(o.Lines)
		for _, w := range stock.Candidates(o) {
			got, err := s.Stock.Reserve(ctx, o.ID, w.ID, items)
			if errors.Is(err, stock.ErrOutOfStock) {
				continue
			}
			if err != nil {
				return transient("reserve stock", err)
			}
			// The parcel ships from the warehouse that holds the goods.
			o.Warehouse, o.ShipFrom, o.StockReserved = got, w.Country, true
			return nil
		}
		return &workflow.Rejected{Reason: "out_of_stock"}
	})
	if err != nil {
		return Result{}, err
	}
	return Result{OrderID: o.ID, Status: o.Status}, nil
}

// AuthorizePayment places a hold on the shopper's card for the order total
// and what an accepted quote collects at checkout (duties and taxes under
// DDP, point-of-sale VAT).
func (s *Steps) AuthorizePayment(ctx context.Context, in Input) (Result, error) {
	o, err := s.Advance(ctx, in.OrderID, order.StatusPaymentAuthorized, func(o *order.Order) error {
		if o.Payment.Method == order.PaymentPartnerAccount {
			return nil // billed to the partner's account: no card to hold
		}
		amount := o.ChargeAmount()
		id, err := s.Payments.Authorize(ctx, payment.Authorization{Key: payment.Key(o.ID, "authorize"), OrderID: o.ID,
			Amount: amount, Token: o.Payment.Token, FX: o.FX})
		var declined *payment.Declined
		if errors.As(err, &declined) {
			return &workflow.PaymentDeclined{Reason: declined.Reason}
		}
		if err != nil {
			return transient("authorize payment", err)
		}
		o.Charge = &order.Charge{ID: id, Status: order.ChargeAuthorized, Amount: amount, FX: o.FX}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{OrderID: o.ID, Status: o.Status}, nil
}

// CapturePayment takes the authorized money once customs cleared the goods.
func (s *Steps) CapturePayment(ctx context.Context, in Input) (Result, error) {
	o, err := s.Advance(ctx, in.OrderID, order.StatusPaymentCaptured, func(o *order.Order) error {
		if o.Payment.Method == order.PaymentPartnerAccount {
			return nil
		}
		if o.Charge == nil {
			return fmt.Errorf("steps: order %s has no authorized charge to capture", o.ID)
		}
		err := s.Payments.Capture(ctx, payment.Key(o.ID, "capture"), o.Charge.ID, o.Charge.Amount)
		if errors.Is(err, payment.ErrAuthorizationExpired) {
			return &workflow.OrderFailed{Reason: "authorization_expired"}
		}
		if err != nil {
			return transient("capture payment", err)
		}
		captured := o.Charge.Amount
		o.Charge.Status, o.Charge.Captured = order.ChargeCaptured, &captured
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	return Result{OrderID: o.ID, Status: o.Status}, nil
}

// MarkDispatched records that the warehouse shipped the goods. A
// cancellation that arrives now is too late: the goods have left.
func (s *Steps) MarkDispatched(ctx context.Context, in Input) (Result, error) {
	o, err := s.advance(ctx, in.OrderID, order.StatusDispatched, false, nil)
	if err != nil {
		return Result{}, err
	}
	return Result{OrderID: o.ID, Status: o.Status}, nil
}
