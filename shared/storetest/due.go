package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// runDue: the waits of orders on a long step carry a due time; a store
// gives exactly the waits due at a time, the most overdue first, whatever
// else waits, and keeps each wait's due time apart from the order's writes.
func runDue(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	now := base.Add(time.Hour)

	// due lists what EachDue gives at, as "id@offset from now".
	due := func(t *testing.T, s Store, at time.Time) []string {
		t.Helper()
		var got []string
		if err := s.EachDue(ctx, at, func(id string, when time.Time) {
			got = append(got, fmt.Sprintf("%s@%v", id, when.Sub(now)))
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	set := func(t *testing.T, s Store, id string, at time.Time) {
		t.Helper()
		if err := s.SetDue(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("only the waits due, the most overdue first", func(t *testing.T) {
		s := newStore(t)
		if got := due(t, s, now); len(got) != 0 {
			t.Fatalf("nothing waits: %v", got)
		}
		var want []string
		for i := range 40 {
			id := fmt.Sprintf("01KDUE%020d", i*7919%100003)
			// Every fourth is due in the future; the others overdue by up to
			// ten minutes, in runs that share their due time (ties by id).
			at := now.Add(-time.Duration(10-i/4) * time.Minute)
			if i%4 == 3 {
				at = now.Add(time.Duration(i) * time.Second)
			}
			set(t, s, id, at)
			if i%4 != 3 {
				want = append(want, fmt.Sprintf("%s@%v", id, at.Sub(now)))
			}
		}
		set(t, s, "01KDUEEXACTLYNOW0000000000", now)                      // due at now is due
		set(t, s, "01KDUEONENANOLATER00000000", now.Add(time.Nanosecond)) // not yet
		want = append(want, "01KDUEEXACTLYNOW0000000000@0s")
		slices.SortStableFunc(want, func(a, b string) int {
			da, _ := time.ParseDuration(a[strings.Index(a, "@")+1:])
			db, _ := time.ParseDuration(b[strings.Index(b, "@")+1:])
			if da != db {
				return int(da - db)
			}
			return strings.Compare(a, b)
		})
		if got := due(t, s, now); !slices.Equal(got, want) {
			t.Fatalf("due at now:\n got  %v\n want %v", got, want)
		}
		if got := due(t, s, now.Add(-time.Hour)); len(got) != 0 {
			t.Fatalf("due an hour ago: %v, want none", got)
		}
	})

	t.Run("set again moves a wait; clear ends it", func(t *testing.T) {
		s := newStore(t)
		set(t, s, "01KDUEA", now.Add(-time.Minute))
		set(t, s, "01KDUEB", now.Add(-2*time.Minute))
		set(t, s, "01KDUEC", now.Add(time.Minute))
		set(t, s, "01KDUEA", now.Add(5*time.Minute)) // woken: next due later
		set(t, s, "01KDUEC", now.Add(-3*time.Minute+123))
		if got, want := due(t, s, now), []string{"01KDUEC@-2m59.999999877s", "01KDUEB@-2m0s"}; !slices.Equal(got, want) {
			t.Fatalf("after moving: %v, want %v", got, want)
		}
		if err := s.ClearDue(ctx, "01KDUEB"); err != nil {
			t.Fatal(err)
		}
		if err := s.ClearDue(ctx, "01KNOWAIT"); err != nil {
			t.Fatalf("clearing what does not wait: %v", err)
		}
		// Clearing at a time the wait no longer has keeps it.
		if err := s.ClearDueAt(ctx, "01KDUEC", now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, want := due(t, s, now), []string{"01KDUEC@-2m59.999999877s"}; !slices.Equal(got, want) {
			t.Fatalf("after clearing: %v, want %v", got, want)
		}
		if err := s.ClearDueAt(ctx, "01KDUEC", now.Add(-3*time.Minute+123)); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, now.Add(time.Hour)); !slices.Equal(got, []string{"01KDUEA@5m0s"}) {
			t.Fatalf("an hour on: %v, want only A", got)
		}
	})

	t.Run("a wait survives its order's writes", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KDUEORDER000000000000001", "w", base)
		create(t, s, o)
		set(t, s, o.ID, now.Add(-time.Second))
		ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTransition(ctx, o, o.Note("task_token_stored", "workflow", base.Add(2*time.Second))); err != nil {
			t.Fatal(err)
		}
		if got := due(t, s, now); !slices.Equal(got, []string{o.ID + "@-1s"}) {
			t.Fatalf("after the order's writes: %v", got)
		}
		if got, _ := s.GetOrder(ctx, o.ID); got.Version != 3 || got.Status != order.StatusStockReserved {
			t.Fatalf("the due time changed the order: %+v", got)
		}
		if h, _ := s.History(ctx, o.ID); len(h) != 3 {
			t.Fatalf("the due time wrote history: %+v", h)
		}
	})

	t.Run("many due: each once, in order, while f clears them", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for i := range 250 {
			id := fmt.Sprintf("01KDUEMANY%016d", i)
			at := now.Add(-time.Duration(250-i) * time.Second)
			set(t, s, id, at)
			want = append(want, fmt.Sprintf("%s@%v", id, at.Sub(now)))
		}
		var got []string
		if err := s.EachDue(ctx, now, func(id string, at time.Time) {
			got = append(got, fmt.Sprintf("%s@%v", id, at.Sub(now)))
			if err := s.ClearDueAt(ctx, id, at); err != nil {
				t.Error(err)
			}
		}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%d given, want %d:\n got  %v\n want %v", len(got), len(want), got, want)
		}
		if again := due(t, s, now); len(again) != 0 {
			t.Fatalf("cleared waits still due: %v", again)
		}
	})
}
