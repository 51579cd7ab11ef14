package workers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/chinagoods"
	"github.com/xborder/xborder/shared/receipts"
)

// EPortSimulator stands in for the China E-Port and customs: for each
// submitted message it sends back, after Delay, the receipts customs would:
// 120 (stored by customs) and 399 (cleared) for every document, and 800
// (released) for the inventory list. It checks one thing customs checks: a
// goods name (itemName) must be Chinese; an order or inventory list with
// one that is not gets 120 and then 100 (rejected), and its inventory list
// is not released. Each receipt goes to Deliver as XML —
// the local stack's receipts intake. A message submitted again (same guid)
// is not answered again. Close waits for the receipts on their way.
type EPortSimulator struct {
	Delay   time.Duration
	Deliver func(ctx context.Context, receipt []byte) error
	Logger  *slog.Logger

	mu    sync.Mutex
	seen  map[string]bool
	wg    sync.WaitGroup
	hurry chan struct{} // closed by Close: deliver now, do not wait
	once  sync.Once
}

// deliverFor bounds the delivery of one batch.
const deliverFor = 30 * time.Second

// simulatedStatuses are the receipts sent for each message, in order; the
// inventory list also gets 800.
var simulatedStatuses = []int{120, 399}

// Submit answers msgs in the background.
func (e *EPortSimulator) Submit(_ context.Context, d *chinacustoms.Declaration, msgs []ceb.Message) error {
	var batch [][]byte
	for _, m := range msgs {
		guid := ceb.GUID(d.Order.OrderNo, m.Type, "message")
		statuses := simulatedStatuses
		inventory := m.Type == "CEB603" || m.Type == "CEB621"
		if inventory {
			statuses = append(append([]int(nil), statuses...), 800)
		}
		bad := unchineseName(m.XML)
		if bad {
			statuses = []int{120, 100}
		}
		e.mu.Lock()
		seen := e.seen[guid]
		if e.seen == nil {
			e.seen = map[string]bool{}
		}
		e.seen[guid] = true
		e.mu.Unlock()
		if seen {
			continue
		}
		at := time.Now()
		for i, status := range statuses {
			info := ""
			if status == 100 {
				info = "[Code:1302;Desc:商品名称应为中文规范名称] the goods' name must be their Chinese name"
			}
			x, err := simulatedReceipt(d, m.Type, status, info, at.Add(time.Duration(i)*time.Second))
			if err != nil {
				// The message is stored with the order all the same; the
				// simulator cannot answer it.
				e.log().Error("e-port simulator: no receipt", "orderId", d.Order.OrderNo, "message", m.Type, "error", err.Error())
				break
			}
			batch = append(batch, x)
		}
	}
	if len(batch) == 0 {
		return nil
	}
	hurry := e.hurryChan()
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		select {
		case <-hurry:
		case <-time.After(e.Delay):
		}
		ctx, cancel := context.WithTimeout(context.Background(), deliverFor)
		defer cancel()
		for _, x := range batch {
			e.deliver(ctx, x)
		}
	}()
	return nil
}

// itemNames finds the goods names of a message.
var itemNames = regexp.MustCompile(`<ceb:itemName>([^<]*)</ceb:itemName>`)

// unchineseName reports whether a goods name of msg has no Chinese
// character.
func unchineseName(msg []byte) bool {
	for _, m := range itemNames.FindAllSubmatch(msg, -1) {
		if !chinagoods.Chinese(string(m[1])) {
			return true
		}
	}
	return false
}

func simulatedReceipt(d *chinacustoms.Declaration, msgType string, status int, info string, at time.Time) ([]byte, error) {
	ret, err := ceb.AnswerFor(d, msgType)
	if err != nil {
		return nil, err
	}
	ret.Status, ret.Time, ret.Info = status, at, info
	if ret.Info == "" {
		ret.Info, _ = ceb.StatusMeaning(status)
	}
	if typ := ceb.ReceiptType(msgType); typ == "CEB604" || typ == "CEB622" {
		ret.PreNo = "I" + at.UTC().Format("20060102") + fmt.Sprintf("%09d", at.UnixNano()%1e9)
		if status >= 399 && typ == "CEB622" {
			ret.InvtNo = d.Inventory.CustomsCode + at.UTC().Format("2006") + "I" + fmt.Sprintf("%09d", at.UnixNano()%1e9)
		} else if status >= 399 {
			ret.InvtNo = d.Inventory.CustomsCode + at.UTC().Format("2006") + "E" + fmt.Sprintf("%09d", at.UnixNano()%1e9)
		}
	}
	// One guid per return: the E-Port's record of this answer.
	ret.GUID = ceb.GUID(d.Order.OrderNo, msgType, fmt.Sprintf("return-%d", status))
	return ceb.RenderReceipt(ceb.ReceiptType(msgType), []ceb.Return{ret})
}

// deliver hands x on, retrying while the order's save of its messages may
// still be on its way (an unknown message) or the store is busy.
func (e *EPortSimulator) deliver(ctx context.Context, x []byte) {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := e.Deliver(ctx, x)
		if err == nil {
			return
		}
		var bad *ceb.ReceiptError
		if errors.As(err, &bad) || attempt == 10 {
			e.log().Error("e-port simulator: receipt not delivered", "attempts", attempt, "error", err.Error())
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (e *EPortSimulator) hurryChan() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.hurry == nil {
		e.hurry = make(chan struct{})
	}
	return e.hurry
}

// Close delivers at once what is still waiting out Delay, and waits for
// every delivery: a stack that stops keeps no answer of customs back (the
// orders waiting for China's release would otherwise wait for ever; their
// wake-ups stay on the customs queue for the next start).
func (e *EPortSimulator) Close() {
	hurry := e.hurryChan()
	e.once.Do(func() { close(hurry) })
	e.wg.Wait()
}

// Drain waits until every receipt submitted so far has been delivered (or
// given up on), without stopping the simulator.
func (e *EPortSimulator) Drain() { e.wg.Wait() }

func (e *EPortSimulator) log() *slog.Logger {
	if e.Logger == nil {
		return slog.Default()
	}
	return e.Logger
}

// DeliverTo is a Deliver that records each receipt with r.
func DeliverTo(r *receipts.Recorder) func(ctx context.Context, receipt []byte) error {
	return func(ctx context.Context, x []byte) error {
		_, err := r.Record(ctx, x, time.Now())
		return err
	}
}
