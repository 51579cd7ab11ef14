package sfn

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store keeps state machines and executions on disk so a restarted engine
// resumes what was running: machines in one JSON file, each execution as an
// append-only log of records (its start, every history event, the task
// tokens it waits on, its end). Appends are not fsynced: a machine crash can
// lose the last records, a process restart cannot.
type Store struct {
	dir   string
	mu    sync.Mutex
	files map[string]*os.File
}

// record is one line of an execution log.
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

// OpenStore opens (creating) a store in dir.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "executions"), 0o755); err != nil {
		return nil, fmt.Errorf("sfn store: %w", err)
	}
	return &Store{dir: dir, files: map[string]*os.File{}}, nil
}

func (s *Store) logPath(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return filepath.Join(s.dir, "executions", hex.EncodeToString(sum[:12])+".log")
}

func (s *Store) append(arn string, r record) {
	if s == nil {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[arn]
	if !ok {
		f, err = os.OpenFile(s.logPath(arn), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return
		}
		s.files[arn] = f
	}
	_, _ = f.Write(append(line, '\n'))
	if r.End != nil {
		f.Close()
		delete(s.files, arn)
	}
}

func (s *Store) saveMachines(ms []*stateMachine) error {
	if s == nil {
		return nil
	}
	var out []machineRecord
	for _, m := range ms {
		out = append(out, machineRecord{ARN: m.ARN, Name: m.Name, Definition: m.Definition, RoleARN: m.RoleARN, Type: m.Type, Created: m.Created})
	}
	b, _ := json.MarshalIndent(out, "", " ")
	tmp := filepath.Join(s.dir, "machines.json.tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(s.dir, "machines.json"))
}

// Close closes the open logs; executions stay RUNNING on disk, to be resumed.
func (s *Store) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for arn, f := range s.files {
		f.Close()
		delete(s.files, arn)
	}
}

// restored is an execution read back, with where to resume it.
type restored struct {
	x            *execution
	resumeState  string
	resumeInput  any
	resumeToken  string
	tokenEntered int64
}

func (s *Store) load() ([]*stateMachine, []restored, error) {
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
	}
	byARN := map[string]*stateMachine{}
	for _, m := range machines {
		byARN[m.ARN] = m
	}
	logs, _ := filepath.Glob(filepath.Join(s.dir, "executions", "*.log"))
	var out []restored
	for _, path := range logs {
		r, err := readLog(path, byARN)
		if err != nil {
			return nil, nil, err
		}
		if r != nil {
			out = append(out, *r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].x.Start.Before(out[j].x.Start) })
	return machines, out, nil
}

func readLog(path string, machines map[string]*stateMachine) (*restored, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var r restored
	for sc.Scan() {
		var rec record
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			break // a torn last line: keep what came before
		}
		switch {
		case rec.Start != nil:
			m := machines[rec.Start.MachineARN]
			if m == nil {
				return nil, nil // its machine was deleted
			}
			r.x = &execution{ARN: rec.Start.ARN, Name: rec.Start.Name, MachineARN: rec.Start.MachineARN, Input: rec.Start.Input,
				Start: rec.Start.Start, Status: StatusRunning, machine: m, done: make(chan struct{})}
		case r.x == nil:
		case rec.Event != nil:
			r.x.history = append(r.x.history, *rec.Event)
		case rec.Token != nil:
			r.resumeToken, r.tokenEntered = rec.Token.Token, rec.Token.Entered
		case rec.End != nil:
			e := rec.End
			r.x.Status, r.x.Output, r.x.Error, r.x.Cause, r.x.Stop = e.Status, e.Output, e.Error, e.Cause, e.Stop
			r.x.failedState = e.FailedState
			if len(e.FailedInput) > 0 {
				r.x.failedInput, _ = decodeJSON(e.FailedInput)
			}
			close(r.x.done)
		case rec.Redrive != nil:
			r.x.Status, r.x.RedriveCount, r.x.RedriveDate = StatusRunning, r.x.RedriveCount+1, *rec.Redrive
			r.x.done = make(chan struct{})
		}
	}
	if r.x == nil {
		return nil, nil
	}
	if r.x.Status == StatusRunning {
		r.resumeState, r.resumeInput = resumePoint(r.x)
		if r.tokenEntered == 0 || !submittedSince(r.x, r.tokenEntered) {
			r.resumeToken = "" // the message never went out: run the task again
		}
	}
	return &r, nil
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
