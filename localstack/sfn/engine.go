// Package sfn is xborder's local Step Functions engine: it serves the Step
// Functions API (AWS JSON 1.0) and runs Amazon States Language definitions
// (JSONPath) so that the production sfn client, any AWS SDK or the CLI work
// against it unchanged. What it cannot run it refuses when the state machine
// is created, naming the feature and the state.
package sfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Account and region of the local stack.
const (
	Account = "000000000000"
	Region  = "us-east-1"
)

// Engine holds state machines and runs their executions.
type Engine struct {
	// Invoker runs Lambda functions; Queues sends SQS messages.
	Invoker  Invoker
	Queues   MessageSender
	Services ServiceCaller
	// TimeScale multiplies every wait, retry interval and timeout (tests use
	// small values); 0 means 1, real time.
	TimeScale float64
	Logger    *slog.Logger
	Now       func() time.Time
	// Store, when set, keeps machines and executions across restarts.
	Store *Store
	// OnStatusChange receives what EventBridge's "Step Functions Execution
	// Status Change" event carries when an execution ends (the local stack
	// routes FAILED, TIMED_OUT and ABORTED to mark-stalled, as the rule does in AWS).
	OnStatusChange func(StatusChange)

	mu       sync.Mutex
	machines map[string]*stateMachine
	execs    map[string]*execution
	order    []string // execution ARNs, oldest first
	tokens   map[string]*waiter
	wg       sync.WaitGroup
	closing  bool
	// runs cancels each execution goroutine still running, by launch: Close
	// stops every one, whatever its execution's status says (a redrive
	// launches an execution again).
	runs    map[uint64]context.CancelFunc
	lastRun uint64
	// pending are the executions Load found running, for Resume.
	pending []restored
	// crashed: Crash ended the engine; nothing it does counts.
	crashed bool
}

type stateMachine struct {
	ARN, Name, Definition, RoleARN, Type string
	Created                              time.Time
	def                                  *Definition
}

// Execution statuses.
const (
	StatusRunning   = "RUNNING"
	StatusSucceeded = "SUCCEEDED"
	StatusFailed    = "FAILED"
	StatusTimedOut  = "TIMED_OUT"
	StatusAborted   = "ABORTED"
)

type execution struct {
	ARN, Name, MachineARN string
	Status                string
	Input                 string
	input                 any // Input, decoded once
	Output                string
	Error, Cause          string
	Start, Stop           time.Time
	RedriveCount          int
	RedriveDate           time.Time
	history               []HistoryEvent
	machine               *stateMachine
	cancel                context.CancelFunc
	// resumeToken is the token a restored execution still waits on, for
	// the state entry resumeEntered.
	resumeToken   string
	resumeEntered int64
	// resuming: the state being resumed was entered before the restart.
	resuming bool
	// where it failed, for RedriveExecution
	failedState string
	failedInput any
	done        chan struct{}
	// evicted: the history of a succeeded execution lives in its store
	// log only (Engine.evict), events long.
	evicted bool
	events  int
}

// NewEngine returns an engine with no state machines.
func NewEngine() *Engine {
	return &Engine{machines: map[string]*stateMachine{}, execs: map[string]*execution{}, tokens: map[string]*waiter{}}
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) scaled(d time.Duration) time.Duration {
	if e.TimeScale <= 0 {
		return d
	}
	return time.Duration(float64(d) * e.TimeScale)
}

func (e *Engine) log() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// APIError is an error of the Step Functions API, by its AWS name.
type APIError struct {
	Code, Message string
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiErr(code, format string, a ...any) error {
	return &APIError{Code: code, Message: fmt.Sprintf(format, a...)}
}

func machineARN(name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:stateMachine:%s", Region, Account, name)
}

func executionARN(machine, name string) string {
	return fmt.Sprintf("arn:aws:states:%s:%s:execution:%s:%s", Region, Account, machine, name)
}

// CreateStateMachine parses, checks and stores a state machine.
func (e *Engine) CreateStateMachine(name, definition, roleARN, typ string) (*stateMachine, error) {
	if name == "" || len(name) > 80 {
		return nil, apiErr("InvalidName", "invalid state machine name %q", name)
	}
	if typ == "" {
		typ = "STANDARD"
	}
	if typ != "STANDARD" {
		return nil, apiErr("ValidationException", "the local engine runs STANDARD state machines only, not %s", typ)
	}
	def, err := ParseDefinition(definition)
	if err != nil {
		return nil, apiErr("InvalidDefinition", "%v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	arn := machineARN(name)
	if old, ok := e.machines[arn]; ok {
		if old.Definition == definition && old.RoleARN == roleARN {
			return old, nil // AWS: creating the same machine again returns it
		}
		return nil, apiErr("StateMachineAlreadyExists", "State Machine Already Exists: '%s'", arn)
	}
	sm := &stateMachine{ARN: arn, Name: name, Definition: definition, RoleARN: roleARN, Type: typ, Created: e.now(), def: def}
	e.machines[arn] = sm
	if err := e.Store.saveMachines(e.machineList()); err != nil {
		return nil, apiErr("InternalServerError", "store: %v", err)
	}
	return sm, nil
}

// UpdateStateMachine replaces a definition; running executions keep theirs.
func (e *Engine) UpdateStateMachine(arn, definition, roleARN string) (*stateMachine, error) {
	def, err := ParseDefinition(definition)
	if err != nil {
		return nil, apiErr("InvalidDefinition", "%v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old, ok := e.machines[arn]
	if !ok {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	sm := *old
	sm.Definition, sm.def = definition, def
	if roleARN != "" {
		sm.RoleARN = roleARN
	}
	e.machines[arn] = &sm
	if err := e.Store.saveMachines(e.machineList()); err != nil {
		return nil, apiErr("InternalServerError", "store: %v", err)
	}
	return &sm, nil
}

// StateMachine returns one state machine.
func (e *Engine) StateMachine(arn string) (*stateMachine, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sm, ok := e.machines[arn]
	if !ok {
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", arn)
	}
	return sm, nil
}

// StateMachines lists state machines by name.
func (e *Engine) StateMachines() []*stateMachine {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*stateMachine, 0, len(e.machines))
	for _, sm := range e.machines {
		out = append(out, sm)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// DeleteStateMachine removes a state machine (its executions stay listed).
func (e *Engine) DeleteStateMachine(arn string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.machines, arn)
	_ = e.Store.saveMachines(e.machineList())
}

// machineList lists machines; the caller holds e.mu.
func (e *Engine) machineList() []*stateMachine {
	out := make([]*stateMachine, 0, len(e.machines))
	for _, m := range e.machines {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// StartExecution starts (or, as AWS does for the same name and input while
// it runs, returns) an execution.
func (e *Engine) StartExecution(machineARN, name, input string) (*execution, error) {
	if input == "" {
		input = "{}"
	}
	in, err := decodeJSON([]byte(input))
	if err != nil {
		return nil, apiErr("InvalidExecutionInput", "the input is not JSON: %v", err)
	}
	if name == "" {
		name = newID()
	}
	e.mu.Lock()
	sm, ok := e.machines[machineARN]
	if !ok {
		e.mu.Unlock()
		return nil, apiErr("StateMachineDoesNotExist", "State Machine Does Not Exist: '%s'", machineARN)
	}
	arn := executionARN(sm.Name, name)
	if old, ok := e.execs[arn]; ok {
		e.mu.Unlock()
		if old.Status == StatusRunning && old.Input == input {
			return old, nil
		}
		return nil, apiErr("ExecutionAlreadyExists", "Execution Already Exists: '%s'", arn)
	}
	x := &execution{ARN: arn, Name: name, MachineARN: sm.ARN, Status: StatusRunning, Input: input, input: in, Start: e.now(), machine: sm, done: make(chan struct{})}
	e.execs[arn] = x
	e.order = append(e.order, arn)
	e.Store.append(arn, record{Start: &startRecord{ARN: arn, Name: name, MachineARN: sm.ARN, Input: input, Start: x.Start}})
	e.record(x, "ExecutionStarted", map[string]any{
		"input": input, "inputDetails": map[string]any{"truncated": false}, "roleArn": sm.RoleARN,
		"stateMachineArn": sm.ARN,
	})
	e.mu.Unlock()
	e.launch(x, sm.def.StartAt, in)
	return x, nil
}

// record appends an event; the caller holds e.mu. Once an execution has
// ended (stopped while a state was still running, say) only its own end
// events are recorded: what the interrupted state does after is not history.
func (e *Engine) record(x *execution, typ string, details map[string]any) int64 {
	if x.Status != StatusRunning && !strings.HasPrefix(typ, "Execution") {
		return int64(len(x.history))
	}
	id := int64(len(x.history) + 1)
	ev := HistoryEvent{Timestamp: e.now(), Type: typ, ID: id, PreviousEventID: id - 1, Details: details}
	x.history = append(x.history, ev)
	e.Store.append(x.ARN, record{Event: &ev})
	return id
}

func (e *Engine) event(x *execution, typ string, details map[string]any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.record(x, typ, details)
}

func (e *Engine) launch(x *execution, state string, input any) {
	ctx, cancel := context.WithCancel(context.Background())
	e.mu.Lock()
	x.cancel = cancel
	if e.runs == nil {
		e.runs = map[uint64]context.CancelFunc{}
	}
	e.lastRun++
	run := e.lastRun
	e.runs[run] = cancel
	closing := e.closing
	e.mu.Unlock()
	if closing {
		cancel() // launched while closing: it stops at once, RUNNING for the next engine
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer func() {
			cancel()
			e.mu.Lock()
			delete(e.runs, run)
			e.mu.Unlock()
		}()
		e.run(ctx, x, state, input)
	}()
}

// Wait blocks until every execution goroutine has returned (tests, shutdown).
func (e *Engine) Wait() { e.wg.Wait() }

// Execution returns one execution.
func (e *Engine) Execution(arn string) (*execution, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x, ok := e.execs[arn]
	if !ok {
		return nil, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	return x, nil
}

// snapshot copies an execution's fields under the lock.
func (e *Engine) snapshot(x *execution) execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := *x
	c.history, _ = e.historyOf(x)
	return c
}

// Executions lists a machine's executions, newest first, optionally by status.
func (e *Engine) Executions(machineARN, status string) []execution {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []execution
	for i := len(e.order) - 1; i >= 0; i-- {
		x := e.execs[e.order[i]]
		if x.MachineARN == machineARN && (status == "" || x.Status == status) {
			c := *x
			c.history = nil
			out = append(out, c)
		}
	}
	return out
}

// StopExecution aborts a running execution.
func (e *Engine) StopExecution(arn, errName, cause string) (time.Time, error) {
	e.mu.Lock()
	x, ok := e.execs[arn]
	if !ok {
		e.mu.Unlock()
		return time.Time{}, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	if x.Status != StatusRunning {
		stop := x.Stop
		e.mu.Unlock()
		return stop, nil
	}
	x.Status, x.Error, x.Cause, x.Stop = StatusAborted, errName, cause, e.now()
	e.record(x, "ExecutionAborted", map[string]any{"error": errName, "cause": cause})
	cancel := x.cancel
	stop := x.Stop
	close(x.done)
	e.mu.Unlock()
	if cancel != nil {
		cancel() // run records where it stopped (persistEnd), for a redrive
	}
	e.notify(x)
	return stop, nil
}

// persistEnd writes an ended execution's last record; the caller holds e.mu.
func (e *Engine) persistEnd(x *execution) {
	end := &endRecord{Status: x.Status, Output: x.Output, Error: x.Error, Cause: x.Cause, Stop: x.Stop, FailedState: x.failedState}
	if x.failedState != "" {
		end.FailedInput = []byte(mustJSON(x.failedInput))
	}
	e.Store.append(x.ARN, record{End: end})
}

// Restore loads the store and resumes what was running (Load, then Resume).
// Call it once, on a new engine, before serving.
func (e *Engine) Restore() error {
	if err := e.Load(); err != nil {
		return err
	}
	e.Resume()
	return nil
}

// Load reads the store's state machines and executions without running
// anything: from then on a StartExecution of an execution that was running
// returns it (the same name and input) or refuses it (ExecutionAlreadyExists),
// as AWS does, and never starts it a second time. The local stack loads
// before any poller, reconcile or API can start an execution, wires the
// functions and queues the executions call, then calls Resume.
func (e *Engine) Load() error {
	if e.Store == nil {
		return nil
	}
	if e.Store.Logger == nil {
		e.Store.Logger = e.log() // what loading repaired is told
	}
	machines, execs, err := e.Store.load()
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, m := range machines {
		e.machines[m.ARN] = m
	}
	for _, r := range execs {
		if _, ok := e.execs[r.x.ARN]; ok {
			continue // loaded already
		}
		e.execs[r.x.ARN] = r.x
		e.order = append(e.order, r.x.ARN)
		e.evict(r.x)
		if r.x.Status == StatusRunning {
			r.x.resumeToken, r.x.resumeEntered, r.x.resuming = r.resumeToken, r.tokenEntered, true
			if r.resumeToken != "" {
				e.tokens[r.resumeToken] = &waiter{ch: make(chan tokenResult, 16), machine: r.x.MachineARN}
			}
			e.pending = append(e.pending, r)
		}
	}
	return nil
}

// Resume runs, each exactly once, the executions Load found running, from
// the state each was in; a task token they waited on stays valid. Calling it
// again resumes nothing twice.
func (e *Engine) Resume() {
	e.mu.Lock()
	pending := e.pending
	e.pending = nil
	e.mu.Unlock()
	for _, r := range pending {
		e.log().Info("resuming execution", "execution", r.x.ARN, "state", r.resumeState)
		e.launch(r.x, r.resumeState, r.resumeInput)
	}
}

// Close stops every execution where it is, without ending it: a store keeps
// them RUNNING for the next engine to resume.
func (e *Engine) Close() {
	e.cutOff(false)
	e.wg.Wait()
	e.Store.Close()
}

// cutOff stops the engine taking new runs and cancels every run it has
// (crashed also marks it crashed: nothing it does counts).
func (e *Engine) cutOff(crashed bool) {
	e.mu.Lock()
	e.closing = true
	e.crashed = e.crashed || crashed
	var cancels []context.CancelFunc
	for _, c := range e.runs {
		cancels = append(cancels, c)
	}
	e.mu.Unlock()
	for _, c := range cancels {
		c()
	}
}

// Crash ends the engine as a SIGKILL of its process would, for the chaos
// tests of an engine that shares its process with the local stack: from
// this instant nothing it does is recorded (its store writes nothing
// more), no status change is told, and every execution is cut off where
// it is, without waiting. What was written stays; a new engine on the same
// store folder resumes it (Load, Resume). A server in front of it answers
// nothing it handled from then on (Crashed).
func (e *Engine) Crash() {
	e.Store.fence()
	e.cutOff(true)
}

// Crashed reports whether Crash has ended the engine.
func (e *Engine) Crashed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.crashed
}

// errStopped: the execution was aborted while a state ran.
var errStopped = errors.New("execution stopped")

// StatusChange is the detail of a "Step Functions Execution Status Change" event.
type StatusChange struct {
	ExecutionARN    string `json:"executionArn"`
	StateMachineARN string `json:"stateMachineArn"`
	Name            string `json:"name"`
	Status          string `json:"status"`
	Error           string `json:"error,omitempty"`
	Cause           string `json:"cause,omitempty"`
}

func (e *Engine) notify(x *execution) {
	if e.OnStatusChange == nil {
		return
	}
	e.mu.Lock()
	if e.crashed {
		e.mu.Unlock()
		return
	}
	c := StatusChange{ExecutionARN: x.ARN, StateMachineARN: x.MachineARN, Name: x.Name, Status: x.Status, Error: x.Error, Cause: x.Cause}
	e.mu.Unlock()
	e.OnStatusChange(c)
}

// finish records the end of an execution, unless it was stopped meanwhile.
func (e *Engine) finish(x *execution, status string, output any, errName, cause string) {
	defer e.notify(x)
	e.mu.Lock()
	defer e.mu.Unlock()
	if x.Status != StatusRunning {
		return
	}
	x.Status, x.Stop = status, e.now()
	switch status {
	case StatusSucceeded:
		x.Output = mustJSON(output)
		e.record(x, "ExecutionSucceeded", payloadDetails("output", x.Output))
	case StatusFailed:
		x.Error, x.Cause = errName, cause
		e.record(x, "ExecutionFailed", map[string]any{"error": errName, "cause": cause})
		e.log().Warn("execution failed", "execution", x.ARN, "error", errName)
	case StatusTimedOut:
		x.Error, x.Cause = errName, cause
		e.record(x, "ExecutionTimedOut", map[string]any{"error": errName, "cause": cause})
	}
	e.persistEnd(x)
	close(x.done)
	e.evict(x)
}

// evict lets a succeeded execution's history go from memory: its log in
// the store holds it, and GetExecutionHistory reads it from there. The
// engine's memory then grows by a few kilobytes an execution (its input
// and output), not by its whole history: a long-running local stack stays
// bounded. The caller holds e.mu.
func (e *Engine) evict(x *execution) {
	if e.Store == nil || x.Status != StatusSucceeded || x.evicted {
		return
	}
	x.events, x.evicted = len(x.history), true
	x.history, x.input = nil, nil
}

// historyOf is an execution's history: from memory, or from its log once
// evicted. The caller holds e.mu.
func (e *Engine) historyOf(x *execution) ([]HistoryEvent, error) {
	if !x.evicted {
		return append([]HistoryEvent(nil), x.history...), nil
	}
	recs, err := e.Store.readLog(e.Store.logPath(x.ARN))
	if err != nil {
		return nil, err
	}
	r, _ := replay(recs, e.machines)
	if r == nil || len(r.x.history) != x.events {
		return nil, fmt.Errorf("sfn: the history of %s is not whole in its log", x.ARN)
	}
	return r.x.history, nil
}

// RedriveExecution restarts a failed, timed-out or aborted execution at the
// state that did not succeed, with that state's input.
func (e *Engine) RedriveExecution(arn string) (time.Time, error) {
	e.mu.Lock()
	x, ok := e.execs[arn]
	if !ok {
		e.mu.Unlock()
		return time.Time{}, apiErr("ExecutionDoesNotExist", "Execution Does Not Exist: '%s'", arn)
	}
	if x.Status == StatusRunning || x.Status == StatusSucceeded || x.failedState == "" {
		e.mu.Unlock()
		return time.Time{}, apiErr("ExecutionNotRedrivable", "Execution '%s' is %s and cannot be redriven", arn, x.Status)
	}
	x.Status, x.Error, x.Cause, x.Stop = StatusRunning, "", "", time.Time{}
	x.RedriveCount++
	x.RedriveDate = e.now()
	x.done = make(chan struct{})
	e.Store.append(x.ARN, record{Redrive: &x.RedriveDate})
	e.record(x, "ExecutionRedriven", map[string]any{"redriveCount": x.RedriveCount})
	state, input := x.failedState, x.failedInput
	x.failedState, x.failedInput = "", nil
	date := x.RedriveDate
	e.mu.Unlock()
	e.launch(x, state, input)
	return date, nil
}

// Done is closed when the execution ends.
func (e *Engine) Done(arn string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if x, ok := e.execs[arn]; ok {
		return x.done
	}
	c := make(chan struct{})
	close(c)
	return c
}
