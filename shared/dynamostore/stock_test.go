package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/stock"
)

func TestStockReserveRelease(t *testing.T) {
	db := dynamotest.Client(t)
	s := dynamostore.NewStock(db, dynamotest.Table(t, db))
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	avail := func(sku string) int64 {
		t.Helper()
		n, err := s.Available(ctx, "DE-FRA-1", sku)
		must(err)
		return n
	}
	must(s.Put(ctx, "DE-FRA-1", "TSHIRT", 5))
	must(s.Put(ctx, "DE-FRA-1", "EARBUDS", 1))
	items := []stock.Item{{SKU: "TSHIRT", Quantity: 2}, {SKU: "EARBUDS", Quantity: 1}}

	// Reserving twice (a retried step) takes the goods once.
	for range 2 {
		w, err := s.Reserve(ctx, "order-1", "DE-FRA-1", items)
		if err != nil || w != "DE-FRA-1" {
			t.Fatalf("reserve: %q %v", w, err)
		}
	}
	if avail("TSHIRT") != 3 || avail("EARBUDS") != 0 {
		t.Fatalf("after reserve: %d %d, want 3 0", avail("TSHIRT"), avail("EARBUDS"))
	}
	// Short on one item: nothing is taken.
	if _, err := s.Reserve(ctx, "order-2", "DE-FRA-1", items); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("short reserve: %v, want ErrOutOfStock", err)
	}
	if avail("TSHIRT") != 3 {
		t.Fatalf("a failed reserve took stock: %d", avail("TSHIRT"))
	}
	// An unknown SKU is out of stock.
	if _, err := s.Reserve(ctx, "order-3", "DE-FRA-1", []stock.Item{{SKU: "NOPE", Quantity: 1}}); !errors.Is(err, stock.ErrOutOfStock) {
		t.Fatalf("unknown SKU: %v", err)
	}
	// Releasing twice gives back once; releasing an order without reservation does nothing.
	must(s.Release(ctx, "order-1"))
	must(s.Release(ctx, "order-1"))
	must(s.Release(ctx, "order-never"))
	if avail("TSHIRT") != 5 || avail("EARBUDS") != 1 {
		t.Fatalf("after release: %d %d, want 5 1", avail("TSHIRT"), avail("EARBUDS"))
	}
	// A released order reserving again (a replayed step) does not take stock.
	if _, err := s.Reserve(ctx, "order-1", "DE-FRA-1", items); err != nil || avail("TSHIRT") != 5 {
		t.Fatalf("reserve after release: %v, TSHIRT %d", err, avail("TSHIRT"))
	}

	// Ten orders race for the last unit: exactly one gets it.
	must(s.Put(ctx, "DE-FRA-1", "LAST", 1))
	var won, lost atomic.Int32
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Reserve(ctx, fmt.Sprint("race-", i), "DE-FRA-1", []stock.Item{{SKU: "LAST", Quantity: 1}})
			switch {
			case err == nil:
				won.Add(1)
			case errors.Is(err, stock.ErrOutOfStock):
				lost.Add(1)
			default:
				// A transaction conflict is retryable; count it as lost for this round.
				lost.Add(1)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 || avail("LAST") != 0 {
		t.Fatalf("%d orders got the last unit, %d left", won.Load(), avail("LAST"))
	}
}
