package memstore

import (
	"context"
	"sort"
	"time"
)

// SetDue records that the step order id waits in is next due at at,
// replacing the due time it had.
func (s *Store) SetDue(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.due[id] = at.UTC()
	return nil
}

// ClearDue removes order id's due time, if it has one.
func (s *Store) ClearDue(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.due, id)
	return nil
}

// ClearDueAt removes order id's due time if it is still at.
func (s *Store) ClearDueAt(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.due[id]; ok && old.Equal(at) {
		delete(s.due, id)
	}
	return nil
}

// EachDue calls f with each order whose wait is due at or before now and
// its due time, the most overdue first (ties by id). f may set or clear due
// times: it is called on a copy.
func (s *Store) EachDue(_ context.Context, now time.Time, f func(id string, at time.Time)) error {
	type wait struct {
		id string
		at time.Time
	}
	var due []wait
	s.mu.Lock()
	for id, at := range s.due {
		if !at.After(now) {
			due = append(due, wait{id, at})
		}
	}
	s.mu.Unlock()
	sort.Slice(due, func(i, j int) bool {
		if !due[i].at.Equal(due[j].at) {
			return due[i].at.Before(due[j].at)
		}
		return due[i].id < due[j].id
	})
	for _, w := range due {
		f(w.id, w.at)
	}
	return nil
}
