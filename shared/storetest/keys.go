package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
)

// runKeys: claiming, blocking, taking over, releasing and completing
// idempotency keys.
func runKeys(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("a claim blocks until its lease runs out, to the nanosecond", func(t *testing.T) {
		s := newStore(t)
		first := claim("customer:a", "k", "first", base)
		got, err := s.ClaimKey(ctx, first, base)
		if err != nil {
			t.Fatalf("claim a free key: %v", err)
		}
		sameRecord(t, "the claim returned", got, first)

		justBefore := first.LeaseUntil.Add(-time.Millisecond)
		holder, err := s.ClaimKey(ctx, claim("customer:a", "k", "second", justBefore), justBefore)
		if !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("claim 1 ms before the lease ends: %v, want ErrClaimed", err)
		}
		sameRecord(t, "the blocking record", holder, first)
		if idempotency.Decide(holder, first.RequestHash, justBefore) != idempotency.InFlight {
			t.Fatal("the blocking record does not read as in flight")
		}

		atEnd := first.LeaseUntil
		second := claim("customer:a", "k", "second", atEnd)
		if _, err := s.ClaimKey(ctx, second, atEnd); err != nil {
			t.Fatalf("claim when the lease ends (the first request crashed): %v", err)
		}
		later := atEnd.Add(time.Second)
		holder, err = s.ClaimKey(ctx, claim("customer:a", "k", "third", later), later)
		if !errors.Is(err, idempotency.ErrClaimed) || holder.Owner != "second" {
			t.Fatalf("after the take-over: %+v %v, want the second owner's claim", holder, err)
		}
	})

	t.Run("a claim is stored in flight, without a body", func(t *testing.T) {
		s := newStore(t)
		rec := claim("customer:a", "k", "me", base)
		rec.State, rec.Body, rec.StatusCode = idempotency.StateCompleted, []byte("not yet"), 202
		got, err := s.ClaimKey(ctx, rec, base)
		if err != nil || got.State != idempotency.StateInFlight || len(got.Body) != 0 {
			t.Fatalf("claim: %+v %v, want IN_FLIGHT without body", got, err)
		}
		holder, err := s.ClaimKey(ctx, claim("customer:a", "k", "x", base), base)
		if !errors.Is(err, idempotency.ErrClaimed) || holder.State != idempotency.StateInFlight || len(holder.Body) != 0 {
			t.Fatalf("stored claim: %+v %v", holder, err)
		}
		after := rec.LeaseUntil
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "x", after), after); err != nil {
			t.Fatalf("an expired claim must be taken over, whatever State the caller passed: %v", err)
		}
	})

	t.Run("a completed key is replayed until it expires", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KKEYS0000000000000000001", "a", base)
		done := Completed("customer:a", "k", o.ID, base)
		done.Owner = "intake-1"
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
			t.Fatal(err)
		}
		want := done
		want.State = idempotency.StateCompleted
		for _, at := range []time.Time{base, base.Add(idempotency.Lease + time.Hour), done.ExpiresAt.Add(-time.Nanosecond)} {
			got, err := s.ClaimKey(ctx, claim("customer:a", "k", "retry", at), at)
			if !errors.Is(err, idempotency.ErrClaimed) {
				t.Fatalf("claim of a completed key at %v: %v, want ErrClaimed", at, err)
			}
			sameRecord(t, "the completed record", got, want)
			if idempotency.Decide(got, done.RequestHash, at) != idempotency.Replay ||
				idempotency.Decide(got, "another body", at) != idempotency.Mismatch {
				t.Fatal("a completed record must replay the same body and refuse another")
			}
		}
		// Handing out the record does not hand out the store's memory.
		got, _ := s.ClaimKey(ctx, claim("customer:a", "k", "retry", base), base)
		mutateEverything(&got)
		again, _ := s.ClaimKey(ctx, claim("customer:a", "k", "retry", base), base)
		sameRecord(t, "the record after a caller changed its copy", again, want)
		// Its owner cannot release a completed key.
		if err := s.ReleaseKey(ctx, "customer:a", "k", "intake-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "retry", base), base); !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("release freed a completed key: %v", err)
		}
		// Past ExpiresAt the record is gone even if TTL has not deleted it yet.
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "new", done.ExpiresAt), done.ExpiresAt); err != nil {
			t.Fatalf("claim of an expired key: %v", err)
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
		if err := s.ReleaseKey(ctx, "customer:b", "k", "me"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "x", base), base); !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("a release in another scope freed my claim: %v", err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "k", "me"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "y", base), base); err != nil {
			t.Fatalf("claim after release: %v", err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "never-claimed", "me"); err != nil {
			t.Fatalf("releasing a key nobody claimed: %v", err)
		}
		// A claim taken over is no longer the first owner's to release.
		after := base.Add(idempotency.Lease)
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "z", after), after); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseKey(ctx, "customer:a", "k", "y"); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ClaimKey(ctx, claim("customer:a", "k", "w", after), after); !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "z" {
			t.Fatalf("the previous owner released the new owner's claim: %+v %v", got, err)
		}
	})

	t.Run("claim, then complete with the order", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.ClaimKey(ctx, claim("partner:p", "d1", "worker-1", base), base); err != nil {
			t.Fatal(err)
		}
		o := Order("01KKEYS0000000000000000002", "p", base)
		done := Completed("partner:p", "d1", o.ID, base)
		done.Owner = "worker-1"
		now := base.Add(time.Second)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, now); err != nil {
			t.Fatalf("completing one's own claim: %v", err)
		}
		got, err := s.ClaimKey(ctx, claim("partner:p", "d1", "worker-2", now), now)
		if !errors.Is(err, idempotency.ErrClaimed) || got.State != idempotency.StateCompleted || got.ResourceID != o.ID || got.Owner != "worker-1" {
			t.Fatalf("after completing: %+v %v", got, err)
		}
		// A claim whose lease ran out but that nobody took over is still its owner's.
		if _, err := s.ClaimKey(ctx, claim("partner:p", "d2", "worker-1", base), base); err != nil {
			t.Fatal(err)
		}
		late := base.Add(idempotency.Lease + time.Minute)
		o2 := Order("01KKEYS0000000000000000003", "p", late)
		done2 := Completed("partner:p", "d2", o2.ID, late)
		done2.Owner = "worker-1"
		if _, err := s.CreateOrder(ctx, o2, firstEvent(o2), done2, late); err != nil {
			t.Fatalf("completing one's own lapsed claim: %v", err)
		}
	})

	t.Run("a claim taken over is lost: completing it writes nothing", func(t *testing.T) {
		s := newStore(t)
		if _, err := s.ClaimKey(ctx, claim("partner:p", "d", "slow", base), base); err != nil {
			t.Fatal(err)
		}
		takeover := base.Add(idempotency.Lease)
		if _, err := s.ClaimKey(ctx, claim("partner:p", "d", "fast", takeover), takeover); err != nil {
			t.Fatalf("take-over: %v", err)
		}
		now := takeover.Add(time.Second)
		o := Order("01KKEYS0000000000000000004", "p", now)
		done := Completed("partner:p", "d", o.ID, now)
		done.Owner = "slow"
		got, err := s.CreateOrder(ctx, o, firstEvent(o), done, now)
		if !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "fast" || got.State != idempotency.StateInFlight {
			t.Fatalf("completing a lost claim: %+v %v, want the new owner's claim with ErrClaimed", got, err)
		}
		if idempotency.Decide(got, done.RequestHash, now) != idempotency.InFlight {
			t.Fatal("the new owner's claim must read as in flight")
		}
		mustNotExist(t, s, o.ID, "a lost claim")
		if got, err := s.ClaimKey(ctx, claim("partner:p", "d", "other", now), now); !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "fast" {
			t.Fatalf("the new owner's claim after the failed completion: %+v %v", got, err)
		}
		// Without an owner (one-shot intake) a live claim blocks as well.
		o2 := Order("01KKEYS0000000000000000005", "p", now)
		if got, err := s.CreateOrder(ctx, o2, firstEvent(o2), Completed("partner:p", "d", o2.ID, now), now); !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "fast" {
			t.Fatalf("one-shot create over a live claim: %+v %v", got, err)
		}
		mustNotExist(t, s, o2.ID, "a one-shot create over a live claim")
	})

	t.Run("scopes and keys never collide", func(t *testing.T) {
		s := newStore(t)
		// With a plain "<scope>#<key>" item key, each pair here would clash
		// with its neighbour.
		pairs := [][2]string{
			{"customer:a#b", "c"}, {"customer:a", "b#c"},
			{"p", "1:q#r"}, {"p#1:q", "r"},
			{"3:abc", "d"}, {"3", "abc#d"},
			{"", "x#y"}, {"x", "y"}, {"x#", "y"}, {"x", "#y"},
			{"customer:a", "k"}, {"customer:b", "k"},
		}
		for i, p := range pairs {
			if _, err := s.ClaimKey(ctx, claim(p[0], p[1], "owner-"+p[0]+"|"+p[1], base), base); err != nil {
				t.Fatalf("claim %d (%q, %q): %v — it collided with an earlier pair", i, p[0], p[1], err)
			}
		}
		for _, p := range pairs {
			got, err := s.ClaimKey(ctx, claim(p[0], p[1], "late", base), base)
			if !errors.Is(err, idempotency.ErrClaimed) || got.Owner != "owner-"+p[0]+"|"+p[1] || got.Scope != p[0] || got.Key != p[1] {
				t.Fatalf("(%q, %q) holds %+v (%v)", p[0], p[1], got, err)
			}
		}
	})
}
