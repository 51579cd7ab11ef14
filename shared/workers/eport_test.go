package workers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
)

// gatedCustoms is a customs worker with the simulated E-Port, whose
// receipts wake the step in process as the customs queue would.
func gatedCustoms(t *testing.T, f *fixture) (*Customs, *EPortSimulator) {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, log)
	wake := receipts.WakeFunc(func(ctx context.Context, id, token string) error {
		resp, err := w.Handle(ctx, batch(TaskMessage{OrderID: id, TaskToken: token}))
		if err == nil && len(resp.BatchItemFailures) != 0 {
			err = fmt.Errorf("the woken step failed: %+v", resp)
		}
		return err
	})
	eport := &EPortSimulator{Deliver: DeliverTo(&receipts.Recorder{Orders: f.store, Wake: wake, Logger: log}), Logger: log}
	t.Cleanup(eport.Close)
	w.SetEPort(eport)
	return w, eport
}

func (l *taskLog) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.answers...)
}

// With an E-Port, the customs step submits a CN export's messages and
// waits: the workflow hears nothing until China's customs release the
// inventory list. The receipts, matched by order number or by the
// references the step recorded, wake it; it then clears the order — once,
// however often the step or its messages run.
func TestCustomsWaitsForChinasReleaseThenClears(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 60, "mobile-b2c-de.json", nil)
	w, eport := gatedCustoms(t, f)
	token := TaskMessage{OrderID: o.ID, TaskToken: "t-" + o.ID}
	eport.Delay = 50 * time.Millisecond
	if resp, _ := w.Handle(context.Background(), batch(token)); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failed: %+v", resp)
	}
	waiting, _ := f.store.GetOrder(context.Background(), o.ID)
	if waiting.Status != order.StatusPaymentAuthorized || !waiting.Customs.AwaitingChina || waiting.Customs.SubmittedAt.IsZero() ||
		len(docsOf(t, f, waiting.ID).Messages) != 4 || len(f.tasks.list()) != 0 {
		t.Fatalf("before the receipts: %s, awaiting %v, %d messages, answers %v", waiting.Status, waiting.Customs.AwaitingChina,
			len(docsOf(t, f, waiting.ID).Messages), f.tasks.list())
	}
	eport.Drain()
	if resp, _ := w.Handle(context.Background(), batch(token)); len(resp.BatchItemFailures) != 0 { // SQS redelivers
		t.Fatalf("failed: %+v", resp)
	}
	got, err := f.store.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != order.StatusCustomsCleared || got.Customs.AwaitingChina {
		t.Fatalf("status %s, awaiting %v", got.Status, got.Customs.AwaitingChina)
	}
	for _, a := range f.tasks.list() {
		if a != "t-"+o.ID+` success {"declaration":"CD-`+o.ID+`"}` {
			t.Fatalf("answer %q", a)
		}
	}
	if id, err := f.store.OrderByReference(context.Background(), ceb.RefLogisticsNo+WaybillNumber(o)); err != nil || id != o.ID {
		t.Fatalf("the waybill number names %q, %v", id, err)
	}
	var seen []string
	for _, r := range docsOf(t, f, got.ID).Receipts {
		seen = append(seen, r.Type+":"+r.Outcome)
	}
	want := []string{"CEB304:pending", "CEB304:cleared", "CEB404:pending", "CEB404:cleared", "CEB506:pending", "CEB506:cleared",
		"CEB604:pending", "CEB604:cleared", "CEB604:released"}
	if !slices.Equal(seen, want) {
		t.Fatalf("receipts %v, want %v", seen, want)
	}
	// The history: submitted, every receipt once, then cleared by China's release.
	hist, _ := f.store.History(context.Background(), o.ID)
	var reasons []string
	cleared := -1
	for i, e := range hist {
		if strings.HasPrefix(e.Reason, "customs_receipt:") || e.Reason == "submitted_to_china_eport" {
			reasons = append(reasons, e.Reason)
		}
		if e.To == order.StatusCustomsCleared && e.From != e.To {
			cleared = i
			if e.Actor != receipts.Actor {
				t.Errorf("cleared by %q", e.Actor)
			}
		}
	}
	if len(reasons) != 1+len(want) || reasons[0] != "submitted_to_china_eport" {
		t.Fatalf("history %v", reasons)
	}
	if cleared < 0 || hist[cleared-1].Reason != "customs_receipt:CEB604:800:released" {
		t.Fatalf("cleared at %d, not right after the release: %+v", cleared, hist)
	}
	if last := docsOf(t, f, got.ID).Receipts[len(docsOf(t, f, got.ID).Receipts)-1]; last.InvtNo == "" || len(last.PreNo) != 18 {
		t.Fatalf("the release carries no inventory number: %+v", last)
	}
}

// Customs rejects an order whose goods are declared under a name that is
// not Chinese (here, goods missing from the merchant's register): the
// step refuses the order with china_customs_rejected, and the workflow
// compensates.
func TestCustomsRefusesWhatChinasCustomsReject(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 61, "mobile-b2c-de.json", func(d *order.Draft) { d.Lines[1].SKU = "EARBUDS-UNREGISTERED" })
	w, eport := gatedCustoms(t, f)
	if resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-" + o.ID})); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failed: %+v", resp)
	}
	eport.Drain()
	answers := f.tasks.list()
	if len(answers) == 0 || answers[0] != "t-"+o.ID+" CustomsRejected china_customs_rejected" {
		t.Fatalf("answers %v", answers)
	}
	got, _ := f.store.GetOrder(context.Background(), o.ID)
	rejected := false
	for _, r := range docsOf(t, f, got.ID).Receipts {
		rejected = rejected || (r.Status == 100 && strings.Contains(r.Info, "商品名称"))
	}
	if !rejected || got.Status == order.StatusCustomsCleared {
		t.Fatalf("status %s, receipts %+v", got.Status, docsOf(t, f, got.ID).Receipts)
	}
}

// Without an E-Port the step does not wait: the messages are kept for an
// operator, and the broker's answer clears the order.
func TestCustomsWithoutAnEPortDoesNotWait(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 62, "mobile-b2c-de.json", nil)
	got, answer, _ := clearLogged(t, f, o)
	if got.Status != order.StatusCustomsCleared || got.Customs.AwaitingChina || len(docsOf(t, f, got.ID).Messages) != 4 ||
		answer != "t-"+o.ID+` success {"declaration":"CD-`+o.ID+`"}` {
		t.Fatalf("status %s, awaiting %v, answer %q", got.Status, got.Customs.AwaitingChina, answer)
	}
}

// The demonstration options give the registered Chinese names and
// declaration elements of the goods, which the messages carry.
func TestCEBMessagesCarryTheRegisteredChineseNames(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 95, "mobile-b2c-de.json", nil)
	got, _, logs := clearLogged(t, f, o)
	if len(docsOf(t, f, got.ID).Messages) != 4 {
		t.Fatalf("%d messages\n%s", len(docsOf(t, f, got.ID).Messages), logs)
	}
	inv := docsOf(t, f, got.ID).Messages[3].XML
	for _, want := range []string{"<ceb:gname>棉制针织男式T恤衫</ceb:gname>", "<ceb:gmodel>T恤衫|日常穿着|针织|棉100%|无品牌|M码</ceb:gmodel>",
		"<ceb:gname>无线蓝牙耳机</ceb:gname>"} {
		if !strings.Contains(inv, want) {
			t.Errorf("CEB603 lacks %s", want)
		}
	}
	if !strings.Contains(docsOf(t, f, got.ID).Messages[0].XML, "<ceb:itemName>棉制针织男式T恤衫</ceb:itemName>") {
		t.Error("CEB303 lacks the Chinese name")
	}
}
