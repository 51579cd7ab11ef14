package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// unchanged fails unless the stored order is still want and its history
// holds n events: what is kept beside an order never writes the order.
func unchanged(t *testing.T, s Store, want *order.Order, n int, what string) []order.Event {
	t.Helper()
	ctx := context.Background()
	if got, err := s.GetOrder(ctx, want.ID); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("%s changed the order:\n got  %+v (%v)\n want %+v", what, got, err, want)
	}
	h, err := s.History(ctx, want.ID)
	if err != nil || len(h) != n {
		t.Fatalf("%s: history %+v (%v), want %d events", what, h, err, n)
	}
	return h
}

// message is a rendered CEB message of type typ.
func message(typ string, at time.Time) order.CustomsMessage {
	return order.CustomsMessage{Type: typ, At: at,
		XML: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ceb:` + typ + `Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G-` + typ +
			`" version="1.0"><ceb:itemName>棉制针织男式T恤衫</ceb:itemName></ceb:` + typ + `Message>`}
}

// runDocuments: the customs declaration and messages are written once,
// beside the order, and read back whole.
func runDocuments(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("written once, read back, the order untouched", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KDOCS0000000000000000001", "a", base)
		create(t, s, o)
		decl := json.RawMessage(`{"declarationId":"9610-2026-000123","china":{"Order":{"BuyerIDNumber":"110101199003070038"}},"lines":[1,2]}`)
		first := order.CustomsDocuments{Declaration: decl, Messages: []order.CustomsMessage{message("CEB303", base), message("CEB603", base.Add(time.Second))}}
		got, err := s.PutCustomsDocuments(ctx, o.ID, first)
		if err != nil || !reflect.DeepEqual(got, first) {
			t.Fatalf("PutCustomsDocuments: %+v %v, want what was given", got, err)
		}
		unchanged(t, s, o, 1, "storing the documents")

		// Filed again (a retried step): what is stored stays, and comes back.
		again := order.CustomsDocuments{Declaration: json.RawMessage(`{"declarationId":"other"}`),
			Messages: []order.CustomsMessage{message("CEB303", base.Add(time.Hour)), message("CEB505", base.Add(time.Hour))}}
		again.Messages[0].XML = "<changed/>"
		got, err = s.PutCustomsDocuments(ctx, o.ID, again)
		want := order.CustomsDocuments{Declaration: decl, Messages: []order.CustomsMessage{first.Messages[0], again.Messages[1]}}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("filed again: %+v %v\nwant %+v", got, err, want)
		}
		docs, err := s.CustomsDocuments(ctx, o.ID)
		want = order.CustomsDocuments{Declaration: decl, Messages: []order.CustomsMessage{first.Messages[0], again.Messages[1], first.Messages[1]}}
		if err != nil || !reflect.DeepEqual(docs, want) {
			t.Fatalf("CustomsDocuments: %+v %v\nwant %+v (messages by type)", docs, err, want)
		}
		if d, err := s.CustomsDeclaration(ctx, o.ID); err != nil || string(d) != string(decl) {
			t.Fatalf("CustomsDeclaration: %s %v", d, err)
		}
		if m, err := s.CustomsMessage(ctx, o.ID, "CEB603"); err != nil || !reflect.DeepEqual(m, first.Messages[1]) {
			t.Fatalf("CustomsMessage: %+v %v", m, err)
		}
		if _, err := s.CustomsMessage(ctx, o.ID, "CEB403"); !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("a message never rendered: %v, want order.ErrNotFound", err)
		}
		if _, err := s.PutCustomsDocuments(ctx, o.ID, order.CustomsDocuments{Receipts: []order.CustomsReceipt{fullReceipt(base)}}); err == nil {
			t.Fatal("receipts are recorded by RecordReceipt, not stored with the documents")
		}
		unchanged(t, s, o, 1, "the documents")
	})

	t.Run("nothing is shared with callers", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KDOCS0000000000000000002", "a", base)
		create(t, s, o)
		in := order.CustomsDocuments{Declaration: json.RawMessage(`{"a":1}`), Messages: []order.CustomsMessage{message("CEB303", base)}}
		want := deepCopy(&in)
		out, err := s.PutCustomsDocuments(ctx, o.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		in.Declaration[2] = 'b'
		mutateEverything(&in)
		mutateEverything(&out)
		if out.Declaration != nil {
			out.Declaration[2] = 'c'
		}
		got, _ := s.CustomsDocuments(ctx, o.ID)
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("a change to what was given or returned reached the store:\n got  %+v\n want %+v", got, want)
		}
		got.Declaration[2] = 'd'
		if d, _ := s.CustomsDeclaration(ctx, o.ID); string(d) != `{"a":1}` {
			t.Fatalf("a change to a returned declaration reached the store: %s", d)
		}
	})

	t.Run("none", func(t *testing.T) {
		s := newStore(t)
		for _, id := range []string{"01KDOCS0000000000000000003", "01KZZZZZZZZZZZZZZZZZZZZZZZ"} {
			if id != "01KZZZZZZZZZZZZZZZZZZZZZZZ" {
				create(t, s, Order(id, "a", base))
			}
			if d, err := s.CustomsDocuments(ctx, id); err != nil || d.Declaration != nil || len(d.Messages) != 0 || len(d.Receipts) != 0 {
				t.Fatalf("%s: documents %+v %v, want none", id, d, err)
			}
			if _, err := s.CustomsDeclaration(ctx, id); !errors.Is(err, order.ErrNotFound) {
				t.Fatalf("%s: declaration: %v, want order.ErrNotFound", id, err)
			}
			if rs, err := s.CustomsReceipts(ctx, id); err != nil || len(rs) != 0 {
				t.Fatalf("%s: receipts %v %v", id, rs, err)
			}
			if c, err := s.Callbacks(ctx, id); err != nil || c.DeliveredVersion != 0 || len(c.Attempts) != 0 {
				t.Fatalf("%s: callbacks %+v %v", id, c, err)
			}
		}
	})
}

// fullReceipt is a receipt with every field set.
func fullReceipt(at time.Time) order.CustomsReceipt {
	return order.CustomsReceipt{Type: "CEB604", Answers: "CEB603", GUID: "4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02", Status: 120,
		Meaning: "stored by customs", Outcome: "pending", Info: "入库 — stored", InvtNo: "514120261000000001", PreNo: "I20261124000000001",
		At: at, ReceivedAt: at.Add(time.Second + 987654321)}
}

// runReceipts: a receipt is recorded once, as an item of its own with its
// note; the one that settles a wait saves the order with it.
func runReceipts(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()

	t.Run("each once, with its note, the order untouched", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KRCPT0000000000000000001", "a", base)
		create(t, s, o)
		ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
		if err := s.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
		r1 := fullReceipt(base.Add(time.Minute))
		everyFieldSet(t, r1)
		r2 := r1
		r2.Status, r2.Outcome, r2.Info, r2.At, r2.ReceivedAt = 399, "cleared", "", r1.At.Add(time.Second), r1.ReceivedAt.Add(time.Minute)
		r1Later := r1 // the same return, another time: another receipt
		r1Later.At, r1Later.ReceivedAt = r1.At.Add(time.Hour), r1.ReceivedAt.Add(time.Hour)
		for i, r := range []order.CustomsReceipt{r1, r2, r1, r1Later, r2} {
			note := o.Annotate(fmt.Sprintf("customs_receipt:%s:%d:%s", r.Type, r.Status, r.Outcome), "china-eport", r.ReceivedAt)
			ok, err := s.RecordReceipt(ctx, o.ID, r, note)
			if err != nil || ok != (i != 2 && i != 4) {
				t.Fatalf("receipt %d: recorded %v, %v", i, ok, err)
			}
		}
		if _, err := s.RecordReceipt(ctx, o.ID, r1, order.Event{OrderID: "01KSOMEONEELSE", Version: 2}); err == nil {
			t.Fatal("a note of another order was taken")
		}
		h := unchanged(t, s, o, 5, "the receipts")
		for i, e := range h[2:] {
			if e.Version != 2 || e.From != e.To || e.To != order.StatusStockReserved || e.Actor != "china-eport" {
				t.Fatalf("note %d: %+v, want an annotation of version 2", i, e)
			}
		}
		if h[2].Reason != "customs_receipt:CEB604:120:pending" || h[3].Reason != "customs_receipt:CEB604:399:cleared" {
			t.Fatalf("notes %+v, want in the order they were recorded", h[2:])
		}
		rs, err := s.CustomsReceipts(ctx, o.ID)
		if err != nil || !reflect.DeepEqual(rs, []order.CustomsReceipt{r1, r2, r1Later}) {
			t.Fatalf("receipts %+v %v, want each once, in the order they arrived", rs, err)
		}
		docs, _ := s.CustomsDocuments(ctx, o.ID)
		if !reflect.DeepEqual(docs.Receipts, rs) {
			t.Fatalf("CustomsDocuments' receipts %+v", docs.Receipts)
		}
		rs[0].Info = "changed"
		if again, _ := s.CustomsReceipts(ctx, o.ID); again[0].Info != r1.Info {
			t.Fatal("a change to a returned receipt reached the store")
		}
	})

	t.Run("the settling receipt saves the order with it", func(t *testing.T) {
		s := newStore(t)
		o := Order("01KRCPT0000000000000000002", "a", base)
		create(t, s, o)
		pending := fullReceipt(base.Add(time.Minute))
		if ok, err := s.RecordReceipt(ctx, o.ID, pending, o.Annotate("customs_receipt:pending", "china-eport", pending.ReceivedAt)); !ok || err != nil {
			t.Fatalf("pending receipt: %v %v", ok, err)
		}
		stale := deepCopy(o)
		released := pending
		released.Status, released.Outcome, released.At, released.ReceivedAt = 800, "released", pending.At.Add(time.Minute), pending.ReceivedAt.Add(time.Minute)
		o.Customs = &order.CustomsRecord{AwaitingChina: true,
			Decision: &order.ChinaDecision{Outcome: "released", Answers: "CEB603", Status: 800, At: released.ReceivedAt}}
		ev := o.Note("customs_receipt:CEB604:800:released", "china-eport", released.ReceivedAt)
		if ok, err := s.SettleReceipt(ctx, o, released, ev); !ok || err != nil {
			t.Fatalf("SettleReceipt: %v %v", ok, err)
		}
		h := unchanged(t, s, o, 3, "the settling receipt")
		if h[1].Reason != "customs_receipt:pending" || h[2] != ev {
			t.Fatalf("history %+v: the settling receipt's note is the order's event of its new version, after the notes before it", h)
		}
		if rs, _ := s.CustomsReceipts(ctx, o.ID); !reflect.DeepEqual(rs, []order.CustomsReceipt{pending, released}) {
			t.Fatalf("receipts %+v", rs)
		}
		// The same receipt again: nothing, whatever the order.
		moved := deepCopy(o)
		if ok, err := s.SettleReceipt(ctx, moved, released, moved.Note("again", "china-eport", base.Add(time.Hour))); ok || err != nil {
			t.Fatalf("settled again: %v %v", ok, err)
		}
		unchanged(t, s, o, 3, "a settling receipt recorded before")
		// A new receipt with an order read before: a version conflict, nothing written.
		rejected := released
		rejected.Answers, rejected.Status, rejected.Outcome = "CEB303", 100, "rejected"
		if ok, err := s.SettleReceipt(ctx, stale, rejected, stale.Note("stale", "china-eport", base.Add(time.Hour))); ok || !errors.Is(err, order.ErrVersionConflict) {
			t.Fatalf("a stale order: %v %v, want order.ErrVersionConflict", ok, err)
		}
		unchanged(t, s, o, 3, "a refused settling receipt")
		if rs, _ := s.CustomsReceipts(ctx, o.ID); len(rs) != 2 {
			t.Fatalf("a refused settling receipt was recorded: %+v", rs)
		}
		ghost := Order("01KRCPT0000000000000000099", "a", base)
		if ok, err := s.SettleReceipt(ctx, ghost, rejected, ghost.Note("ghost", "china-eport", base)); ok || !errors.Is(err, order.ErrNotFound) {
			t.Fatalf("a missing order: %v %v, want order.ErrNotFound", ok, err)
		}
		mustNotExist(t, s, ghost.ID, "a settling receipt of a missing order")
	})
}

// runCallbacks: every attempt is kept with its note; the delivered version
// only moves up, once per version.
func runCallbacks(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	o := Order("01KCALLBACK000000000000001", "a", base)
	create(t, s, o)
	ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", base.Add(time.Second))
	if err := s.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	at := base.Add(time.Minute)
	failed := order.CallbackAttempt{Version: 2, Status: order.StatusStockReserved, At: at, HTTPStatus: 503, Error: "partner answered 503"}
	delivered := order.CallbackAttempt{Version: 2, Status: order.StatusStockReserved, At: at.Add(time.Minute), HTTPStatus: 204, Delivered: true}
	twice := delivered // another sender POSTed too
	twice.At = twice.At.Add(time.Second)
	first := order.CallbackAttempt{Version: 1, Status: order.StatusReceived, At: at.Add(time.Hour), HTTPStatus: 200, Delivered: true}
	for i, tc := range []struct {
		a    order.CallbackAttempt
		note string
		ok   bool
	}{
		{failed, "callback_failed:STOCK_RESERVED", true},
		{failed, "callback_failed:STOCK_RESERVED", false}, // the same attempt again
		{delivered, "callback_delivered:STOCK_RESERVED", true},
		{twice, "callback_delivered:STOCK_RESERVED", false},
		{first, "callback_delivered:RECEIVED", false}, // below what was delivered
	} {
		ok, err := s.RecordCallback(ctx, o.ID, tc.a, o.Annotate(tc.note, "callbacks", tc.a.At))
		if err != nil || ok != tc.ok {
			t.Fatalf("attempt %d: recorded %v, %v; want %v", i, ok, err, tc.ok)
		}
	}
	h := unchanged(t, s, o, 4, "the callbacks")
	if h[2].Reason != "callback_failed:STOCK_RESERVED" || h[3].Reason != "callback_delivered:STOCK_RESERVED" || h[3].Version != 2 {
		t.Fatalf("notes %+v", h[2:])
	}
	rec, err := s.Callbacks(ctx, o.ID)
	want := order.CallbackRecord{DeliveredVersion: 2, Attempts: []order.CallbackAttempt{failed, delivered}}
	if err != nil || !reflect.DeepEqual(rec, want) {
		t.Fatalf("Callbacks: %+v %v\nwant %+v", rec, err, want)
	}
	next := order.CallbackAttempt{Version: 3, Status: order.StatusPaymentAuthorized, At: at.Add(2 * time.Hour), HTTPStatus: 200, Delivered: true}
	if ok, err := s.RecordCallback(ctx, o.ID, next, o.Annotate("callback_delivered:PAYMENT_AUTHORIZED", "callbacks", next.At)); !ok || err != nil {
		t.Fatalf("the next version: %v %v", ok, err)
	}
	if rec, _ := s.Callbacks(ctx, o.ID); rec.DeliveredVersion != 3 || len(rec.Attempts) != 3 {
		t.Fatalf("after the next version: %+v", rec)
	}
	if _, err := s.RecordCallback(ctx, o.ID, next, order.Event{OrderID: "01KSOMEONEELSE", Version: 2}); err == nil {
		t.Fatal("a note of another order was taken")
	}
}
