package storetest

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/quotes"
)

// Quote is an issued quote as the API stores it.
func Quote(id, customer string, at time.Time) quotes.Record {
	return quotes.Record{ID: id, CustomerID: customer, CartHash: "9f2c0d4e" + id,
		Quote:     []byte(`{"quoteId":"` + id + `","destination":"DE","totals":{"landedTotal":{"amount":9634,"currency":"EUR"}},"notes":["€3 — 降噪"]}`),
		CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
}

// sameQuote fails unless got is want (times compared as instants).
func sameQuote(t *testing.T, what string, got *quotes.Record, want quotes.Record) {
	t.Helper()
	if got == nil || got.ID != want.ID || got.CustomerID != want.CustomerID || got.CartHash != want.CartHash ||
		!bytes.Equal(got.Quote, want.Quote) || !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// runQuotes: issued quotes are kept exactly, never replaced, and apart from
// orders; LookupKey reads idempotency records without taking them.
func runQuotes(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("a quote comes back as stored, sharing nothing", func(t *testing.T) {
		s := newStore(t)
		q := Quote("01KQUOTE00000000000000001", "a", base)
		want := Quote(q.ID, "a", base)
		if err := s.PutQuote(ctx, q); err != nil {
			t.Fatal(err)
		}
		mutateEverything(&q) // the caller goes on using its record
		got, err := s.GetQuote(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameQuote(t, "the stored quote", got, want)
		mutateEverything(got)
		again, _ := s.GetQuote(ctx, want.ID)
		sameQuote(t, "the quote after a caller changed its copy", again, want)
	})

	t.Run("a quote is never replaced", func(t *testing.T) {
		s := newStore(t)
		q := Quote("01KQUOTE00000000000000002", "a", base)
		if err := s.PutQuote(ctx, q); err != nil {
			t.Fatal(err)
		}
		other := Quote(q.ID, "mallory", base.Add(time.Minute))
		if err := s.PutQuote(ctx, other); !errors.Is(err, quotes.ErrExists) {
			t.Fatalf("a second quote with the same id: %v, want ErrExists", err)
		}
		got, _ := s.GetQuote(ctx, q.ID)
		sameQuote(t, "the first quote", got, q)
	})

	t.Run("unknown quotes, and quotes apart from orders", func(t *testing.T) {
		s := newStore(t)
		if q, err := s.GetQuote(ctx, "01KQUOTE0000000000000000ZZ"); !errors.Is(err, quotes.ErrNotFound) || q != nil {
			t.Fatalf("an unknown quote: %+v %v, want ErrNotFound", q, err)
		}
		// An order and a quote with the same id are two items.
		o := Order("01KQUOTE00000000000000003", "a", base)
		create(t, s, o)
		if _, err := s.GetQuote(ctx, o.ID); !errors.Is(err, quotes.ErrNotFound) {
			t.Fatalf("an order read as a quote: %v", err)
		}
		q := Quote(o.ID, "a", base)
		if err := s.PutQuote(ctx, q); err != nil {
			t.Fatalf("a quote with an order's id: %v", err)
		}
		if got, err := s.GetOrder(ctx, o.ID); err != nil || !reflect.DeepEqual(got, o) {
			t.Fatalf("the order after a quote of the same id: %+v %v", got, err)
		}
		got, _ := s.GetQuote(ctx, q.ID)
		sameQuote(t, "the quote beside the order", got, q)
	})

	t.Run("an expired quote is still kept", func(t *testing.T) {
		s := newStore(t)
		q := Quote("01KQUOTE00000000000000004", "a", base.Add(-3*time.Hour)) // expired two hours ago
		if err := s.PutQuote(ctx, q); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetQuote(ctx, q.ID)
		if err != nil {
			t.Fatalf("an expired quote (its store keeps it a day more): %v", err)
		}
		sameQuote(t, "the expired quote", got, q)
	})

	t.Run("lookup reads a key's record until it expires, and takes nothing", func(t *testing.T) {
		s := newStore(t)
		if _, found, err := s.LookupKey(ctx, "customer:a", "k", base); err != nil || found {
			t.Fatalf("an unused key: found=%v %v", found, err)
		}
		o := Order("01KQUOTE00000000000000005", "a", base)
		done := Completed("customer:a", "k", o.ID, base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
			t.Fatal(err)
		}
		want := done
		want.State = idempotency.StateCompleted
		got, found, err := s.LookupKey(ctx, "customer:a", "k", base.Add(time.Hour))
		if err != nil || !found {
			t.Fatalf("a completed key: found=%v %v", found, err)
		}
		sameRecord(t, "the looked-up record", got, want)
		if _, found, _ := s.LookupKey(ctx, "customer:b", "k", base); found {
			t.Fatal("a key found in another scope")
		}
		if _, found, _ := s.LookupKey(ctx, "customer:a", "k", done.ExpiresAt); found {
			t.Fatal("a key found past its ExpiresAt")
		}
		// An in-flight claim is found too; looking it up does not take it.
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k2", "me", base), base); err != nil {
			t.Fatal(err)
		}
		got, found, err = s.LookupKey(ctx, "customer:a", "k2", base)
		if err != nil || !found || got.State != idempotency.StateInFlight || got.Owner != "me" {
			t.Fatalf("an in-flight claim: %+v found=%v %v", got, found, err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k2", "other", base), base); !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("the claim after a lookup: %v, want it still held", err)
		}
	})
}
