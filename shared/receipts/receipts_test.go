package receipts_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/storetest"
)

var at = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func declared(t *testing.T, s *memstore.Store, id string) *order.Order {
	t.Helper()
	o := storetest.Order(id, "alice", at)
	if _, err := s.CreateOrder(context.Background(), o, order.Event{OrderID: id, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", id, id, at), at); err != nil {
		t.Fatal(err)
	}
	msgs := []order.CustomsMessage{{Type: "CEB303", XML: "<x/>", At: at}, {Type: "CEB603", XML: "<x/>", At: at}}
	if _, err := s.PutCustomsDocuments(context.Background(), id, order.CustomsDocuments{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	return o
}

func orderReceipt(t *testing.T, orderNo string, status int, sec int) []byte {
	t.Helper()
	x, err := ceb.RenderReceipt("CEB304", []ceb.Return{{GUID: ceb.GUID(orderNo, "CEB304", fmt.Sprint(status)), EbpCode: "E", EbcCode: "C",
		OrderNo: orderNo, Status: status, Time: at.Add(time.Duration(sec) * time.Second)}})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// Receipts recorded while the workflow changes the order are all kept,
// each once, however often and concurrently they are delivered.
func TestRecordUnderConcurrentChanges(t *testing.T) {
	s := memstore.New()
	o := declared(t, s, "01KRECEIPTS0000000000000001")
	r := &receipts.Recorder{Orders: s}
	ctx := context.Background()
	var wg sync.WaitGroup
	statuses := []int{2, 3, 120, 300, 399}
	for _, st := range statuses {
		for range 3 { // the E-Port resends
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := r.Record(ctx, orderReceipt(t, o.ID, st, st), at); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Add(1)
	go func() { // the workflow notes things meanwhile
		defer wg.Done()
		for i := range 20 {
			for {
				cur, _ := s.GetOrder(ctx, o.ID)
				if err := s.SaveTransition(ctx, cur, cur.Note(fmt.Sprint("workflow_note_", i), "workflow", at)); !errors.Is(err, order.ErrVersionConflict) {
					break
				}
			}
		}
	}()
	wg.Wait()
	if got, _ := s.CustomsReceipts(ctx, o.ID); len(got) != len(statuses) {
		t.Fatalf("%d receipts kept, want %d: %+v", len(got), len(statuses), got)
	}
	hist, _ := s.History(ctx, o.ID)
	notes := 0
	for _, e := range hist {
		if e.Actor == receipts.Actor {
			notes++
		}
	}
	if notes != len(statuses) {
		t.Fatalf("%d receipt notes, want %d", notes, len(statuses))
	}
}

func TestRecordRefusesWhatItCannotMatch(t *testing.T) {
	s := memstore.New()
	o := declared(t, s, "01KRECEIPTS0000000000000002")
	r := &receipts.Recorder{Orders: s}
	ctx := context.Background()
	two, err := ceb.RenderReceipt("CEB304", []ceb.Return{
		{GUID: ceb.GUID("a", "b", "c"), EbpCode: "E", EbcCode: "C", OrderNo: o.ID, Status: 399, Time: at},
		{GUID: ceb.GUID("a", "b", "d"), EbpCode: "E", EbcCode: "C", OrderNo: "01KSOMEONEELSE", Status: 399, Time: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Record(ctx, two, at)
	var unknown *receipts.UnknownError
	if !errors.As(err, &unknown) || !errors.Is(err, receipts.ErrUnknown) || unknown.Ref != "orderNo:01KSOMEONEELSE" {
		t.Fatalf("err = %v", err)
	}
	if got, _ := s.CustomsReceipts(ctx, o.ID); len(got) != 0 {
		t.Fatal("a receipt with an unknown return was half recorded")
	}
	wb, _ := ceb.RenderReceipt("CEB506", []ceb.Return{{GUID: ceb.GUID("a", "b", "e"), LogisticsCode: "L", LogisticsNo: "XB1", Status: 399, Time: at}})
	if _, err := r.Record(ctx, wb, at); !errors.As(err, &unknown) {
		t.Fatalf("a waybill nobody declared: %v", err)
	}
	if err := s.PutReferences(ctx, o.ID, []string{"logisticsNo:XB1"}); err != nil {
		t.Fatal(err)
	}
	// The reference is known now, but the order has no CEB505 message.
	if _, err := r.Record(ctx, wb, at); !errors.As(err, &unknown) || unknown.Problem != "order "+o.ID+" has no CEB505 message" {
		t.Fatalf("a receipt for an undeclared message: %v", err)
	}
	var bad *ceb.ReceiptError
	if _, err := r.Record(ctx, []byte("<nope/>"), at); !errors.As(err, &bad) {
		t.Fatalf("garbage: %v", err)
	}
}

// Receipts leave the order alone but for the one that settles its wait for
// China's customs: that one is noted on the order (its Decision, the
// order's next version) and wakes the waiting step, once — a resent
// release, and what comes after it, wake nothing.
func TestOnlyTheSettlingReceiptWritesTheOrderAndWakes(t *testing.T) {
	s := memstore.New()
	ctx := context.Background()
	o := declared(t, s, "01KRECEIPTS0000000000000003")
	o.Customs, o.TaskToken = &order.CustomsRecord{AwaitingChina: true}, "t-1"
	if err := s.SaveTransition(ctx, o, o.Note("submitted_to_china_eport", "workflow", at)); err != nil {
		t.Fatal(err)
	}
	var woken []string
	r := &receipts.Recorder{Orders: s, Wake: receipts.WakeFunc(func(_ context.Context, id, token string) error {
		woken = append(woken, id+" "+token)
		return nil
	})}
	record := func(status, sec int) receipts.Result {
		t.Helper()
		res, err := r.Record(ctx, orderReceipt(t, o.ID, status, sec), at.Add(time.Duration(sec)*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return res[0]
	}
	version := func() int64 {
		got, _ := s.GetOrder(ctx, o.ID)
		return got.Version
	}
	record(120, 1)
	record(399, 2)
	if v := version(); v != o.Version || len(woken) != 0 {
		t.Fatalf("pending receipts: version %d (want %d), woken %v", v, o.Version, woken)
	}
	if res := record(100, 3); !res.Recorded || res.Outcome != "rejected" {
		t.Fatalf("the rejection: %+v", res)
	}
	got, _ := s.GetOrder(ctx, o.ID)
	if got.Version != o.Version+1 || got.Customs.Decision == nil || got.Customs.Decision.Outcome != "rejected" ||
		got.Customs.Decision.Status != 100 || len(woken) != 1 || woken[0] != o.ID+" t-1" {
		t.Fatalf("after the rejection: version %d, decision %+v, woken %v", got.Version, got.Customs.Decision, woken)
	}
	if res := record(100, 3); res.Recorded {
		t.Fatal("the resent rejection was recorded again")
	}
	record(800, 4)
	if v := version(); v != o.Version+1 || len(woken) != 1 {
		t.Fatalf("after the settling receipt: version %d, woken %v", v, woken)
	}
	h, _ := s.History(ctx, o.ID)
	var trail []string
	for _, e := range h[1:] {
		trail = append(trail, fmt.Sprintf("%d:%s", e.Version, e.Reason))
	}
	if want := "[2:submitted_to_china_eport 2:customs_receipt:CEB304:120:pending 2:customs_receipt:CEB304:399:cleared " +
		"3:customs_receipt:CEB304:100:rejected 3:customs_receipt:CEB304:800:released]"; fmt.Sprint(trail) != want {
		t.Fatalf("history %v\nwant    %s", trail, want)
	}
}
