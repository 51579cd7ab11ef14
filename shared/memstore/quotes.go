package memstore

import (
	"context"
	"fmt"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/quotes"
)

// LookupKey returns the record of an idempotency key, if it has one that
// has not expired at now.
func (s *Store) LookupKey(_ context.Context, scope, key string, now time.Time) (idempotency.Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.keys[scopedKey{scope, key}]
	if !ok || !now.Before(rec.ExpiresAt) {
		return idempotency.Record{}, false, nil
	}
	return cloneRecord(rec), true, nil
}

// PutQuote stores a new quote; an id already stored is quotes.ErrExists.
// Nothing expires: the store is for tests.
func (s *Store) PutQuote(_ context.Context, q quotes.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.quotes[q.ID]; ok {
		return fmt.Errorf("memstore: put quote %s: %w", q.ID, quotes.ErrExists)
	}
	q.Quote = cloneBytes(q.Quote)
	s.quotes[q.ID] = q
	return nil
}

// GetQuote returns a copy of one quote; quotes.ErrNotFound if there is none.
func (s *Store) GetQuote(_ context.Context, id string) (*quotes.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.quotes[id]
	if !ok {
		return nil, fmt.Errorf("memstore: get quote %s: %w", id, quotes.ErrNotFound)
	}
	q.Quote = cloneBytes(q.Quote)
	return &q, nil
}
