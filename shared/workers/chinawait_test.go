package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/workflow"
)

// testClock is a clock the test moves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (l *taskLog) heartbeats() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.beats
}

// silentEPort takes the messages and never answers: China's customs gone
// quiet. It records every submission.
type silentEPort struct {
	mu    sync.Mutex
	decls []*chinacustoms.Declaration
	calls [][]ceb.Message
}

func (e *silentEPort) Submit(_ context.Context, d *chinacustoms.Declaration, msgs []ceb.Message) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.decls, e.calls = append(e.decls, d), append(e.calls, msgs)
	return nil
}

func (e *silentEPort) submissions() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

// quietCustoms stores the sample CN → DE export (four CEB messages) and
// runs a customs worker on a test clock with an E-Port that never answers:
// the first message submits the messages, and the order waits on token t1.
func quietCustoms(t *testing.T, f *fixture, n int) (*Customs, *silentEPort, *testClock, *order.Order) {
	t.Helper()
	o := storeSample(t, f, n, "mobile-b2c-de.json", nil)
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	clk := &testClock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	w.w.now = clk.now
	ep := &silentEPort{}
	w.SetEPort(ep)
	wake(t, w, o.ID, "t1")
	got := stored(t, f, o.ID)
	if !got.Customs.AwaitingChina || ep.submissions() != 1 || len(ep.calls[0]) != 4 || f.tasks.heartbeats() != 1 || len(f.tasks.list()) != 0 {
		t.Fatalf("after the first message: awaiting %v, %d submissions, %d heartbeats, answers %v",
			got.Customs.AwaitingChina, ep.submissions(), f.tasks.heartbeats(), f.tasks.list())
	}
	return w, ep, clk, o
}

// wake hands the order's task message to the worker, as a receipt or the
// reconciler does through the customs queue.
func wake(t *testing.T, w *Customs, id, token string) {
	t.Helper()
	resp, err := w.Handle(context.Background(), batch(TaskMessage{OrderID: id, TaskToken: token}))
	if err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the wake failed: %+v %v", resp, err)
	}
}

func stored(t *testing.T, f *fixture, id string) *order.Order {
	t.Helper()
	o, err := f.store.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// notes counts the order's history notes with reason.
func notes(t *testing.T, f *fixture, id, reason string) int {
	t.Helper()
	h, err := f.store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range h {
		if e.Reason == reason {
			n++
		}
	}
	return n
}

// receipt is the simulated E-Port's receipt of status for the order's
// CEB303 (order) message, returned at.
func receipt(t *testing.T, ep *silentEPort, status int, at time.Time) []byte {
	t.Helper()
	x, err := simulatedReceipt(ep.decls[0], "CEB303", status, "", at)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// A wake that finds no receipt nor submission within the progress window
// does not heartbeat: only the step's heartbeat timeout would end a wait
// kept alive by the reconciler's wakes alone.
func TestChinaWaitWithoutProgressDoesNotHeartbeat(t *testing.T) {
	f := newFixture()
	w, ep, clk, o := quietCustoms(t, f, 100)
	w.SetChinaWait(ChinaWait{QuietPeriod: time.Hour}) // no resubmission in the way
	clk.advance(time.Minute)
	wake(t, w, o.ID, "t1")
	if f.tasks.heartbeats() != 2 {
		t.Fatalf("%d heartbeats: a wake a minute after the submission heartbeats", f.tasks.heartbeats())
	}
	clk.advance(DefaultProgressWindow)
	wake(t, w, o.ID, "t1")
	wake(t, w, o.ID, "t1")
	if f.tasks.heartbeats() != 2 || ep.submissions() != 1 || len(f.tasks.list()) != 0 {
		t.Fatalf("quiet for %v: %d heartbeats, %d submissions, answers %v; want no heartbeat, nothing else",
			DefaultProgressWindow+time.Minute, f.tasks.heartbeats(), ep.submissions(), f.tasks.list())
	}
}

// A receipt within the progress window makes the next wake heartbeat; the
// same receipt again (the E-Port resends) is no progress.
func TestChinaWaitHeartbeatsOnARecentReceipt(t *testing.T) {
	f := newFixture()
	w, _, clk, o := quietCustoms(t, f, 101)
	w.SetChinaWait(ChinaWait{QuietPeriod: time.Hour})
	rec := &receipts.Recorder{Orders: f.store, Logger: slog.New(slog.DiscardHandler)}
	clk.advance(10 * time.Minute)
	wake(t, w, o.ID, "t1")
	if f.tasks.heartbeats() != 1 {
		t.Fatalf("%d heartbeats: the wait was quiet for 10 minutes", f.tasks.heartbeats())
	}
	x := receipt(t, w.eport.(*silentEPort), 120, clk.now())
	if r, err := rec.Record(context.Background(), x, clk.now()); err != nil || !r[0].Recorded {
		t.Fatalf("receipt: %+v %v", r, err)
	}
	clk.advance(2 * time.Minute)
	wake(t, w, o.ID, "t1")
	if f.tasks.heartbeats() != 2 {
		t.Fatalf("%d heartbeats: a receipt two minutes ago is progress", f.tasks.heartbeats())
	}
	clk.advance(4 * time.Minute)
	if r, err := rec.Record(context.Background(), x, clk.now()); err != nil || r[0].Recorded {
		t.Fatalf("the same receipt again: %+v %v", r, err)
	}
	wake(t, w, o.ID, "t1")
	if f.tasks.heartbeats() != 2 || len(f.tasks.list()) != 0 {
		t.Fatalf("%d heartbeats, answers %v: a resent receipt is no progress", f.tasks.heartbeats(), f.tasks.list())
	}
}

// A wait quiet for longer than the quiet period submits the same messages
// again — the same XML, so the same guids — records it on the order and in
// its history, heartbeats and waits on; a wake soon after does not submit
// again.
func TestQuietChinaWaitResubmitsTheSameMessages(t *testing.T) {
	f := newFixture()
	w, ep, clk, o := quietCustoms(t, f, 102)
	clk.advance(DefaultQuietPeriod - time.Second)
	wake(t, w, o.ID, "t1")
	if ep.submissions() != 1 || f.tasks.heartbeats() != 2 {
		t.Fatalf("before the quiet period: %d submissions, %d heartbeats", ep.submissions(), f.tasks.heartbeats())
	}
	clk.advance(2 * time.Second)
	wake(t, w, o.ID, "t1")
	if ep.submissions() != 2 {
		t.Fatalf("%d submissions: a quiet wait is submitted again", ep.submissions())
	}
	first, again := ep.calls[0], ep.calls[1]
	if len(again) != len(first) {
		t.Fatalf("resubmitted %d messages of %d", len(again), len(first))
	}
	for i := range first {
		if again[i].Type != first[i].Type || !bytes.Equal(again[i].XML, first[i].XML) {
			t.Fatalf("message %d resubmitted differently: %s", i, again[i].Type)
		}
	}
	got := stored(t, f, o.ID)
	if c := got.Customs; c.Resubmits != 1 || !c.ResubmittedAt.Equal(clk.now()) || !c.AwaitingChina || got.TaskToken != "t1" {
		t.Fatalf("record: resubmits %d at %v, awaiting %v, token %q", c.Resubmits, c.ResubmittedAt, c.AwaitingChina, got.TaskToken)
	}
	if n := notes(t, f, o.ID, "resubmitted_to_china_eport"); n != 1 || f.tasks.heartbeats() != 3 || len(f.tasks.list()) != 0 {
		t.Fatalf("%d resubmission notes, %d heartbeats, answers %v", n, f.tasks.heartbeats(), f.tasks.list())
	}
	clk.advance(time.Minute)
	wake(t, w, o.ID, "t1")
	if ep.submissions() != 2 || f.tasks.heartbeats() != 4 {
		t.Fatalf("a minute after the resubmission: %d submissions, %d heartbeats", ep.submissions(), f.tasks.heartbeats())
	}
}

// untilNoAnswer moves the clock past the quiet period and wakes the step
// until it has resubmitted MaxResubmits times and given up, failing token.
func untilNoAnswer(t *testing.T, f *fixture, w *Customs, clk *testClock, id, token string) string {
	t.Helper()
	ep := w.eport.(*silentEPort)
	before, answered := ep.submissions(), len(f.tasks.list())
	for i := 1; i <= DefaultMaxResubmits; i++ {
		clk.advance(DefaultQuietPeriod + time.Second)
		wake(t, w, id, token)
		if ep.submissions() != before+i || len(f.tasks.list()) != answered {
			t.Fatalf("resubmission %d: %d submissions, answers %v", i, ep.submissions(), f.tasks.list())
		}
	}
	beats := f.tasks.heartbeats()
	clk.advance(DefaultQuietPeriod + time.Second)
	wake(t, w, id, token)
	answers := f.tasks.list()
	last := answers[len(answers)-1]
	if len(answers) != answered+1 || !strings.HasPrefix(last, token+" "+workflow.ErrChinaCustomsNoAnswer+" ") {
		t.Fatalf("answers %v: the wait must fail with %s", answers, workflow.ErrChinaCustomsNoAnswer)
	}
	if ep.submissions() != before+DefaultMaxResubmits || f.tasks.heartbeats() != beats {
		t.Fatalf("giving up: %d submissions (want %d), %d heartbeats (want %d)", ep.submissions(), before+DefaultMaxResubmits,
			f.tasks.heartbeats(), beats)
	}
	return last
}

// After MaxResubmits resubmissions with still no decision the step fails
// its task with ChinaCustomsNoAnswer, which the Customs state neither
// catches nor retries: the execution fails and the order is STALLED with
// that reason. A later wake with the spent token fails it again and
// changes nothing.
func TestChinaWaitGivesUpWithChinaCustomsNoAnswer(t *testing.T) {
	f := newFixture()
	w, ep, clk, o := quietCustoms(t, f, 103)
	answer := untilNoAnswer(t, f, w, clk, o.ID, "t1")
	got := stored(t, f, o.ID)
	if c := got.Customs; !c.NoAnswerAt.Equal(clk.now()) || c.Resubmits != DefaultMaxResubmits || got.Status != order.StatusPaymentAuthorized {
		t.Fatalf("record: gave up at %v after %d, status %s", c.NoAnswerAt, c.Resubmits, got.Status)
	}
	if notes(t, f, o.ID, "china_customs_no_answer") != 1 || notes(t, f, o.ID, "resubmitted_to_china_eport") != DefaultMaxResubmits {
		t.Fatal("the history must show the resubmissions and the give-up")
	}
	h, _ := f.store.History(context.Background(), o.ID)
	clk.advance(time.Hour)
	wake(t, w, o.ID, "t1")
	if answers := f.tasks.list(); len(answers) != 2 || answers[1] != answer {
		t.Fatalf("answers %v: a spent token is failed again, the same way", answers)
	}
	if again, _ := f.store.History(context.Background(), o.ID); len(again) != len(h) || ep.submissions() != 1+DefaultMaxResubmits {
		t.Fatalf("a wake after giving up wrote %d events, submitted %d times", len(again)-len(h), ep.submissions())
	}

	raw, err := os.ReadFile("../../testdata/cdk/order-workflow.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	var asl struct {
		States map[string]struct {
			Catch, Retry []struct{ ErrorEquals []string }
		}
	}
	if err := json.Unmarshal(raw, &asl); err != nil {
		t.Fatal(err)
	}
	st, ok := asl.States[workflow.StateCustoms]
	if !ok || len(st.Catch) == 0 {
		t.Fatalf("no Customs state with a Catch in the definition")
	}
	for _, c := range append(st.Catch, st.Retry...) {
		if slices.Contains(c.ErrorEquals, workflow.ErrChinaCustomsNoAnswer) || slices.Contains(c.ErrorEquals, "States.ALL") {
			t.Fatalf("the Customs state handles %s (%v): it must stall the order", workflow.ErrChinaCustomsNoAnswer, c.ErrorEquals)
		}
	}
	stalled := markStalled(t, f, o.ID)
	if stalled.Status != order.StatusStalled || stalled.Reason != workflow.ErrChinaCustomsNoAnswer {
		t.Fatalf("status %s (%s), want STALLED (%s)", stalled.Status, stalled.Reason, workflow.ErrChinaCustomsNoAnswer)
	}
}

// markStalled reports the order's execution failed with
// ChinaCustomsNoAnswer, as the workflow's failure reaches mark-stalled.
func markStalled(t *testing.T, f *fixture, id string) *order.Order {
	t.Helper()
	detail, _ := json.Marshal(map[string]string{"name": id, "status": "FAILED", "error": workflow.ErrChinaCustomsNoAnswer})
	if _, err := f.s.MarkStalled(context.Background(), events.EventBridgeEvent{Detail: detail}); err != nil {
		t.Fatal(err)
	}
	return stored(t, f, id)
}

// A redrive's new task token starts the count again: the wait, quiet for
// long, is submitted again at once and gets its full round of
// resubmissions before failing the new token.
func TestRedriveStartsTheResubmissionsAgain(t *testing.T) {
	f := newFixture()
	w, ep, clk, o := quietCustoms(t, f, 104)
	untilNoAnswer(t, f, w, clk, o.ID, "t1")
	markStalled(t, f, o.ID)
	clk.advance(30 * time.Minute) // an operator looks into it, and redrives
	beats := f.tasks.heartbeats()
	wake(t, w, o.ID, "t2")
	got := stored(t, f, o.ID)
	if c := got.Customs; c.Resubmits != 1 || !c.NoAnswerAt.IsZero() || got.TaskToken != "t2" || ep.submissions() != 2+DefaultMaxResubmits {
		t.Fatalf("after the redrive: resubmits %d, gave up %v, token %q, %d submissions", c.Resubmits, c.NoAnswerAt, got.TaskToken, ep.submissions())
	}
	if f.tasks.heartbeats() != beats+1 || len(f.tasks.list()) != 1 {
		t.Fatalf("%d heartbeats (want %d), answers %v", f.tasks.heartbeats(), beats+1, f.tasks.list())
	}
	for i := 2; i <= DefaultMaxResubmits; i++ {
		clk.advance(DefaultQuietPeriod + time.Second)
		wake(t, w, o.ID, "t2")
	}
	clk.advance(DefaultQuietPeriod + time.Second)
	wake(t, w, o.ID, "t2")
	answers := f.tasks.list()
	if len(answers) != 2 || !strings.HasPrefix(answers[1], "t2 "+workflow.ErrChinaCustomsNoAnswer+" ") ||
		ep.submissions() != 1+2*DefaultMaxResubmits {
		t.Fatalf("answers %v, %d submissions: the redrive gets %d resubmissions, then fails its token", answers, ep.submissions(), DefaultMaxResubmits)
	}
}

// The crash test's case: the E-Port delivered two receipts of an order and
// the stack died with the rest; the next start's E-Port knows nothing of
// the messages. The wait falls quiet, the step submits the messages again,
// the E-Port answers, and China's release clears the order.
func TestReceiptsCutShortByACrashAreFetchedAgain(t *testing.T) {
	f := newFixture()
	o := storeSample(t, f, 105, "mobile-b2c-de.json", nil)
	log := slog.New(slog.DiscardHandler)
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, log)
	clk := &testClock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)}
	w.w.now = clk.now
	rec := &receipts.Recorder{Orders: f.store, Logger: log, Wake: receipts.WakeFunc(func(ctx context.Context, id, token string) error {
		resp, err := w.Handle(ctx, batch(TaskMessage{OrderID: id, TaskToken: token}))
		if err == nil && len(resp.BatchItemFailures) != 0 {
			err = fmt.Errorf("the woken step failed: %+v", resp)
		}
		return err
	})}
	deliver := func(ctx context.Context, x []byte) error {
		_, err := rec.Record(ctx, x, clk.now())
		return err
	}
	delivered := 0
	dying := &EPortSimulator{Logger: log, Deliver: func(ctx context.Context, x []byte) error {
		if delivered == 2 {
			return nil // the stack is gone: the receipt with it
		}
		delivered++
		return deliver(ctx, x)
	}}
	w.SetEPort(dying)
	wake(t, w, o.ID, "t1")
	dying.Drain()
	if got := stored(t, f, o.ID); len(docsOf(t, f, got.ID).Receipts) != 2 || !got.Customs.AwaitingChina {
		t.Fatalf("before the crash: %d receipts, awaiting %v", len(docsOf(t, f, got.ID).Receipts), got.Customs.AwaitingChina)
	}

	next := &EPortSimulator{Logger: log, Deliver: deliver}
	t.Cleanup(next.Close)
	w.SetEPort(next)
	for range 3 { // the reconciler's wakes, a minute apart
		clk.advance(time.Minute)
		wake(t, w, o.ID, "t1")
	}
	next.Drain()
	got := stored(t, f, o.ID)
	if got.Status != order.StatusCustomsCleared || got.Customs.AwaitingChina || got.Customs.Resubmits != 1 {
		t.Fatalf("status %s, awaiting %v, resubmits %d: the resubmission must bring the release",
			got.Status, got.Customs.AwaitingChina, got.Customs.Resubmits)
	}
	if answers := f.tasks.list(); len(answers) != 1 || answers[0] != `t1 success {"declaration":"CD-`+o.ID+`"}` {
		t.Fatalf("answers %v", answers)
	}
}

// collector gathers what a simulated E-Port delivers.
type collector struct {
	mu  sync.Mutex
	got [][]byte
}

func (c *collector) deliver(_ context.Context, x []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, x)
	return nil
}

func (c *collector) list() [][]byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.got)
}

// sampleSubmission is what the customs step submits for the sample CN → DE
// export: China's declaration and its four messages.
func sampleSubmission(t *testing.T, f *fixture, n int) (*chinacustoms.Declaration, []ceb.Message) {
	t.Helper()
	_, ep, _, _ := quietCustoms(t, f, n)
	return ep.decls[0], ep.calls[0]
}

// The simulated E-Port answers a message submitted again (same guid) with
// the receipts it decided for it — the very same, which the receipts
// intake records once — as the E-Port answers a status query.
func TestEPortSimulatorAnswersAMessageSubmittedAgain(t *testing.T) {
	f := newFixture()
	d, msgs := sampleSubmission(t, f, 106)
	c := &collector{}
	sim := &EPortSimulator{Deliver: c.deliver, Logger: slog.New(slog.DiscardHandler)}
	t.Cleanup(sim.Close)
	for range 2 {
		if err := sim.Submit(context.Background(), d, msgs); err != nil {
			t.Fatal(err)
		}
		sim.Drain()
	}
	got := c.list()
	if len(got) != 18 {
		t.Fatalf("%d receipts delivered, want 9 for each submission", len(got))
	}
	for i := range 9 {
		if !bytes.Equal(got[i], got[9+i]) {
			t.Fatalf("receipt %d answered differently the second time", i)
		}
	}
	rec := &receipts.Recorder{Orders: f.store, Logger: slog.New(slog.DiscardHandler)}
	for _, x := range got {
		if _, err := rec.Record(context.Background(), x, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if o := stored(t, f, d.Order.OrderNo); len(docsOf(t, f, o.ID).Receipts) != 9 {
		t.Fatalf("%d receipts on the order, want each of the 9 once", len(docsOf(t, f, o.ID).Receipts))
	}
}

// With a Dir, the simulated E-Port keeps the receipts it has not delivered
// on disk before Submit returns: a stack that dies first (here, an hour's
// Delay and no Close) leaves them there, and the next start's simulator
// on the same Dir delivers them (Resume), removes them once delivered, and
// answers a resubmission with the same receipts.
func TestEPortSimulatorKeepsPendingReceiptsAcrossACrash(t *testing.T) {
	f := newFixture()
	d, msgs := sampleSubmission(t, f, 107)
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	lost := &collector{}
	crashed := &EPortSimulator{Dir: dir, Delay: time.Hour, Deliver: lost.deliver, Logger: log}
	if err := crashed.Submit(context.Background(), d, msgs); err != nil {
		t.Fatal(err)
	}
	pending := func(ext string) int {
		m, _ := filepath.Glob(filepath.Join(dir, "*"+ext))
		return len(m)
	}
	if pending(pendingExt) != 1 || pending(keepingExt) != 0 {
		t.Fatalf("%d pending, %d half-written files after Submit", pending(pendingExt), pending(keepingExt))
	}
	// A Submit the crash cut short left a half-written file.
	if err := os.WriteFile(filepath.Join(dir, "receipts-1-2"+keepingExt), []byte(`[{"gu`), 0o600); err != nil {
		t.Fatal(err)
	}

	c := &collector{}
	next := &EPortSimulator{Dir: dir, Deliver: c.deliver, Logger: log}
	t.Cleanup(next.Close)
	if err := next.Resume(); err != nil {
		t.Fatal(err)
	}
	next.Drain()
	got := c.list()
	if len(got) != 9 || len(lost.list()) != 0 {
		t.Fatalf("%d receipts delivered after the restart (want 9), %d by the dead one", len(got), len(lost.list()))
	}
	if pending(pendingExt) != 0 || pending(keepingExt) != 0 {
		t.Fatalf("%d pending, %d half-written files left after the delivery", pending(pendingExt), pending(keepingExt))
	}
	if err := next.Submit(context.Background(), d, msgs); err != nil {
		t.Fatal(err)
	}
	next.Drain()
	again := c.list()[9:]
	if len(again) != 9 {
		t.Fatalf("%d receipts for the resubmission", len(again))
	}
	for i := range again {
		if !bytes.Equal(again[i], got[i]) {
			t.Fatalf("receipt %d of the resubmission differs from the one decided before the crash", i)
		}
	}
	if pending(pendingExt) != 0 {
		t.Fatal("the resubmission's file is left after its delivery")
	}
}

// dueOf is when the wait of order id is next due, as the store keeps it
// for the reconciler; zero when it is not.
func dueOf(t *testing.T, f *fixture, id string) time.Time {
	t.Helper()
	var at time.Time
	if err := f.store.EachDue(context.Background(), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(due string, when time.Time) {
		if due == id {
			at = when
		}
	}); err != nil {
		t.Fatal(err)
	}
	return at
}

// The step keeps its wait's due time — when the reconciler must next wake
// it: the end of the quiet period after the latest receipt or submission —
// and clears it when the wait ends, given up or decided.
func TestChinaWaitKeepsItsDueTime(t *testing.T) {
	f := newFixture()
	w, _, clk, o := quietCustoms(t, f, 108)
	if due := dueOf(t, f, o.ID); !due.Equal(clk.now().Add(DefaultQuietPeriod)) {
		t.Fatalf("after the submission due at %v, want %v", due, clk.now().Add(DefaultQuietPeriod))
	}
	rec := &receipts.Recorder{Orders: f.store, Logger: slog.New(slog.DiscardHandler)}
	clk.advance(time.Minute)
	if _, err := rec.Record(context.Background(), receipt(t, w.eport.(*silentEPort), 120, clk.now()), clk.now()); err != nil {
		t.Fatal(err)
	}
	clk.advance(time.Minute)
	wake(t, w, o.ID, "t1") // a receipt a minute ago: it heartbeats, due three minutes after the receipt
	if due, want := dueOf(t, f, o.ID), clk.now().Add(-time.Minute+DefaultQuietPeriod); !due.Equal(want) {
		t.Fatalf("after a receipt due at %v, want %v", due, want)
	}
	clk.advance(DefaultQuietPeriod)
	wake(t, w, o.ID, "t1") // quiet: submitted again
	if due := dueOf(t, f, o.ID); !due.Equal(clk.now().Add(DefaultQuietPeriod)) {
		t.Fatalf("after the resubmission due at %v, want %v", due, clk.now().Add(DefaultQuietPeriod))
	}
	for range DefaultMaxResubmits { // the other resubmissions, then it gives up
		clk.advance(DefaultQuietPeriod + time.Second)
		wake(t, w, o.ID, "t1")
	}
	if answers := f.tasks.list(); len(answers) != 1 || !strings.Contains(answers[0], workflow.ErrChinaCustomsNoAnswer) {
		t.Fatalf("answers %v", answers)
	}
	if due := dueOf(t, f, o.ID); !due.IsZero() {
		t.Fatalf("a wait given up on is still due at %v", due)
	}

	decided := newFixture()
	w, _, clk, o = quietCustoms(t, decided, 109)
	rec = &receipts.Recorder{Orders: decided.store, Logger: slog.New(slog.DiscardHandler)}
	if _, err := rec.Record(context.Background(), receipt(t, w.eport.(*silentEPort), 100, clk.now()), clk.now()); err != nil {
		t.Fatal(err)
	}
	wake(t, w, o.ID, "t1")
	if answers := decided.tasks.list(); len(answers) != 1 || !strings.Contains(answers[0], "china_customs_rejected") {
		t.Fatalf("answers %v", answers)
	}
	if due := dueOf(t, decided, o.ID); !due.IsZero() {
		t.Fatalf("a decided wait is still due at %v", due)
	}
}
