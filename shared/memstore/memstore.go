// Package memstore is an in-memory order store with the same semantics as
// the DynamoDB one (the contract suite in storetest runs against both), for
// fast unit tests. Not for production: nothing survives the process.
package memstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// Store keeps orders, history and idempotency records in memory.
type Store struct {
	mu      sync.Mutex
	orders  map[string]order.Order
	history map[string][]order.Event
	keys    map[[2]string]idempotency.Record
}

// New returns an empty store.
func New() *Store {
	return &Store{orders: map[string]order.Order{}, history: map[string][]order.Event{}, keys: map[[2]string]idempotency.Record{}}
}

func clone(o order.Order) order.Order {
	o.Lines = append([]order.Line(nil), o.Lines...)
	if o.Shipping != nil {
		s := *o.Shipping
		o.Shipping = &s
	}
	if o.Charge != nil {
		c := *o.Charge
		o.Charge = &c
	}
	return o
}

// keyFree reports whether a key may be taken at now.
func keyFree(old idempotency.Record, ok bool, now time.Time) bool {
	return !ok || !now.Before(old.ExpiresAt) || (old.State == idempotency.StateInFlight && !now.Before(old.LeaseUntil))
}

// ClaimKey claims an idempotency key (see storetest for the contract).
func (s *Store) ClaimKey(_ context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{rec.Scope, rec.Key}
	if old, ok := s.keys[k]; !keyFree(old, ok, now) {
		old.Body = append([]byte(nil), old.Body...)
		return old, idempotency.ErrClaimed
	}
	rec.Body = nil
	s.keys[k] = rec
	return rec, nil
}

// ReleaseKey drops an in-flight claim held by owner.
func (s *Store) ReleaseKey(_ context.Context, scope, key, owner string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{scope, key}
	if old, ok := s.keys[k]; ok && old.State == idempotency.StateInFlight && old.Owner == owner {
		delete(s.keys, k)
	}
	return nil
}

// CreateOrder writes the order, its first event and the completed key, all
// or nothing, if the key is free.
func (s *Store) CreateOrder(_ context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{done.Scope, done.Key}
	if old, ok := s.keys[k]; !keyFree(old, ok, now) {
		old.Body = append([]byte(nil), old.Body...)
		return old, fmt.Errorf("memstore: create order %s: %w", o.ID, idempotency.ErrClaimed)
	}
	if _, ok := s.orders[o.ID]; ok {
		return idempotency.Record{}, fmt.Errorf("memstore: create order %s: %w", o.ID, order.ErrExists)
	}
	done.State = idempotency.StateCompleted
	done.Body = append([]byte(nil), done.Body...)
	s.keys[k] = done
	s.orders[o.ID] = clone(*o)
	s.history[o.ID] = []order.Event{first}
	return done, nil
}

// GetOrder returns one order.
func (s *Store) GetOrder(_ context.Context, id string) (*order.Order, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return nil, fmt.Errorf("memstore: order %s: %w", id, order.ErrNotFound)
	}
	c := clone(o)
	return &c, nil
}

// History returns an order's events, oldest first.
func (s *Store) History(_ context.Context, id string) ([]order.Event, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]order.Event(nil), s.history[id]...), nil
}

// SaveTransition stores o and ev if the stored version is o.Version-1.
func (s *Store) SaveTransition(_ context.Context, o *order.Order, ev order.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.orders[o.ID]
	if !ok {
		return fmt.Errorf("memstore: save %s: %w", o.ID, order.ErrNotFound)
	}
	if old.Version != o.Version-1 {
		return fmt.Errorf("memstore: save %s at version %d: %w", o.ID, o.Version, order.ErrVersionConflict)
	}
	s.orders[o.ID] = clone(*o)
	s.history[o.ID] = append(s.history[o.ID], ev)
	return nil
}

type cursor struct {
	Scope string `json:"s"`
	After string `json:"a"`
}

// page sorts matching orders newest first and cuts one page after the cursor.
func (s *Store) page(scope string, match func(order.Order) bool, sortKey func(order.Order) string, limit int, cur string) ([]order.Order, string, error) {
	after := ""
	if cur != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cur)
		var c cursor
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Scope != scope || c.After == "" {
			return nil, "", order.ErrInvalidCursor
		}
		after = c.After
	}
	s.mu.Lock()
	var all []order.Order
	for _, o := range s.orders {
		if match(o) {
			all = append(all, clone(o))
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return sortKey(all[i]) > sortKey(all[j]) })
	start := 0
	if after != "" {
		start = sort.Search(len(all), func(i int) bool { return sortKey(all[i]) < after })
	}
	all = all[start:]
	if len(all) <= limit {
		return all, "", nil
	}
	all = all[:limit]
	raw, _ := json.Marshal(cursor{Scope: scope, After: sortKey(all[limit-1])})
	return all, base64.RawURLEncoding.EncodeToString(raw), nil
}

// ListByCustomer returns a customer's orders, newest first.
func (s *Store) ListByCustomer(_ context.Context, customerID string, limit int, cur string) ([]order.Order, string, error) {
	return s.page("customer:"+customerID, func(o order.Order) bool { return o.CustomerID == customerID },
		func(o order.Order) string { return o.CreatedAt.UTC().Format(sortable) + "#" + o.ID }, limit, cur)
}

// ListByStatus returns orders with status whose last change is in [since, until), newest first.
func (s *Store) ListByStatus(_ context.Context, status order.Status, since, until time.Time, limit int, cur string) ([]order.Order, string, error) {
	return s.page("status:"+string(status), func(o order.Order) bool {
		return o.Status == status && !o.UpdatedAt.Before(since) && o.UpdatedAt.Before(until)
	}, func(o order.Order) string { return o.UpdatedAt.UTC().Format(sortable) + "#" + o.ID }, limit, cur)
}

// sortable is a fixed-width UTC time layout that sorts as text.
const sortable = "2006-01-02T15:04:05.000000000Z"
