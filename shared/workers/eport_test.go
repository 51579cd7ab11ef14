package workers

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
)

// The customs step submits a CN export's messages to the E-Port and
// records the references its receipts name; the simulated E-Port answers
// every message, and the receipts land on the order — once, however often
// the step runs.
func TestCustomsSubmitsToTheEPortAndReceiptsComeBack(t *testing.T) {
	f := newFixture()
	o := f.newOrder(t, 60, order.StatusPaymentAuthorized, onDay)
	eport := &EPortSimulator{Deliver: DeliverTo(&receipts.Recorder{Orders: f.store}), Logger: slog.New(slog.DiscardHandler)}
	defer eport.Close()
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	w.SetEPort(eport)
	for range 2 { // SQS redelivers: the second run finds the order cleared
		if resp, _ := w.Handle(context.Background(), batch(TaskMessage{o.ID, "t-" + o.ID})); len(resp.BatchItemFailures) != 0 {
			t.Fatalf("failed: %+v", resp)
		}
	}
	eport.Drain()
	got, err := f.store.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != order.StatusCustomsCleared || len(got.Customs.Messages) != 4 {
		t.Fatalf("status %s with %d messages", got.Status, len(got.Customs.Messages))
	}
	if id, err := f.store.OrderByReference(context.Background(), ceb.RefLogisticsNo+WaybillNumber(o)); err != nil || id != o.ID {
		t.Fatalf("the waybill number names %q, %v", id, err)
	}
	var seen []string
	for _, r := range got.Customs.Receipts {
		seen = append(seen, r.Type+":"+strings.TrimSpace(r.Outcome))
	}
	want := []string{"CEB304:pending", "CEB304:cleared", "CEB404:pending", "CEB404:cleared", "CEB506:pending", "CEB506:cleared",
		"CEB604:pending", "CEB604:cleared", "CEB604:released"}
	if !slices.Equal(seen, want) {
		t.Fatalf("receipts %v, want %v", seen, want)
	}
	hist, _ := f.store.History(context.Background(), o.ID)
	notes := 0
	for _, e := range hist {
		if strings.HasPrefix(e.Reason, "customs_receipt:") && e.Actor == receipts.Actor {
			notes++
		}
	}
	if notes != len(want) {
		t.Fatalf("%d receipt notes in the history, want %d", notes, len(want))
	}
	if last := got.Customs.Receipts[len(got.Customs.Receipts)-1]; last.InvtNo == "" || len(last.PreNo) != 18 {
		t.Fatalf("the release carries no inventory number: %+v", last)
	}
}

// The demonstration options give the registered Chinese names and
// declaration elements of the goods, which the messages carry.
func TestCEBMessagesCarryTheRegisteredChineseNames(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 95, "mobile-b2c-de.json", nil)
	got, _, logs := clearLogged(t, f, o)
	if len(got.Customs.Messages) != 4 {
		t.Fatalf("%d messages\n%s", len(got.Customs.Messages), logs)
	}
	inv := got.Customs.Messages[3].XML
	for _, want := range []string{"<ceb:gname>棉制针织男式T恤衫</ceb:gname>", "<ceb:gmodel>T恤衫|日常穿着|针织|棉100%|无品牌|M码</ceb:gmodel>",
		"<ceb:gname>无线蓝牙耳机</ceb:gname>"} {
		if !strings.Contains(inv, want) {
			t.Errorf("CEB603 lacks %s", want)
		}
	}
	if !strings.Contains(got.Customs.Messages[0].XML, "<ceb:itemName>棉制针织男式T恤衫</ceb:itemName>") {
		t.Error("CEB303 lacks the Chinese name")
	}
}
