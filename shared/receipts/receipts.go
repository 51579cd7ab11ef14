// Package receipts records the China E-Port's and customs' receipts (CEB304,
// CEB604, …) for the orders whose messages they answer: each return is kept
// beside its order, a document of its own with its returnStatus and what it
// means, and noted in the order's history — without writing the order,
// but for the one receipt that settles the order's wait for China's
// customs, which the order notes and which wakes the waiting step. A
// receipt is matched to its order by the order number it carries or, for
// the receipts that carry only a waybill number, a payment transaction or
// a copNo, by the references the customs step recorded when it rendered
// the messages. Recording is idempotent: the same receipt twice is
// recorded once.
package receipts

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
)

// Store is what the recorder reads and writes (dynamostore.Store).
type Store interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	// OrderByReference is the id of the order a reference names
	// ("logisticsNo:<no>", …); order.ErrNotFound.
	OrderByReference(ctx context.Context, ref string) (string, error)
	// CustomsMessage reads one message the customs step stored for an
	// order; order.ErrNotFound when it has none of that type.
	CustomsMessage(ctx context.Context, id, msgType string) (order.CustomsMessage, error)
	// RecordReceipt stores a receipt with its history note (an
	// annotation of the order's version), once: false when stored already.
	RecordReceipt(ctx context.Context, id string, r order.CustomsReceipt, note order.Event) (bool, error)
	// SettleReceipt stores a receipt and, with it, o with its note ev as
	// SaveTransition does: false when the receipt is stored already;
	// order.ErrVersionConflict when the order changed meanwhile.
	SettleReceipt(ctx context.Context, o *order.Order, r order.CustomsReceipt, ev order.Event) (bool, error)
}

// Actor is who a receipt's history note is from.
const Actor = "china-eport"

// Result is what became of one return.
type Result struct {
	OrderID string `json:"orderId"`
	Type    string `json:"type"`    // the receipt, CEB604
	Answers string `json:"answers"` // the message it answers, CEB603
	Ref     string `json:"ref"`
	Status  int    `json:"returnStatus"`
	Meaning string `json:"meaning"`
	Outcome string `json:"outcome"`
	// Recorded is false for a receipt the order holds already.
	Recorded bool `json:"recorded"`
}

// UnknownError is a return that names no order this system declared: its
// order number or reference is not known, or the order has no such
// message. Nothing of the receipt is recorded.
type UnknownError struct {
	Field   string // "CEB506 LogisticsReturn[1].logisticsNo"
	Ref     string
	Problem string
}

func (e *UnknownError) Error() string { return "receipts: " + e.Field + ": " + e.Problem }

// ErrUnknown is wrapped by every UnknownError.
var ErrUnknown = errors.New("receipts: the receipt answers no message of a known order")

// Unwrap returns ErrUnknown.
func (e *UnknownError) Unwrap() error { return ErrUnknown }

// Waker hands an order that waits for China's customs back to its customs
// step (its task message, again on the customs queue): the step reads the
// receipts and goes on, refuses the order, or waits on.
type Waker interface {
	Wake(ctx context.Context, orderID, taskToken string) error
}

// WakeFunc is a Waker that calls the function.
type WakeFunc func(ctx context.Context, orderID, taskToken string) error

// Wake calls f.
func (f WakeFunc) Wake(ctx context.Context, orderID, taskToken string) error {
	return f(ctx, orderID, taskToken)
}

// Recorder records receipts for their orders.
type Recorder struct {
	Orders Store
	// Wake, when set, wakes the customs step of an order waiting for
	// China's customs (order.CustomsRecord AwaitingChina) once, when a
	// receipt settles the wait (a release, or a rejection): the order
	// notes that receipt as its Decision. A wake-up lost on the way is made
	// up for by the reconciler, which wakes every waiting step each minute.
	Wake   Waker
	Logger *slog.Logger
}

// maxAttempts bounds the retries of a save that met a concurrent change.
const maxAttempts = 8

// Record parses one receipt message and records each of its returns on its
// order. A receipt that cannot be parsed is a *ceb.ReceiptError; one whose
// returns do not all name a known order's message is an *UnknownError, and
// nothing is recorded. Other errors are the store's: recording again is
// safe.
func (r *Recorder) Record(ctx context.Context, data []byte, now time.Time) ([]Result, error) {
	rec, err := ceb.ParseReceipt(data)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rec.Returns))
	read := map[string]*order.Order{} // as resolve read them, for the first save
	for i, ret := range rec.Returns {
		o, err := r.resolve(ctx, rec, i, ret)
		if err != nil {
			return nil, err
		}
		ids[i], read[o.ID] = o.ID, o
	}
	results := make([]Result, len(rec.Returns))
	settled := map[string]string{} // order id → the task token its customs step waits on
	for i, ret := range rec.Returns {
		meaning, outcome := ceb.StatusMeaning(ret.Status)
		results[i] = Result{OrderID: ids[i], Type: rec.Type, Answers: rec.Answers, Ref: ret.Ref(), Status: ret.Status,
			Meaning: meaning, Outcome: string(outcome)}
		cr := order.CustomsReceipt{Type: rec.Type, Answers: rec.Answers, GUID: ret.GUID, Status: ret.Status, Meaning: meaning,
			Outcome: string(outcome), Info: ret.Info, InvtNo: ret.InvtNo, PreNo: ret.PreNo, At: ret.Time, ReceivedAt: now.UTC()}
		var o *order.Order
		var settles bool
		if results[i].Recorded, settles, o, err = r.save(ctx, ids[i], read[ids[i]], cr, now); err != nil {
			return nil, err
		}
		read[ids[i]] = o
		if settles {
			settled[o.ID] = o.TaskToken
		}
		if results[i].Recorded {
			level := slog.LevelInfo
			switch outcome {
			case ceb.OutcomeRejected, ceb.OutcomeHeld, ceb.OutcomeReturned, ceb.OutcomeFailed, ceb.OutcomeUnknown:
				level = slog.LevelWarn
			}
			// returnInfo is not logged: customs' reasons may quote the buyer.
			r.log().Log(ctx, level, "customs receipt recorded", "orderId", ids[i], "receipt", rec.Type, "answers", rec.Answers,
				"returnStatus", ret.Status, "outcome", string(outcome))
		}
	}
	if r.Wake != nil {
		for _, id := range slices.Sorted(maps.Keys(settled)) {
			if err := r.Wake.Wake(ctx, id, settled[id]); err != nil {
				return nil, fmt.Errorf("receipts: wake the customs step of %s: %w", id, err)
			}
		}
	}
	return results, nil
}

// decisive reports whether a receipt's outcome settles an order's wait
// for China's customs: a release, or a rejection, failure or return of any
// message. Until one arrives there is nothing for the customs step to do.
func decisive(outcome string) bool {
	switch ceb.Outcome(outcome) {
	case ceb.OutcomeReleased, ceb.OutcomeRejected, ceb.OutcomeFailed, ceb.OutcomeReturned:
		return true
	}
	return false
}

// settles reports whether cr settles o's wait for China's customs: o waits
// on its step's task token, nothing settled it yet, and cr is decisive.
func settles(o *order.Order, cr order.CustomsReceipt) bool {
	c := o.Customs
	return c != nil && c.AwaitingChina && c.Decision == nil && o.TaskToken != "" && !o.Status.Terminal() && decisive(cr.Outcome)
}

// resolve finds the order return i names and checks that the order has the
// message it answers (reading the message's own item).
func (r *Recorder) resolve(ctx context.Context, rec *ceb.Receipt, i int, ret ceb.Return) (*order.Order, error) {
	ref := ret.Ref()
	field := fmt.Sprintf("%s return %d (%s)", rec.Type, i+1, ref)
	unknown := func(problem string) error { return &UnknownError{Field: field, Ref: ref, Problem: problem} }
	id := ret.OrderNo
	if id == "" {
		var err error
		id, err = r.Orders.OrderByReference(ctx, ref)
		switch {
		case errors.Is(err, order.ErrNotFound):
			return nil, unknown("no order has this reference")
		case err != nil:
			return nil, fmt.Errorf("receipts: find the order of %s: %w", ref, err)
		}
	}
	o, err := r.Orders.GetOrder(ctx, id)
	switch {
	case errors.Is(err, order.ErrNotFound):
		return nil, unknown("no order " + strconv.Quote(id))
	case err != nil:
		return nil, fmt.Errorf("receipts: read order %s: %w", id, err)
	}
	_, err = r.Orders.CustomsMessage(ctx, id, rec.Answers)
	switch {
	case errors.Is(err, order.ErrNotFound):
		return nil, unknown("order " + id + " has no " + rec.Answers + " message")
	case err != nil:
		return nil, fmt.Errorf("receipts: read the %s message of %s: %w", rec.Answers, id, err)
	}
	return o, nil
}

// save records cr for order id (o as last read, or nil) with a history
// note, unless it is recorded already, and returns the order as stored.
// A receipt that settles the order's wait is noted on the order itself
// (its Decision), with the order's next version: settled reports it.
func (r *Recorder) save(ctx context.Context, id string, o *order.Order, cr order.CustomsReceipt, now time.Time) (recorded, settled bool, _ *order.Order, _ error) {
	reason := "customs_receipt:" + cr.Type + ":" + strconv.Itoa(cr.Status) + ":" + cr.Outcome
	for attempt := 1; ; attempt++ {
		if o == nil || attempt > 1 {
			var err error
			if o, err = r.Orders.GetOrder(ctx, id); err != nil {
				return false, false, nil, fmt.Errorf("receipts: read order %s: %w", id, err)
			}
		}
		if !settles(o, cr) {
			ok, err := r.Orders.RecordReceipt(ctx, id, cr, o.Annotate(reason, Actor, now))
			if errors.Is(err, order.ErrVersionConflict) && attempt < maxAttempts {
				continue // concurrent writes to the order's items: again
			}
			if err != nil {
				return false, false, nil, fmt.Errorf("receipts: record %s for order %s: %w", cr.Type, id, err)
			}
			return ok, false, o, nil
		}
		o.Customs.Decision = &order.ChinaDecision{Outcome: cr.Outcome, Answers: cr.Answers, Status: cr.Status, At: cr.ReceivedAt}
		ok, err := r.Orders.SettleReceipt(ctx, o, cr, o.Note(reason, Actor, now))
		switch {
		case errors.Is(err, order.ErrVersionConflict) && attempt < maxAttempts:
			continue // the workflow moved the order on: read it again
		case err != nil:
			return false, false, nil, fmt.Errorf("receipts: record %s for order %s: %w", cr.Type, id, err)
		case !ok:
			// Recorded before: o is not what is stored. Read it again for
			// what follows.
			o, err = r.Orders.GetOrder(ctx, id)
			if err != nil {
				return false, false, nil, fmt.Errorf("receipts: read order %s: %w", id, err)
			}
			return false, false, o, nil
		}
		return true, true, o, nil
	}
}

func (r *Recorder) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
