package storetest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// lister reads one page of some list.
type lister func(limit int, cursor string) ([]order.Order, string, error)

// readAll pages through a list with pages of size, checking each page's
// size, and returns the ids in order and the number of pages.
func readAll(t *testing.T, list lister, size int) ([]string, int) {
	t.Helper()
	var ids []string
	cursor, pages := "", 0
	for {
		page, next, err := list(size, cursor)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(page) > size || (next != "" && len(page) != size) {
			t.Fatalf("page %d holds %d orders (limit %d, next %q)", pages, len(page), size, next)
		}
		for _, o := range page {
			ids = append(ids, o.ID)
		}
		if next == "" {
			return ids, pages
		}
		if pages > 1000 {
			t.Fatal("paging does not end")
		}
		cursor = next
	}
}

// Listed is what a status list shows of an order: the fields the ops lists
// read (ID, Status, Reason, TradeMode, Channel, PartnerID, the destination,
// Total, CreatedAt, StatusSince) and no other — what the DynamoDB store's
// status index projects. A customer's list shows whole orders.
func Listed(o order.Order) order.Order {
	l := order.Order{ID: o.ID, Status: o.Status, Reason: o.Reason, CreatedAt: o.CreatedAt, StatusSince: o.Since(), PartnerID: o.PartnerID}
	l.TradeMode, l.Channel, l.Total = o.TradeMode, o.Channel, o.Total
	l.Consignee.Address.Country = o.Destination()
	return l
}

// runLists: both lists page newest first and refuse foreign cursors.
func runLists(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("customer list: newest first, paged, isolated", func(t *testing.T) {
		s := newStore(t)
		// Eight orders, the last three created at the same instant (ties go
		// by id, so a page boundary can fall between them).
		var want []string
		for i := range 8 {
			at := base.Add(time.Duration(min(i, 5)) * time.Minute)
			o := Order(fmt.Sprintf("01KLIST0000000000000000C%02d", i), "carol", at)
			create(t, s, o)
			want = append([]string{o.ID}, want...)
		}
		create(t, s, Order("01KLIST0000000000000000D01", "dave", base.Add(time.Hour)))
		carol := func(limit int, cursor string) ([]order.Order, string, error) {
			return s.ListByCustomer(ctx, "carol", limit, cursor)
		}
		for _, size := range []int{1, 2, 3, 7, 8, 9, 100} {
			got, pages := readAll(t, carol, size)
			if fmt.Sprint(got) != fmt.Sprint(want) || pages != (len(want)+size-1)/size {
				t.Fatalf("pages of %d: %d pages %v\nwant %d pages %v", size, pages, got, (len(want)+size-1)/size, want)
			}
		}
		page, _, err := s.ListByCustomer(ctx, "carol", 8, "")
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page {
			stored, _ := s.GetOrder(ctx, o.ID)
			if o.CustomerID != "carol" || !reflect.DeepEqual(&o, stored) {
				t.Fatalf("listed order %s differs from the stored one", o.ID)
			}
		}
		if dave, next, err := s.ListByCustomer(ctx, "dave", 10, ""); err != nil || len(dave) != 1 || next != "" {
			t.Fatalf("dave's list: %d orders, next %q, %v", len(dave), next, err)
		}
		if page, next, err := s.ListByCustomer(ctx, "nobody", 10, ""); err != nil || len(page) != 0 || next != "" {
			t.Fatalf("empty list: %v %q %v", page, next, err)
		}
	})

	t.Run("customer list: foreign and malformed cursors", func(t *testing.T) {
		s := newStore(t)
		for i := range 3 {
			create(t, s, Order(fmt.Sprintf("01KLIST0000000000000000E%02d", i), "erin", base.Add(time.Duration(i)*time.Second)))
			create(t, s, Order(fmt.Sprintf("01KLIST0000000000000000F%02d", i), "frank", base.Add(time.Duration(i)*time.Second)))
		}
		_, erinCursor, err := s.ListByCustomer(ctx, "erin", 1, "")
		if err != nil || erinCursor == "" {
			t.Fatalf("erin's first page: %q %v", erinCursor, err)
		}
		_, statusCursor, _ := s.ListByStatus(ctx, order.StatusReceived, base, base.Add(time.Hour), 1, "")
		bad := map[string]string{
			"another customer's cursor": erinCursor,
			"a status list's cursor":    statusCursor,
			"not base64":                "garbage!",
			"base64 of nothing useful":  "eyJ9",
			"empty JSON object":         base64.RawURLEncoding.EncodeToString([]byte(`{}`)),
			"a JSON array":              base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`)),
			"a truncated cursor":        erinCursor[:len(erinCursor)/2],
			"a very long cursor":        strings.Repeat("A", 64<<10),
			"an edited cursor":          erinCursor[:len(erinCursor)-2] + "zz",
		}
		for name, cursor := range bad {
			page, next, err := s.ListByCustomer(ctx, "frank", 1, cursor)
			if !errors.Is(err, order.ErrInvalidCursor) || len(page) != 0 || next != "" {
				t.Errorf("%s: %d orders, next %q, %v; want ErrInvalidCursor and nothing else", name, len(page), next, err)
			}
		}
		// Erin's cursor still works for erin.
		if page, _, err := s.ListByCustomer(ctx, "erin", 5, erinCursor); err != nil || len(page) != 2 || page[0].CustomerID != "erin" {
			t.Fatalf("erin's second page: %d orders, %v", len(page), err)
		}
	})

	t.Run("limits are brought into 1..100", func(t *testing.T) {
		s := newStore(t)
		for i := range 101 {
			create(t, s, Order(fmt.Sprintf("01KLIST000000000000000L%03d", i), "gina", base.Add(time.Duration(i)*time.Millisecond)))
		}
		for _, limit := range []int{0, -5} {
			page, next, err := s.ListByCustomer(ctx, "gina", limit, "")
			if err != nil || len(page) != 1 || next == "" || page[0].ID != "01KLIST000000000000000L100" {
				t.Fatalf("limit %d: %d orders, next %q, %v; want the newest one and a cursor", limit, len(page), next, err)
			}
		}
		page, next, err := s.ListByCustomer(ctx, "gina", 1000, "")
		if err != nil || len(page) != 100 || next == "" {
			t.Fatalf("limit 1000: %d orders, next %q, %v; want 100 and a cursor", len(page), next, err)
		}
		last, next, err := s.ListByCustomer(ctx, "gina", 100, next)
		if err != nil || len(last) != 1 || last[0].ID != "01KLIST000000000000000L000" || next != "" {
			t.Fatalf("second page: %d orders, next %q, %v; want the oldest one and no cursor", len(last), next, err)
		}
		all, pages := readAll(t, func(limit int, cursor string) ([]order.Order, string, error) {
			return s.ListByCustomer(ctx, "gina", limit, cursor)
		}, 10)
		if len(all) != 101 || pages != 11 {
			t.Fatalf("%d orders in %d pages, want 101 in 11", len(all), pages)
		}
	})

	t.Run("status list: [since, until), newest first, following transitions", func(t *testing.T) {
		s := newStore(t)
		var inWindow []string
		for i := range 5 {
			o := Order(fmt.Sprintf("01KLIST0000000000000000S%02d", i), fmt.Sprint("c", i), base.Add(time.Duration(i)*time.Minute))
			create(t, s, o)
			if i >= 1 && i <= 3 {
				inWindow = append([]string{o.ID}, inWindow...)
			}
		}
		moved := Order("01KLIST0000000000000000S09", "c9", base.Add(2*time.Minute))
		create(t, s, moved)
		ev, _ := moved.Transition(order.StatusStockReserved, "", "workflow", base.Add(2*time.Minute+time.Second))
		if err := s.SaveTransition(ctx, moved, ev); err != nil {
			t.Fatal(err)
		}
		since, until := base.Add(time.Minute), base.Add(3*time.Minute+time.Nanosecond) // S01 exactly at since is in, S04 is out
		received := func(limit int, cursor string) ([]order.Order, string, error) {
			return s.ListByStatus(ctx, order.StatusReceived, since, until, limit, cursor)
		}
		for _, size := range []int{1, 2, 3, 4} {
			got, _ := readAll(t, received, size)
			if fmt.Sprint(got) != fmt.Sprint(inWindow) {
				t.Fatalf("RECEIVED in the window, pages of %d: %v, want %v (the order that moved on must have left the list)", size, got, inWindow)
			}
		}
		// until is excluded: an order changed exactly at until is not listed.
		if got, _ := readAll(t, func(limit int, cursor string) ([]order.Order, string, error) {
			return s.ListByStatus(ctx, order.StatusReceived, since, base.Add(3*time.Minute), limit, cursor)
		}, 10); len(got) != 2 {
			t.Fatalf("[since, S03's instant): %v, want S02 and S01", got)
		}
		reserved, _, err := s.ListByStatus(ctx, order.StatusStockReserved, base, base.Add(time.Hour), 10, "")
		if err != nil || len(reserved) != 1 || reserved[0].ID != moved.ID || !reflect.DeepEqual(reserved[0], Listed(*moved)) {
			t.Fatalf("STOCK_RESERVED: %+v %v, want the moved order as saved, as listed: %+v", reserved, err, Listed(*moved))
		}
		// The customer list still has the moved order, in its new status.
		if mine, _, _ := s.ListByCustomer(ctx, "c9", 10, ""); len(mine) != 1 || mine[0].Status != order.StatusStockReserved {
			t.Fatalf("customer list after a transition: %+v", mine)
		}
		for _, w := range [][2]time.Time{{since, since}, {until, since}} {
			if page, next, err := s.ListByStatus(ctx, order.StatusReceived, w[0], w[1], 10, ""); err != nil || len(page) != 0 || next != "" {
				t.Fatalf("empty window [%v, %v): %d orders, %q, %v", w[0], w[1], len(page), next, err)
			}
		}
	})

	t.Run("status list: cursors are bound to the status and the window", func(t *testing.T) {
		s := newStore(t)
		for i := range 4 {
			create(t, s, Order(fmt.Sprintf("01KLIST0000000000000000W%02d", i), "h", base.Add(time.Duration(i)*time.Minute)))
		}
		since, until := base, base.Add(time.Hour)
		_, cursor, err := s.ListByStatus(ctx, order.StatusReceived, since, until, 1, "") // after W03
		if err != nil || cursor == "" {
			t.Fatalf("first page: %q %v", cursor, err)
		}
		if _, _, err := s.ListByStatus(ctx, order.StatusStockReserved, since, until, 1, cursor); !errors.Is(err, order.ErrInvalidCursor) {
			t.Fatalf("another status's cursor: %v, want ErrInvalidCursor", err)
		}
		_, customerCursor, _ := s.ListByCustomer(ctx, "h", 1, "")
		if _, _, err := s.ListByStatus(ctx, order.StatusReceived, since, until, 1, customerCursor); !errors.Is(err, order.ErrInvalidCursor) {
			t.Fatalf("a customer list's cursor: %v, want ErrInvalidCursor", err)
		}
		for _, w := range [][2]time.Time{{base.Add(4 * time.Minute), until}, {since, base.Add(3 * time.Minute)}} {
			if _, _, err := s.ListByStatus(ctx, order.StatusReceived, w[0], w[1], 1, cursor); !errors.Is(err, order.ErrInvalidCursor) {
				t.Fatalf("a cursor outside the window [%v, %v): %v, want ErrInvalidCursor", w[0], w[1], err)
			}
		}
		// A wider window that still holds the cursor's position is fine.
		page, _, err := s.ListByStatus(ctx, order.StatusReceived, base.Add(-time.Hour), until.Add(time.Hour), 10, cursor)
		if err != nil || len(page) != 3 || page[0].ID != "01KLIST0000000000000000W02" {
			t.Fatalf("the cursor in a wider window: %d orders, %v", len(page), err)
		}
	})
}
