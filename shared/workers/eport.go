package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/chinagoods"
	"github.com/xborder/xborder/shared/receipts"
)

// EPortSimulator stands in for the China E-Port and customs: for each
// submitted message it decides the receipts customs would send and sends
// them back after Delay: 120 (stored by customs) and 399 (cleared) for
// every document, and 800 (released) for the inventory list. It checks one
// thing customs checks: a goods name (itemName) must be Chinese; an order
// or inventory list with one that is not gets 120 and then 100 (rejected),
// and its inventory list is not released. Each receipt goes to Deliver as
// XML — the local stack's receipts intake. A message submitted again (same
// guid) is answered again with the receipts decided for it, as the E-Port
// answers a status query; the intake records each receipt once. With Dir,
// the receipts not yet delivered survive a crash (Resume). Close waits for
// the receipts on their way.
type EPortSimulator struct {
	Delay   time.Duration
	Deliver func(ctx context.Context, receipt []byte) error
	Logger  *slog.Logger
	// Dir, when set, is where the receipts not yet delivered are kept: one
	// file per submission, written (a temporary file, renamed) before
	// Submit returns and removed once its receipts are delivered, so that a
	// stack that dies first delivers them on its next start (Resume).
	// Empty keeps them in memory only, lost with the process.
	Dir string

	mu      sync.Mutex
	answers map[string][][]byte // message guid → its receipts (XML), as decided
	resumed bool
	wg      sync.WaitGroup
	hurry   chan struct{} // closed by Close: deliver now, do not wait
	once    sync.Once
}

// deliverFor bounds the delivery of one batch.
const deliverFor = 30 * time.Second

// simulatedStatuses are the receipts sent for each message, in order; the
// inventory list also gets 800.
var simulatedStatuses = []int{120, 399}

// answered is one submitted message and the receipts decided for it, as a
// submission kept in Dir holds them.
type answered struct {
	GUID     string   `json:"guid"`
	Type     string   `json:"type"`
	Receipts [][]byte `json:"receipts"`
}

// pendingExt and keepingExt name the files of Dir: a submission whose
// receipts are on their way, and one being written.
const (
	pendingExt = ".pending"
	keepingExt = ".tmp"
)

// Submit decides the receipts of msgs — those decided before for a message
// submitted again — keeps them in Dir when set, and sends them in the
// background. An error keeping them is transient: nothing is sent, and the
// messages are new again to a next Submit.
func (e *EPortSimulator) Submit(_ context.Context, d *chinacustoms.Declaration, msgs []ceb.Message) error {
	batch, fresh := e.answer(d, msgs)
	if len(batch) == 0 {
		return nil
	}
	path, err := e.keep(batch)
	if err != nil {
		e.forget(fresh)
		return fmt.Errorf("e-port simulator: keep the receipts of %s: %w", d.Order.OrderNo, err)
	}
	e.send(batch, path)
	return nil
}

// answer finds the receipts of each message: those decided for its guid
// before, or customs' answer to a new one (decide), which it remembers. It
// returns the messages with receipts to send, and the guids decided now.
func (e *EPortSimulator) answer(d *chinacustoms.Declaration, msgs []ceb.Message) (batch []answered, fresh []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.answers == nil {
		e.answers = map[string][][]byte{}
	}
	for _, m := range msgs {
		guid := ceb.GUID(d.Order.OrderNo, m.Type, "message")
		rs, known := e.answers[guid]
		if !known {
			rs = e.decide(d, m)
			e.answers[guid] = rs
			fresh = append(fresh, guid)
		}
		if len(rs) > 0 {
			batch = append(batch, answered{GUID: guid, Type: m.Type, Receipts: rs})
		}
	}
	return batch, fresh
}

// forget drops the answers decided for guids, whose receipts were not sent.
func (e *EPortSimulator) forget(guids []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, g := range guids {
		delete(e.answers, g)
	}
}

// decide is customs' answer to one message: its receipts, a second apart.
func (e *EPortSimulator) decide(d *chinacustoms.Declaration, m ceb.Message) [][]byte {
	statuses := simulatedStatuses
	if m.Type == "CEB603" || m.Type == "CEB621" {
		statuses = append(append([]int(nil), statuses...), 800)
	}
	if unchineseName(m.XML) {
		statuses = []int{120, 100}
	}
	at := time.Now()
	var out [][]byte
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
		out = append(out, x)
	}
	return out
}

// keep writes batch to a new file of Dir — a temporary file, synced, then
// renamed, so that a file of Dir is whole — and returns its path; "" when
// there is no Dir.
func (e *EPortSimulator) keep(batch []answered) (string, error) {
	if e.Dir == "" {
		return "", nil
	}
	raw, err := json.Marshal(batch)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(e.Dir, 0o755); err != nil {
		return "", err
	}
	// Named by the time of submission, so that Resume sends them in order.
	f, err := os.CreateTemp(e.Dir, fmt.Sprintf("receipts-%020d-*%s", time.Now().UnixNano(), keepingExt))
	if err != nil {
		return "", err
	}
	_, err = f.Write(raw)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	path := strings.TrimSuffix(f.Name(), keepingExt) + pendingExt
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return path, nil
}

// send delivers the receipts of batch in the background, after Delay (at
// once once Close is called), and then removes its file (path, when kept)
// unless a receipt could not be delivered for a reason other than the
// receipt itself: the next start delivers that file again.
func (e *EPortSimulator) send(batch []answered, path string) {
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
		settled := true
		for _, m := range batch {
			for _, x := range m.Receipts {
				settled = e.deliver(ctx, x) && settled
			}
		}
		if path == "" || !settled {
			return
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			e.log().Warn("e-port simulator: delivered receipts not removed", "error", err.Error())
		}
	}()
}

// Resume sends, after Delay, the receipts a previous run kept in Dir and
// did not deliver — it stopped first — and takes their messages as
// answered, so that a message submitted again gets the same receipts. It
// removes what a Submit that never returned left half-written (its caller
// submits again). Without Dir, or called again, it does nothing; a file it
// cannot read is logged and left for an operator.
func (e *EPortSimulator) Resume() error {
	if e.Dir == "" {
		return nil
	}
	e.mu.Lock()
	resumed := e.resumed
	e.resumed = true
	e.mu.Unlock()
	if resumed {
		return nil
	}
	entries, err := os.ReadDir(e.Dir) // sorted by name: in the order submitted
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("e-port simulator: resume from %s: %w", e.Dir, err)
	}
	n := 0
	for _, ent := range entries {
		path := filepath.Join(e.Dir, ent.Name())
		switch filepath.Ext(ent.Name()) {
		case keepingExt:
			_ = os.Remove(path)
		case pendingExt:
			batch, err := readPending(path)
			if err != nil {
				e.log().Error("e-port simulator: pending receipts unreadable", "file", ent.Name(), "error", err.Error())
				continue
			}
			e.remember(batch)
			e.send(batch, path)
			n++
		}
	}
	if n > 0 {
		e.log().Info("e-port simulator: resumed the receipts of a previous run", "submissions", n)
	}
	return nil
}

// readPending reads a submission kept in Dir.
func readPending(path string) ([]answered, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var batch []answered
	if err := json.Unmarshal(raw, &batch); err != nil {
		return nil, err
	}
	return batch, nil
}

// remember takes the receipts of batch as decided for its messages, unless
// others were decided for them already.
func (e *EPortSimulator) remember(batch []answered) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.answers == nil {
		e.answers = map[string][][]byte{}
	}
	for _, m := range batch {
		if _, known := e.answers[m.GUID]; !known {
			e.answers[m.GUID] = m.Receipts
		}
	}
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
// still be on its way (an unknown message) or the store is busy. It reports
// whether x is settled: delivered, or refused for what it is (malformed,
// or still unknown after the retries) — not worth sending again.
func (e *EPortSimulator) deliver(ctx context.Context, x []byte) bool {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := e.Deliver(ctx, x)
		if err == nil {
			return true
		}
		var bad *ceb.ReceiptError
		if errors.As(err, &bad) || attempt == 10 {
			e.log().Error("e-port simulator: receipt not delivered", "attempts", attempt, "error", err.Error())
			return errors.As(err, &bad) || errors.Is(err, receipts.ErrUnknown)
		}
		select {
		case <-ctx.Done():
			return false
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
// every delivery: a stack that stops keeps no answer of customs back (their
// wake-ups stay on the customs queue for the next start). A stack that dies
// instead leaves them in Dir for Resume, or, without one, loses them: the
// customs step then submits the messages again once its wait falls quiet.
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
