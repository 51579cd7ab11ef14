package memstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/xborder/xborder/shared/stock"
)

// Stock is an in-memory stock keeper with the DynamoDB one's semantics: a
// SKU's stock spread over shards, each line taken by stock.Plan, the shards
// taken from recorded with the reservation and given back on release.
type Stock struct {
	// Sharding says how many shards Put spreads a SKU over; the zero value
	// gives every SKU stock.DefaultShards.
	Sharding stock.Sharding

	mu           sync.Mutex
	shards       map[[2]string][]int64 // warehouse, sku
	reservations map[string]reservation
}

type reservation struct {
	warehouse string
	items     []stock.Item
	takes     []stock.Take
	released  bool
}

// NewStock returns an empty stock keeper.
func NewStock() *Stock {
	return &Stock{shards: map[[2]string][]int64{}, reservations: map[string]reservation{}}
}

// Put sets a SKU's available quantity, spread evenly over its shards: as
// many as Sharding says, or as it had if that is more.
func (s *Stock) Put(_ context.Context, warehouse, sku string, n int64) error {
	if n < 0 {
		return fmt.Errorf("memstore: put stock %s/%s: %d is negative", warehouse, sku, n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := [2]string{warehouse, sku}
	s.shards[k] = stock.Spread(n, max(s.Sharding.For(sku), len(s.shards[k])))
	return nil
}

// Available reads a SKU's available quantity, the sum of its shards.
func (s *Stock) Available(_ context.Context, warehouse, sku string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var sum int64
	for _, n := range s.shards[[2]string{warehouse, sku}] {
		sum += n
	}
	return sum, nil
}

// Shards reads what each of a SKU's shards holds (none when unknown).
func (s *Stock) Shards(_ context.Context, warehouse, sku string) ([]int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int64(nil), s.shards[[2]string{warehouse, sku}]...), nil
}

// Reserve takes items for the order once, all or nothing.
func (s *Stock) Reserve(_ context.Context, orderID, warehouse string, items []stock.Item) (string, error) {
	if err := stock.CheckQuantities(items); err != nil {
		return "", fmt.Errorf("memstore: reserve stock for %s: %w", orderID, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.reservations[orderID]; ok {
		return r.warehouse, nil
	}
	lines := stock.Sum(items)
	available := map[string][]int64{}
	for _, it := range lines {
		available[it.SKU] = s.shards[[2]string{warehouse, it.SKU}]
	}
	takes, short := stock.Plan(orderID, lines, available)
	if short != "" {
		return "", fmt.Errorf("memstore: reserve %s in %s: %w", short, warehouse, stock.ErrOutOfStock)
	}
	for _, tk := range takes {
		s.shards[[2]string{warehouse, tk.SKU}][tk.Shard] -= tk.Quantity
	}
	s.reservations[orderID] = reservation{warehouse: warehouse, items: append([]stock.Item(nil), items...), takes: takes}
	return warehouse, nil
}

// Release gives an order's items back once, to the shards they came from.
func (s *Stock) Release(_ context.Context, orderID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.reservations[orderID]
	if !ok || r.released {
		return nil
	}
	for _, tk := range r.takes {
		s.shards[[2]string{r.warehouse, tk.SKU}][tk.Shard] += tk.Quantity
	}
	r.released = true
	s.reservations[orderID] = r
	return nil
}
