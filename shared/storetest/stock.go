package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/stock"
)

// Stock is the full method set of a stock stockKeeper: the workflow reserves and
// releases, seeding puts and reads.
type Stock interface {
	// Put sets a SKU's available quantity, spread evenly (stock.Spread)
	// over as many shards as the stockKeeper's sharding says, or as the SKU had
	// if that is more.
	Put(ctx context.Context, warehouse, sku string, available int64) error
	// Available is the sum of a SKU's shards; 0 when unknown.
	Available(ctx context.Context, warehouse, sku string) (int64, error)
	// Shards is what each of a SKU's shards holds; none when unknown.
	Shards(ctx context.Context, warehouse, sku string) ([]int64, error)
	// Reserve takes items for the order once, all or nothing: an order
	// that holds a reservation gets its warehouse back and nothing more is
	// taken; stock.ErrOutOfStock when a SKU's shards together hold less
	// than its quantity; stock.ErrBusy (retry) under persistent contention.
	Reserve(ctx context.Context, orderID, warehouse string, items []stock.Item) (string, error)
	// Release gives an order's items back once, to the shards they came
	// from; without a reservation it does nothing.
	Release(ctx context.Context, orderID string) error
}

// RunStock runs the stock contract; newStock returns an empty stockKeeper whose
// Put spreads each SKU over the shards sharding says.
func RunStock(t *testing.T, newStock func(t *testing.T, sharding stock.Sharding) Stock) {
	t.Run("put spreads stock evenly over the shards", func(t *testing.T) { runStockPut(t, newStock) })
	t.Run("an order reserves once and releases once", func(t *testing.T) { runStockOnce(t, newStock) })
	t.Run("a line no shard holds alone is split over shards", func(t *testing.T) { runStockSplit(t, newStock) })
	t.Run("concurrent orders never oversell", func(t *testing.T) { runStockRace(t, newStock) })
	t.Run("concurrent multi-line orders are all or nothing", func(t *testing.T) { runStockMultiLineRace(t, newStock) })
}

// stockWarehouse is where the stock suite keeps its stock.
const stockWarehouse = "DE-FRA-1"

// stockKeeper wraps a Stock with helpers that fail the test on an error.
type stockKeeper struct {
	t *testing.T
	Stock
}

func (k stockKeeper) put(sku string, n int64) {
	k.t.Helper()
	if err := k.Put(context.Background(), stockWarehouse, sku, n); err != nil {
		k.t.Fatal(err)
	}
}

func (k stockKeeper) available(sku string) int64 {
	k.t.Helper()
	n, err := k.Available(context.Background(), stockWarehouse, sku)
	if err != nil {
		k.t.Fatal(err)
	}
	return n
}

func (k stockKeeper) shards(sku string) []int64 {
	k.t.Helper()
	s, err := k.Shards(context.Background(), stockWarehouse, sku)
	if err != nil {
		k.t.Fatal(err)
	}
	return s
}

func (k stockKeeper) release(orderID string) {
	k.t.Helper()
	if err := k.Release(context.Background(), orderID); err != nil {
		k.t.Fatalf("release %s: %v", orderID, err)
	}
}

// reserveRetrying reserves, retrying what the stockKeeper calls busy as the workflow
// would; it reports whether the order holds a reservation afterwards.
func reserveRetrying(ctx context.Context, s Stock, orderID string, items []stock.Item) (bool, error) {
	for attempt := 0; ; attempt++ {
		_, err := s.Reserve(ctx, orderID, stockWarehouse, items)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, stock.ErrOutOfStock):
			return false, nil
		case errors.Is(err, stock.ErrBusy) && attempt < 20:
			time.Sleep(time.Duration(attempt+1) * time.Millisecond)
			continue
		}
		return false, fmt.Errorf("reserve %s: %w", orderID, err)
	}
}

func runStockPut(t *testing.T, newStock func(*testing.T, stock.Sharding) Stock) {
	k := stockKeeper{t, newStock(t, stock.Sharding{SKUs: map[string]int{"FLASH": 16}})}
	for _, tc := range []struct {
		sku  string
		n    int64
		want []int64
	}{
		{"TSHIRT", 100, []int64{13, 13, 13, 13, 12, 12, 12, 12}},
		{"TSHIRT", 5, []int64{1, 1, 1, 1, 1, 0, 0, 0}}, // a put sets, it does not add
		{"EMPTY", 0, []int64{0, 0, 0, 0, 0, 0, 0, 0}},
		{"FLASH", 1000, []int64{63, 63, 63, 63, 63, 63, 63, 63, 62, 62, 62, 62, 62, 62, 62, 62}},
	} {
		k.put(tc.sku, tc.n)
		if got := k.shards(tc.sku); !slices.Equal(got, tc.want) {
			t.Errorf("put %d of %s: shards %v, want %v", tc.n, tc.sku, got, tc.want)
		}
		if got := k.available(tc.sku); got != tc.n {
			t.Errorf("put %d of %s: available %d", tc.n, tc.sku, got)
		}
	}
	if n, s := k.available("NEVER"), k.shards("NEVER"); n != 0 || len(s) != 0 {
		t.Errorf("a SKU never stocked: available %d, shards %v", n, s)
	}
	if err := k.Put(context.Background(), stockWarehouse, "TSHIRT", -1); err == nil {
		t.Error("a negative quantity was put")
	}
}

func runStockOnce(t *testing.T, newStock func(*testing.T, stock.Sharding) Stock) {
	ctx := context.Background()
	k := stockKeeper{t, newStock(t, stock.Sharding{})}
	k.put("TSHIRT", 5)
	k.put("EARBUDS", 1)
	tshirts := k.shards("TSHIRT")
	items := []stock.Item{{SKU: "TSHIRT", Quantity: 2}, {SKU: "EARBUDS", Quantity: 1}}

	// Reserving twice (a retried step) takes the goods once; so does asking
	// another warehouse, which answers with the one that holds them.
	for _, w := range []string{stockWarehouse, stockWarehouse, "US-LAX-1"} {
		got, err := k.Reserve(ctx, "order-1", w, items)
		if err != nil || got != stockWarehouse {
			t.Fatalf("reserve order-1 in %s: %q %v, want %s", w, got, err, stockWarehouse)
		}
	}
	if k.available("TSHIRT") != 3 || k.available("EARBUDS") != 0 {
		t.Fatalf("after reserve: %d %d, want 3 0", k.available("TSHIRT"), k.available("EARBUDS"))
	}
	// Short on one item: nothing is taken, from any shard.
	before := k.shards("TSHIRT")
	if _, err := k.Reserve(ctx, "order-2", stockWarehouse, items); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("short reserve: %v, want ErrOutOfStock", err)
	}
	if got := k.shards("TSHIRT"); !slices.Equal(got, before) {
		t.Fatalf("a refused order took stock: shards %v, were %v", got, before)
	}
	// An unknown SKU is out of stock; a quantity below one is refused.
	if _, err := k.Reserve(ctx, "order-3", stockWarehouse, []stock.Item{{SKU: "NOPE", Quantity: 1}}); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("unknown SKU: %v", err)
	}
	if _, err := k.Reserve(ctx, "order-4", stockWarehouse, []stock.Item{{SKU: "TSHIRT", Quantity: -3}}); err == nil || errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("a negative quantity: %v, want an error", err)
	}
	// Releasing twice gives back once, to the shards it came from;
	// releasing an order without reservation does nothing.
	k.release("order-1")
	k.release("order-1")
	k.release("order-never")
	if got := k.shards("TSHIRT"); !slices.Equal(got, tshirts) || k.available("EARBUDS") != 1 {
		t.Fatalf("after release: TSHIRT shards %v, want %v; EARBUDS %d, want 1", got, tshirts, k.available("EARBUDS"))
	}
	// A released order reserving again (a replayed step) takes nothing.
	if w, err := k.Reserve(ctx, "order-1", stockWarehouse, items); err != nil || w != stockWarehouse || k.available("TSHIRT") != 5 {
		t.Fatalf("reserve after release: %q %v, TSHIRT %d", w, err, k.available("TSHIRT"))
	}
	// Lines of the same SKU count together.
	twice := []stock.Item{{SKU: "TSHIRT", Quantity: 3}, {SKU: "TSHIRT", Quantity: 3}}
	if _, err := k.Reserve(ctx, "order-5", stockWarehouse, twice); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("two lines of 3 out of 5: %v, want ErrOutOfStock", err)
	}
	twice[1].Quantity = 2
	if _, err := k.Reserve(ctx, "order-6", stockWarehouse, twice); err != nil || k.available("TSHIRT") != 0 {
		t.Fatalf("two lines of 3 and 2 out of 5: %v, %d left", err, k.available("TSHIRT"))
	}
}

func runStockSplit(t *testing.T, newStock func(*testing.T, stock.Sharding) Stock) {
	ctx := context.Background()
	k := stockKeeper{t, newStock(t, stock.Sharding{})}
	k.put("SPLIT", 10) // 2 2 1 1 1 1 1 1
	k.put("OTHER", 3)  // 1 1 1 0 0 0 0 0
	put := k.shards("SPLIT")
	items := []stock.Item{{SKU: "SPLIT", Quantity: 9}, {SKU: "OTHER", Quantity: 3}}
	if _, err := k.Reserve(ctx, "split-1", stockWarehouse, items); err != nil {
		t.Fatalf("9 of 10 spread over 8 shards, and 3 of 3 over 3: %v", err)
	}
	if k.available("SPLIT") != 1 || k.available("OTHER") != 0 {
		t.Fatalf("after a split reserve: %d %d, want 1 0", k.available("SPLIT"), k.available("OTHER"))
	}
	for _, n := range k.shards("SPLIT") {
		if n < 0 {
			t.Fatalf("a shard went negative: %v", k.shards("SPLIT"))
		}
	}
	if _, err := k.Reserve(ctx, "split-2", stockWarehouse, []stock.Item{{SKU: "SPLIT", Quantity: 2}}); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("2 of the 1 left: %v, want ErrOutOfStock", err)
	}
	k.release("split-1")
	if got := k.shards("SPLIT"); !slices.Equal(got, put) || k.available("OTHER") != 3 {
		t.Fatalf("after release: shards %v, want %v; OTHER %d, want 3", got, put, k.available("OTHER"))
	}
	if _, err := k.Reserve(ctx, "split-3", stockWarehouse, []stock.Item{{SKU: "SPLIT", Quantity: 10}}); err != nil || k.available("SPLIT") != 0 {
		t.Fatalf("all 10 over 8 shards: %v, %d left", err, k.available("SPLIT"))
	}
}

// raceStock reserves every order from workers goroutines, each order twice (a
// retried step may run beside the first), while a watcher checks that no
// shard goes below zero. It returns which orders hold a reservation and
// fails when two attempts of one order disagree.
func raceStock(t *testing.T, s Stock, workers int, orders map[string][]stock.Item, skus ...string) map[string]bool {
	t.Helper()
	ctx := context.Background()
	ids := make(chan string)
	go func() {
		defer close(ids)
		for range 2 {
			for id := range orders {
				ids <- id
			}
		}
	}()
	var mu sync.Mutex
	outcome := map[string]bool{}
	var failures []string
	done := make(chan struct{})
	watched := watchShards(t, s, done, skus)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range ids {
				got, err := reserveRetrying(ctx, s, id, orders[id])
				mu.Lock()
				if prev, seen := outcome[id]; err != nil || (seen && prev != got) {
					failures = append(failures, fmt.Sprintf("%s: reserved %v then %v (%v)", id, prev, got, err))
				}
				outcome[id] = got
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(done)
	<-watched
	if len(failures) > 0 {
		t.Fatalf("%d reservations went wrong, e.g. %s", len(failures), failures[0])
	}
	return outcome
}

// watchShards reads the shards of skus until done, failing the test when
// one is below zero; the channel it returns closes when it stops.
func watchShards(t *testing.T, s Stock, done <-chan struct{}, skus []string) <-chan struct{} {
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			for _, sku := range skus {
				shards, err := s.Shards(context.Background(), stockWarehouse, sku)
				if err != nil {
					t.Errorf("watch %s: %v", sku, err)
					return
				}
				for _, n := range shards {
					if n < 0 {
						t.Errorf("%s oversold: shards %v", sku, shards)
						return
					}
				}
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	return stopped
}

// releaseAllStock releases every order twice, from workers goroutines.
func releaseAllStock(t *testing.T, s Stock, workers int, orders map[string][]stock.Item) {
	t.Helper()
	ids := make(chan string)
	go func() {
		defer close(ids)
		for range 2 {
			for id := range orders {
				ids <- id
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for id := range ids {
				if err := s.Release(context.Background(), id); err != nil {
					t.Errorf("release %s: %v", id, err)
				}
			}
		})
	}
	wg.Wait()
}

// runStockRace: 200 orders of 1 to 3 units race from 16 goroutines for the
// 100 units of one SKU. What is reserved plus what is left is what was put;
// nothing goes below zero; an order is refused only when the stock left
// cannot cover it (stock only goes down during the race, so what is left at
// the end is at most what was left when it was refused); 200 orders of one
// unit get exactly 100 units. Releasing every order restores every shard.
func runStockRace(t *testing.T, newStock func(*testing.T, stock.Sharding) Stock) {
	for _, tc := range []struct {
		name string
		qty  func(i int) int64
	}{
		{"one unit each", func(int) int64 { return 1 }},
		{"one to three units", func(i int) int64 { return int64(i%3 + 1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const initial = 100
			k := stockKeeper{t, newStock(t, stock.Sharding{})}
			k.put("HOT", initial)
			put := k.shards("HOT")
			orders := map[string][]stock.Item{}
			var demand int64
			for i := range 200 {
				orders[fmt.Sprintf("hot-%03d", i)] = []stock.Item{{SKU: "HOT", Quantity: tc.qty(i)}}
				demand += tc.qty(i)
			}
			outcome := raceStock(t, k, 16, orders, "HOT")
			var reserved int64
			for id, ok := range outcome {
				if ok {
					reserved += orders[id][0].Quantity
				}
			}
			left := k.available("HOT")
			if reserved+left != initial || left < 0 {
				t.Fatalf("reserved %d + left %d, want %d", reserved, left, initial)
			}
			for id, ok := range outcome {
				if q := orders[id][0].Quantity; !ok && left >= q {
					t.Fatalf("%s was refused %d units while %d are left", id, q, left)
				}
			}
			if tc.name == "one unit each" && reserved != min(demand, initial) {
				t.Fatalf("reserved %d, want min(demand %d, stock %d)", reserved, demand, initial)
			}
			releaseAllStock(t, k, 16, orders)
			if got := k.shards("HOT"); !slices.Equal(got, put) {
				t.Fatalf("after releasing every order: shards %v, want %v as put", got, put)
			}
		})
	}
}

// runStockMultiLineRace: 150 orders of one A and one B race for 100 A and
// 60 B. All or nothing means exactly 60 get both and 40 A are left.
func runStockMultiLineRace(t *testing.T, newStock func(*testing.T, stock.Sharding) Stock) {
	k := stockKeeper{t, newStock(t, stock.Sharding{SKUs: map[string]int{"B": 4}})}
	k.put("A", 100)
	k.put("B", 60)
	putA, putB := k.shards("A"), k.shards("B")
	orders := map[string][]stock.Item{}
	for i := range 150 {
		orders[fmt.Sprintf("pair-%03d", i)] = []stock.Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 1}}
	}
	outcome := raceStock(t, k, 16, orders, "A", "B")
	won := 0
	for _, ok := range outcome {
		if ok {
			won++
		}
	}
	if a, b := k.available("A"), k.available("B"); won != 60 || a != 40 || b != 0 {
		t.Fatalf("%d orders reserved, A %d and B %d left; want 60, 40 and 0", won, a, b)
	}
	releaseAllStock(t, k, 16, orders)
	if a, b := k.shards("A"), k.shards("B"); !slices.Equal(a, putA) || !slices.Equal(b, putB) {
		t.Fatalf("after releasing every order: A %v, B %v; want %v and %v", a, b, putA, putB)
	}
}
