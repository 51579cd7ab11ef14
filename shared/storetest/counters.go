package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// runCounters: the counts per status follow every intake and status
// change exactly, however many run at once, and nothing a store refuses
// counts.
func runCounters(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("concurrent intake and changes: exact counts", func(t *testing.T) {
		s := newStore(t)
		const n = 32
		orders := make([]*order.Order, n)
		var wg sync.WaitGroup
		for i := range n {
			orders[i] = Order(fmt.Sprintf("01KCOUNTER00000000000000%02d", i), fmt.Sprint("counted-", i%5), base)
			wg.Go(func() {
				o := orders[i]
				done := Completed("customer:"+o.CustomerID, "create-"+o.ID, o.ID, base)
				for attempt := 0; ; attempt++ {
					_, err := s.CreateOrder(ctx, o, firstEvent(o), done, base)
					if errors.Is(err, idempotency.ErrBusy) && attempt < 20 {
						continue // contention: retry, as intake's client does
					}
					if err != nil {
						t.Errorf("create %s: %v", o.ID, err)
					}
					return
				}
			})
		}
		wg.Wait()
		want := map[order.Status]int{order.StatusReceived: n}
		checkCounts(t, s, "after intake", want)

		// Every order moves on twice; two writers race on each of the first
		// eight (one wins each move), and every order takes a note too.
		final := func(i int) order.Status {
			if i%3 == 0 {
				return order.StatusPaymentDeclined
			}
			return order.StatusPaymentAuthorized
		}
		for i := range n {
			writers := 1
			if i < 8 {
				writers = 2
			}
			for range writers {
				wg.Go(func() {
					id := orders[i].ID
					moveTo(t, s, id, order.StatusStockReserved)
					note(t, s, id)
					moveTo(t, s, id, final(i))
				})
			}
		}
		wg.Wait()
		want = map[order.Status]int{}
		for i := range n {
			want[final(i)]++
		}
		checkCounts(t, s, "after the changes", want)
	})

	t.Run("refused writes count nothing", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCOUNTER0000000000000R01", "r", base)
		create(t, s, o)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), Completed("customer:r", "again", o.ID, base), base); !errors.Is(err, order.ErrExists) {
			t.Fatalf("the same order again: %v, want ErrExists", err)
		}
		stale := *o
		ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
		staleEv, _ := stale.Transition(order.StatusRejected, "out_of_stock", "workflow", base.Add(2*time.Second))
		if err := s.SaveTransition(ctx, &stale, staleEv); !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("stale write: %v, want ErrVersionConflict", err)
		}
		// An event that leaves a status the order is not in is refused too:
		// the counts would move from the wrong one.
		wrong := *o
		wrongEv, _ := wrong.Transition(order.StatusPaymentAuthorized, "", "workflow", base.Add(3*time.Second))
		wrongEv.From = order.StatusReceived
		if err := s.SaveTransition(ctx, &wrong, wrongEv); !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("an event from a status the order is not in: %v, want ErrVersionConflict", err)
		}
		ghost := Order("01KCOUNTER0000000000000R02", "r", base)
		ghostEv, _ := ghost.Transition(order.StatusStockReserved, "", "workflow", base)
		if err := s.SaveTransition(ctx, ghost, ghostEv); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("a missing order: %v, want ErrNotFound", err)
		}
		checkCounts(t, s, "after refused writes", map[order.Status]int{order.StatusStockReserved: 1})
	})
}

// moveTo moves order id to status to as the workflow does: read, move,
// save, again on a version conflict; a writer that finds the order there
// (or past it) already stops.
func moveTo(t *testing.T, s Store, id string, to order.Status) {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		o, err := s.GetOrder(context.Background(), id)
		if err != nil {
			t.Errorf("read %s: %v", id, err)
			return
		}
		ev, err := o.Transition(to, "", "workflow", o.UpdatedAt.Add(time.Millisecond))
		if errors.Is(err, order.ErrTransition) {
			return // another writer moved it
		}
		if err = s.SaveTransition(context.Background(), o, ev); !errors.Is(err, order.ErrVersionConflict) {
			if err != nil {
				t.Errorf("move %s to %s: %v", id, to, err)
			}
			return
		}
	}
	t.Errorf("move %s to %s: still conflicting", id, to)
}

// note records a change that is not a status change, as moveTo does.
func note(t *testing.T, s Store, id string) {
	t.Helper()
	for attempt := 0; attempt < 50; attempt++ {
		o, err := s.GetOrder(context.Background(), id)
		if err != nil {
			t.Errorf("read %s: %v", id, err)
			return
		}
		if err = s.SaveTransition(context.Background(), o, o.Note("noted", "workflow", o.UpdatedAt.Add(time.Millisecond))); !errors.Is(err, order.ErrVersionConflict) {
			if err != nil {
				t.Errorf("note on %s: %v", id, err)
			}
			return
		}
	}
	t.Errorf("note on %s: still conflicting", id)
}

// checkCounts fails unless every status counts what want says (0 if absent),
// through StatusCounts and CountByStatus alike.
func checkCounts(t *testing.T, s Store, when string, want map[order.Status]int) {
	t.Helper()
	all, err := s.StatusCounts(context.Background())
	if err != nil {
		t.Fatalf("%s: %v", when, err)
	}
	for _, st := range order.Statuses {
		n, err := s.CountByStatus(context.Background(), st)
		if err != nil || n != want[st] || all[st] != want[st] {
			t.Errorf("%s: %s counts %d (StatusCounts %d), %v; want %d", when, st, n, all[st], err, want[st])
		}
	}
}
