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

// partnerOrder is a RECEIVED order that partner posted with reference ref.
func partnerOrder(id, partner, ref string, at time.Time) *order.Order {
	o := Order(id, "partner:"+partner, at)
	o.Channel, o.PartnerID, o.PartnerOrderRef = order.ChannelPartner, partner, ref
	o.Payment = order.Payment{Method: order.PaymentPartnerAccount}
	return o
}

// delivery is the completed record of the webhook delivery key that made
// order id, its body hashed as hash.
func delivery(partner, key, id, hash string, at time.Time) idempotency.Record {
	done := Completed("partner:"+partner, key, id, at)
	done.RequestHash, done.Location = hash, ""
	done.Body = []byte(`{"orderId":"` + id + `","deliveryId":"` + key + `"}`)
	return done
}

// runPartnerRefs: a partner's order reference makes at most one order of
// that partner, whatever delivery id carries it, for good.
func runPartnerRefs(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("a second order with the reference: the first delivery's record, nothing written", func(t *testing.T) {
		s := newStore(t)
		o := partnerOrder("01KPREF0000000000000000001", "acme", "PO-1", base)
		first := delivery("acme", "d-1", o.ID, "hash-a", base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), first, base); err != nil {
			t.Fatal(err)
		}
		// Another delivery id, within the minute or a year later (the
		// delivery's own key has expired by then): the reference decides.
		for _, at := range []time.Time{base.Add(time.Minute), first.ExpiresAt.Add(365 * 24 * time.Hour)} {
			o2 := partnerOrder("01KPREF0000000000000000002", "acme", "PO-1", at)
			got, err := s.CreateOrder(ctx, o2, firstEvent(o2), delivery("acme", "d-2", o2.ID, "hash-b", at), at)
			if !errors.Is(err, order.ErrReferenceTaken) || errors.Is(err, idempotency.ErrClaimed) {
				t.Fatalf("at %v: %v, want order.ErrReferenceTaken", at, err)
			}
			want := first
			want.State, want.Scope, want.ExpiresAt = idempotency.StateCompleted, "", time.Time{}
			sameRecord(t, "the claim's record", got, want)
			if idempotency.Decide(got, "hash-a", at) != idempotency.Replay || idempotency.Decide(got, "hash-b", at) != idempotency.Mismatch {
				t.Fatal("the claim's record does not decide a replay of the same body and a conflict of another")
			}
			mustNotExist(t, s, o2.ID, "a create refused for its reference")
			if _, err := s.ClaimKey(ctx, claim("partner:acme", "d-2", "p", at), at); err != nil {
				t.Fatalf("the refused create took its delivery key: %v", err)
			}
			if err := s.ReleaseKey(ctx, "partner:acme", "d-2", "p"); err != nil {
				t.Fatal(err)
			}
		}
		if list, _, err := s.ListByCustomer(ctx, "partner:acme", 10, ""); err != nil || len(list) != 1 || list[0].ID != o.ID {
			t.Fatalf("acme's orders: %v %v, want only the first", list, err)
		}
	})

	t.Run("a retried delivery is a replay: the key is checked first", func(t *testing.T) {
		s := newStore(t)
		o := partnerOrder("01KPREF0000000000000000003", "acme", "PO-3", base)
		done := delivery("acme", "d-3", o.ID, "hash-a", base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
			t.Fatal(err)
		}
		o2 := partnerOrder("01KPREF0000000000000000004", "acme", "PO-3", base)
		got, err := s.CreateOrder(ctx, o2, firstEvent(o2), delivery("acme", "d-3", o2.ID, "hash-a", base), base.Add(time.Second))
		if !errors.Is(err, idempotency.ErrClaimed) || errors.Is(err, order.ErrReferenceTaken) {
			t.Fatalf("retry: %v, want ErrClaimed only", err)
		}
		sameRecord(t, "the delivery's record", got, done)
	})

	t.Run("another partner, no reference, or no partner: no claim", func(t *testing.T) {
		s := newStore(t)
		for i, o := range []*order.Order{
			partnerOrder("01KPREF0000000000000000010", "acme", "PO-10", base),
			partnerOrder("01KPREF0000000000000000011", "other", "PO-10", base),
			partnerOrder("01KPREF0000000000000000012", "acme", "", base),
			partnerOrder("01KPREF0000000000000000013", "acme", "", base),
			func() *order.Order {
				o := Order("01KPREF0000000000000000014", "a", base)
				o.PartnerOrderRef = "PO-10"
				return o
			}(),
			func() *order.Order {
				o := Order("01KPREF0000000000000000015", "a", base)
				o.PartnerOrderRef = "PO-10"
				return o
			}(),
			// A reference that spells another partner's with the length
			// prefix moved.
			partnerOrder("01KPREF0000000000000000016", "acme#PO", "10", base),
		} {
			done := delivery(o.PartnerID, fmt.Sprint("k-", i), o.ID, "hash", base)
			if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
				t.Fatalf("order %d (partner %q, reference %q): %v", i, o.PartnerID, o.PartnerOrderRef, err)
			}
		}
	})

	t.Run("a create refused for another reason leaves the reference free", func(t *testing.T) {
		s := newStore(t)
		taken := partnerOrder("01KPREF0000000000000000020", "acme", "PO-20", base)
		if _, err := s.CreateOrder(ctx, taken, firstEvent(taken), delivery("acme", "d-20", taken.ID, "h", base), base); err != nil {
			t.Fatal(err)
		}
		// The key is used, then the order id exists: neither claims PO-21.
		o := partnerOrder("01KPREF0000000000000000021", "acme", "PO-21", base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), delivery("acme", "d-20", o.ID, "h", base), base); !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("a used key: %v", err)
		}
		dup := partnerOrder(taken.ID, "acme", "PO-21", base)
		if _, err := s.CreateOrder(ctx, dup, firstEvent(dup), delivery("acme", "d-21", dup.ID, "h", base), base); !errors.Is(err, order.ErrExists) {
			t.Fatalf("an existing id: %v", err)
		}
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), delivery("acme", "d-22", o.ID, "h", base), base); err != nil {
			t.Fatalf("PO-21 after two refused creates: %v", err)
		}
	})

	t.Run("20 deliveries of one reference under 20 ids at once: one order", func(t *testing.T) {
		s := newStore(t)
		var mu sync.Mutex
		var wins []string
		holders, busy := map[string]int{}, 0
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				o := partnerOrder(fmt.Sprintf("01KPREFRACE%015d", i), "acme", "PO-RACE", base)
				got, err := s.CreateOrder(ctx, o, firstEvent(o), delivery("acme", fmt.Sprint("race-", i), o.ID, "hash", base), base)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins = append(wins, o.ID)
				case errors.Is(err, order.ErrReferenceTaken):
					holders[got.ResourceID]++
				case errors.Is(err, idempotency.ErrBusy):
					busy++
				default:
					t.Errorf("unexpected: %v", err)
				}
			})
		}
		wg.Wait()
		if len(wins) != 1 || holders[wins[0]]+busy != 19 {
			t.Fatalf("%d created (%v), the refused shown %v, %d busy; want one order, the others shown it", len(wins), wins, holders, busy)
		}
		t.Logf("1 created, %d shown it, %d busy", holders[wins[0]], busy)
		if list, _, err := s.ListByCustomer(ctx, "partner:acme", 100, ""); err != nil || len(list) != 1 {
			t.Fatalf("acme has %d orders (%v), want 1", len(list), err)
		}
	})
}
