package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
)

// envRunUp makes the test binary run `devstack up` with its arguments: the
// crash test runs the stack as a process of its own, to kill it.
const envRunUp = "XBORDER_TEST_RUN_DEVSTACK_UP"

func TestMain(m *testing.M) {
	if os.Getenv(envRunUp) == "1" {
		var args []string
		_ = json.Unmarshal([]byte(os.Getenv(envRunUp+"_ARGS")), &args)
		os.Args = append([]string{"devstack", "up"}, args...)
		main()
	}
	// The stacks these tests start (in process and as processes) sign and
	// check tokens with LOCAL_JWT_SECRET when it is set; the tests mint
	// theirs with the development default, whatever the caller's shell
	// exports (TestToken sets it itself).
	os.Unsetenv("LOCAL_JWT_SECRET")
	code := m.Run()
	if builtDir != "" {
		os.RemoveAll(builtDir)
	}
	os.Exit(code)
}

// crashStack is `make dev` run as a process, on free ports, with its state
// in one folder across kills and restarts.
type crashStack struct {
	t    *testing.T
	args []string
	data string
	api  string
	sfn  string
	cmd  *exec.Cmd
	// exited is closed when cmd has ended.
	exited chan struct{}
	runs   int
}

func newCrashStack(t *testing.T) *crashStack { return newCrashStackWith(t, builtFunctions(t)) }

// newCrashStackWith runs the functions' binaries in dir.
func newCrashStackWith(t *testing.T, functions string) *crashStack {
	tools, _ := filepath.Abs("../../.tools")
	repo, _ := filepath.Abs("../..")
	used := map[int]bool{}
	port := func() string {
		for {
			if p := stablePort(t); !used[p] {
				used[p] = true
				return strconv.Itoa(p)
			}
		}
	}
	s := &crashStack{t: t, data: t.TempDir(), api: "127.0.0.1:" + port(), sfn: "127.0.0.1:" + port()}
	s.args = []string{"-tools", tools, "-data", s.data, "-repo", repo, "-api", s.api, "-sfn", s.sfn,
		"-dynamodb-port", port(), "-sqs-port", port(), "-callbacks", "127.0.0.1:" + port(), "-signin", "127.0.0.1:" + port(),
		// China's E-Port answers after 3 s: long enough to find orders
		// waiting for it, short enough to be prompt.
		"-eport-delay", "3s", "-functions", functions}
	t.Cleanup(func() {
		if s.cmd != nil {
			s.kill()
		}
		if t.Failed() {
			s.keepLogs()
		}
	})
	return s
}

// endpoint is the URL of the port the stack was given by flag.
func (s *crashStack) endpoint(flag string) string {
	if i := slices.Index(s.args, flag); i >= 0 {
		return "http://127.0.0.1:" + s.args[i+1]
	}
	return ""
}

// waitPortsFree waits until every port of the stack can be bound again: a
// killed JVM's threads outlive its main one (which already shows as a
// zombie), and its sockets with them, for a moment.
func (s *crashStack) waitPortsFree() {
	s.t.Helper()
	var ports []string
	for i, a := range s.args {
		if strings.HasSuffix(a, "-port") || a == "-api" || a == "-sfn" || a == "-callbacks" || a == "-signin" {
			p := s.args[i+1]
			if _, port, err := net.SplitHostPort(p); err == nil {
				p = port
			}
			ports = append(ports, p)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		taken := ""
		for _, p := range ports {
			for _, host := range []string{"127.0.0.1", "0.0.0.0"} {
				l, err := net.Listen("tcp", net.JoinHostPort(host, p))
				if err != nil {
					taken = p
					break
				}
				l.Close()
			}
		}
		if taken == "" {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("port %s is still taken 30 s after the stack was killed", taken)
		}
	}
}

// keepLogs copies the stack's logs out of the test's folder, which the
// test removes, for whoever reads the failure.
func (s *crashStack) keepLogs() {
	dir, err := os.MkdirTemp("", "xborder-crash-logs-")
	if err != nil {
		return
	}
	logs, _ := filepath.Glob(filepath.Join(s.data, "*.log"))
	more, _ := filepath.Glob(filepath.Join(s.data, "logs", "*.log"))
	functions, _ := filepath.Glob(filepath.Join(s.data, "logs", "functions", "*.log"))
	for _, f := range append(append(logs, more...), functions...) {
		if b, err := os.ReadFile(f); err == nil {
			_ = os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o644)
		}
	}
	s.t.Logf("the stack's logs are kept in %s", dir)
}

// start runs the stack and waits until its API answers.
func (s *crashStack) start() {
	s.t.Helper()
	s.runs++
	s.waitPortsFree()
	logf, err := os.Create(filepath.Join(s.data, fmt.Sprintf("devstack-%d.log", s.runs)))
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	args, _ := json.Marshal(s.args)
	cmd.Env = append(os.Environ(), envRunUp+"=1", envRunUp+"_ARGS="+string(args))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	s.exited = exited
	go func() { _ = cmd.Wait(); logf.Close(); close(exited) }()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		if resp, err := http.Get("http://" + s.api + "/v1/orders"); err == nil {
			resp.Body.Close()
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("run %d of the stack ended before serving; see %s:\n%s", s.runs, logf.Name(), tailOf(logf.Name()))
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("run %d of the stack did not serve within 3 minutes:\n%s", s.runs, tailOf(logf.Name()))
		}
	}
}

// kill SIGKILLs the stack and every process it started (DynamoDB Local, the
// queue emulator), all at once, as a power cut of the stack would.
func (s *crashStack) kill() {
	pids := append(descendants(s.cmd.Process.Pid), s.cmd.Process.Pid)
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !slices.ContainsFunc(pids, alive) {
			break
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			s.t.Errorf("process %d survived SIGKILL", pid)
		}
	}
	s.cmd = nil
}

// stop stops the stack as Ctrl-C does.
func (s *crashStack) stop() {
	s.t.Helper()
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
	case <-time.After(90 * time.Second):
		s.t.Fatal("the stack did not stop within 90 s of Ctrl-C")
	}
	s.cmd = nil
}

// stablePort picks a free port below the kernel's ephemeral range: the
// stack must find its ports free again after each kill, and a port the
// kernel handed out (services.FreePort) may meanwhile be the local end of
// some outgoing connection — under make test's load, one was.
func stablePort(t *testing.T) int {
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	for range 1000 {
		p := 10000 + rand.IntN(max(low-10000, 1))
		ok := true
		for _, host := range []string{"127.0.0.1", "0.0.0.0"} { // DynamoDB Local binds every interface
			l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			l.Close()
		}
		if ok {
			return p
		}
	}
	t.Fatal("no free port below the ephemeral range")
	return 0
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// descendants lists every process under pid.
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, c := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(c); err == nil {
				out = append(out, n)
				out = append(out, descendants(n)...)
			}
		}
	}
	return out
}

func tailOf(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-25):], "\n")
}

// shopper posts orders as one customer, retrying each with its
// Idempotency-Key until the API answers it, whatever happens to the stack
// — or, given a partner's secret, as that partner posts to its signed
// webhook, retrying each delivery under its webhook-id.
type shopper struct {
	sub, token string
	// partner and secret: the partner whose webhook it posts to.
	partner, secret string
	mu              sync.Mutex
	orders          map[string]string // Idempotency-Key (webhook-id) → order id
	want            map[string]expectation
}

// expectation is how an order must end: its status, and what the payment
// simulator's ledger must hold for it (the failure table in
// docs/architecture.md: a void when customs refuse authorized goods,
// nothing for a declined card or a partner paying on account).
type expectation struct {
	Status order.Status
	Ledger payment.OrderLedger
}

var (
	dispatchedByCard  = expectation{Status: order.StatusDispatched, Ledger: payment.OrderLedger{Authorizations: 1, Captures: 1}}
	dispatchedAccount = expectation{Status: order.StatusDispatched}
	customsRefused    = expectation{Status: order.StatusCustomsRejected, Ledger: payment.OrderLedger{Authorizations: 1, Voids: 1}}
	cardDeclined      = expectation{Status: order.StatusPaymentDeclined}
)

func newShopper(sub string) *shopper {
	tok, _ := auth.MintLocal(auth.DevSecret, sub, nil, 2*time.Hour, time.Now())
	return &shopper{sub: sub, token: tok, orders: map[string]string{}, want: map[string]expectation{}}
}

// newPartnerClient posts as partner (localstack/partners.json) to its
// signed webhook, and reads its orders as the partner.
func newPartnerClient(t *testing.T, id string) *shopper {
	dir, err := partner.Load(context.Background(), "file:../partners.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := dir.Get(id)
	if !ok {
		t.Fatalf("no partner %s in localstack/partners.json", id)
	}
	c := newShopper("partner:" + id)
	c.partner, c.secret = id, p.Secrets[0]
	return c
}

// place posts body under key until it is accepted, and records the order
// and how it must end.
func (c *shopper) place(t *testing.T, api, key string, body []byte, want expectation) {
	for deadline := time.Now().Add(6 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Idempotency-Key", key)
		if c.partner != "" {
			// A partner resends a delivery under its webhook-id, signed anew.
			req, _ = http.NewRequest(http.MethodPost, "http://"+api+"/v1/webhooks/"+c.partner, bytes.NewReader(body))
			if err := partnerlink.Sign(req.Header, key, time.Now(), body, c.secret); err != nil {
				t.Fatal(err)
			}
		}
		req.Header.Set("Content-Type", "application/json")
		client := http.Client{Timeout: 20 * time.Second}
		resp, err := client.Do(req)
		if err != nil {
			continue // the stack is down: try again, with the same key
		}
		var got struct{ OrderID string }
		_ = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusAccepted:
			c.mu.Lock()
			defer c.mu.Unlock()
			if prev, ok := c.orders[key]; ok && prev != got.OrderID {
				t.Errorf("key %s made two orders: %s and %s", key, prev, got.OrderID)
			}
			c.orders[key] = got.OrderID
			c.want[got.OrderID] = want
			return
		case resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			continue // in flight, or the stack is (re)starting
		default:
			t.Errorf("POST with key %s: %d", key, resp.StatusCode)
			return
		}
	}
	t.Errorf("key %s was never accepted", key)
}

// forget drops an accepted order from what the audits expect.
func (c *shopper) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, v := range c.orders {
		if v == id {
			delete(c.orders, k)
		}
	}
}

// expected is how order id must end.
func (c *shopper) expected(id string) expectation {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.want[id]
}

// ids lists the shopper's accepted orders.
func (c *shopper) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, id := range c.orders {
		out = append(out, id)
	}
	return out
}

type orderState struct {
	Status  string
	Reason  string
	Customs struct{ AwaitingChina bool }
	History []order.Event
}

// errNoSuchOrder: the API answered 404 for an order it had accepted.
var errNoSuchOrder = errors.New("no such order")

// get reads an order as its owner, trying again for 30 s on what a caller
// retries — a network error, a 5xx (an api environment killed under the
// request answers 500, as API Gateway's 502 for a crashed function).
func (c *shopper) get(api, id string) (orderState, error) {
	var err error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(500 * time.Millisecond) {
		var o orderState
		var retry bool
		o, retry, err = c.getOnce(api, id)
		if !retry || time.Now().After(deadline) {
			return o, err
		}
	}
}

func (c *shopper) getOnce(api, id string) (o orderState, retry bool, err error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+api+"/v1/orders/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return o, true, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		err := fmt.Errorf("GET %s: %d %s", id, resp.StatusCode, b)
		if resp.StatusCode == http.StatusNotFound {
			err = fmt.Errorf("%w: %w", errNoSuchOrder, err)
		}
		return o, resp.StatusCode >= 500, err
	}
	return o, false, json.NewDecoder(resp.Body).Decode(&o)
}

// opsView is the order as an operator sees it: the owner's view leaves
// out where China's customs stand.
func opsView(api, id string) (orderState, error) {
	tok, _ := auth.MintLocal(auth.DevSecret, "crash-operator", []string{auth.GroupOpsRead}, time.Hour, time.Now())
	req, _ := http.NewRequest(http.MethodGet, "http://"+api+"/v1/ops/orders/"+id, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return orderState{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return orderState{}, fmt.Errorf("GET ops %s: %d", id, resp.StatusCode)
	}
	var v struct{ Order orderState }
	return v.Order, json.NewDecoder(resp.Body).Decode(&v)
}

// TestCrashesLoseNothingAndRunNothingTwice kills the whole local stack —
// every process, SIGKILL — mid-burst and again while orders wait on
// China's customs, starting it again each time without a reset, as
// `make dev` would. Every accepted order must be dispatched within 60 s plus
// the longest visibility timeout of the template's queues (a message taken
// when the stack died comes back only after it, as in SQS); no Idempotency-Key
// may make two orders; no execution may run twice or run for an order that
// was never stored; and a further stop and start comes up.
func TestCrashesLoseNothingAndRunNothingTwice(t *testing.T) {
	bound := 60*time.Second + longestVisibility(t)
	samples := map[string][]byte{}
	for _, f := range []string{"mobile-b2c-de", "b2b-us", "c2c-gb", "m2b2c-au-overseas-warehouse", "b2c-cn-import"} {
		b, err := os.ReadFile("../../events/orders/" + f + ".json")
		if err != nil {
			t.Fatal(err)
		}
		samples[f] = b
	}
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range samples {
			if !yield(k) {
				return
			}
		}
	})
	s := newCrashStack(t)
	s.start()
	run := fmt.Sprint(time.Now().UnixNano())
	shoppers := make([]*shopper, 8)
	for i := range shoppers {
		shoppers[i] = newShopper(fmt.Sprintf("crash-%s-%d", run, i))
	}
	accepted := func() int {
		n := 0
		for _, c := range shoppers {
			n += len(c.ids())
		}
		return n
	}

	// 1. A burst of 80 orders from 8 shoppers; the stack dies a third of
	// the way in and comes back while they keep retrying.
	var burst sync.WaitGroup
	for i, c := range shoppers {
		burst.Add(1)
		go func() {
			defer burst.Done()
			for j := range 10 {
				c.place(t, s.api, fmt.Sprintf("burst-%d-%d", i, j), samples[names[(i+j)%len(names)]], dispatchedByCard)
			}
		}()
	}
	for deadline := time.Now().Add(2 * time.Minute); accepted() < 25 && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
	}
	s.kill()
	t.Logf("killed the stack mid-burst, %d orders accepted", accepted())
	restarted := time.Now()
	s.start()
	burst.Wait()
	if t.Failed() {
		t.FailNow()
	}
	mustAll(t, waitTerminal(t, s, shoppers, restarted, bound))

	// 2. Orders waiting for China's customs when the stack dies.
	china := []string{"mobile-b2c-de", "m2b2c-au-overseas-warehouse", "b2c-cn-import"}
	var waiting sync.WaitGroup
	var keys []string
	for i, c := range shoppers {
		waiting.Add(1)
		key := fmt.Sprintf("china-%d", i)
		keys = append(keys, key)
		go func() {
			defer waiting.Done()
			c.place(t, s.api, key, samples[china[i%len(china)]], dispatchedByCard)
		}()
	}
	waiting.Wait()
	awaiting := 0
	for deadline := time.Now().Add(time.Minute); awaiting < 4 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		awaiting = 0
		for i, c := range shoppers {
			c.mu.Lock()
			id := c.orders[keys[i]]
			c.mu.Unlock()
			if o, err := opsView(s.api, id); err == nil && o.Customs.AwaitingChina {
				awaiting++
			}
		}
	}
	if awaiting < 4 {
		t.Fatalf("only %d orders came to wait for China's customs", awaiting)
	}
	s.kill()
	t.Logf("killed the stack with %d orders waiting for China's customs", awaiting)
	restarted = time.Now()
	s.start()
	mustAll(t, waitTerminal(t, s, shoppers, restarted, bound))

	// 3. Every promise, audited from outside, then a further stop and start.
	for _, f := range audit(t, s, shoppers) {
		t.Error(f)
	}
	s.stop()
	s.start()
	for _, c := range shoppers {
		for _, id := range c.ids() {
			if o, err := c.get(s.api, id); err != nil || o.Status != string(order.StatusDispatched) {
				t.Fatalf("after a clean restart order %s is %s (%v)", id, o.Status, err)
			}
		}
	}
	s.stop()
}

// mustAll fails the test, now, with each finding.
func mustAll(t *testing.T, findings []string) {
	t.Helper()
	for _, f := range findings {
		t.Error(f)
	}
	if len(findings) > 0 {
		t.FailNow()
	}
}

// waitTerminal waits until every accepted order has ended as expected,
// within bound of the fault's end (the restart, the last kill); it returns
// what did not.
func waitTerminal(t *testing.T, s *crashStack, clients []*shopper, restarted time.Time, bound time.Duration) []string {
	t.Helper()
	var pending []string
	for {
		pending = pending[:0]
		var findings []string
		for _, c := range clients {
			for _, id := range c.ids() {
				o, err := c.get(s.api, id)
				if err != nil {
					return []string{err.Error()}
				}
				want := c.expected(id).Status
				switch {
				case o.Status == string(want):
				case order.Status(o.Status).Terminal() || o.Status == string(order.StatusStalled):
					findings = append(findings, fmt.Sprintf("order %s ended %s (%s), want %s", id, o.Status, o.Reason, want))
				default:
					pending = append(pending, id+" "+o.Status)
				}
			}
		}
		if len(findings) > 0 {
			return findings
		}
		if len(pending) == 0 {
			t.Logf("every order ended as it should %s after the fault ended", time.Since(restarted).Round(time.Second))
			return nil
		}
		if time.Since(restarted) > bound {
			late := []string{fmt.Sprintf("%d orders not ended %s after the fault ended (late): %v", len(pending), bound, pending)}
			return append(late, lastEvents(s, pending)...)
		}
		time.Sleep(time.Second)
	}
}

// lastEvents says, for the first few late orders, where their executions
// stand in the engine's history (its last events), for whoever reads a
// late finding.
func lastEvents(s *crashStack, pending []string) []string {
	client := awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String("http://" + s.sfn) })
	var out []string
	for _, p := range pending[:min(3, len(pending))] {
		id, _, _ := strings.Cut(p, " ")
		arn := "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + id
		h, err := client.GetExecutionHistory(context.Background(), &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn),
			MaxResults: 6, ReverseOrder: true})
		if err != nil {
			out = append(out, fmt.Sprintf("the history of %s: %v", id, err))
			continue
		}
		var evs []string
		for _, ev := range h.Events {
			name := ""
			if d := ev.StateEnteredEventDetails; d != nil {
				name = " " + aws.ToString(d.Name)
			}
			evs = append(evs, fmt.Sprintf("%d %s%s %s", ev.Id, ev.Type, name, aws.ToTime(ev.Timestamp).Format("15:04:05.000")))
		}
		out = append(out, fmt.Sprintf("late order %s: the engine's last events, newest first: %s", id, strings.Join(evs, "; ")))
	}
	return out
}

// audit is every audit of the orders' ends, from outside: the orders, the
// executions, the money.
func audit(t *testing.T, s *crashStack, clients []*shopper) []string {
	t.Helper()
	out := auditOrders(t, s, clients)
	out = append(out, auditExecutions(t, s, clients)...)
	return append(out, auditLedger(t, s, clients)...)
}

// auditOrders: each client's orders are exactly the ones their keys made,
// none went through a status twice, and each dispatched order went
// through stock, customs and dispatch once.
func auditOrders(t *testing.T, s *crashStack, clients []*shopper) []string {
	t.Helper()
	var out []string
	path := []order.Status{order.StatusStockReserved, order.StatusCustomsCleared, order.StatusDispatched}
	for _, c := range clients {
		listed := listOrders(t, s.api, c)
		if got, want := len(listed), len(c.ids()); got != want {
			out = append(out, fmt.Sprintf("client %s has %d orders, made by %d keys (lost or duplicated)", c.sub, got, want))
		}
		for _, id := range c.ids() {
			o, err := c.get(s.api, id)
			if err != nil {
				return append(out, err.Error())
			}
			seen := map[order.Status]int{}
			for _, ev := range o.History {
				if ev.From != ev.To {
					seen[ev.To]++
				}
			}
			for st, n := range seen {
				if n > 1 {
					out = append(out, fmt.Sprintf("order %s reached %s %d times: %v", id, st, n, seen))
				}
			}
			if c.expected(id).Status != order.StatusDispatched {
				continue
			}
			for _, st := range path {
				if seen[st] != 1 {
					out = append(out, fmt.Sprintf("order %s reached %s %d times: %v", id, st, seen[st], seen))
				}
			}
		}
	}
	return out
}

func listOrders(t *testing.T, api string, c *shopper) []string {
	var ids []string
	for cursor := ""; ; {
		req, _ := http.NewRequest(http.MethodGet, "http://"+api+"/v1/orders?limit=100&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Orders     []struct{ OrderID string }
			NextCursor string
		}
		_ = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		for _, o := range page.Orders {
			ids = append(ids, o.OrderID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// auditLedger reads what took effect on money from the payment
// simulator's own ledger (GET /v1/ledger/orders/{id}), as an operator
// could: each order's authorizations, captures, voids and refunds are the
// ones its end calls for — whatever the kills made the steps retry.
func auditLedger(t *testing.T, s *crashStack, shoppers []*shopper) []string {
	t.Helper()
	var out []string
	cfg, err := services.LoadEndpoints(filepath.Join(s.data, "partners", "endpoints.json"))
	if err != nil {
		t.Fatal(err)
	}
	eps, err := cfg.Require("local", partnerlink.Payments)
	if err != nil {
		t.Fatal(err)
	}
	link := partnerhttp.PaymentLink{Endpoint: eps[0]}
	for _, c := range shoppers {
		for _, id := range c.ids() {
			l, err := link.Ledger(context.Background(), id)
			if err != nil {
				// An order that never reached the payment simulator has no ledger there.
				var se *partnerlink.StatusError
				if want := c.expected(id).Ledger; want.Authorizations == 0 && errors.As(err, &se) && se.Status == http.StatusNotFound {
					continue
				}
				return append(out, fmt.Sprintf("the ledger of %s: %v", id, err))
			}
			if f := ledgerFinding(id, c.expected(id), l); f != "" {
				out = append(out, f)
			}
		}
	}
	return out
}

// ledgerFinding is what is wrong with an order's ledger ("" when nothing):
// the authorizations, captures, voids and refunds its end calls for, no
// more and no fewer.
func ledgerFinding(id string, want expectation, l payment.OrderLedger) string {
	if l.Authorizations != want.Ledger.Authorizations || l.Captures != want.Ledger.Captures || l.Voids != want.Ledger.Voids || l.Refunds != want.Ledger.Refunds {
		return fmt.Sprintf("order %s, %s: the payment simulator's ledger holds %d authorizations, %d captures, %d voids, %d refunds; want %d, %d, %d, %d",
			id, want.Status, l.Authorizations, l.Captures, l.Voids, l.Refunds, want.Ledger.Authorizations, want.Ledger.Captures, want.Ledger.Voids, want.Ledger.Refunds)
	}
	return ""
}

// auditExecutions reads every execution from the engine's own API: each
// names an accepted order (none ran for an order never stored), started
// once, succeeded once, and entered each state at most once.
func auditExecutions(t *testing.T, s *crashStack, shoppers []*shopper) []string {
	t.Helper()
	var out []string
	ctx := context.Background()
	client := awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String("http://" + s.sfn) })
	known := map[string]bool{}
	for _, c := range shoppers {
		for _, id := range c.ids() {
			known[id] = true
		}
	}
	// An order's last status is written by the execution's last state,
	// which ends the execution once its Lambda answers: a kill between the
	// two leaves it RUNNING for its retry (2 min at most). Wait for them.
	machine := aws.String("arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow")
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		running, err := client.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: machine, StatusFilter: sfntypes.ExecutionStatusRunning, MaxResults: 100})
		if err != nil || len(running.Executions) == 0 {
			break
		}
	}
	seen := 0
	in := &awssfn.ListExecutionsInput{StateMachineArn: machine, MaxResults: 100}
	for {
		page, err := client.ListExecutions(ctx, in)
		if err != nil {
			return append(out, err.Error())
		}
		for _, x := range page.Executions {
			seen++
			name := aws.ToString(x.Name)
			if !known[name] {
				out = append(out, fmt.Sprintf("execution %s runs for no accepted order", name))
			}
			if x.Status != sfntypes.ExecutionStatusSucceeded {
				out = append(out, fmt.Sprintf("execution %s is %s", name, x.Status))
			}
			h, err := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, MaxResults: 1000})
			if err != nil {
				return append(out, err.Error())
			}
			out = append(out, historyFindings(aws.ToString(x.ExecutionArn), h.Events)...)
		}
		if page.NextToken == nil {
			break
		}
		in.NextToken = page.NextToken
	}
	if seen != len(known) {
		out = append(out, fmt.Sprintf("%d executions for %d orders", seen, len(known)))
	}
	return out
}

// historyFindings is what is wrong with a succeeded execution's history:
// events out of sequence, more or less than one start and one success, a
// state entered twice (the execution, or part of it, ran again).
func historyFindings(arn string, events []sfntypes.HistoryEvent) []string {
	var out []string
	count := map[sfntypes.HistoryEventType]int{}
	entered := map[string]int{}
	for i, ev := range events {
		if ev.Id != int64(i+1) {
			return append(out, fmt.Sprintf("%s: event %d has id %d", arn, i+1, ev.Id))
		}
		count[ev.Type]++
		if d := ev.StateEnteredEventDetails; d != nil {
			entered[aws.ToString(d.Name)]++
		}
	}
	if count[sfntypes.HistoryEventTypeExecutionStarted] != 1 || count[sfntypes.HistoryEventTypeExecutionSucceeded] != 1 {
		out = append(out, fmt.Sprintf("%s: %d starts and %d successes, want one each", arn, count[sfntypes.HistoryEventTypeExecutionStarted],
			count[sfntypes.HistoryEventTypeExecutionSucceeded]))
	}
	for state, n := range entered {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s: state %s entered %d times: the execution ran twice", arn, state, n))
		}
	}
	return out
}

// longestVisibility is the longest VisibilityTimeout of the template's queues.
func longestVisibility(t *testing.T) time.Duration {
	b, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct{ VisibilityTimeout int }
		}
	}
	if err := json.Unmarshal(b, &tmpl); err != nil {
		t.Fatal(err)
	}
	longest := 30 // SQS's default
	for _, r := range tmpl.Resources {
		if r.Type == "AWS::SQS::Queue" {
			longest = max(longest, r.Properties.VisibilityTimeout)
		}
	}
	return time.Duration(longest) * time.Second
}
