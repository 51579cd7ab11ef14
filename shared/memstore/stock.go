package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/xborder/xborder/shared/stock"
)

// Stock is an in-memory stock keeper with the DynamoDB one's semantics.
type Stock struct {
	mu           sync.Mutex
	available    map[[2]string]int64 // warehouse, sku
	reservations map[string]reservation
}

type reservation struct {
	warehouse string
	items     []stock.Item
	released  bool
}

// NewStock returns an empty stock keeper.
func NewStock() *Stock {
	return &Stock{available: map[[2]string]int64{}, reservations: map[string]reservation{}}
}

// Put sets a SKU's available quantity.
func (s *Stock) Put(_ context.Context, warehouse, sku string, n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.available[[2]string{warehouse, sku}] = n
	return nil
}

// Available reads a SKU's available quantity.
func (s *Stock) Available(_ context.Context, warehouse, sku string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.available[[2]string{warehouse, sku}], nil
}

// Reserve takes items for the order once, all or nothing.
func (s *Stock) Reserve(_ context.Context, orderID, warehouse string, items []stock.Item) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.reservations[orderID]; ok {
		return r.warehouse, nil
	}
	for _, it := range items {
		if s.available[[2]string{warehouse, it.SKU}] < it.Quantity {
			return "", fmt.Errorf("memstore: reserve %s in %s: %w", it.SKU, warehouse, stock.ErrOutOfStock)
		}
	}
	for _, it := range items {
		s.available[[2]string{warehouse, it.SKU}] -= it.Quantity
	}
	s.reservations[orderID] = reservation{warehouse: warehouse, items: append([]stock.Item(nil), items...)}
	return warehouse, nil
}

// Release gives an order's items back once.
func (s *Stock) Release(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[orderID]
	if !ok || r.released {
		return nil
	}
	for _, it := range r.items {
		s.available[[2]string{r.warehouse, it.SKU}] += it.Quantity
	}
	r.released = true
	s.reservations[orderID] = r
	return nil
}
