package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// runCounts: the counts per status (the ops summary) follow transitions,
// include every order of the status, and the "before" count excludes an
// order changed exactly at its bound, as ListByStatus's until does.
func runCounts(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	for _, st := range order.Statuses {
		if n, err := s.CountByStatus(ctx, st); err != nil || n != 0 {
			t.Fatalf("empty store: %d %s, %v", n, st, err)
		}
	}
	if all, err := s.StatusCounts(ctx); err != nil || len(all) != len(order.Statuses) {
		t.Fatalf("empty store: %v, %v; want every status, at 0", all, err)
	}
	// Seven RECEIVED a minute apart; then two of them stall and one of
	// those moves on.
	var orders []*order.Order
	for i := range 7 {
		o := Order(fmt.Sprintf("01KCOUNT000000000000000R%02d", i), "counter", base.Add(time.Duration(i)*time.Minute))
		create(t, s, o)
		orders = append(orders, o)
	}
	later := base.Add(time.Hour)
	for _, o := range orders[:2] {
		ev, err := o.Transition(order.StatusStalled, "TransientError", "workflow", later)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
	}
	ev, _ := orders[0].Transition(order.StatusStockReserved, "", "workflow", later.Add(time.Second))
	if err := s.SaveTransition(ctx, orders[0], ev); err != nil {
		t.Fatal(err)
	}
	want := map[order.Status]int{order.StatusReceived: 5, order.StatusStalled: 1, order.StatusStockReserved: 1}
	all, err := s.StatusCounts(ctx)
	if err != nil || len(all) != len(order.Statuses) {
		t.Fatalf("StatusCounts: %v, %v; want every status", all, err)
	}
	for _, st := range order.Statuses {
		if n, err := s.CountByStatus(ctx, st); err != nil || n != want[st] || all[st] != want[st] {
			t.Errorf("%s: %d orders (%d in StatusCounts), %v; want %d", st, n, all[st], err, want[st])
		}
	}
	// RECEIVED orders are R02..R06, changed at base+2m..base+6m.
	for _, c := range []struct {
		before time.Time
		want   int
	}{
		{base, 0}, {base.Add(2 * time.Minute), 0}, {base.Add(2*time.Minute + time.Nanosecond), 1},
		{base.Add(5 * time.Minute), 3}, {later, 5}, {time.Time{}, 0},
	} {
		if n, err := s.CountByStatusBefore(ctx, order.StatusReceived, c.before); err != nil || n != c.want {
			t.Errorf("RECEIVED before %v: %d, %v; want %d", c.before, n, err, c.want)
		}
	}
	if n, err := s.CountByStatusBefore(ctx, order.StatusStalled, later); err != nil || n != 0 {
		t.Errorf("STALLED before the stall: %d, %v; want 0", n, err)
	}
	if n, err := s.CountByStatusBefore(ctx, order.StatusStalled, later.Add(time.Nanosecond)); err != nil || n != 1 {
		t.Errorf("STALLED just after the stall: %d, %v; want 1", n, err)
	}
}
