package partnersim

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/workers"
)

// Config configures a simulator.
type Config struct {
	// Secret signs both directions (partnerlink.Endpoint.Secret).
	Secret string
	// Journal is the file its state is kept in; empty keeps it in memory.
	Journal string
	// Delay: 0 decides within the request — but for an order with a line
	// of SKU SIM-ANSWER-LATER, which waits LaterDelay; otherwise the
	// simulator answers "pending", and decides — and notifies the
	// callbackUrl — after Delay.
	Delay  time.Duration
	Logger *slog.Logger
}

func (c Config) base() (*base, error) {
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &base{secret: c.Secret, log: log, now: time.Now}, nil
}

// AnswerLaterSKU makes the broker and the warehouse answer an order
// "pending" and decide it LaterDelay later, when they otherwise decide
// within the request: the path a test takes to the notifications.
const AnswerLaterSKU = "SIM-ANSWER-LATER"

// LaterDelay is how long an AnswerLaterSKU order waits.
const LaterDelay = 300 * time.Millisecond

// decision is one request's outcome, as the journal keeps it.
type decision struct {
	ID        string          `json:"id"`
	OrderID   string          `json:"orderId"`
	Status    string          `json:"status"`
	Answer    json.RawMessage `json:"answer"`
	RevealAt  time.Time       `json:"revealAt"`
	DecidedAt time.Time       `json:"decidedAt"`
	Callback  string          `json:"callback,omitempty"`
}

// deciding is a simulator that decides each request once, keyed by its
// webhook-id, and reveals the decision after its delay.
type deciding struct {
	*base
	mu      sync.Mutex
	byID    map[string]*decision
	delay   time.Duration
	notify  string // the notification type
	pending func(orderID string) any
	decide  func(body []byte) (outcome, error)
}

// outcome is what a simulator decided of one request.
type outcome struct {
	orderID, callback, status string
	answer                    any
	// later: the request's order asks to be answered later (AnswerLaterSKU).
	later bool
}

func newDeciding(c Config, notify string, pending func(string) any, decide func([]byte) (outcome, error)) (*deciding, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	d := &deciding{base: b, byID: map[string]*decision{}, delay: c.Delay, notify: notify, pending: pending, decide: decide}
	sent, err := open(b, c, func(dec decision) { d.byID[dec.ID] = &dec })
	if err != nil {
		return nil, err
	}
	for _, dec := range d.byID {
		if n, ok := d.noteOf(dec); ok && !sent[n.ID] {
			b.notes.send(n)
		}
	}
	return d, nil
}

func (d *deciding) noteOf(dec *decision) (note, bool) {
	if dec.Callback == "" || !dec.RevealAt.After(dec.DecidedAt) {
		return note{}, false
	}
	body, _ := json.Marshal(partnerlink.Notification{Type: d.notify, OrderID: dec.OrderID, Status: dec.Status})
	return note{ID: dec.ID + ":" + dec.Status, URL: dec.Callback, Body: body, At: dec.RevealAt}, true
}

// errOutage is a decide's transient failure: answered 503, nothing kept.
var errOutage = errors.New("simulated outage")

// errBadRequest is a request the protocol does not allow.
type errBadRequest struct{ detail string }

func (e *errBadRequest) Error() string { return e.detail }

func (d *deciding) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, id, ok := d.verified(w, r)
	if !ok {
		return
	}
	d.mu.Lock()
	dec, known := d.byID[id]
	d.mu.Unlock()
	if !known {
		out, err := d.decide(body)
		var bad *errBadRequest
		switch {
		case errors.As(err, &bad):
			problem(w, http.StatusBadRequest, "invalid_request", bad.detail)
			return
		case errors.Is(err, errOutage):
			problem(w, http.StatusServiceUnavailable, "unavailable", "simulated outage: try again")
			return
		case err != nil:
			problem(w, http.StatusInternalServerError, "internal", err.Error())
			return
		}
		raw, _ := json.Marshal(out.answer)
		delay := d.delay
		if delay == 0 && out.later {
			delay = LaterDelay
		}
		now := d.now().UTC()
		fresh := &decision{ID: id, OrderID: out.orderID, Status: out.status, Answer: raw, DecidedAt: now, RevealAt: now.Add(delay), Callback: out.callback}
		d.mu.Lock()
		if dec, known = d.byID[id]; !known {
			if err := d.j.append(fresh); err != nil {
				d.mu.Unlock()
				problem(w, http.StatusServiceUnavailable, "unavailable", "state not kept: try again")
				return
			}
			d.byID[id], dec = fresh, fresh
			if n, ok := d.noteOf(fresh); ok {
				d.notes.send(n)
			}
		}
		d.mu.Unlock()
	}
	if d.now().Before(dec.RevealAt) {
		answer(w, http.StatusOK, d.pending(dec.OrderID))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(dec.Answer)
}

// Close stops the deliveries and closes the journal.
func (d *deciding) Close() {
	d.notes.close()
	d.j.close()
}

// Broker is the customs broker: it clears or refuses a declaration as
// workers.BrokerSimulator decides.
type Broker struct{ *deciding }

// NewBroker starts a broker's state (its journal, the notifications still
// to deliver); serve it with http.Serve.
func NewBroker(c Config) (*Broker, error) {
	sim := &workers.BrokerSimulator{}
	d, err := newDeciding(c, partnerlink.NotifyDeclaration,
		func(id string) any {
			return partnerlink.DeclarationAnswer{OrderID: id, Status: partnerlink.StatusPending}
		},
		func(body []byte) (outcome, error) {
			var req partnerlink.DeclarationRequest
			if err := decode(body, &req); err != nil || req.Declaration == nil || req.OrderID == "" || req.OrderID != req.Declaration.OrderID {
				return outcome{}, &errBadRequest{"want a DeclarationRequest whose orderId is its declaration's"}
			}
			skus := make([]string, len(req.Declaration.Lines))
			for i, l := range req.Declaration.Lines {
				skus[i] = l.SKU
			}
			ref, err := sim.Clear(context.Background(), req.Declaration)
			out := outcome{orderID: req.OrderID, callback: req.CallbackURL, later: slices.Contains(skus, AnswerLaterSKU)}
			var refused *workers.Refused
			switch {
			case errors.As(err, &refused):
				out.status, out.answer = partnerlink.StatusRefused, partnerlink.DeclarationAnswer{OrderID: req.OrderID, Status: partnerlink.StatusRefused, Reason: refused.Reason}
			case err != nil:
				return outcome{}, simulated(err)
			default:
				out.status, out.answer = partnerlink.StatusCleared, partnerlink.DeclarationAnswer{OrderID: req.OrderID, Status: partnerlink.StatusCleared, Reference: ref}
			}
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &Broker{d}, nil
}

// simulated is a simulator's failure as the server answers it: an outage
// (503, try again) or its own error (500).
func simulated(err error) error {
	if errors.Is(err, workers.ErrSimulatedOutage) {
		return errOutage
	}
	return err
}

// Warehouse is the overseas warehouse and its carrier: it ships or refuses
// as workers.WarehouseSimulator decides, one parcel per order, its tracking
// number the waybill booked for it.
type Warehouse struct{ *deciding }

// NewWarehouse starts a warehouse's state.
func NewWarehouse(c Config) (*Warehouse, error) {
	sim := &workers.WarehouseSimulator{}
	d, err := newDeciding(c, partnerlink.NotifyShipment,
		func(id string) any { return partnerlink.ShipmentAnswer{OrderID: id, Status: partnerlink.StatusPending} },
		func(body []byte) (outcome, error) {
			var req partnerlink.ShipmentRequest
			if err := decode(body, &req); err != nil || req.OrderID == "" || req.Waybill == "" || len(req.Lines) == 0 {
				return outcome{}, &errBadRequest{"want a ShipmentRequest with an orderId, a waybill and lines"}
			}
			o := &order.Order{ID: req.OrderID}
			for _, l := range req.Lines {
				o.Lines = append(o.Lines, order.Line{SKU: l.SKU, Quantity: l.Quantity})
			}
			_, err := sim.Ship(context.Background(), o)
			out := outcome{orderID: req.OrderID, callback: req.CallbackURL,
				later: slices.ContainsFunc(req.Lines, func(l partnerlink.ShipmentLine) bool { return l.SKU == AnswerLaterSKU })}
			var refused *workers.Refused
			switch {
			case errors.As(err, &refused):
				out.status, out.answer = partnerlink.StatusRefused, partnerlink.ShipmentAnswer{OrderID: req.OrderID, Status: partnerlink.StatusRefused, Reason: refused.Reason}
			case err != nil:
				return outcome{}, simulated(err)
			default:
				out.status, out.answer = partnerlink.StatusShipped, partnerlink.ShipmentAnswer{OrderID: req.OrderID, Status: partnerlink.StatusShipped,
					Parcels: []partnerlink.Parcel{{TrackingNumber: req.Waybill, Carrier: "XB Express (simulated)"}}}
			}
			return out, nil
		})
	if err != nil {
		return nil, err
	}
	return &Warehouse{d}, nil
}
