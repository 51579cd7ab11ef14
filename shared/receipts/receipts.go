// Package receipts records the China E-Port's and customs' receipts (CEB304,
// CEB604, …) on the orders whose messages they answer: each return is kept
// in the order's customs record with its returnStatus and what it means,
// and noted in the order's history. A receipt is matched to its order by
// the order number it carries or, for the receipts that carry only a
// waybill number, a payment transaction or a copNo, by the references the
// customs step recorded when it rendered the messages. Recording is
// idempotent: the same receipt twice is recorded once.
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

// Store is what the recorder reads and writes.
type Store interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error
	// OrderByReference is the id of the order a reference names
	// ("logisticsNo:<no>", …); order.ErrNotFound.
	OrderByReference(ctx context.Context, ref string) (string, error)
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

// Recorder records receipts on their orders.
type Recorder struct {
	Orders Store
	// Wake, when set, wakes the customs step of each order a receipt
	// reaches while it waits for China's customs (order.CustomsRecord
	// AwaitingChina) once the order's receipts settle the wait (a release,
	// or a rejection) — on a resent receipt too, so that a lost wake-up is
	// made up for.
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
	waiting := map[string]string{} // order id → the task token its customs step waits on
	for i, ret := range rec.Returns {
		meaning, outcome := ceb.StatusMeaning(ret.Status)
		results[i] = Result{OrderID: ids[i], Type: rec.Type, Answers: rec.Answers, Ref: ret.Ref(), Status: ret.Status,
			Meaning: meaning, Outcome: string(outcome)}
		cr := order.CustomsReceipt{Type: rec.Type, Answers: rec.Answers, GUID: ret.GUID, Status: ret.Status, Meaning: meaning,
			Outcome: string(outcome), Info: ret.Info, InvtNo: ret.InvtNo, PreNo: ret.PreNo, At: ret.Time, ReceivedAt: now.UTC()}
		var o *order.Order
		if results[i].Recorded, o, err = r.save(ctx, ids[i], read[ids[i]], cr, now); err != nil {
			return nil, err
		}
		read[ids[i]] = o
		if c := o.Customs; c != nil && c.AwaitingChina && o.TaskToken != "" && !o.Status.Terminal() && decisive(c.Receipts) {
			waiting[o.ID] = o.TaskToken
		} else {
			delete(waiting, o.ID)
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
		for _, id := range slices.Sorted(maps.Keys(waiting)) {
			if err := r.Wake.Wake(ctx, id, waiting[id]); err != nil {
				return nil, fmt.Errorf("receipts: wake the customs step of %s: %w", id, err)
			}
		}
	}
	return results, nil
}

// decisive reports whether the receipts settle an order's wait for China's
// customs: a release, or a rejection, failure or return of any message.
// Until one arrives there is nothing for the customs step to do.
func decisive(rs []order.CustomsReceipt) bool {
	return slices.ContainsFunc(rs, func(r order.CustomsReceipt) bool {
		switch ceb.Outcome(r.Outcome) {
		case ceb.OutcomeReleased, ceb.OutcomeRejected, ceb.OutcomeFailed, ceb.OutcomeReturned:
			return true
		}
		return false
	})
}

// resolve finds the order return i names and checks that the order has the
// message it answers.
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
	if o.Customs == nil || !slices.ContainsFunc(o.Customs.Messages, func(m order.CustomsMessage) bool { return m.Type == rec.Answers }) {
		return nil, unknown("order " + id + " has no " + rec.Answers + " message")
	}
	return o, nil
}

// save records cr on order id (o as last read, or nil) with a history
// note, unless it is there, and returns the order as stored.
func (r *Recorder) save(ctx context.Context, id string, o *order.Order, cr order.CustomsReceipt, now time.Time) (bool, *order.Order, error) {
	for attempt := 1; ; attempt++ {
		if o == nil || attempt > 1 {
			var err error
			if o, err = r.Orders.GetOrder(ctx, id); err != nil {
				return false, nil, fmt.Errorf("receipts: read order %s: %w", id, err)
			}
		}
		if !o.RecordReceipt(cr) {
			return false, o, nil
		}
		ev := o.Note("customs_receipt:"+cr.Type+":"+strconv.Itoa(cr.Status)+":"+cr.Outcome, Actor, now)
		err := r.Orders.SaveTransition(ctx, o, ev)
		if errors.Is(err, order.ErrVersionConflict) && attempt < maxAttempts {
			continue // the workflow moved the order on: read it again
		}
		if err != nil {
			return false, nil, fmt.Errorf("receipts: record %s on order %s: %w", cr.Type, id, err)
		}
		return true, o, nil
	}
}

func (r *Recorder) log() *slog.Logger {
	if r.Logger == nil {
		return slog.Default()
	}
	return r.Logger
}
