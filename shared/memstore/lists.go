package memstore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// maxPageSize bounds a page; a limit outside 1..maxPageSize is brought into it.
const maxPageSize = 100

// sortable is a fixed-width UTC time layout that sorts as text (as the
// DynamoDB store's index keys).
const sortable = "2006-01-02T15:04:05.000000000Z"

// list is what one listing covers: a partition name, which orders belong to
// it, their sort key and what the list shows of them, optionally narrowed
// to sort keys in [lo, hi).
type list struct {
	partition string
	member    func(order.Order) bool
	sortKey   func(order.Order) string
	show      func(order.Order) order.Order
	lo, hi    string
}

func (l list) windowed() bool { return l.lo != "" || l.hi != "" }

func timeKey(t time.Time, id string) string { return t.UTC().Format(sortable) + "#" + id }

// ListByCustomer returns a customer's orders, newest first, at most limit
// (brought into 1..100), and the next page's cursor ("" after the last).
func (s *Store) ListByCustomer(_ context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error) {
	return s.page(list{
		partition: "customer:" + customerID,
		member:    func(o order.Order) bool { return o.CustomerID == customerID },
		sortKey:   func(o order.Order) string { return timeKey(o.CreatedAt, o.ID) },
		show:      clone,
	}, limit, cursor)
}

// ListByStatus returns the orders in status that entered it in
// [since, until), newest first, paged like ListByCustomer. Like the DynamoDB
// store's status index, it shows of each order only the fields the ops
// lists read (listed).
func (s *Store) ListByStatus(_ context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error) {
	return s.page(list{
		partition: "status:" + string(status),
		member:    func(o order.Order) bool { return o.Status == status },
		sortKey:   func(o order.Order) string { return timeKey(o.Since(), o.ID) },
		show:      listed,
		lo:        since.UTC().Format(sortable), hi: until.UTC().Format(sortable),
	}, limit, cursor)
}

// listed is what a status list shows of an order: ID, Status, Reason,
// TradeMode, Channel, PartnerID, the destination (Consignee.Address.Country),
// Total, CreatedAt and StatusSince — what the DynamoDB store's status index
// projects — and nothing else.
func listed(o order.Order) order.Order {
	l := order.Order{ID: o.ID, Status: o.Status, Reason: o.Reason, CreatedAt: o.CreatedAt, StatusSince: o.Since(), PartnerID: o.PartnerID}
	l.TradeMode, l.Channel, l.Total = o.TradeMode, o.Channel, o.Total
	l.Consignee.Address.Country = o.Destination()
	return l
}

// StatusCounts counts the orders in every status (0 for none), exactly.
func (s *Store) StatusCounts(_ context.Context) (map[order.Status]int, error) {
	counts := make(map[order.Status]int, len(order.Statuses))
	for _, st := range order.Statuses {
		counts[st] = 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		counts[o.Status]++
	}
	return counts, nil
}

// CountByStatus counts the orders in status.
func (s *Store) CountByStatus(_ context.Context, status order.Status) (int, error) {
	return s.count(func(o order.Order) bool { return o.Status == status }), nil
}

// CountByStatusBefore counts the orders in status that entered it
// before t.
func (s *Store) CountByStatusBefore(_ context.Context, status order.Status, t time.Time) (int, error) {
	return s.count(func(o order.Order) bool { return o.Status == status && o.Since().Before(t) }), nil
}

func (s *Store) count(match func(order.Order) bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, o := range s.orders {
		if match(o) {
			n++
		}
	}
	return n
}

type pageCursor struct {
	Partition string `json:"p"`
	After     string `json:"a"`
}

// page sorts the list's orders newest first and cuts one page after the cursor.
func (s *Store) page(l list, limit int, cursor string) ([]order.Order, string, error) {
	limit = min(max(limit, 1), maxPageSize)
	after := ""
	if cursor != "" {
		raw, err := base64.RawURLEncoding.DecodeString(cursor)
		var c pageCursor
		if err != nil || json.Unmarshal(raw, &c) != nil || c.Partition != l.partition || !validSortKey(c.After) ||
			(l.windowed() && (c.After < l.lo || c.After >= l.hi)) {
			return nil, "", fmt.Errorf("memstore: list: %w", order.ErrInvalidCursor)
		}
		after = c.After
	}
	type entry struct {
		key string
		o   order.Order
	}
	var all []entry
	s.mu.Lock()
	for _, o := range s.orders {
		if k := l.sortKey(o); l.member(o) && (!l.windowed() || (k >= l.lo && k < l.hi)) && (after == "" || k < after) {
			all = append(all, entry{k, l.show(o)})
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].key > all[j].key })
	next := ""
	if len(all) > limit {
		all = all[:limit]
		raw, _ := json.Marshal(pageCursor{Partition: l.partition, After: all[limit-1].key})
		next = base64.RawURLEncoding.EncodeToString(raw)
	}
	orders := make([]order.Order, len(all))
	for i, e := range all {
		orders[i] = e.o
	}
	return orders, next, nil
}

// validSortKey reports whether k is "<fixed-width UTC time>#<id>".
func validSortKey(k string) bool {
	n := len(sortable)
	if len(k) <= n+1 || k[n] != '#' {
		return false
	}
	t, err := time.Parse(sortable, k[:n])
	return err == nil && t.UTC().Format(sortable) == k[:n]
}
