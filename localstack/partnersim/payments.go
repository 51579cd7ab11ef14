package partnersim

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
)

// Payments is the payment provider of sandbox deployments: payment.Simulator
// (the token picks the path: declines, transient failures, lost answers, an
// expired authorization) behind the protocol, and a read-only ledger of what
// it did per order (GET /v1/ledger/orders/{orderId}) for tests and audits.
// Every call is journalled and replayed at start, so that the ledger and
// the answers to repeated keys survive a restart.
type Payments struct {
	*base
	mu  sync.Mutex
	sim *payment.Simulator
}

// call is one request, as the journal keeps it.
type call struct {
	Op       string                 `json:"op"` // authorize, capture, void, refund
	Key      string                 `json:"key"`
	ChargeID string                 `json:"chargeId,omitempty"`
	Amount   *money.Money           `json:"amount,omitempty"`
	Auth     *payment.Authorization `json:"auth,omitempty"`
}

// NewPayments starts a payment simulator's state.
func NewPayments(c Config) (*Payments, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	p := &Payments{base: b, sim: payment.NewSimulator()}
	b.j, err = openJournal(c.Journal, func(line []byte) error {
		var x call
		if err := json.Unmarshal(line, &x); err != nil {
			return err
		}
		_, _ = p.apply(x)
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.notes = newNotifier(c.Secret, b.j, b.log)
	return p, nil
}

func (p *Payments) apply(c call) (string, error) {
	ctx := context.Background()
	switch c.Op {
	case "authorize":
		return p.sim.Authorize(ctx, *c.Auth)
	case "capture":
		return "", p.sim.Capture(ctx, c.Key, c.ChargeID, *c.Amount)
	case "void":
		return "", p.sim.Void(ctx, c.Key, c.ChargeID)
	case "refund":
		return "", p.sim.Refund(ctx, c.Key, c.ChargeID, *c.Amount)
	}
	return "", errors.New("unknown operation " + c.Op)
}

func (p *Payments) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, partnerlink.PathLedger+"orders/") {
		p.ledger(w, r)
		return
	}
	if r.Method != http.MethodPost {
		problem(w, http.StatusMethodNotAllowed, "method_not_allowed", "POST")
		return
	}
	body, key, ok := p.verified(w, r)
	if !ok {
		return
	}
	c := call{Key: key}
	switch path := r.URL.Path; {
	case path == partnerlink.PathAuthorizations:
		var req partnerlink.AuthorizationRequest
		if err := decode(body, &req); err != nil || req.OrderID == "" || req.Amount.Amount <= 0 {
			problem(w, http.StatusBadRequest, "invalid_request", "want an AuthorizationRequest with an orderId and a positive amount")
			return
		}
		c.Op, c.Auth = "authorize", &payment.Authorization{Key: key, OrderID: req.OrderID, Amount: req.Amount, Token: req.Token, FX: req.FX}
	case strings.HasPrefix(path, partnerlink.PathCharges):
		id, op, _ := strings.Cut(strings.TrimPrefix(path, partnerlink.PathCharges), "/")
		c.ChargeID = id
		switch op {
		case "capture", "refunds":
			var req partnerlink.AmountRequest
			if err := decode(body, &req); err != nil || req.Amount.Amount <= 0 {
				problem(w, http.StatusBadRequest, "invalid_request", "want an AmountRequest with a positive amount")
				return
			}
			c.Op, c.Amount = strings.TrimSuffix(op, "s"), &req.Amount
		case "void":
			c.Op = "void"
		default:
			problem(w, http.StatusNotFound, "not_found", "no such operation")
			return
		}
	default:
		problem(w, http.StatusNotFound, "not_found", "no such route")
		return
	}
	p.mu.Lock()
	// Journalled first: a call is replayed as it happened, failures too (the
	// simulator counts a token's transient failures per key).
	if err := p.j.append(c); err != nil {
		p.mu.Unlock()
		problem(w, http.StatusServiceUnavailable, "unavailable", "state not kept: try again")
		return
	}
	chargeID, err := p.apply(c)
	p.mu.Unlock()
	var declined *payment.Declined
	switch {
	case err == nil && c.Op == "authorize":
		answer(w, http.StatusOK, partnerlink.ChargeAnswer{ChargeID: chargeID})
	case err == nil:
		answer(w, http.StatusOK, map[string]string{"chargeId": c.ChargeID, "status": map[string]string{"capture": "captured", "void": "voided", "refund": "refunded"}[c.Op]})
	case errors.As(err, &declined):
		problem(w, http.StatusPaymentRequired, declined.Reason, "declined")
	case errors.Is(err, context.DeadlineExceeded):
		problem(w, http.StatusGatewayTimeout, "timeout", "the answer was lost (simulated)")
	case errors.Is(err, payment.ErrTransient):
		problem(w, http.StatusServiceUnavailable, "unavailable", "simulated outage: try again")
	case errors.Is(err, payment.ErrAuthorizationExpired):
		problem(w, http.StatusUnprocessableEntity, partnerlink.CodeAuthorizationExpired, "the authorization expired")
	case errors.Is(err, payment.ErrAlreadyCaptured):
		problem(w, http.StatusUnprocessableEntity, partnerlink.CodeAlreadyCaptured, "the charge is captured: refund it")
	default:
		problem(w, http.StatusBadRequest, "invalid_request", err.Error())
	}
}

// ledger answers GET /v1/ledger/orders/{orderId}: what the simulator did
// for the order's charge (404 when nothing).
func (p *Payments) ledger(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := p.verified(w, r); !ok {
		return
	}
	id := strings.TrimPrefix(r.URL.Path, partnerlink.PathLedger+"orders/")
	p.mu.Lock()
	l, ok := p.sim.Order(id)
	p.mu.Unlock()
	if !ok {
		problem(w, http.StatusNotFound, "not_found", "no charge for this order")
		return
	}
	answer(w, http.StatusOK, l)
}

// Close closes the journal.
func (p *Payments) Close() {
	p.notes.close()
	p.j.close()
}
