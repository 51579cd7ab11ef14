package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// runConcurrency: racing writers, exactly one of whom wins.
func runConcurrency(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("50 claims of one key: one wins", func(t *testing.T) {
		s := newStore(t)
		var wins, refused atomic.Int32
		var mu sync.Mutex
		winner, holders := "", map[string]int{}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				owner := fmt.Sprint("owner-", i)
				got, err := s.ClaimKey(ctx, claim("customer:a", "hot", owner, base), base)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins.Add(1)
					winner = owner
				case errors.Is(err, idempotency.ErrClaimed):
					refused.Add(1)
					holders[got.Owner]++
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || refused.Load() != 49 {
			t.Fatalf("%d claims won, %d refused; want 1 and 49", wins.Load(), refused.Load())
		}
		if len(holders) != 1 || holders[winner] != 49 {
			t.Fatalf("the refused were shown holders %v, want only the winner %s", holders, winner)
		}
	})

	t.Run("50 creates with one key: one order", func(t *testing.T) {
		s := newStore(t)
		var wins, replays, busy atomic.Int32
		var mu sync.Mutex
		winner, shown := "", map[string]int{}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				o := Order(fmt.Sprintf("01KRACE00000000000000000%02d", i), "a", base)
				got, err := s.CreateOrder(ctx, o, firstEvent(o), Completed("customer:a", "hot", o.ID, base), base)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins.Add(1)
					winner = o.ID
				case errors.Is(err, idempotency.ErrClaimed):
					replays.Add(1)
					shown[got.ResourceID]++
				case errors.Is(err, idempotency.ErrBusy):
					busy.Add(1) // allowed under contention: nothing written, retry later
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || replays.Load()+busy.Load() != 49 {
			t.Fatalf("%d created, %d replayed, %d busy; want exactly one created", wins.Load(), replays.Load(), busy.Load())
		}
		if len(shown) > 1 || (len(shown) == 1 && shown[winner] == 0) {
			t.Fatalf("replays pointed at %v, want only the winner %s", shown, winner)
		}
		if list, _, _ := s.ListByCustomer(ctx, "a", 100, ""); len(list) != 1 || list[0].ID != winner {
			t.Fatalf("%d orders stored, want only %s", len(list), winner)
		}
		t.Logf("%d replayed, %d busy", replays.Load(), busy.Load())
	})

	t.Run("20 transitions from one version: one wins", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KRACE0000000000000000T01", "a", base)
		create(t, s, o)
		var wins, conflicts atomic.Int32
		var mu sync.Mutex
		winner := ""
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				c := *o
				reason := fmt.Sprint("writer-", i)
				ev, _ := c.Transition(order.StatusStockReserved, reason, "workflow", base.Add(time.Second))
				switch err := s.SaveTransition(ctx, &c, ev); {
				case err == nil:
					wins.Add(1)
					mu.Lock()
					winner = reason
					mu.Unlock()
				case errors.Is(err, order.ErrVersionConflict):
					conflicts.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 19 {
			t.Fatalf("%d wins, %d conflicts; want 1 and 19", wins.Load(), conflicts.Load())
		}
		got, _ := s.GetOrder(ctx, o.ID)
		h, _ := s.History(ctx, o.ID)
		if got.Version != 2 || got.Reason != winner || len(h) != 2 || h[1].Reason != winner {
			t.Fatalf("stored %+v with history %+v; want only the winner's (%s) write", got, h, winner)
		}
	})
}
