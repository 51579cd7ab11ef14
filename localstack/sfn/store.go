package sfn

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Store keeps state machines and executions on disk so a restarted engine
// resumes what was running: machines in one JSON file (machines.json,
// replaced whole by writing a temporary file and renaming it), each execution
// as an append-only log of records (its start, every history event, the task
// tokens it waits on, its end, its redrives).
//
// A log is a write-ahead log. It starts with the line "sfn-log/2" and holds
// one frame per record, written with a single write:
//
//	LLLLLLLL CCCCCCCC {"event":{...}}\n
//
// eight hex digits of the payload's length, eight of its CRC-32C, the JSON
// record, a newline (so a log stays a text file; cut -c19- gives the JSON).
// A process killed at any byte leaves whole frames and perhaps the start of
// one. Loading reads frames up to the first one that is short, has a bad
// length or a bad checksum, and truncates the log there, so that what is
// appended next follows good records; it never fails for that, and reports
// it (Repairs, Logger). As in any write-ahead log, nothing after a bad frame
// is trusted, even when it is intact: corruption in the middle of a log drops
// every record from there on. Logs written before the framing (one JSON
// record per line, no header) still load; loading rewrites them framed.
//
// Replay tolerates a log that saw an execution launched twice: the first
// start wins and a second is ignored; an event is kept only while the
// execution runs and only if it continues the history (its id is the next
// one), so a launch that wrote the history again adds nothing; the first end
// wins and later ones are ignored; a redrive applies only after an end.
//
// Sync says when appends reach the disk; see SyncPolicy. The default,
// SyncNever, survives what a developer's stack meets (Ctrl-C, a crash, kill
// -9) at no cost; a power loss costs the records the kernel had not written
// back yet (about the last half-minute's), and the checksums find the tear.
// The engine calls append with its mutex held, so an fsync there stalls
// every execution for as long as the disk takes: measured (BENCHMARKS.md,
// "Step Functions store: fsync policy"), about 1.2 ms a fsync, which makes
// writing an execution's log 23 times slower under SyncDecisive, 83 times
// under SyncAlways.
type Store struct {
	// Sync is the fsync policy; the zero value is SyncNever.
	Sync SyncPolicy
	// Logger, when set, hears what loading repaired and appends that failed.
	Logger *slog.Logger

	dir   string
	mu    sync.Mutex
	files map[string]*os.File
	// checked are the logs this process has read to their last good frame
	// (or created), so that appends follow good records.
	checked map[string]bool
	repairs []Repair
	// fenced: the engine crashed (Engine.Crash); nothing more is written.
	fenced bool
}

// SyncPolicy says which appends are fsynced before append returns.
type SyncPolicy int

const (
	// SyncNever leaves writes to the operating system's page cache: they
	// survive the process being killed, not the machine losing power (which
	// can cost the records not yet written back; the checksums find where
	// a log stops being whole).
	SyncNever SyncPolicy = iota
	// SyncDecisive fsyncs after the records that decide what a restart does
	// — start, token, the TaskSubmitted event (the message carrying a token
	// went out), end and redrive — and with them every record before them in
	// that log; a new log's directory entry and machines.json are fsynced too.
	// A power loss then costs at most the events since, which the restart
	// runs again (every task is idempotent).
	SyncDecisive
	// SyncAlways fsyncs after every record.
	SyncAlways
)

// Repair is something loading found wrong with a log file, and mended.
type Repair struct {
	Path string
	What string // one of the Repair* descriptions
	// Offset is where the good records end; Dropped, the bytes cut off
	// there (RepairTornTail), or the records replay ignored (RepairIgnored).
	Offset, Dropped int64
}

// What loading can repair.
const (
	RepairTornTail  = "torn or corrupt tail cut off"
	RepairConverted = "rewritten framed from JSON lines"
	RepairSetAside  = "not a log: set aside as .unreadable"
	RepairIgnored   = "records ignored on replay (a second launch)"
)

// record is one record of an execution log.
type record struct {
	Start   *startRecord  `json:"start,omitempty"`
	Event   *HistoryEvent `json:"event,omitempty"`
	Token   *tokenRecord  `json:"token,omitempty"`
	End     *endRecord    `json:"end,omitempty"`
	Redrive *time.Time    `json:"redrive,omitempty"`
}

type startRecord struct {
	ARN, Name, MachineARN, Input string
	Start                        time.Time
}

type tokenRecord struct {
	State string `json:"state"`
	Token string `json:"token"`
	// Entered is the id of the state's entered event: a token belongs to one entry.
	Entered int64 `json:"entered"`
}

type endRecord struct {
	Status, Output, Error, Cause string
	Stop                         time.Time
	FailedState                  string          `json:",omitempty"`
	FailedInput                  json.RawMessage `json:",omitempty"`
}

type machineRecord struct {
	ARN, Name, Definition, RoleARN, Type string
	Created                              time.Time
}

// decisive: the record decides what a restart does (SyncDecisive).
func (r record) decisive() bool {
	return r.Start != nil || r.Token != nil || r.End != nil || r.Redrive != nil ||
		(r.Event != nil && r.Event.Type == "TaskSubmitted")
}

// The framing of a log.
const (
	logHeader = "sfn-log/2\n"
	// frameHeader is "LLLLLLLL CCCCCCCC ": length and CRC-32C in hex.
	frameHeader = 18
	// maxRecord bounds a frame's length: a larger one is corrupt.
	maxRecord = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendFrame appends payload, framed, to b.
func appendFrame(b, payload []byte) []byte {
	b = fmt.Appendf(b, "%08x %08x ", len(payload), crc32.Checksum(payload, castagnoli))
	b = append(b, payload...)
	return append(b, '\n')
}

// readFrame reads the frame at the start of b: its payload and its size, or
// ok false when b does not start with a whole, intact frame.
func readFrame(b []byte) (payload []byte, size int, ok bool) {
	if len(b) < frameHeader+1 || b[8] != ' ' || b[17] != ' ' {
		return nil, 0, false
	}
	n, err := strconv.ParseUint(string(b[:8]), 16, 32)
	if err != nil || n > maxRecord || uint64(len(b)) < frameHeader+n+1 {
		return nil, 0, false
	}
	sum, err := strconv.ParseUint(string(b[9:17]), 16, 32)
	if err != nil {
		return nil, 0, false
	}
	payload, size = b[frameHeader:frameHeader+n], frameHeader+int(n)+1
	if b[size-1] != '\n' || crc32.Checksum(payload, castagnoli) != uint32(sum) {
		return nil, 0, false
	}
	return payload, size, true
}

// OpenStore opens (creating) a store in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "executions"), 0o755); err != nil {
		return nil, fmt.Errorf("sfn store: %w", err)
	}
	return &Store{dir: dir, files: map[string]*os.File{}, checked: map[string]bool{}}, nil
}

func (s *Store) logPath(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return filepath.Join(s.dir, "executions", hex.EncodeToString(sum[:12])+".log")
}

func (s *Store) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// append writes a record to an execution's log, in one write, and fsyncs it
// as Sync says. A failure is logged: the execution goes on in memory.
func (s *Store) append(arn string, r record) {
	if s == nil {
		return
	}
	payload, err := json.Marshal(r)
	if err != nil {
		s.log().Error("sfn store: encoding a record", "execution", arn, "error", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.write(arn, r, appendFrame(nil, payload)); err != nil {
		s.log().Error("sfn store: append", "execution", arn, "error", err)
	}
}

// write appends a frame to arn's log; the caller holds s.mu.
func (s *Store) write(arn string, r record, frame []byte) error {
	if s.fenced {
		return nil // what a killed process never wrote
	}
	f, ok := s.files[arn]
	created := false
	if !ok {
		var err error
		if f, created, err = s.openLog(s.logPath(arn)); err != nil {
			return err
		}
		s.files[arn] = f
	}
	if r.End != nil {
		defer func() {
			f.Close()
			delete(s.files, arn)
		}()
	}
	if _, err := f.Write(frame); err != nil {
		return fmt.Errorf("%s: %w", f.Name(), err)
	}
	if s.Sync == SyncAlways || (s.Sync == SyncDecisive && r.decisive()) {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("%s: %w", f.Name(), err)
		}
	}
	if created && s.Sync != SyncNever {
		return syncDir(filepath.Dir(f.Name()))
	}
	return nil
}

// openLog opens a log for appending, first cutting off a torn tail this
// process has not seen yet; a new log gets its header. created says it did.
func (s *Store) openLog(path string) (f *os.File, created bool, err error) {
	if !s.checked[path] {
		if _, err := s.readLog(path); err != nil {
			return nil, false, err
		}
		s.checked[path] = true
	}
	f, err = os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, false, fmt.Errorf("sfn store: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("sfn store: %w", err)
	}
	if st.Size() == 0 {
		// Killed before the first record, a log holds its header only: an empty log.
		if _, err := f.WriteString(logHeader); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("sfn store: %s: %w", path, err)
		}
		created = true
	}
	return f, created, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sfn store: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sfn store: fsync %s: %w", dir, err)
	}
	return nil
}

// writeFileAtomic replaces path with b: a temporary file, renamed over it.
// With sync, the file and then its directory are fsynced, so that a power
// loss leaves the old content or the new one, never an empty file.
func writeFileAtomic(path string, b []byte, sync bool) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil && sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if sync {
		return syncDir(filepath.Dir(path))
	}
	return nil
}

func (s *Store) saveMachines(ms []*stateMachine) error {
	if s == nil {
		return nil
	}
	var out []machineRecord
	for _, m := range ms {
		out = append(out, machineRecord{ARN: m.ARN, Name: m.Name, Definition: m.Definition, RoleARN: m.RoleARN, Type: m.Type, Created: m.Created})
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return fmt.Errorf("sfn store: machines.json: %w", err)
	}
	s.mu.Lock()
	fenced := s.fenced
	s.mu.Unlock()
	if fenced {
		return nil
	}
	if err := writeFileAtomic(filepath.Join(s.dir, "machines.json"), b, s.Sync != SyncNever); err != nil {
		return fmt.Errorf("sfn store: machines.json: %w", err)
	}
	return nil
}

// fence makes the store write nothing more, from this instant, and
// closes its logs as a killed process's are: without an fsync (what was
// written is in the page cache, as after a SIGKILL).
func (s *Store) fence() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fenced = true
	for arn, f := range s.files {
		f.Close()
		delete(s.files, arn)
	}
}

// Close closes the open logs; executions stay RUNNING on disk, to be
// resumed. Unless Sync is SyncNever, it fsyncs them first.
func (s *Store) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closeLogs()
}

// closeLogs closes the open logs; the caller holds s.mu.
func (s *Store) closeLogs() {
	for arn, f := range s.files {
		if s.Sync != SyncNever {
			if err := f.Sync(); err != nil {
				s.log().Error("sfn store: fsync on close", "execution", arn, "error", err)
			}
		}
		f.Close()
		delete(s.files, arn)
	}
}

// Repairs lists what loading has mended so far, oldest first.
func (s *Store) Repairs() []Repair {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Repair(nil), s.repairs...)
}

// repaired records and logs a repair; the caller holds s.mu.
func (s *Store) repaired(r Repair) {
	s.repairs = append(s.repairs, r)
	s.log().Warn("sfn store: repaired an execution log", "path", r.Path, "what", r.What, "offset", r.Offset, "dropped", r.Dropped)
}

// restored is an execution read back, with where to resume it.
type restored struct {
	x            *execution
	resumeState  string
	resumeInput  any
	resumeToken  string
	tokenEntered int64
}

// load reads the machines and every execution log, mending the logs as it
// goes (Repairs); a damaged log never makes it fail.
func (s *Store) load() ([]*stateMachine, []restored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A log open for appending would miss a rewrite: reopen after.
	s.closeLogs()
	var machines []*stateMachine
	if b, err := os.ReadFile(filepath.Join(s.dir, "machines.json")); err == nil {
		var recs []machineRecord
		if err := json.Unmarshal(b, &recs); err != nil {
			return nil, nil, fmt.Errorf("sfn store: machines.json: %w", err)
		}
		for _, r := range recs {
			def, err := ParseDefinition(r.Definition)
			if err != nil {
				return nil, nil, fmt.Errorf("sfn store: machine %s: %w", r.Name, err)
			}
			machines = append(machines, &stateMachine{ARN: r.ARN, Name: r.Name, Definition: r.Definition, RoleARN: r.RoleARN, Type: r.Type, Created: r.Created, def: def})
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("sfn store: %w", err)
	}
	byARN := map[string]*stateMachine{}
	for _, m := range machines {
		byARN[m.ARN] = m
	}
	dir := filepath.Join(s.dir, "executions")
	stale, _ := filepath.Glob(filepath.Join(dir, "*.log.tmp")) // a rewrite cut short
	for _, p := range stale {
		os.Remove(p)
	}
	logs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil {
		return nil, nil, fmt.Errorf("sfn store: %w", err)
	}
	var out []restored
	for _, path := range logs {
		recs, err := s.readLog(path)
		if err != nil {
			return nil, nil, err
		}
		s.checked[path] = true
		r, ignored := replay(recs, byARN)
		if ignored > 0 {
			s.repaired(Repair{Path: path, What: RepairIgnored, Dropped: int64(ignored)})
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].x.Start.Before(out[j].x.Start) })
	return machines, out, nil
}

// readLog reads a log's records up to the first bad one, and mends the file:
// a torn or corrupt tail is cut off, a log of JSON lines is rewritten framed,
// a file that is neither is renamed aside. The caller holds s.mu. Only an
// I/O error fails it.
func (s *Store) readLog(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sfn store: %w", err)
	}
	switch {
	case len(b) < len(logHeader) && strings.HasPrefix(logHeader, string(b)):
		// Empty, or killed while writing the header: an empty log.
		if len(b) > 0 {
			return nil, s.truncate(path, 0, int64(len(b)))
		}
		return nil, nil
	case bytes.HasPrefix(b, []byte(logHeader)):
		recs, good := readFrames(b, len(logHeader))
		if good < len(b) {
			return recs, s.truncate(path, int64(good), int64(len(b)-good))
		}
		return recs, nil
	case b[0] == '{':
		recs, lines, good := readLines(b)
		if err := s.convert(path, lines); err != nil {
			return nil, err
		}
		s.repaired(Repair{Path: path, What: RepairConverted, Offset: int64(good), Dropped: int64(len(b) - good)})
		return recs, nil
	}
	aside := path + ".unreadable"
	if err := os.Rename(path, aside); err != nil {
		return nil, fmt.Errorf("sfn store: setting aside %s: %w", path, err)
	}
	s.repaired(Repair{Path: path, What: RepairSetAside, Dropped: int64(len(b))})
	return nil, nil
}

// readFrames reads the records of b's frames from offset at, up to the first
// frame that is not whole and intact or not a record; good is where it ends.
func readFrames(b []byte, at int) (recs []record, good int) {
	for {
		payload, size, ok := readFrame(b[at:])
		if !ok {
			return recs, at
		}
		var r record
		if json.Unmarshal(payload, &r) != nil {
			return recs, at
		}
		recs, at = append(recs, r), at+size
	}
}

// readLines reads a log of JSON lines (the format before framing) up to the
// first line that is not a record: the records, their lines, where they end.
func readLines(b []byte) (recs []record, lines [][]byte, good int) {
	for good < len(b) {
		line, _, _ := bytes.Cut(b[good:], []byte{'\n'})
		var r record
		if json.Unmarshal(line, &r) != nil {
			break
		}
		recs, lines = append(recs, r), append(lines, line)
		good = min(good+len(line)+1, len(b))
	}
	return recs, lines, good
}

// truncate cuts a log's torn tail off at good; the caller holds s.mu.
func (s *Store) truncate(path string, good, dropped int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("sfn store: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(good); err != nil {
		return fmt.Errorf("sfn store: truncating %s: %w", path, err)
	}
	if s.Sync != SyncNever {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sfn store: %s: %w", path, err)
		}
	}
	s.repaired(Repair{Path: path, What: RepairTornTail, Offset: good, Dropped: dropped})
	return nil
}

// convert rewrites a log of JSON lines framed, the same records byte for
// byte. It always fsyncs: the rename replaces the only copy.
func (s *Store) convert(path string, lines [][]byte) error {
	b := []byte(logHeader)
	for _, l := range lines {
		b = appendFrame(b, l)
	}
	if err := writeFileAtomic(path, b, true); err != nil {
		return fmt.Errorf("sfn store: rewriting %s framed: %w", path, err)
	}
	return nil
}

// replay rebuilds an execution from its records (nil when it has no start or
// its machine was deleted), tolerating a log that saw two launches: see
// Store. ignored counts the records it left out.
func replay(recs []record, machines map[string]*stateMachine) (r *restored, ignored int) {
	r = &restored{}
	for _, rec := range recs {
		x := r.x
		switch {
		case rec.Start != nil && x == nil:
			m := machines[rec.Start.MachineARN]
			if m == nil {
				return nil, 0 // its machine was deleted
			}
			r.x = &execution{ARN: rec.Start.ARN, Name: rec.Start.Name, MachineARN: rec.Start.MachineARN, Input: rec.Start.Input,
				Start: rec.Start.Start, Status: StatusRunning, machine: m, done: make(chan struct{})}
		case x == nil || rec.Start != nil:
			ignored++ // before the start, or a second start
		case rec.Event != nil:
			if x.Status != StatusRunning || rec.Event.ID != int64(len(x.history))+1 {
				ignored++
				continue
			}
			x.history = append(x.history, *rec.Event)
		case rec.Token != nil:
			if x.Status != StatusRunning {
				ignored++
				continue
			}
			r.resumeToken, r.tokenEntered = rec.Token.Token, rec.Token.Entered
		case rec.End != nil:
			if x.Status != StatusRunning {
				ignored++ // the first end wins
				continue
			}
			e := rec.End
			x.Status, x.Output, x.Error, x.Cause, x.Stop = e.Status, e.Output, e.Error, e.Cause, e.Stop
			x.failedState = e.FailedState
			if len(e.FailedInput) > 0 {
				x.failedInput, _ = decodeJSON(e.FailedInput)
			}
			r.resumeToken, r.tokenEntered = "", 0 // a redrive waits on a token of its own
			close(x.done)
		case rec.Redrive != nil:
			if x.Status == StatusRunning {
				ignored++
				continue
			}
			x.Status, x.Error, x.Cause, x.Stop = StatusRunning, "", "", time.Time{}
			x.RedriveCount, x.RedriveDate = x.RedriveCount+1, *rec.Redrive
			x.failedState, x.failedInput = "", nil
			x.done = make(chan struct{})
		default:
			ignored++ // a record of nothing this version knows
		}
	}
	if r.x == nil {
		return nil, ignored
	}
	if r.x.Status == StatusRunning {
		r.resumeState, r.resumeInput = resumePoint(r.x)
		if r.tokenEntered == 0 || !submittedSince(r.x, r.tokenEntered) {
			r.resumeToken = "" // the message never went out: run the task again
		}
	}
	return r, ignored
}

// resumePoint finds the top-level state the execution was in — the last one
// entered — and the input it entered with. A state that had already exited
// runs again: every task is idempotent, and its exit decided the next state.
func resumePoint(x *execution) (string, any) {
	states := x.machine.def.States
	for i := len(x.history) - 1; i >= 0; i-- {
		ev := x.history[i]
		name, _ := ev.Details["name"].(string)
		if _, top := states[name]; !top || !strings.HasSuffix(ev.Type, "StateEntered") {
			continue
		}
		raw, _ := ev.Details["input"].(string)
		in, _ := decodeJSON([]byte(raw))
		return name, in
	}
	in, _ := decodeJSON([]byte(x.Input))
	return x.machine.def.StartAt, in
}

func submittedSince(x *execution, entered int64) bool {
	for _, ev := range x.history {
		if ev.ID > entered && ev.Type == "TaskSubmitted" {
			return true
		}
	}
	return false
}
