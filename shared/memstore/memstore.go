// Package memstore is an in-memory order store with the same semantics as
// the DynamoDB one (the contract suite in storetest runs against both), for
// fast unit tests. Everything it hands out or takes in is copied, so callers
// never share memory with what it stores. Not for production: nothing
// survives the process.
package memstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/quotes"
)

// Store keeps orders, history, documents, idempotency records and quotes
// in memory. It is safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	history map[string][]entry
	docs    map[string]*documents // order id → what is kept beside the order
	keys    map[scopedKey]idempotency.Record
	quotes  map[string]quotes.Record
	refs    map[string]string    // reference → order id
	due     map[string]time.Time // order id → due time of its wait (due.go)
	// partnerRefs are the claimed partner order references (partner,
	// reference) with the record of the delivery that claimed each.
	partnerRefs map[scopedKey]idempotency.Record
}

// entry is one history event under the sort key the DynamoDB store gives
// it, so that both list an order's history in the same order.
type entry struct {
	key string
	ev  order.Event
}

type scopedKey struct{ scope, key string }

// New returns an empty store.
func New() *Store {
	return &Store{orders: map[string]order.Order{}, history: map[string][]entry{}, docs: map[string]*documents{},
		keys: map[scopedKey]idempotency.Record{}, quotes: map[string]quotes.Record{}, refs: map[string]string{}, due: map[string]time.Time{},
		partnerRefs: map[scopedKey]idempotency.Record{}}
}

// clone copies every slice and pointer of an order (storetest checks that
// nothing is shared, so a field added to order.Order without a line here
// fails the contract suite).
func clone(o order.Order) order.Order {
	o.Lines = append([]order.Line(nil), o.Lines...)
	o.Buyer.Identity, o.Consignee.Identity = cloneIdentity(o.Buyer.Identity), cloneIdentity(o.Consignee.Identity)
	if o.Shipping != nil {
		s := *o.Shipping
		o.Shipping = &s
	}
	if o.Insurance != nil {
		i := *o.Insurance
		o.Insurance = &i
	}
	if o.Charge != nil {
		c := *o.Charge
		c.Captured, c.Refunded = cloneMoney(c.Captured), cloneMoney(c.Refunded)
		if c.FX != nil {
			fx := *c.FX
			c.FX = &fx
		}
		o.Charge = &c
	}
	if o.FX != nil {
		fx := *o.FX
		o.FX = &fx
	}
	if o.Customs != nil {
		c := *o.Customs
		c.Quoted, c.Assessed = cloneCharges(c.Quoted), cloneCharges(c.Assessed)
		if c.MerchantCost != nil {
			m := *c.MerchantCost
			c.MerchantCost = &m
		}
		if c.Decision != nil {
			d := *c.Decision
			c.Decision = &d
		}
		o.Customs = &c
	}
	if o.Screening != nil {
		h := *o.Screening
		o.Screening = &h
	}
	return o
}

func cloneIdentity(id *order.Identity) *order.Identity {
	if id == nil {
		return nil
	}
	c := *id
	return &c
}

func cloneMoney(m *money.Money) *money.Money {
	if m == nil {
		return nil
	}
	c := *m
	return &c
}

func cloneCharges(c *order.LandedCharges) *order.LandedCharges {
	if c == nil {
		return nil
	}
	out := *c
	out.Rules = append([]string(nil), c.Rules...)
	return &out
}

// cloneBytes copies b, keeping nil nil (and empty empty).
func cloneBytes[B ~[]byte](b B) B {
	if b == nil {
		return nil
	}
	return append(B{}, b...)
}

func cloneRecord(r idempotency.Record) idempotency.Record {
	r.Body = cloneBytes(r.Body)
	return r
}

// keyFree reports whether a key may be taken at now: no record, a record past
// its expiry, an in-flight claim whose lease ran out or, when owner is set,
// that owner's own in-flight claim.
func keyFree(old idempotency.Record, exists bool, now time.Time, owner string) bool {
	return !exists || !now.Before(old.ExpiresAt) ||
		(old.State == idempotency.StateInFlight && (!now.Before(old.LeaseUntil) || (owner != "" && old.Owner == owner)))
}

// ClaimKey stores rec as an IN_FLIGHT claim unless the key's record is
// completed or in flight under a running lease, which it returns with
// idempotency.ErrClaimed. See the DynamoDB store for the full contract.
func (s *Store) ClaimKey(_ context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error) {
	rec.State, rec.Body = idempotency.StateInFlight, nil
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{rec.Scope, rec.Key}
	if old, ok := s.keys[k]; !keyFree(old, ok, now, "") {
		return cloneRecord(old), idempotency.ErrClaimed
	}
	s.keys[k] = rec
	return rec, nil
}

// ReleaseKey drops an in-flight claim held by owner; anything else is left alone.
func (s *Store) ReleaseKey(_ context.Context, scope, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{scope, key}
	if old, ok := s.keys[k]; ok && old.State == idempotency.StateInFlight && old.Owner == owner {
		delete(s.keys, k)
	}
	return nil
}

// CreateOrder writes the order, its first event and the completed key, all
// or nothing: the key's record with idempotency.ErrClaimed if the key is
// taken, order.ErrExists if the order is. A partner's order with a
// partnerOrderRef claims it for good: if it is claimed, the record of the
// delivery that did (ResourceID its order; no scope, no expiry) and
// order.ErrReferenceTaken.
func (s *Store) CreateOrder(_ context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error) {
	if err := checkEvent(o, first); err != nil {
		return idempotency.Record{}, fmt.Errorf("memstore: create order: %w", err)
	}
	done.State = idempotency.StateCompleted
	done = cloneRecord(done)
	s.mu.Lock()
	defer s.mu.Unlock()
	k := scopedKey{done.Scope, done.Key}
	if old, ok := s.keys[k]; !keyFree(old, ok, now, done.Owner) {
		return cloneRecord(old), fmt.Errorf("memstore: create order %s: %w", o.ID, idempotency.ErrClaimed)
	}
	if _, ok := s.orders[o.ID]; ok || len(s.history[o.ID]) > 0 {
		return idempotency.Record{}, fmt.Errorf("memstore: create order %s: %w", o.ID, order.ErrExists)
	}
	ref := scopedKey{o.PartnerID, o.PartnerOrderRef}
	claims := o.PartnerID != "" && o.PartnerOrderRef != ""
	if holder, ok := s.partnerRefs[ref]; claims && ok {
		return cloneRecord(holder), fmt.Errorf("memstore: create order %s: partner order reference: %w", o.ID, order.ErrReferenceTaken)
	}
	if claims {
		s.partnerRefs[ref] = idempotency.Record{Key: done.Key, RequestHash: done.RequestHash,
			State: idempotency.StateCompleted, StatusCode: done.StatusCode, Location: done.Location,
			Body: cloneBytes(done.Body), ResourceID: o.ID, CreatedAt: done.CreatedAt}
	}
	s.keys[k] = done
	s.orders[o.ID] = clone(*o)
	s.history[o.ID] = []entry{{eventKey(first.Version), first}}
	return cloneRecord(done), nil
}

// checkEvent refuses a history event that does not belong to o as it is
// being written.
func checkEvent(o *order.Order, ev order.Event) error {
	switch {
	case o == nil || o.ID == "":
		return errors.New("order without an id")
	case ev.OrderID != o.ID || ev.Version != o.Version:
		return fmt.Errorf("order %s at version %d given the history event of %q at version %d", o.ID, o.Version, ev.OrderID, ev.Version)
	}
	return nil
}

// GetOrder returns a copy of one order; order.ErrNotFound if there is none.
func (s *Store) GetOrder(_ context.Context, id string) (*order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, fmt.Errorf("memstore: get order %s: %w", id, order.ErrNotFound)
	}
	c := clone(o)
	return &c, nil
}

// History returns an order's events, oldest first: by version, each
// version's notes after its event.
func (s *Store) History(_ context.Context, id string) ([]order.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var h []order.Event
	for _, e := range s.history[id] {
		h = append(h, e.ev)
	}
	return h, nil
}

// eventKey and noteKey are the sort keys the DynamoDB store gives an event
// and a note.
func eventKey(version int64) string { return fmt.Sprintf("EVENT#%010d", version) }

func noteKey(ev order.Event, what string) string {
	return eventKey(ev.Version) + "#" + ev.At.UTC().Format(sortable) + "#" + what
}

// hasEntry reports whether the order's history holds key.
func (s *Store) hasEntry(id, key string) bool {
	for _, e := range s.history[id] {
		if e.key == key {
			return true
		}
	}
	return false
}

// appendEntry adds ev under key to the order's history, in key order.
func (s *Store) appendEntry(id, key string, ev order.Event) {
	h := append(s.history[id], entry{key, ev})
	sort.SliceStable(h, func(i, j int) bool { return h[i].key < h[j].key })
	s.history[id] = h
}

// SaveTransition stores o and ev if the stored version is o.Version-1:
// order.ErrNotFound for a missing order, order.ErrVersionConflict otherwise.
func (s *Store) SaveTransition(_ context.Context, o *order.Order, ev order.Event) error {
	if err := checkEvent(o, ev); err != nil {
		return fmt.Errorf("memstore: save order: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.save(o, ev)
}

// save is SaveTransition with the lock held.
func (s *Store) save(o *order.Order, ev order.Event) error {
	old, ok := s.orders[o.ID]
	if !ok {
		return fmt.Errorf("memstore: save order %s: %w", o.ID, order.ErrNotFound)
	}
	if old.Version != o.Version-1 {
		return fmt.Errorf("memstore: save order %s at version %d: %w", o.ID, o.Version, order.ErrVersionConflict)
	}
	if old.Status != ev.From {
		// As the DynamoDB store, whose status counters move from ev.From.
		return fmt.Errorf("memstore: save order %s at version %d: stored %s, not %s: %w", o.ID, o.Version, old.Status, ev.From, order.ErrVersionConflict)
	}
	if s.hasEntry(o.ID, eventKey(ev.Version)) {
		return fmt.Errorf("memstore: save order %s at version %d: history has that version: %w", o.ID, o.Version, order.ErrVersionConflict)
	}
	s.orders[o.ID] = clone(*o)
	s.appendEntry(o.ID, eventKey(ev.Version), ev)
	return nil
}

// PutReferences records that each reference names order id. A reference
// that names another order already is left as it is and reported with
// order.ErrReferenceTaken; the others are recorded.
func (s *Store) PutReferences(_ context.Context, id string, refs []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, ref := range refs {
		if old, ok := s.refs[ref]; ok && old != id {
			errs = append(errs, fmt.Errorf("memstore: reference %s: %w", ref, order.ErrReferenceTaken))
			continue
		}
		s.refs[ref] = id
	}
	return errors.Join(errs...)
}

// OrderByReference returns the id of the order ref names, or
// order.ErrNotFound.
func (s *Store) OrderByReference(_ context.Context, ref string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id, ok := s.refs[ref]; ok {
		return id, nil
	}
	return "", fmt.Errorf("memstore: reference %s: %w", ref, order.ErrNotFound)
}
