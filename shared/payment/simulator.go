package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Simulator is a deterministic payment provider whose behaviour the payment
// token decides, like a provider's test cards:
//
//	tok_chargeDeclined                    declined, card_declined
//	tok_chargeDeclinedInsufficientFunds   declined, insufficient_funds
//	tok_transient_<n>                     authorization fails transiently n times, then succeeds
//	tok_timeout_<n>                       the provider authorizes, but the answer is lost (a timeout)
//	                                      n times; the retry with the same key gets the same charge
//	tok_expiredAuthorization              authorizes; capture finds it expired
//	anything else                         succeeds
//
// Its decisions need no shared state: a charge id says what its token was,
// so the Lambdas that authorize, capture and compensate — separate processes
// in AWS — agree about a charge. The ledger each process keeps in memory is
// for counting in tests, and for answering a repeated key the same way.
type Simulator struct {
	mu      sync.Mutex
	charges map[string]*simCharge // by charge id
	byKey   map[string]string     // idempotency key → charge id
	fails   map[string]int        // idempotency key → transient failures so far
	byOrder map[string][]string   // order id → its charges' ids, oldest first
}

type simCharge struct {
	token                      string
	amount                     money.Money
	captured, voided, refunded bool
	// remote: authorized by another process, rebuilt from its id; its
	// capture state is the caller's to know.
	remote bool
	ops    OrderLedger
}

// OrderLedger is what the simulator did for one order's charge: the money
// movements that took effect (a repeated call with the same key is not
// counted again), and the exchange rate stored with the payment.
type OrderLedger struct {
	ChargeID                                 string
	Amount, Captured, Refunded               money.Money
	Authorizations, Captures, Voids, Refunds int
	FX                                       *order.FXRate
}

// NewSimulator returns an empty simulator.
func NewSimulator() *Simulator {
	return &Simulator{charges: map[string]*simCharge{}, byKey: map[string]string{}, fails: map[string]int{}, byOrder: map[string][]string{}}
}

func (s *Simulator) transient(key, token string) bool {
	n, ok := strings.CutPrefix(token, "tok_transient_")
	if !ok {
		return false
	}
	limit, _ := strconv.Atoi(n)
	if s.fails[key] < limit {
		s.fails[key]++
		return true
	}
	return false
}

// Authorize places a hold for the amount; the same key returns the same charge.
func (s *Simulator) Authorize(_ context.Context, a Authorization) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key, token := a.Key, a.Token
	if id, ok := s.byKey[key]; ok {
		if s.answerLost(key, token) {
			return "", fmt.Errorf("simulator authorize: %w: %w", ErrTransient, context.DeadlineExceeded)
		}
		return id, nil
	}
	if s.transient(key, token) {
		return "", fmt.Errorf("simulator authorize: %w", ErrTransient)
	}
	switch token {
	case "tok_chargeDeclined":
		return "", &Declined{Reason: "card_declined"}
	case "tok_chargeDeclinedInsufficientFunds":
		return "", &Declined{Reason: "insufficient_funds"}
	}
	kind := "ok"
	if token == "tok_expiredAuthorization" {
		kind = "exp"
	}
	sum := sha256.Sum256([]byte(key))
	id := fmt.Sprintf("ch_sim_%s_%s", kind, hex.EncodeToString(sum[:8]))
	s.charges[id] = &simCharge{token: token, amount: a.Amount,
		ops: OrderLedger{ChargeID: id, Amount: a.Amount, Authorizations: 1, FX: a.FX}}
	s.byKey[key] = id
	if a.OrderID != "" {
		s.byOrder[a.OrderID] = append(s.byOrder[a.OrderID], id)
	}
	if s.answerLost(key, token) {
		return "", fmt.Errorf("simulator authorize: %w: %w", ErrTransient, context.DeadlineExceeded)
	}
	return id, nil
}

// answerLost: for tok_timeout_<n>, the provider has the charge but the
// first n answers never arrive.
func (s *Simulator) answerLost(key, token string) bool {
	n, ok := strings.CutPrefix(token, "tok_timeout_")
	if !ok {
		return false
	}
	limit, _ := strconv.Atoi(n)
	if s.fails[key] < limit {
		s.fails[key]++
		return true
	}
	return false
}

// Order is the ledger of an order's charges, if any was authorized here:
// the first charge's id and FX, and the sums over every charge made for
// the order — a second authorization under another key (a step that is
// not idempotent) shows as two.
func (s *Simulator) Order(orderID string) (OrderLedger, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids, ok := s.byOrder[orderID]
	if !ok {
		return OrderLedger{}, false
	}
	add := func(a *money.Money, b money.Money) {
		a.Amount += b.Amount
		if a.Currency == "" {
			a.Currency = b.Currency
		}
	}
	l := s.charges[ids[0]].ops
	for _, id := range ids[1:] {
		c := s.charges[id].ops
		add(&l.Amount, c.Amount)
		add(&l.Captured, c.Captured)
		add(&l.Refunded, c.Refunded)
		l.Authorizations += c.Authorizations
		l.Captures += c.Captures
		l.Voids += c.Voids
		l.Refunds += c.Refunds
	}
	return l, true
}

// charge finds a charge, or rebuilds one another process authorized from
// what its id says.
func (s *Simulator) charge(id string, amount money.Money) (*simCharge, error) {
	if c, ok := s.charges[id]; ok {
		return c, nil
	}
	switch {
	case strings.HasPrefix(id, "ch_sim_ok_"):
		s.charges[id] = &simCharge{token: "tok_visa", amount: amount, remote: true}
	case strings.HasPrefix(id, "ch_sim_exp_"):
		s.charges[id] = &simCharge{token: "tok_expiredAuthorization", amount: amount, remote: true}
	default:
		return nil, fmt.Errorf("simulator: no charge %s", id)
	}
	return s.charges[id], nil
}

// Capture takes the authorized money, once.
func (s *Simulator) Capture(_ context.Context, key, chargeID string, amount money.Money) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.charge(chargeID, amount)
	if err != nil {
		return err
	}
	switch {
	case c.captured:
		return nil
	case c.voided:
		return fmt.Errorf("simulator: capture of voided charge %s", chargeID)
	case c.token == "tok_expiredAuthorization":
		return ErrAuthorizationExpired
	case amount.Currency != c.amount.Currency || amount.Amount > c.amount.Amount:
		return fmt.Errorf("simulator: capture %s exceeds the authorized %s", amount, c.amount)
	}
	c.captured, c.amount = true, amount
	c.ops.Captures++
	c.ops.Captured = amount
	return nil
}

// Void releases an uncaptured authorization, once.
func (s *Simulator) Void(_ context.Context, key, chargeID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.charge(chargeID, money.Money{})
	if err != nil {
		return err
	}
	if c.captured {
		return ErrAlreadyCaptured
	}
	if !c.voided {
		c.ops.Voids++
	}
	c.voided = true
	return nil
}

// Refund returns captured money, once.
func (s *Simulator) Refund(_ context.Context, key, chargeID string, amount money.Money) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.charge(chargeID, amount)
	if err != nil {
		return err
	}
	if !c.captured && !c.remote {
		return fmt.Errorf("simulator: refund of uncaptured charge %s", chargeID)
	}
	if !c.refunded {
		c.ops.Refunds++
		c.ops.Refunded = amount
	}
	c.refunded = true
	return nil
}

// Ledger counts what happened, for tests: charges authorized, captured, voided, refunded.
func (s *Simulator) Ledger() (authorized, captured, voided, refunded int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.charges {
		authorized++
		if c.captured {
			captured++
		}
		if c.voided {
			voided++
		}
		if c.refunded {
			refunded++
		}
	}
	return
}
