package sfn

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The execution the store tests write: order-1 of restartDefinition.
const (
	storeMachineARN = "arn:aws:states:us-east-1:000000000000:stateMachine:restart"
	storeExecARN    = "arn:aws:states:us-east-1:000000000000:execution:restart:order-1"
	storeToken      = "tok-order-1-wait"
)

func storeMachine(t testing.TB) *stateMachine {
	t.Helper()
	def, err := ParseDefinition(restartDefinition)
	if err != nil {
		t.Fatal(err)
	}
	return &stateMachine{ARN: storeMachineARN, Name: "restart", Definition: restartDefinition, RoleARN: "arn:aws:iam::000000000000:role/r",
		Type: "STANDARD", Created: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), def: def}
}

// openTestStore opens a store in dir, with the machine saved.
func openTestStore(t testing.TB, dir string, sync SyncPolicy) *Store {
	t.Helper()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	st.Sync = sync
	if err := st.saveMachines([]*stateMachine{storeMachine(t)}); err != nil {
		t.Fatal(err)
	}
	return st
}

// storeRecords is the log of order-1 running restartDefinition to the end,
// as the engine writes it: its start, history events, the token it waited
// on, its end.
func storeRecords() []record {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	in := `{"orderId":"order-1"}`
	waitIn := `{"before":{"orderId":"order-1"},"orderId":"order-1"}`
	out := `{"before":{"orderId":"order-1"},"customs":{"declaration":"CD-1"},"orderId":"order-1"}`
	recs := []record{{Start: &startRecord{ARN: storeExecARN, Name: "order-1", MachineARN: storeMachineARN, Input: in, Start: t0}}}
	var id int64
	ev := func(typ string, details map[string]any) {
		id++
		recs = append(recs, record{Event: &HistoryEvent{Timestamp: t0.Add(time.Duration(id) * time.Millisecond), Type: typ, ID: id, PreviousEventID: id - 1, Details: details}})
	}
	lambda := func(state, input, output string) {
		ev("TaskStateEntered", map[string]any{"name": state, "input": input, "inputDetails": map[string]any{"truncated": false}})
		ev("LambdaFunctionScheduled", map[string]any{"resource": "arn:aws:lambda:us-east-1:000000000000:function:" + strings.ToLower(state), "input": input, "timeoutInSeconds": 99999999})
		ev("LambdaFunctionStarted", nil)
		ev("LambdaFunctionSucceeded", payloadDetails("output", output))
		ev("TaskStateExited", map[string]any{"name": state, "output": output, "outputDetails": map[string]any{"truncated": false}})
	}
	ev("ExecutionStarted", map[string]any{"input": in, "roleArn": "arn:aws:iam::000000000000:role/r", "stateMachineArn": storeMachineARN})
	lambda("Before", in, waitIn)
	ev("TaskStateEntered", map[string]any{"name": "Wait", "input": waitIn, "inputDetails": map[string]any{"truncated": false}})
	entered := id
	ev("TaskScheduled", map[string]any{"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "region": Region,
		"parameters": `{"MessageBody":{"orderId":"order-1","taskToken":"` + storeToken + `"},"QueueUrl":"http://sqs.us-east-1.localhost:9324/000000000000/customs"}`})
	ev("TaskStarted", map[string]any{"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken"})
	recs = append(recs, record{Token: &tokenRecord{State: "Wait", Token: storeToken, Entered: entered}})
	ev("TaskSubmitted", map[string]any{"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "output": `{"MessageId":"m"}`})
	ev("TaskSucceeded", map[string]any{"resourceType": "sqs", "resource": "sendMessage.waitForTaskToken", "output": `{"declaration":"CD-1"}`})
	ev("TaskStateExited", map[string]any{"name": "Wait", "output": out})
	lambda("After", out, out)
	ev("ExecutionSucceeded", payloadDetails("output", out))
	return append(recs, record{End: &endRecord{Status: StatusSucceeded, Output: out, Stop: t0.Add(time.Second)}})
}

// outcome is what a load should find of order-1.
type outcome struct {
	exists        bool
	status        string
	events        int
	state, token  string // where a running execution resumes
	lastEventType string
}

// expect says what the records of a log's prefix amount to, the simple way.
func expect(recs []record) outcome {
	if len(recs) == 0 {
		return outcome{}
	}
	o := outcome{exists: true, status: StatusRunning, state: "Before"}
	var token, submitted bool
	for _, r := range recs {
		switch {
		case r.Event != nil:
			o.events++
			o.lastEventType = r.Event.Type
			if r.Event.Type == "TaskStateEntered" {
				o.state = r.Event.Details["name"].(string)
			}
			submitted = submitted || r.Event.Type == "TaskSubmitted"
		case r.Token != nil:
			token = true
		case r.End != nil:
			o.status = r.End.Status
		}
	}
	if o.status != StatusRunning {
		o.state = ""
	} else if token && submitted {
		o.token = storeToken
	}
	return o
}

// checkLoad loads a store and compares order-1 with want.
func checkLoad(t *testing.T, st *Store, want outcome) {
	t.Helper()
	machines, xs, err := st.load()
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if len(machines) != 1 {
		t.Fatalf("%d machines, want 1", len(machines))
	}
	if !want.exists {
		if len(xs) != 0 {
			t.Fatalf("%d executions, want none", len(xs))
		}
		return
	}
	if len(xs) != 1 {
		t.Fatalf("%d executions, want 1", len(xs))
	}
	r := xs[0]
	got := outcome{exists: true, status: r.x.Status, events: len(r.x.history), state: r.resumeState, token: r.resumeToken}
	if n := len(r.x.history); n > 0 {
		got.lastEventType = r.x.history[n-1].Type
	}
	if got != want {
		t.Fatalf("loaded %+v, want %+v", got, want)
	}
	for i, ev := range r.x.history {
		if ev.ID != int64(i+1) {
			t.Fatalf("event %d has id %d: the history is not continuous", i, ev.ID)
		}
	}
	select {
	case <-r.x.done:
		if r.x.Status == StatusRunning {
			t.Fatal("a running execution's done channel is closed")
		}
	default:
		if r.x.Status != StatusRunning {
			t.Fatal("an ended execution's done channel is open")
		}
	}
}

// writeLog writes records through a store and returns the log's bytes.
func writeLog(t *testing.T, dir string, recs []record) []byte {
	t.Helper()
	st := openTestStore(t, dir, SyncNever)
	for _, r := range recs {
		st.append(storeExecARN, r)
	}
	st.Close()
	b, err := os.ReadFile(st.logPath(storeExecARN))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// boundaries are the offsets where a log's frames end, the header first:
// each frame is one line.
func boundaries(b []byte) []int {
	var at []int
	for i, c := range b {
		if c == '\n' {
			at = append(at, i+1)
		}
	}
	return at
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestStoreFrameFormat pins the bytes of a frame: logs on disk are read by
// later versions, so the framing cannot change silently.
func TestStoreFrameFormat(t *testing.T) {
	payload := []byte(`{"redrive":"2026-12-01T10:00:00Z"}`)
	got := string(appendFrame(nil, payload))
	want := "00000022 ef23b59f " + string(payload) + "\n"
	if got != want {
		t.Fatalf("frame %q, want %q", got, want)
	}
	if crc32.Checksum([]byte("123456789"), castagnoli) != 0xe3069283 {
		t.Fatal("the checksum is not CRC-32C") // its check value
	}
	p, n, ok := readFrame([]byte(got + "00000001"))
	if !ok || n != len(want) || !bytes.Equal(p, payload) {
		t.Fatalf("readFrame: %q %d %v", p, n, ok)
	}
	dir := t.TempDir()
	b := writeLog(t, dir, storeRecords()[:1])
	if !strings.HasPrefix(string(b), "sfn-log/2\n") || len(boundaries(b)) != 2 {
		t.Fatalf("a log of one record: %q", b)
	}
}

// TestStoreRoundTrip: what the store writes, it loads — and a store that
// is closed and opened again goes on appending to the same log.
func TestStoreRoundTrip(t *testing.T) {
	recs := storeRecords()
	for _, policy := range []SyncPolicy{SyncNever, SyncDecisive, SyncAlways} {
		dir := t.TempDir()
		st := openTestStore(t, dir, policy)
		for _, r := range recs[:10] {
			st.append(storeExecARN, r)
		}
		st.Close()
		checkLoad(t, openTestStore(t, dir, policy), expect(recs[:10]))
		st = openTestStore(t, dir, policy)
		for _, r := range recs[10:] {
			st.append(storeExecARN, r)
		}
		st.Close()
		st = openTestStore(t, dir, policy)
		checkLoad(t, st, expect(recs))
		if r := st.Repairs(); len(r) != 0 {
			t.Fatalf("policy %d: a clean log was repaired: %+v", policy, r)
		}
	}
}

// TestStoreTornRecords truncates a good log at every byte inside its last
// record, inside a middle one (the token) and inside the header: load
// recovers the records before the cut, truncates the file to the last whole
// frame, and what is appended after is read back.
func TestStoreTornRecords(t *testing.T) {
	recs := storeRecords()
	good := writeLog(t, t.TempDir(), recs)
	ends := boundaries(good) // ends[0] is the header's end, ends[i] record i's
	if len(ends) != len(recs)+1 {
		t.Fatalf("%d lines for %d records", len(ends), len(recs))
	}
	tok := token(recs) // a record in the middle
	type cut struct{ from, to, kept int }
	for _, c := range []cut{
		{ends[len(recs)-1] + 1, ends[len(recs)] - 1, len(recs) - 1}, // inside the last record
		{ends[tok] + 1, ends[tok+1] - 1, tok},                       // inside the token record
		{1, ends[0] - 1, 0},                                         // inside the header
	} {
		for at := c.from; at <= c.to; at++ {
			dir := t.TempDir()
			st := openTestStore(t, dir, SyncNever)
			path := st.logPath(storeExecARN)
			if err := os.WriteFile(path, good[:at], 0o644); err != nil {
				t.Fatal(err)
			}
			checkLoad(t, st, expect(recs[:c.kept]))
			wantSize := int64(0)
			if c.kept > 0 {
				wantSize = int64(ends[c.kept])
			}
			if got := fileSize(t, path); got != wantSize {
				t.Fatalf("cut at %d: the file is %d bytes, want %d (the last whole frame)", at, got, wantSize)
			}
			if r := st.Repairs(); len(r) != 1 || r[0].What != RepairTornTail || r[0].Offset != wantSize || r[0].Dropped != int64(at)-wantSize {
				t.Fatalf("cut at %d: repairs %+v", at, r)
			}
			for _, r := range recs[c.kept:] {
				st.append(storeExecARN, r)
			}
			st.Close()
			checkLoad(t, openTestStore(t, dir, SyncNever), expect(recs))
			if b, _ := os.ReadFile(path); !bytes.Equal(b, good) {
				t.Fatalf("cut at %d: after the appends the log differs from one never torn", at)
			}
		}
	}
}

// TestStoreCorruptRecords flips a byte in a record: in the last one's
// payload or header, load keeps the records before it; in a middle one, it
// keeps the records before it too and drops every one after (a write-ahead
// log trusts nothing past a bad frame).
func TestStoreCorruptRecords(t *testing.T) {
	recs := storeRecords()
	good := writeLog(t, t.TempDir(), recs)
	ends := boundaries(good)
	last := len(recs) - 1
	type flip struct {
		name       string
		at         int // offset of the byte
		with       byte
		kept       int
		wantRepair bool
	}
	start := func(i int) int { return ends[i] } // where record i (0-based) starts
	for _, f := range []flip{
		{"last payload", start(last) + frameHeader + 5, 'X', last, true},
		{"last length", start(last) + 7, '0', last, true},
		{"last length, not hex", start(last) + 2, 'g', last, true},
		{"last checksum", start(last) + 9, '0', last, true},
		{"last separator", start(last) + 8, '-', last, true},
		{"last newline", ends[last+1] - 1, ' ', last, true},
		{"middle payload", start(5) + frameHeader + 12, 'X', 5, true},
		{"middle checksum", start(token(recs)) + 16, 'z', token(recs), true},
		{"header", 2, 'X', 0, false},
	} {
		t.Run(f.name, func(t *testing.T) {
			b := bytes.Clone(good)
			if b[f.at] == f.with {
				f.with++
			}
			b[f.at] = f.with
			dir := t.TempDir()
			st := openTestStore(t, dir, SyncNever)
			path := st.logPath(storeExecARN)
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			checkLoad(t, st, expect(recs[:f.kept]))
			if !f.wantRepair { // the file is not a log: set aside, whole
				if aside, err := os.ReadFile(path + ".unreadable"); err != nil || !bytes.Equal(aside, b) {
					t.Fatalf("not set aside intact: %v", err)
				}
				if r := st.Repairs(); len(r) != 1 || r[0].What != RepairSetAside {
					t.Fatalf("repairs %+v", r)
				}
				return
			}
			if got := fileSize(t, path); got != int64(ends[f.kept]) {
				t.Fatalf("the file is %d bytes, want %d", got, ends[f.kept])
			}
			for _, r := range recs[f.kept:] {
				st.append(storeExecARN, r)
			}
			st.Close()
			checkLoad(t, openTestStore(t, dir, SyncNever), expect(recs))
		})
	}
}

func token(recs []record) int {
	for i, r := range recs {
		if r.Token != nil {
			return i
		}
	}
	return -1
}

// TestStoreAppendAfterTornTailWithoutLoad: a store that appends to a log it
// has not loaded still cuts the torn tail off first.
func TestStoreAppendAfterTornTailWithoutLoad(t *testing.T) {
	recs := storeRecords()
	good := writeLog(t, t.TempDir(), recs)
	ends := boundaries(good)
	dir := t.TempDir()
	st := openTestStore(t, dir, SyncNever)
	if err := os.WriteFile(st.logPath(storeExecARN), good[:ends[5]+7], 0o644); err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[5:] {
		st.append(storeExecARN, r)
	}
	st.Close()
	checkLoad(t, openTestStore(t, dir, SyncNever), expect(recs))
}

// copyFixture copies a store under testdata/store into a temporary directory.
func copyFixture(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join("testdata", "store", name)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// legacyLog is the one execution log of a fixture.
func legacyLog(t *testing.T, dir string) string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(dir, "executions", "*.log"))
	if len(logs) != 1 {
		t.Fatalf("%d logs in %s", len(logs), dir)
	}
	return logs[0]
}

// TestStoreLoadsLegacyLog loads a log of JSON lines, as the store wrote
// before framing (an execution waiting on its task token when the stack
// stopped): it resumes where it waited, the log is rewritten framed with the
// same records byte for byte, and appends after are read back.
func TestStoreLoadsLegacyLog(t *testing.T) {
	dir := copyFixture(t, "legacy-waiting")
	path := legacyLog(t, dir)
	old, _ := os.ReadFile(path)
	const token = "cNy725-CFcAyrm_lQnimZMjsCZwbL41FTuA1yLZwTE7LbHQnjjfeGQ9TZ7wHinYW"
	want := outcome{exists: true, status: StatusRunning, events: 10, state: "Wait", token: token, lastEventType: "TaskSubmitted"}
	st, _ := OpenStore(dir)
	checkLoad(t, st, want)
	if r := st.Repairs(); len(r) != 1 || r[0].What != RepairConverted || r[0].Dropped != 0 {
		t.Fatalf("repairs %+v", r)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), logHeader) {
		t.Fatalf("not rewritten framed: %.40q", b)
	}
	recs, good := readFrames(b, len(logHeader))
	if good != len(b) || len(recs) != 12 {
		t.Fatalf("%d frames, %d of %d bytes good", len(recs), good, len(b))
	}
	var payloads []string
	for at := len(logHeader); at < len(b); {
		p, n, _ := readFrame(b[at:])
		payloads, at = append(payloads, string(p)+"\n"), at+n
	}
	if strings.Join(payloads, "") != string(old) {
		t.Fatal("the framed log's records are not the old lines byte for byte")
	}
	// Loaded again, it is the same, with nothing to repair.
	st, _ = OpenStore(dir)
	checkLoad(t, st, want)
	if r := st.Repairs(); len(r) != 0 {
		t.Fatalf("repairs %+v", r)
	}
	// It goes on: the task succeeds and the execution ends.
	st.append(storeExecARN, record{Event: &HistoryEvent{Timestamp: time.Now(), Type: "TaskSucceeded", ID: 11, PreviousEventID: 10}})
	st.append(storeExecARN, record{End: &endRecord{Status: StatusSucceeded, Output: "{}", Stop: time.Now()}})
	st.Close()
	st, _ = OpenStore(dir)
	checkLoad(t, st, outcome{exists: true, status: StatusSucceeded, events: 11, lastEventType: "TaskSucceeded"})
}

// TestStoreLegacyTornTail: a log of JSON lines torn in its last line keeps
// the lines before, framed.
func TestStoreLegacyTornTail(t *testing.T) {
	dir := copyFixture(t, "legacy-waiting")
	path := legacyLog(t, dir)
	old, _ := os.ReadFile(path)
	lines := boundaries(old)
	cut := lines[len(lines)-2] + 30 // inside the last line (TaskSubmitted)
	if err := os.WriteFile(path, old[:cut], 0o644); err != nil {
		t.Fatal(err)
	}
	st, _ := OpenStore(dir)
	// Without TaskSubmitted the message may never have gone out: no token to resume.
	checkLoad(t, st, outcome{exists: true, status: StatusRunning, events: 9, state: "Wait", lastEventType: "TaskStarted"})
	if r := st.Repairs(); len(r) != 1 || r[0].What != RepairConverted || r[0].Dropped != 30 {
		t.Fatalf("repairs %+v", r)
	}
	st, _ = OpenStore(dir)
	checkLoad(t, st, outcome{exists: true, status: StatusRunning, events: 9, state: "Wait", lastEventType: "TaskStarted"})
}

// TestStoreDoubleStartTripleEnd loads the log of an execution launched
// twice (the state that made loading panic, "close of closed channel"): two
// starts, the first ten events written twice, three ends (SUCCEEDED, then
// FAILED, then ABORTED). It loads as the first launch left it, SUCCEEDED,
// with one continuous history; so does the same log once framed; and an
// engine restores it.
func TestStoreDoubleStartTripleEnd(t *testing.T) {
	dir := copyFixture(t, "legacy-double-start")
	const output = `{"before":{"orderId":"order-1"},"customs":{"declaration":"CD-1"},"orderId":"order-1"}`
	want := outcome{exists: true, status: StatusSucceeded, events: 18, lastEventType: "ExecutionSucceeded"}
	for _, pass := range []string{"JSON lines", "framed"} {
		st, _ := OpenStore(dir)
		checkLoad(t, st, want)
		_, xs, _ := st.load()
		x := xs[0].x
		if x.Output != output || x.Error != "" || x.Cause != "" || x.failedState != "" {
			t.Fatalf("%s: not the first end: output %s, error %q, failed state %q", pass, x.Output, x.Error, x.failedState)
		}
		// The first launch's events, not the second's (its ExecutionStarted is 28 ms earlier).
		if ts := x.history[0].Timestamp; ts.Format("05.000") != "05.713" {
			t.Fatalf("%s: the first event is from the second launch (%s)", pass, ts)
		}
		var ignored []Repair
		for _, r := range st.Repairs() {
			if r.What == RepairIgnored {
				ignored = append(ignored, r)
			}
		}
		// The second start and its ten events; two events and two ends after
		// the first end. (The second token, written while the execution ran,
		// is the latest one it waited on.)
		if len(ignored) < 1 || ignored[0].Dropped != 16 {
			t.Fatalf("%s: repairs %+v, want 16 records ignored", pass, st.Repairs())
		}
	}
	e := NewEngine()
	e.Store, _ = OpenStore(dir)
	if err := e.Restore(); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	x, err := e.Execution(storeExecARN)
	if err != nil || x.Status != StatusSucceeded {
		t.Fatalf("restored: %v %v", x, err)
	}
	select {
	case <-e.Done(storeExecARN):
	default:
		t.Fatal("the restored execution is not done")
	}
}

// TestStoreReplayRules: replay keeps the first start and end, continuous
// events while running, and applies a redrive only after an end.
func TestStoreReplayRules(t *testing.T) {
	m := storeMachine(t)
	machines := map[string]*stateMachine{m.ARN: m}
	recs := storeRecords()
	start, started, before := recs[0], recs[1], recs[2] // the start, ExecutionStarted, Before entered
	t0 := start.Start.Start
	redrive := record{Redrive: &t0}
	failed := record{End: &endRecord{Status: StatusFailed, Error: "E", FailedState: "Before", FailedInput: []byte(`{"a":1}`)}}
	aborted := record{End: &endRecord{Status: StatusAborted, Error: "Stop"}}
	event := func(id int64, typ string) record {
		return record{Event: &HistoryEvent{ID: id, Type: typ, Details: map[string]any{"name": "Before", "input": "{}"}}}
	}
	tok := record{Token: &tokenRecord{State: "Wait", Token: "t", Entered: 2}}
	submitted := event(3, "TaskSubmitted")
	for _, c := range []struct {
		name    string
		recs    []record
		status  string
		events  int
		redrive int
		ignored int
		token   string
	}{
		{"no start", []record{started, before}, "", 0, 0, 2, ""},
		{"events before the start", []record{started, start, started}, StatusRunning, 1, 0, 1, ""},
		{"second start", []record{start, started, start, started, before}, StatusRunning, 2, 0, 2, ""},
		{"an event out of sequence", []record{start, started, event(3, "TaskStateEntered"), before}, StatusRunning, 2, 0, 1, ""},
		{"redrive while running", []record{start, started, redrive}, StatusRunning, 1, 0, 1, ""},
		{"first end wins", []record{start, started, failed, aborted, failed}, StatusFailed, 1, 0, 2, ""},
		{"events and tokens after the end", []record{start, started, failed, before, tok}, StatusFailed, 1, 0, 2, ""},
		{"redrive after the end", []record{start, started, failed, redrive, before}, StatusRunning, 2, 1, 0, ""},
		{"ends after a redrive", []record{start, started, failed, redrive, before, aborted, aborted}, StatusAborted, 2, 1, 1, ""},
		{"a token waited on", []record{start, started, before, tok, submitted}, StatusRunning, 3, 0, 0, "t"},
		{"a token from before the redrive", []record{start, started, before, tok, submitted, failed, redrive}, StatusRunning, 3, 1, 0, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, ignored := replay(c.recs, machines)
			if ignored != c.ignored {
				t.Fatalf("%d ignored, want %d", ignored, c.ignored)
			}
			if c.status == "" {
				if r != nil {
					t.Fatalf("an execution without a start: %+v", r.x)
				}
				return
			}
			x := r.x
			if x.Status != c.status || len(x.history) != c.events || x.RedriveCount != c.redrive || r.resumeToken != c.token {
				t.Fatalf("status %s, %d events, redriven %d, token %q", x.Status, len(x.history), x.RedriveCount, r.resumeToken)
			}
			select {
			case <-x.done:
				if x.Status == StatusRunning {
					t.Fatal("running, done closed")
				}
			default:
				if x.Status != StatusRunning {
					t.Fatal("ended, done open")
				}
			}
			if x.Status == StatusRunning && x.failedState != "" {
				t.Fatalf("a redriven execution keeps its failed state %q", x.failedState)
			}
		})
	}
}

// TestStoreSetsAsideWhatIsNotALog: a file that is neither framed nor JSON
// lines (zeros, as a power loss can leave) is renamed aside, whole, and the
// rest of the store loads.
func TestStoreSetsAsideWhatIsNotALog(t *testing.T) {
	dir := t.TempDir()
	st := openTestStore(t, dir, SyncNever)
	for _, r := range storeRecords() {
		st.append(storeExecARN, r)
	}
	st.Close()
	junk := filepath.Join(dir, "executions", "0123456789abcdef01234567.log")
	if err := os.WriteFile(junk, make([]byte, 4096), 0o644); err != nil {
		t.Fatal(err)
	}
	st = openTestStore(t, dir, SyncNever)
	checkLoad(t, st, expect(storeRecords()))
	if b, err := os.ReadFile(junk + ".unreadable"); err != nil || len(b) != 4096 {
		t.Fatalf("not set aside whole: %v", err)
	}
	if _, err := os.Stat(junk); !os.IsNotExist(err) {
		t.Fatalf("still a log: %v", err)
	}
}
