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
)

// Simulator is a deterministic payment provider whose behaviour the payment
// token decides, like a provider's test cards:
//
//	tok_chargeDeclined                    declined, card_declined
//	tok_chargeDeclinedInsufficientFunds   declined, insufficient_funds
//	tok_transient_<n>                     authorization fails transiently n times, then succeeds
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
}

type simCharge struct {
	token                      string
	amount                     money.Money
	captured, voided, refunded bool
	// remote: authorized by another process, rebuilt from its id; its
	// capture state is the caller's to know.
	remote bool
}

// NewSimulator returns an empty simulator.
func NewSimulator() *Simulator {
	return &Simulator{charges: map[string]*simCharge{}, byKey: map[string]string{}, fails: map[string]int{}}
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

// Authorize places a hold for amount; the same key returns the same charge.
func (s *Simulator) Authorize(_ context.Context, key string, amount money.Money, token string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.byKey[key]; ok {
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
	s.charges[id] = &simCharge{token: token, amount: amount}
	s.byKey[key] = id
	return id, nil
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
