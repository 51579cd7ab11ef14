// Package lambdart runs a Lambda function's own binary as processes behind
// the Lambda Runtime API, as AWS runs a provided.al2023 function: each
// execution environment is one process of the built main, started with
// AWS_LAMBDA_RUNTIME_API pointing at a Runtime API server of its own (on a
// free loopback port) and the environment the function is deployed with.
// aws-lambda-go's lambda.Start speaks that API: it asks for the next
// invocation (GET …/runtime/invocation/next), handles it, and posts the
// response (…/{id}/response) or the error (…/{id}/error).
//
// The Runtime API followed is AWS's published one
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html): the
// request id, deadline, function ARN and trace id headers on next; 202 to
// a response or an error; an init error (…/runtime/init/error) ends the
// environment. A function that does not answer by its timeout, or whose
// process exits, loses its environment: the invocation fails as Lambda's
// does (Sandbox.Timedout, Runtime.ExitError) and the next one starts a
// fresh process.
package lambdart

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// apiPrefix is the Runtime API's version path.
const apiPrefix = "/2018-06-01/runtime/"

// Function is one Lambda function: its built main and how it runs.
type Function struct {
	// Name is the function's name (AWS_LAMBDA_FUNCTION_NAME).
	Name string
	// Binary is the built main (for this machine).
	Binary string
	// Env is the function's environment, KEY=value, as deployed (with the
	// endpoints pointed at the local services); the runtime's own
	// variables are added to it.
	Env []string
	// Timeout bounds one invocation (default 30 s, Lambda's default 3 s is
	// too short for a cold local process under load).
	Timeout time.Duration
	// MemoryMB is reported to the function (default 256).
	MemoryMB int
	// Concurrency bounds the execution environments (default 1).
	Concurrency int
	// Logs gets the processes' stdout and stderr (default discarded).
	Logs io.Writer
}

// FunctionError is a function's own error: what it posted to …/error, or
// what the runtime reports when it timed out or exited.
type FunctionError struct {
	Type    string `json:"errorType"`
	Message string `json:"errorMessage"`
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// Init is what starting one execution environment took.
type Init struct {
	// Ready runs from the process's start to its first call of next.
	Ready time.Duration
	// FirstAnswer runs from the process's start to the answer of its
	// first invocation.
	FirstAnswer time.Duration
}

// Pool runs a function's invocations on up to Concurrency environments,
// starting them as invocations need them and keeping them warm.
type Pool struct {
	fn   Function
	arn  string
	idle chan *environment
	slot chan struct{}

	mu     sync.Mutex
	all    []*environment
	inits  []Init
	closed bool
}

// NewPool returns a pool for fn; it starts no process yet.
func NewPool(fn Function) *Pool {
	if fn.Timeout <= 0 {
		fn.Timeout = 30 * time.Second
	}
	if fn.MemoryMB <= 0 {
		fn.MemoryMB = 256
	}
	if fn.Concurrency <= 0 {
		fn.Concurrency = 1
	}
	if fn.Logs == nil {
		fn.Logs = io.Discard
	}
	return &Pool{fn: fn, arn: "arn:aws:lambda:us-east-1:000000000000:function:" + fn.Name,
		idle: make(chan *environment, fn.Concurrency), slot: make(chan struct{}, fn.Concurrency)}
}

// Invoke runs one invocation with payload and returns the function's
// response; a *FunctionError when the function failed it.
func (p *Pool) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	env, err := p.acquire(ctx)
	if err != nil {
		return nil, err
	}
	out, err := env.invoke(ctx, payload, p.fn.Timeout)
	if env.dead() {
		p.discard(env)
	} else {
		p.idle <- env
	}
	return out, err
}

// Inits are the cold starts so far, in the order they happened.
func (p *Pool) Inits() []Init {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Init(nil), p.inits...)
}

// Processes are the process ids of the running environments.
func (p *Pool) Processes() []int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var pids []int
	for _, e := range p.all {
		if !e.dead() {
			pids = append(pids, e.cmd.Process.Pid)
		}
	}
	return pids
}

// Close stops every environment: the processes are killed and waited for,
// the servers closed.
func (p *Pool) Close() {
	p.mu.Lock()
	p.closed = true
	all := p.all
	p.all = nil
	p.mu.Unlock()
	for _, e := range all {
		e.stop()
	}
}

// acquire takes an idle environment, or starts one if the pool has room,
// or waits for one to be free.
func (p *Pool) acquire(ctx context.Context) (*environment, error) {
	select {
	case e := <-p.idle:
		return e, nil
	default:
	}
	select {
	case e := <-p.idle:
		return e, nil
	case p.slot <- struct{}{}:
		e, err := p.start()
		if err != nil {
			<-p.slot
			return nil, err
		}
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *Pool) discard(e *environment) {
	e.stop()
	p.mu.Lock()
	for i, x := range p.all {
		if x == e {
			p.all = append(p.all[:i], p.all[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	<-p.slot
}

// start launches one environment: its Runtime API server, then the process.
func (p *Pool) start() (*environment, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("lambdart: pool closed")
	}
	p.mu.Unlock()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("lambdart: %s: runtime API: %w", p.fn.Name, err)
	}
	e := &environment{fn: p.fn, arn: p.arn, invocations: make(chan *invocation), ready: make(chan struct{}),
		exited: make(chan struct{}), onInit: p.recordInit}
	e.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = e.srv.Serve(ln) }()

	cmd := exec.Command(p.fn.Binary)
	cmd.Env = append(append([]string(nil), p.fn.Env...),
		"AWS_LAMBDA_RUNTIME_API="+ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME="+p.fn.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(p.fn.MemoryMB),
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/"+p.fn.Name,
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"_HANDLER=bootstrap",
		"LAMBDA_TASK_ROOT=/var/task",
	)
	cmd.Stdout, cmd.Stderr = p.fn.Logs, p.fn.Logs
	e.cmd, e.started = cmd, time.Now()
	if err := cmd.Start(); err != nil {
		_ = e.srv.Close()
		return nil, fmt.Errorf("lambdart: %s: start %s: %w", p.fn.Name, p.fn.Binary, err)
	}
	go func() {
		err := cmd.Wait()
		e.mu.Lock()
		e.exitErr = err
		e.mu.Unlock()
		close(e.exited)
	}()
	p.mu.Lock()
	p.all = append(p.all, e)
	p.mu.Unlock()
	return e, nil
}

func (p *Pool) recordInit(i Init) {
	p.mu.Lock()
	p.inits = append(p.inits, i)
	p.mu.Unlock()
}

// environment is one process and its Runtime API.
type environment struct {
	fn      Function
	arn     string
	cmd     *exec.Cmd
	srv     *http.Server
	started time.Time
	onInit  func(Init)

	invocations chan *invocation // handed to the process's next
	ready       chan struct{}    // closed at the first next
	readyOnce   sync.Once
	exited      chan struct{}

	mu       sync.Mutex
	current  *invocation
	exitErr  error
	failed   bool // timed out or init error: not to be used again
	answered int
	init     Init
}

// invocation is one request handed to the process.
type invocation struct {
	id       string
	payload  []byte
	deadline time.Time
	done     chan result
}

type result struct {
	body []byte
	err  *FunctionError
}

func (e *environment) dead() bool {
	select {
	case <-e.exited:
		return true
	default:
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed
}

func (e *environment) stop() {
	if e.cmd.Process != nil {
		_ = e.cmd.Process.Kill()
		<-e.exited
	}
	_ = e.srv.Close()
}

// invoke hands payload to the process at its next call of next and waits
// for its answer, the timeout or the process's end.
func (e *environment) invoke(ctx context.Context, payload []byte, timeout time.Duration) ([]byte, error) {
	inv := &invocation{id: requestID(), payload: payload, deadline: time.Now().Add(timeout), done: make(chan result, 1)}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	fail := func(typ, msg string) ([]byte, error) {
		e.mu.Lock()
		e.failed = true
		e.mu.Unlock()
		return nil, &FunctionError{Type: typ, Message: msg}
	}
	select {
	case e.invocations <- inv:
	case <-e.exited:
		return fail("Runtime.ExitError", e.exitMessage())
	case <-timer.C:
		return fail("Sandbox.Timedout", fmt.Sprintf("%s did not start within %s", e.fn.Name, timeout))
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case r := <-inv.done:
		if r.err != nil {
			return nil, r.err
		}
		return r.body, nil
	case <-e.exited:
		return fail("Runtime.ExitError", e.exitMessage())
	case <-timer.C:
		return fail("Sandbox.Timedout", fmt.Sprintf("Task timed out after %.2f seconds", timeout.Seconds()))
	case <-ctx.Done():
		e.mu.Lock()
		e.failed = true // its answer would go nowhere; start afresh
		e.mu.Unlock()
		return nil, ctx.Err()
	}
}

func (e *environment) exitMessage() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.exitErr != nil {
		return "the function's process exited: " + e.exitErr.Error()
	}
	return "the function's process exited"
}

// ServeHTTP is the Runtime API of this environment.
func (e *environment) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path, ok := strings.CutPrefix(r.URL.Path, apiPrefix)
	switch {
	case !ok:
		http.NotFound(w, r)
	case r.Method == http.MethodGet && path == "invocation/next":
		e.next(w, r)
	case r.Method == http.MethodPost && path == "init/error":
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		e.mu.Lock()
		e.failed = true
		e.mu.Unlock()
		fmt.Fprintf(e.fn.Logs, "lambdart: %s: init error: %s\n", e.fn.Name, body)
		w.WriteHeader(http.StatusAccepted)
		_ = e.cmd.Process.Kill()
	case r.Method == http.MethodPost && strings.HasPrefix(path, "invocation/"):
		id, what, _ := strings.Cut(strings.TrimPrefix(path, "invocation/"), "/")
		e.answer(w, r, id, what)
	default:
		http.NotFound(w, r)
	}
}

// next hands the process the next invocation, when there is one.
func (e *environment) next(w http.ResponseWriter, r *http.Request) {
	e.readyOnce.Do(func() {
		e.mu.Lock()
		e.init.Ready = time.Since(e.started)
		e.mu.Unlock()
		close(e.ready)
	})
	var inv *invocation
	select {
	case inv = <-e.invocations:
	case <-r.Context().Done():
		return
	}
	e.mu.Lock()
	e.current = inv
	e.mu.Unlock()
	h := w.Header()
	h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
	h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
	h.Set("Lambda-Runtime-Invoked-Function-Arn", e.arn)
	h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(time.Now().Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
	h.Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(inv.payload)
}

// answer takes the process's response or error for invocation id.
func (e *environment) answer(w http.ResponseWriter, r *http.Request, id, what string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	e.mu.Lock()
	inv := e.current
	if inv == nil || inv.id != id {
		e.mu.Unlock()
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestID", "no invocation "+id+" is in progress")
		return
	}
	e.current = nil
	e.answered++
	first := e.answered == 1
	if first {
		e.init.FirstAnswer = time.Since(e.started)
	}
	in := e.init
	e.mu.Unlock()
	if first && e.onInit != nil {
		e.onInit(in)
	}
	switch {
	case err != nil:
		inv.done <- result{err: &FunctionError{Type: "Runtime.InvalidResponse", Message: err.Error()}}
	case len(body) > 6<<20:
		inv.done <- result{err: &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "the response is over 6 MB"}}
	case what == "response":
		inv.done <- result{body: body}
	case what == "error":
		fe := &FunctionError{}
		if json.Unmarshal(body, fe) != nil || fe.Type == "" {
			fe.Type = r.Header.Get("Lambda-Runtime-Function-Error-Type")
			if fe.Type == "" {
				fe.Type = "Unhandled"
			}
			if fe.Message == "" {
				fe.Message = string(bytes.TrimSpace(body))
			}
		}
		inv.done <- result{err: fe}
	default:
		writeAPIError(w, http.StatusNotFound, "NotFound", "no such call "+what)
		return
	}
	w.WriteHeader(http.StatusAccepted)
	_, _ = w.Write([]byte(`{"status":"OK"}`))
}

func writeAPIError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}

// requestID is a fresh request id, in the shape Lambda's have.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
