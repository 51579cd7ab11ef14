package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// runCreate: CreateOrder is one all-or-nothing write.
func runCreate(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("writes the order, its first event and the completed key", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCREATE00000000000000001", "a", base)
		first := firstEvent(o)
		done := Completed("customer:a", "k", o.ID, base)
		done.State = idempotency.StateInFlight // the store completes it
		got, err := s.CreateOrder(ctx, o, first, done, base)
		if err != nil {
			t.Fatal(err)
		}
		want := done
		want.State = idempotency.StateCompleted
		sameRecord(t, "CreateOrder's record", got, want)
		stored, err := s.GetOrder(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(stored, o) {
			t.Fatalf("stored order %+v (%v), want %+v", stored, err, o)
		}
		if h, err := s.History(ctx, o.ID); err != nil || !reflect.DeepEqual(h, []order.Event{first}) {
			t.Fatalf("history %+v (%v), want the first event", h, err)
		}
		rec, err := s.ClaimKey(ctx, claim("customer:a", "k", "x", base), base)
		if !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("the key after create: %v", err)
		}
		sameRecord(t, "the stored key", rec, want)
	})

	t.Run("a used key: the record back, nothing written", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCREATE00000000000000002", "a", base)
		done := Completed("customer:a", "k1", o.ID, base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
			t.Fatal(err)
		}
		later := base.Add(10 * time.Minute)
		o2 := Order("01KCREATE00000000000000003", "a", later)
		got, err := s.CreateOrder(ctx, o2, firstEvent(o2), Completed("customer:a", "k1", o2.ID, later), later)
		if !errors.Is(err, idempotency.ErrClaimed) {
			t.Fatalf("create with a used key: %v, want ErrClaimed", err)
		}
		sameRecord(t, "the record of the first create", got, done)
		mustNotExist(t, s, o2.ID, "a create refused for its key")
		if list, _, err := s.ListByCustomer(ctx, "a", 10, ""); err != nil || len(list) != 1 || list[0].ID != o.ID {
			t.Fatalf("a's orders: %v %v, want only the first", list, err)
		}
		// The same key in another scope is another key.
		o3 := Order("01KCREATE00000000000000004", "b", base)
		if _, err := s.CreateOrder(ctx, o3, firstEvent(o3), Completed("customer:b", "k1", o3.ID, base), base); err != nil {
			t.Fatalf("same key, other scope: %v", err)
		}
	})

	t.Run("a retried create is a replay, not a duplicate", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCREATE00000000000000005", "a", base)
		done := Completed("customer:a", "k", o.ID, base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), done, base); err != nil {
			t.Fatal(err)
		}
		// The key and the id are both taken; the key decides.
		got, err := s.CreateOrder(ctx, o, firstEvent(o), done, base.Add(time.Second))
		if !errors.Is(err, idempotency.ErrClaimed) || errors.Is(err, order.ErrExists) {
			t.Fatalf("retry: %v, want ErrClaimed only", err)
		}
		sameRecord(t, "the replayed record", got, done)
	})

	t.Run("a duplicate id: ErrExists, nothing written, key left free", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCREATE00000000000000006", "a", base)
		create(t, s, o)
		dup := Order(o.ID, "b", base.Add(time.Hour))
		dup.Lines = dup.Lines[:1]
		dupFirst := firstEvent(dup)
		dupFirst.Actor = "intruder"
		_, err := s.CreateOrder(ctx, dup, dupFirst, Completed("customer:b", "dup", dup.ID, dup.CreatedAt), dup.CreatedAt)
		if !errors.Is(err, order.ErrExists) {
			t.Fatalf("duplicate id: %v, want ErrExists", err)
		}
		if got, err := s.GetOrder(ctx, o.ID); err != nil || !reflect.DeepEqual(got, o) {
			t.Fatalf("the duplicate overwrote the order: %+v %v", got, err)
		}
		if h, _ := s.History(ctx, o.ID); len(h) != 1 || h[0].Actor != "customer:a" {
			t.Fatalf("the duplicate touched the history: %+v", h)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:b", "dup", "p", base), base); err != nil {
			t.Fatalf("the failed create took its key: %v", err)
		}
		if list, _, _ := s.ListByCustomer(ctx, "b", 10, ""); len(list) != 0 {
			t.Fatalf("b has %d orders, want none", len(list))
		}
	})

	t.Run("an event of another order or version is refused", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KCREATE00000000000000007", "a", base)
		for name, ev := range map[string]order.Event{
			"other order":   {OrderID: "01KCREATE00000000000000099", Version: 1, At: base, To: order.StatusReceived},
			"other version": {OrderID: o.ID, Version: 2, At: base, To: order.StatusReceived},
		} {
			_, err := s.CreateOrder(ctx, o, ev, Completed("customer:a", "k", o.ID, base), base)
			if err == nil || errors.Is(err, idempotency.ErrClaimed) || errors.Is(err, order.ErrExists) {
				t.Fatalf("%s: %v, want a plain error", name, err)
			}
			mustNotExist(t, s, o.ID, name)
			mustNotExist(t, s, ev.OrderID, name)
		}
		if _, err := s.ClaimKey(ctx, claim("customer:a", "k", "p", base), base); err != nil {
			t.Fatalf("a refused create took its key: %v", err)
		}
	})
}

// runRead: what is stored comes back exactly, and never shares memory.
func runRead(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("every field survives, and nothing is shared with callers", func(t *testing.T) {
		s := newStore(t)
		o := fullOrder("01KREAD000000000000000001", "a", base)
		everyFieldSet(t, o)
		want := fullOrder(o.ID, "a", base)
		first := firstEvent(o)
		if _, err := s.CreateOrder(ctx, o, first, Completed("customer:a", "k", o.ID, base), base); err != nil {
			t.Fatal(err)
		}
		mutateEverything(o) // the caller goes on using its order
		got, err := s.GetOrder(ctx, want.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("round trip differs:\n got  %+v\n want %+v", got, want)
		}
		mutateEverything(got)
		if again, _ := s.GetOrder(ctx, want.ID); !reflect.DeepEqual(again, want) {
			t.Fatalf("a change to a returned order reached the store:\n got  %+v\n want %+v", again, want)
		}
		if list, _, _ := s.ListByCustomer(ctx, "a", 10, ""); len(list) != 1 || !reflect.DeepEqual(&list[0], want) {
			t.Fatalf("the listed order differs:\n got  %+v\n want %+v", list, want)
		}

		// Through a later save too, with every field changed.
		next := fullOrder(want.ID, "a", base)
		mutateEverything(next)
		next.ID, next.CustomerID, next.CreatedAt, next.Version = want.ID, want.CustomerID, want.CreatedAt, want.Version+1
		ev := order.Event{OrderID: next.ID, Version: next.Version, At: next.UpdatedAt, From: want.Status, To: next.Status,
			Reason: "redriven", Actor: "ops:bob"}
		if err := s.SaveTransition(ctx, next, ev); err != nil {
			t.Fatal(err)
		}
		saved := deepCopy(next)
		mutateEverything(next)
		if got, _ := s.GetOrder(ctx, want.ID); !reflect.DeepEqual(got, saved) {
			t.Fatalf("after SaveTransition:\n got  %+v\n want %+v", got, saved)
		}
		h, err := s.History(ctx, want.ID)
		if err != nil || !reflect.DeepEqual(h, []order.Event{first, ev}) {
			t.Fatalf("history %+v (%v), want %+v", h, err, []order.Event{first, ev})
		}
		h[0].Actor = "changed"
		if again, _ := s.History(ctx, want.ID); again[0].Actor != first.Actor {
			t.Fatal("a change to returned history reached the store")
		}
	})

	t.Run("optional fields stay absent", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KREAD000000000000000002", "a", base)
		o.Shipping = nil // free shipping
		o.Incoterm = ""
		o.Consignee.Address.Line2, o.Consignee.Address.Region = "", ""
		create(t, s, o)
		got, err := s.GetOrder(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(got, o) || got.Shipping != nil || got.Charge != nil {
			t.Fatalf("round trip: %+v %v, want %+v", got, err, o)
		}
	})

	t.Run("missing orders", func(t *testing.T) {
		s := newStore(t)
		if o, err := s.GetOrder(ctx, "01KZZZZZZZZZZZZZZZZZZZZZZZ"); !errors.Is(err, order.ErrNotFound) || o != nil {
			t.Fatalf("missing order: %v %v, want ErrNotFound", o, err)
		}
		if h, err := s.History(ctx, "01KZZZZZZZZZZZZZZZZZZZZZZZ"); err != nil || len(h) != 0 {
			t.Fatalf("history of a missing order: %v %v, want none", h, err)
		}
	})
}

// runTransitions: SaveTransition is versioned and appends history.
func runTransitions(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("versioned writes with history, in order", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KSAVE000000000000000001", "a", base)
		create(t, s, o)
		stale := *o
		ev, err := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
		// A writer that read version 1 loses.
		staleEv, _ := stale.Transition(order.StatusRejected, "out_of_stock", "workflow", base.Add(2*time.Second))
		if err := s.SaveTransition(ctx, &stale, staleEv); !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("stale write: %v, want ErrVersionConflict", err)
		}
		// So does one that skips a version.
		ahead := *o
		ahead.Version++
		aheadEv, _ := ahead.Transition(order.StatusPaymentAuthorized, "", "workflow", base.Add(2*time.Second))
		if err := s.SaveTransition(ctx, &ahead, aheadEv); !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("write two versions ahead: %v, want ErrVersionConflict", err)
		}
		if got, _ := s.GetOrder(ctx, o.ID); !reflect.DeepEqual(got, o) {
			t.Fatalf("refused writes changed the order: %+v", got)
		}
		// A change that is not a status change is versioned the same way.
		note := o.Note("payment_authorized", "workflow", base.Add(3*time.Second))
		o.Charge = &order.Charge{ID: "ch_1", Status: order.ChargeAuthorized, Amount: o.Total}
		if err := s.SaveTransition(ctx, o, note); err != nil {
			t.Fatal(err)
		}
		ev3, _ := o.Transition(order.StatusPaymentDeclined, "card_declined", "workflow", base.Add(4*time.Second))
		if err := s.SaveTransition(ctx, o, ev3); err != nil {
			t.Fatal(err)
		}
		got, _ := s.GetOrder(ctx, o.ID)
		if !reflect.DeepEqual(got, o) || got.Version != 4 || got.Status != order.StatusPaymentDeclined || got.Reason != "card_declined" {
			t.Fatalf("after the transitions: %+v, want %+v", got, o)
		}
		h, _ := s.History(ctx, o.ID)
		var trail []string
		for _, e := range h {
			trail = append(trail, fmt.Sprintf("%d:%s>%s:%s", e.Version, e.From, e.To, e.Reason))
		}
		if want := "[1:>RECEIVED: 2:RECEIVED>STOCK_RESERVED: 3:STOCK_RESERVED>STOCK_RESERVED:payment_authorized 4:STOCK_RESERVED>PAYMENT_DECLINED:card_declined]"; fmt.Sprint(trail) != want {
			t.Fatalf("history %v\nwant     %v", trail, want)
		}
	})

	t.Run("a change that clears fields clears them", func(t *testing.T) {
		s := newStore(t)
		o := fullOrder("01KSAVE000000000000000004", "a", base)
		if _, err := s.CreateOrder(ctx, o, firstEvent(o), Completed("customer:a", "k", o.ID, base), base); err != nil {
			t.Fatal(err)
		}
		o.Charge, o.Shipping, o.Customs.Decision, o.Customs.Quoted, o.TaskToken, o.Lines = nil, nil, nil, nil, "", o.Lines[:1]
		o.CancelRequested, o.Customs.Resubmits = false, 0
		if err := s.SaveTransition(ctx, o, o.Note("cleared_for_test", "test", base.Add(time.Minute))); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.GetOrder(ctx, o.ID); !reflect.DeepEqual(got, o) {
			t.Fatalf("after clearing:\n got  %+v\n want %+v", got, o)
		}
	})

	t.Run("a missing order is ErrNotFound", func(t *testing.T) {
		s := newStore(t)
		ghost := Order("01KSAVE000000000000000002", "a", base)
		ev, _ := ghost.Transition(order.StatusStockReserved, "", "workflow", base)
		if err := s.SaveTransition(ctx, ghost, ev); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("transition of a missing order: %v, want ErrNotFound", err)
		}
		mustNotExist(t, s, ghost.ID, "a refused transition")
	})

	t.Run("an event that does not match the order is refused", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KSAVE000000000000000003", "a", base)
		create(t, s, o)
		moved := *o
		ev, _ := moved.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		for name, bad := range map[string]order.Event{
			"other order":   {OrderID: "01KSAVE000000000000000099", Version: ev.Version, At: ev.At, From: ev.From, To: ev.To, Actor: ev.Actor},
			"other version": {OrderID: ev.OrderID, Version: ev.Version + 1, At: ev.At, From: ev.From, To: ev.To, Actor: ev.Actor},
		} {
			if err := s.SaveTransition(ctx, &moved, bad); err == nil || errors.Is(err, order.ErrVersionConflict) {
				t.Fatalf("%s: %v, want a plain error", name, err)
			}
		}
		if got, _ := s.GetOrder(ctx, o.ID); got.Version != 1 {
			t.Fatalf("a refused save changed the order: %+v", got)
		}
		if h, _ := s.History(ctx, o.ID); len(h) != 1 {
			t.Fatalf("a refused save wrote history: %+v", h)
		}
		mustNotExist(t, s, "01KSAVE000000000000000099", "an event of another order")
	})
}
