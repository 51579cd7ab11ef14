package partnersim

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
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
	decide  func(body []byte) (orderID, callback, status string, answer any, err error)
	// later reports whether the request's order asks to be answered later.
	later func(body []byte) bool
}

func newDeciding(c Config, notify string, pending func(string) any,
	decide func([]byte) (string, string, string, any, error)) (*deciding, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	d := &deciding{base: b, byID: map[string]*decision{}, delay: c.Delay, notify: notify, pending: pending, decide: decide}
	sent := map[string]bool{}
	b.j, err = openJournal(c.Journal, func(line []byte) error {
		var x struct {
			decision
			delivered
		}
		if err := json.Unmarshal(line, &x); err != nil {
			return err
		}
		if x.Delivered != "" {
			sent[x.Delivered] = true
			return nil
		}
		dec := x.decision
		d.byID[dec.ID] = &dec
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.notes = newNotifier(c.Secret, b.j, b.log)
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
		orderID, callback, status, ans, err := d.decide(body)
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
		raw, _ := json.Marshal(ans)
		delay := d.delay
		if delay == 0 && d.later != nil && d.later(body) {
			delay = LaterDelay
		}
		now := d.now().UTC()
		fresh := &decision{ID: id, OrderID: orderID, Status: status, Answer: raw, DecidedAt: now, RevealAt: now.Add(delay), Callback: callback}
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
		func(body []byte) (string, string, string, any, error) {
			var req partnerlink.DeclarationRequest
			if err := decode(body, &req); err != nil || req.Declaration == nil || req.OrderID == "" || req.OrderID != req.Declaration.OrderID {
				return "", "", "", nil, &errBadRequest{"want a DeclarationRequest whose orderId is its declaration's"}
			}
			return decideDeclaration(sim, &req)
		})
	if err != nil {
		return nil, err
	}
	d.later = func(body []byte) bool {
		var req partnerlink.DeclarationRequest
		if json.Unmarshal(body, &req) != nil || req.Declaration == nil {
			return false
		}
		for _, l := range req.Declaration.Lines {
			if l.SKU == AnswerLaterSKU {
				return true
			}
		}
		return false
	}
	return &Broker{d}, nil
}

func decideDeclaration(sim *workers.BrokerSimulator, req *partnerlink.DeclarationRequest) (string, string, string, any, error) {
	ref, err := sim.Clear(context.Background(), req.Declaration)
	var refused *workers.Refused
	switch {
	case errors.Is(err, workers.ErrSimulatedOutage):
		return "", "", "", nil, errOutage
	case errors.As(err, &refused):
		return req.OrderID, req.CallbackURL, partnerlink.StatusRefused,
			partnerlink.DeclarationAnswer{OrderID: req.OrderID, Status: partnerlink.StatusRefused, Reason: refused.Reason}, nil
	case err != nil:
		return "", "", "", nil, err
	}
	return req.OrderID, req.CallbackURL, partnerlink.StatusCleared,
		partnerlink.DeclarationAnswer{OrderID: req.OrderID, Status: partnerlink.StatusCleared, Reference: ref}, nil
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
		func(body []byte) (string, string, string, any, error) {
			var req partnerlink.ShipmentRequest
			if err := decode(body, &req); err != nil || req.OrderID == "" || req.Waybill == "" || len(req.Lines) == 0 {
				return "", "", "", nil, &errBadRequest{"want a ShipmentRequest with an orderId, a waybill and lines"}
			}
			o := &order.Order{ID: req.OrderID}
			for _, l := range req.Lines {
				o.Lines = append(o.Lines, order.Line{SKU: l.SKU, Quantity: l.Quantity})
			}
			_, err := sim.Ship(context.Background(), o)
			var refused *workers.Refused
			switch {
			case errors.Is(err, workers.ErrSimulatedOutage):
				return "", "", "", nil, errOutage
			case errors.As(err, &refused):
				return req.OrderID, req.CallbackURL, partnerlink.StatusRefused,
					partnerlink.ShipmentAnswer{OrderID: req.OrderID, Status: partnerlink.StatusRefused, Reason: refused.Reason}, nil
			case err != nil:
				return "", "", "", nil, err
			}
			return req.OrderID, req.CallbackURL, partnerlink.StatusShipped, partnerlink.ShipmentAnswer{OrderID: req.OrderID, Status: partnerlink.StatusShipped,
				Parcels: []partnerlink.Parcel{{TrackingNumber: req.Waybill, Carrier: "XB Express (simulated)"}}}, nil
		})
	if err != nil {
		return nil, err
	}
	d.later = func(body []byte) bool {
		var req partnerlink.ShipmentRequest
		if json.Unmarshal(body, &req) != nil {
			return false
		}
		for _, l := range req.Lines {
			if l.SKU == AnswerLaterSKU {
				return true
			}
		}
		return false
	}
	return &Warehouse{d}, nil
}
