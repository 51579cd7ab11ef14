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
	o.Customs = &order.CustomsRecord{Messages: []order.CustomsMessage{{Type: "CEB303", XML: "<x/>", At: at}, {Type: "CEB603", XML: "<x/>", At: at}}}
	if _, err := s.CreateOrder(context.Background(), o, order.Event{OrderID: id, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", id, id, at), at); err != nil {
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
	got, _ := s.GetOrder(ctx, o.ID)
	if len(got.Customs.Receipts) != len(statuses) {
		t.Fatalf("%d receipts kept, want %d: %+v", len(got.Customs.Receipts), len(statuses), got.Customs.Receipts)
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
	if got, _ := s.GetOrder(ctx, o.ID); len(got.Customs.Receipts) != 0 {
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
