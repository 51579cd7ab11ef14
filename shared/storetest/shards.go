package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// runShardedLists: a store may write one list across several partitions
// (the DynamoDB store shards each status, and each partner's orders, by the
// order id's hash) and merge them when it reads; the lists are still one
// list, in one order, paged without a gap or a repeat at any page size.
func runShardedLists(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	// newest is the order a list is read in: the later time first, then the
	// larger id (a sort key "<time>#<id>", descending).
	newest := func(at func(*order.Order) time.Time, orders []*order.Order) []string {
		sorted := slices.Clone(orders)
		slices.SortFunc(sorted, func(a, b *order.Order) int {
			if c := at(b).Compare(at(a)); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		ids := make([]string, len(sorted))
		for i, o := range sorted {
			ids[i] = o.ID
		}
		return ids
	}
	updated := func(o *order.Order) time.Time { return o.UpdatedAt }
	created := func(o *order.Order) time.Time { return o.CreatedAt }
	// Page sizes below, at and above the shard counts, and one page; page
	// size 1 only on the short list (each page reads every shard).
	sizes := []int{2, 5, 16, 17, 33, 100}

	t.Run("a status of many orders: one list at every page size", func(t *testing.T) {
		s := newStore(t)
		var orders []*order.Order
		for i := range 60 {
			// Runs of five orders changed at the same instant: the ties
			// fall in different shards and go by id.
			o := Order(fmt.Sprintf("01KSHARD%018d", i*7919%1000003), fmt.Sprint("shopper-", i), base.Add(time.Duration(i/5)*time.Second))
			create(t, s, o)
			orders = append(orders, o)
		}
		// A third move on, at a later time, and out of the RECEIVED list.
		var received, reserved []*order.Order
		for i, o := range orders {
			if i%3 != 0 {
				received = append(received, o)
				continue
			}
			ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Hour+time.Duration(i)*time.Millisecond))
			if err := s.SaveTransition(ctx, o, ev); err != nil {
				t.Fatal(err)
			}
			reserved = append(reserved, o)
		}
		for _, c := range []struct {
			status order.Status
			want   []string
		}{{order.StatusReceived, newest(updated, received)}, {order.StatusStockReserved, newest(updated, reserved)}} {
			for _, size := range sizes {
				if c.status == order.StatusStockReserved && size == 2 {
					size = 1
				}
				got, pages := readAll(t, func(limit int, cursor string) ([]order.Order, string, error) {
					return s.ListByStatus(ctx, c.status, beginning, end, limit, cursor)
				}, size)
				if !slices.Equal(got, c.want) || pages != (len(c.want)+size-1)/size {
					t.Fatalf("%s in pages of %d: %d pages\n got  %v\n want %v", c.status, size, pages, got, c.want)
				}
			}
		}
		// A window: the RECEIVED orders changed in [base+3s, base+11s).
		var inWindow []*order.Order
		for _, o := range received {
			if !o.UpdatedAt.Before(base.Add(3*time.Second)) && o.UpdatedAt.Before(base.Add(11*time.Second)) {
				inWindow = append(inWindow, o)
			}
		}
		for _, size := range []int{1, 4, 16, 100} {
			got, _ := readAll(t, func(limit int, cursor string) ([]order.Order, string, error) {
				return s.ListByStatus(ctx, order.StatusReceived, base.Add(3*time.Second), base.Add(11*time.Second), limit, cursor)
			}, size)
			if want := newest(updated, inWindow); !slices.Equal(got, want) {
				t.Fatalf("the window in pages of %d:\n got  %v\n want %v", size, got, want)
			}
		}
		n, err := s.CountByStatusBefore(ctx, order.StatusReceived, base.Add(11*time.Second))
		if want := len(received) - countAfter(received, base.Add(11*time.Second)); err != nil || n != want {
			t.Fatalf("RECEIVED before base+11s: %d, %v; want %d", n, err, want)
		}
	})

	t.Run("a cursor holds while orders arrive and leave", func(t *testing.T) {
		s := newStore(t)
		var orders []*order.Order
		for i := range 40 {
			o := Order(fmt.Sprintf("01KSHARDCUR%015d", i), "c", base.Add(time.Duration(i)*time.Second))
			create(t, s, o)
			orders = append(orders, o)
		}
		page, cursor, err := s.ListByStatus(ctx, order.StatusReceived, beginning, end, 10, "")
		if err != nil || len(page) != 10 || page[0].ID != orders[39].ID || cursor == "" {
			t.Fatalf("first page: %d orders, %q, %v", len(page), cursor, err)
		}
		// Newer orders arrive (before the cursor: not on later pages); one
		// of the next page's orders leaves.
		for i := range 5 {
			create(t, s, Order(fmt.Sprintf("01KSHARDNEW%015d", i), "c", base.Add(time.Hour)))
		}
		gone := orders[25]
		ev, _ := gone.Transition(order.StatusCancelled, "cancelled_by_customer", "customer:c", base.Add(2*time.Hour))
		if err := s.SaveTransition(ctx, gone, ev); err != nil {
			t.Fatal(err)
		}
		rest, _ := readAll(t, func(limit int, c string) ([]order.Order, string, error) {
			if c == "" {
				c = cursor
			}
			return s.ListByStatus(ctx, order.StatusReceived, beginning, end, limit, c)
		}, 7)
		var want []string
		for i := 29; i >= 0; i-- {
			if i != 25 {
				want = append(want, orders[i].ID)
			}
		}
		if !slices.Equal(rest, want) {
			t.Fatalf("after the cursor:\n got  %v\n want %v", rest, want)
		}
	})

	t.Run("a partner's orders: one list, isolated", func(t *testing.T) {
		s := newStore(t)
		var acme []*order.Order
		for i := range 40 {
			o := Order(fmt.Sprintf("01KPARTNER%016d", i*104729%999983), "partner:acme", base.Add(time.Duration(i/4)*time.Minute))
			o.PartnerID = "acme"
			create(t, s, o)
			acme = append(acme, o)
		}
		// Neighbours whose ids could spell one of acme's shard keys.
		for _, c := range []string{"partner:acme#03", "partner:acm", "partner:acme#", "acme", "partner:other"} {
			o := Order("01KPARTNERX"+strings.NewReplacer(":", "", "#", "H").Replace(c), c, base.Add(time.Minute))
			create(t, s, o)
		}
		want := newest(created, acme)
		for _, size := range []int{3, 16, 17, 100} {
			got, pages := readAll(t, func(limit int, cursor string) ([]order.Order, string, error) {
				return s.ListByCustomer(ctx, "partner:acme", limit, cursor)
			}, size)
			if !slices.Equal(got, want) || pages != (len(want)+size-1)/size {
				t.Fatalf("pages of %d: %d pages\n got  %v\n want %v", size, pages, got, want)
			}
		}
		page, _, err := s.ListByCustomer(ctx, "partner:acme", 100, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			stored, _ := s.GetOrder(ctx, o.ID)
			if !reflect.DeepEqual(&o, stored) {
				t.Fatalf("a partner's listed order differs from the stored one:\n got  %+v\n want %+v", o, stored)
			}
		}
		for _, c := range []string{"partner:acme#03", "partner:acm", "partner:acme#", "acme", "partner:other"} {
			if got, _, err := s.ListByCustomer(ctx, c, 100, ""); err != nil || len(got) != 1 || got[0].CustomerID != c {
				t.Fatalf("%s's list: %d orders, %v; want its own one", c, len(got), err)
			}
		}
		_, cursor, _ := s.ListByCustomer(ctx, "partner:acme", 5, "")
		if _, _, err := s.ListByCustomer(ctx, "partner:other", 5, cursor); !errors.Is(err, order.ErrInvalidCursor) {
			t.Fatalf("acme's cursor on another partner's list: %v, want ErrInvalidCursor", err)
		}
	})

	t.Run("a status list shows what the ops lists read", func(t *testing.T) {
		s := newStore(t)
		o := fullOrder("01KSHARDFULL0000000000001", "partner:demo-marketplace", base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), Completed("partner:demo-marketplace", "full", o.ID, base), base); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.ListByStatus(ctx, o.Status, beginning, end, 10, "")
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], Listed(*o)) {
			t.Fatalf("listed %+v, %v\nwant %+v", got, err, Listed(*o))
		}
		if got[0].Lines != nil || got[0].Customs != nil || got[0].Buyer.Name != "" || got[0].TaskToken != "" {
			t.Fatalf("a status list shows more than its fields: %+v", got[0])
		}
	})
}

// Bounds of a window that holds every order.
var (
	beginning = time.Unix(0, 0).UTC()
	end       = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
)

// countAfter counts the orders changed at or after t.
func countAfter(orders []*order.Order, t time.Time) int {
	n := 0
	for _, o := range orders {
		if !o.UpdatedAt.Before(t) {
			n++
		}
	}
	return n
}
