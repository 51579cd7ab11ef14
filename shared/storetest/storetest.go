// Package storetest is the contract every order store passes: one suite, run
// against the in-memory store and against DynamoDB Local.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Store is the full method set of an order store.
type Store interface {
	ClaimKey(ctx context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error)
	ReleaseKey(ctx context.Context, scope, key, owner string) error
	CreateOrder(ctx context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error)
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	History(ctx context.Context, id string) ([]order.Event, error)
	ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error)
	ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error)
	SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error
}

// base is a fixed clock for the suite; DynamoDB stores times to the nanosecond.
var base = time.Date(2026, 11, 24, 9, 30, 0, 123456789, time.UTC)

// Order builds a realistic order for tests.
func Order(id, customer string, at time.Time) *order.Order {
	ship := money.New(499, "EUR")
	d := order.Draft{
		Channel: order.ChannelMobile, TradeMode: order.TradeB2C, Fulfilment: order.FulfilDirectMail, Incoterm: order.IncotermDDP,
		Currency: "EUR",
		Buyer: order.Party{Name: "Test Buyer", Email: "buyer@example.de", Phone: "+4915100000000",
			Address: order.Address{Line1: "Hauptstraße 1", City: "Berlin", PostalCode: "10115", Country: "DE"}, VATNumber: "DE123456789"},
		Consignee: order.Party{Name: "Test Buyer", Phone: "+4915100000000",
			Address: order.Address{Line1: "Hauptstraße 1", Line2: "Hinterhaus", City: "Berlin", Region: "BE", PostalCode: "10115", Country: "DE"}},
		Lines: []order.Line{
			{SKU: "SKU-1", Title: "Cotton T-shirt", HSCode: "610910", Quantity: 2, UnitPrice: money.New(1999, "EUR"),
				LineTotal: money.New(3998, "EUR"), WeightGrams: 200, OriginCountry: "CN"},
			{SKU: "SKU-2", Title: "Wireless earbuds — 降噪", HSCode: "8518300000", Quantity: 1, UnitPrice: money.New(4999, "EUR"),
				LineTotal: money.New(4999, "EUR"), WeightGrams: 120, OriginCountry: "CN"},
		},
		Shipping: &ship, Total: money.New(9496, "EUR"), Payment: order.Payment{Method: "card", Token: "tok_visa"},
	}
	o, _ := order.Accept(d, id, customer, "customer:"+customer, at)
	return o
}

func claim(scope, key, owner string, now time.Time) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, RequestHash: "hash-" + key, State: idempotency.StateInFlight, Owner: owner,
		LeaseUntil: now.Add(idempotency.Lease), CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
}

// Completed is a completed idempotency record for creating order id.
func Completed(scope, key, id string, now time.Time) idempotency.Record {
	return completed(scope, key, id, now)
}

func completed(scope, key, id string, now time.Time) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, RequestHash: "hash-" + key, State: idempotency.StateCompleted,
		StatusCode: 202, Location: "/v1/orders/" + id, Body: []byte(`{"orderId":"` + id + `"}`), ResourceID: id,
		CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
}

func firstEvent(o *order.Order) order.Event {
	return order.Event{OrderID: o.ID, Version: 1, At: o.CreatedAt, To: order.StatusReceived, Actor: "customer:" + o.CustomerID}
}

// create creates o with a fresh idempotency key.
func create(t *testing.T, s Store, o *order.Order) {
	t.Helper()
	done := completed("customer:"+o.CustomerID, "create-"+o.ID, o.ID, o.CreatedAt)
	if _, err := s.CreateOrder(context.Background(), o, firstEvent(o), done, o.CreatedAt); err != nil {
		t.Fatalf("create %s: %v", o.ID, err)
	}
}

// Run runs the contract suite; newStore returns an empty store per test.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("create replays a completed key and writes nothing", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA1", "a", base)
		done := completed("customer:a", "k1", o.ID, base)
		if got, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil || got.State != idempotency.StateCompleted {
			t.Fatalf("first create: %+v %v", got, err)
		}
		later := base.Add(10 * time.Minute)
		o2 := Order("01KAAAAAAAAAAAAAAAAAAAAAA2", "a", later)
		got, err := s.CreateOrder(ctx, o2, firstEvent(o2), completed("customer:a", "k1", o2.ID, later), later)
		if !errors.Is(err, idempotency.ErrClaimed) || got.State != idempotency.StateCompleted || got.StatusCode != 202 ||
			string(got.Body) != string(done.Body) || got.Location != done.Location || got.ResourceID != o.ID || got.RequestHash != done.RequestHash {
			t.Fatalf("create with a used key: %+v %v", got, err)
		}
		if _, err := s.GetOrder(ctx, o2.ID); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("a refused create wrote the order: %v", err)
		}
		if h, _ := s.History(ctx, o2.ID); len(h) != 0 {
			t.Fatalf("a refused create wrote history: %v", h)
		}
		// ClaimKey sees the completed record too.
		if got, err := s.ClaimKey(ctx, claim("customer:a", "k1", "x", later), later); !errors.Is(err, idempotency.ErrClaimed) || got.ResourceID != o.ID {
			t.Fatalf("claim of a completed key: %+v %v", got, err)
		}
		// Keys are scoped: the same key for another customer is free.
		o3 := Order("01KAAAAAAAAAAAAAAAAAAAAAA3", "b", base)
		if _, err := s.CreateOrder(ctx, o3, firstEvent(o3), completed("customer:b", "k1", o3.ID, base), base); err != nil {
			t.Fatalf("same key, other scope: %v", err)
		}
		// Scope and key cannot collide by sharing a separator.
		if _, err := s.ClaimKey(ctx, claim("customer:a#k", "1", "owner-5", base), base); err != nil {
			t.Fatalf("scope/key collision: %v", err)
		}
	})

	t.Run("a live claim blocks; an expired one is taken over", func(t *testing.T) {
		s := newStore(t)
		c := claim("customer:a", "k", "first", base)
		if got, err := s.ClaimKey(ctx, c, base); err != nil || got.Owner != "first" {
			t.Fatalf("claim: %+v %v", got, err)
		}
		soon := base.Add(time.Second)
		got, err := s.ClaimKey(ctx, claim("customer:a", "k", "second", soon), soon)
		if !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "first" || got.State != idempotency.StateInFlight ||
			idempotency.Decide(got, c.RequestHash, soon) != idempotency.InFlight {
			t.Fatalf("claim while in flight: %+v %v", got, err)
		}
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA4", "a", soon)
		if got, err := s.CreateOrder(ctx, o, firstEvent(o), completed("customer:a", "k", o.ID, soon), soon); !errors.Is(err, idempotency.ErrClaimed) || got.State != idempotency.StateInFlight {
			t.Fatalf("create over a live claim: %+v %v", got, err)
		}
		after := base.Add(idempotency.Lease + time.Second)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), completed("customer:a", "k", o.ID, after), after); err != nil {
			t.Fatalf("create after the lease ran out: %v", err)
		}
		if _, err := s.GetOrder(ctx, o.ID); err != nil {
			t.Fatal(err)
		}
		// An expired record (TTL not yet run) is free again.
		gone := after.Add(idempotency.Retention + time.Second)
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "third", gone), gone); err != nil {
			t.Fatalf("claim after expiry: %v", err)
		}
	})

	t.Run("release frees only one's own in-flight claim", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "me", base), base); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "k", "not-me"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "x", base), base); !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("someone else's release freed my claim: %v", err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "k", "me"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "y", base), base); err != nil {
			t.Fatalf("claim after release: %v", err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "missing", "me"); err != nil {
			t.Fatalf("releasing a missing key: %v", err)
		}
	})

	t.Run("create is all or nothing; ids are unique", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA5", "a", base)
		create(t, s, o)
		_, err := s.CreateOrder(ctx, o, firstEvent(o), completed("customer:a", "dup", o.ID, base), base)
		if !errors.Is(err, order.ErrExists) {
			t.Fatalf("duplicate id: %v, want ErrExists", err)
		}
		// The failed transaction did not take the key.
		if _, err := s.ClaimKey(ctx, claim("customer:a", "dup", "p", base), base); err != nil {
			t.Fatalf("failed create took the key: %v", err)
		}
	})

	t.Run("concurrent creates with one key: one order", func(t *testing.T) {
		s := newStore(t)
		var wins, replays, busy atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o := Order(fmt.Sprintf("01KAAAAAAAAAAAAAAAAAAAAE%02d", i), "a", base)
				_, err := s.CreateOrder(ctx, o, firstEvent(o), completed("customer:a", "hot", o.ID, base), base)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, idempotency.ErrClaimed):
					replays.Add(1)
				case errors.Is(err, idempotency.ErrBusy):
					busy.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || replays.Load()+busy.Load() != 49 {
			t.Fatalf("%d created, %d replayed, %d busy; want exactly one created", wins.Load(), replays.Load(), busy.Load())
		}
		if list, _, _ := s.ListByCustomer(ctx, "a", 100, ""); len(list) != 1 {
			t.Fatalf("%d orders stored, want 1", len(list))
		}
	})

	t.Run("round trip keeps every field", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA4", "a", base)
		create(t, s, o)
		got, err := s.GetOrder(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, o) {
			t.Fatalf("round trip differs:\n got  %+v\n want %+v", got, o)
		}
		got.Lines[0].Title = "mutated"
		again, _ := s.GetOrder(ctx, o.ID)
		if again.Lines[0].Title != o.Lines[0].Title {
			t.Fatal("a caller's change leaked into the store")
		}
		h, err := s.History(ctx, o.ID)
		if err != nil || len(h) != 1 || h[0].To != order.StatusReceived || !h[0].At.Equal(base) || h[0].Actor != "customer:a" {
			t.Fatalf("history %+v %v", h, err)
		}
		if _, err := s.GetOrder(ctx, "01KZZZZZZZZZZZZZZZZZZZZZZZ"); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("missing order: %v", err)
		}
	})

	t.Run("transitions are versioned", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA5", "a", base)
		create(t, s, o)
		stale := *o
		ev, err := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
		ev2, _ := stale.Transition(order.StatusRejected, "out_of_stock", "workflow", base.Add(2*time.Second))
		if err := s.SaveTransition(ctx, &stale, ev2); !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("stale write: %v, want ErrVersionConflict", err)
		}
		ev3, _ := o.Transition(order.StatusPaymentDeclined, "card_declined", "workflow", base.Add(3*time.Second))
		if err := s.SaveTransition(ctx, o, ev3); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetOrder(ctx, o.ID)
		if got.Status != order.StatusPaymentDeclined || got.Version != 3 || got.Reason != "card_declined" {
			t.Fatalf("after transitions: %+v", got)
		}
		h, _ := s.History(ctx, o.ID)
		var trail []string
		for _, e := range h {
			trail = append(trail, fmt.Sprintf("%d:%s>%s", e.Version, e.From, e.To))
		}
		if fmt.Sprint(trail) != "[1:>RECEIVED 2:RECEIVED>STOCK_RESERVED 3:STOCK_RESERVED>PAYMENT_DECLINED]" {
			t.Fatalf("history %v", trail)
		}
		ghost := Order("01KAAAAAAAAAAAAAAAAAAAAAA6", "a", base)
		gev, _ := ghost.Transition(order.StatusStockReserved, "", "workflow", base)
		if err := s.SaveTransition(ctx, ghost, gev); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("transition of a missing order: %v, want ErrNotFound", err)
		}
	})

	t.Run("concurrent transitions from one version: one wins", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KAAAAAAAAAAAAAAAAAAAAAA7", "a", base)
		create(t, s, o)
		var wins, conflicts atomic.Int32
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := *o
				ev, _ := c.Transition(order.StatusStockReserved, fmt.Sprint(i), "workflow", base.Add(time.Second))
				switch err := s.SaveTransition(ctx, &c, ev); {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, order.ErrVersionConflict):
					conflicts.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || conflicts.Load() != 19 {
			t.Fatalf("%d wins, %d conflicts; want 1 and 19", wins.Load(), conflicts.Load())
		}
		if h, _ := s.History(ctx, o.ID); len(h) != 2 {
			t.Fatalf("history has %d events, want 2", len(h))
		}
	})

	t.Run("concurrent claims of one key: one wins", func(t *testing.T) {
		s := newStore(t)
		var wins, refused atomic.Int32
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.ClaimKey(ctx, claim("customer:a", "hot", fmt.Sprint("owner-", i), base), base)
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, idempotency.ErrClaimed):
					refused.Add(1)
				default:
					t.Errorf("unexpected: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins.Load() != 1 || refused.Load() != 49 {
			t.Fatalf("%d claims won, %d refused; want 1 and 49", wins.Load(), refused.Load())
		}
	})

	t.Run("customer list: newest first, paged, isolated", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for i := range 7 {
			o := Order(fmt.Sprintf("01KAAAAAAAAAAAAAAAAAAAAB%02d", i), "carol", base.Add(time.Duration(i)*time.Minute))
			create(t, s, o)
			want = append([]string{o.ID}, want...)
		}
		create(t, s, Order("01KAAAAAAAAAAAAAAAAAAAAC01", "dave", base.Add(time.Hour)))
		var got []string
		cursor, pages := "", 0
		for {
			page, next, err := s.ListByCustomer(ctx, "carol", 3, cursor)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > 3 {
				t.Fatalf("page of %d", len(page))
			}
			for _, o := range page {
				if o.CustomerID != "carol" {
					t.Fatalf("carol's list holds %s's order", o.CustomerID)
				}
				got = append(got, o.ID)
			}
			pages++
			if next == "" {
				break
			}
			if pages > 5 {
				t.Fatal("paging does not end")
			}
			cursor = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) || pages != 3 {
			t.Fatalf("%d pages %v, want 3 pages %v", pages, got, want)
		}
		_, carolCursor, _ := s.ListByCustomer(ctx, "carol", 1, "")
		for _, bad := range []string{"garbage", "eyJ9", carolCursor} {
			if _, _, err := s.ListByCustomer(ctx, "dave", 1, bad); !errors.Is(err, order.ErrInvalidCursor) {
				t.Fatalf("cursor %q for dave: %v, want ErrInvalidCursor", bad, err)
			}
		}
		if page, next, err := s.ListByCustomer(ctx, "nobody", 10, ""); err != nil || len(page) != 0 || next != "" {
			t.Fatalf("empty list: %v %q %v", page, next, err)
		}
	})

	t.Run("status list: window, newest first, paged", func(t *testing.T) {
		s := newStore(t)
		var inWindow []string
		for i := range 5 {
			o := Order(fmt.Sprintf("01KAAAAAAAAAAAAAAAAAAAAD%02d", i), "erin", base.Add(time.Duration(i)*time.Minute))
			create(t, s, o)
			if i >= 1 && i <= 3 {
				inWindow = append([]string{o.ID}, inWindow...)
			}
		}
		moved := Order("01KAAAAAAAAAAAAAAAAAAAAD09", "erin", base.Add(2*time.Minute))
		create(t, s, moved)
		ev, _ := moved.Transition(order.StatusStockReserved, "", "workflow", base.Add(2*time.Minute+time.Second))
		if err := s.SaveTransition(ctx, moved, ev); err != nil {
			t.Fatal(err)
		}
		var got []string
		cursor := ""
		for range 5 {
			page, next, err := s.ListByStatus(ctx, order.StatusReceived, base.Add(time.Minute), base.Add(4*time.Minute), 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range page {
				got = append(got, o.ID)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(inWindow) {
			t.Fatalf("RECEIVED in window: %v, want %v (the order that moved on must have left the list)", got, inWindow)
		}
		reserved, _, err := s.ListByStatus(ctx, order.StatusStockReserved, base, base.Add(time.Hour), 10, "")
		if err != nil || len(reserved) != 1 || reserved[0].ID != moved.ID {
			t.Fatalf("STOCK_RESERVED: %v %v", reserved, err)
		}
		_, receivedCursor, _ := s.ListByStatus(ctx, order.StatusReceived, base, base.Add(time.Hour), 1, "")
		if _, _, err := s.ListByStatus(ctx, order.StatusStockReserved, base, base.Add(time.Hour), 1, receivedCursor); !errors.Is(err, order.ErrInvalidCursor) {
			t.Fatalf("another status's cursor: %v", err)
		}
	})
}
