package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// chaosOrders is how many orders a chaos run places: CHAOS_ORDERS (make
// chaos sets 300), 48 by default (make test's short variant).
func chaosOrders(t *testing.T) int {
	if v := os.Getenv("CHAOS_ORDERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 8 {
			t.Fatalf("CHAOS_ORDERS=%q: a number of orders, 8 or more", v)
		}
		return n
	}
	return 48
}

// stackProcess is one process of a running stack, by what it is.
type stackProcess struct {
	pid  int
	kind string // "devstack", "dynamodb", "queues", "partner <role>", or a function's name
}

// stackProcesses lists the processes of the stack under pid, the
// functions' binaries being under dir.
func stackProcesses(pid int, dir string) []stackProcess {
	out := []stackProcess{{pid, "devstack"}}
	for _, p := range descendants(pid) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p))
		if err != nil {
			continue
		}
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p))
		args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		switch {
		case strings.HasPrefix(exe, dir+string(filepath.Separator)):
			out = append(out, stackProcess{p, filepath.Base(exe)})
		case slices.ContainsFunc(args, func(a string) bool { return strings.HasSuffix(a, "DynamoDBLocal.jar") }):
			out = append(out, stackProcess{p, "dynamodb"})
		case slices.ContainsFunc(args, func(a string) bool { return strings.HasSuffix(a, "serve.mjs") }):
			out = append(out, stackProcess{p, "queues"})
		case len(args) > 3 && args[1] == "partner" && args[2] == "-role":
			out = append(out, stackProcess{p, "partner " + args[3]})
		}
	}
	return out
}

// functionProcesses are the stack's function processes (their binaries
// are under dir): the execution environments behind the Lambda Runtime API.
func functionProcesses(stack int, dir string) map[int]string {
	out := map[int]string{}
	for _, p := range stackProcesses(stack, dir) {
		if strings.HasPrefix(p.kind, "partner ") || p.kind == "devstack" || p.kind == "dynamodb" || p.kind == "queues" {
			continue
		}
		out[p.pid] = p.kind
	}
	return out
}

// chaosFault is one kind of fault a chaos run inflicts, and how often.
type chaosFault struct {
	// every: the pause before each kill, drawn from [min, max).
	min, max time.Duration
	// targets picks the kinds of process it kills (stackProcess.kind).
	targets func(kind string) bool
	// signal: SIGKILL, or SIGUSR1 for the engine (sfn.Slot).
	signal syscall.Signal
}

// chaosFaults are the faults by name. The engine shares the devstack
// process: SIGUSR1 makes it crash alone, as a SIGKILL of an engine process
// would (sfn.Engine.Crash), and start again from its store; DynamoDB
// Local, the queue emulator and the partner simulators are started again
// by devstack's supervisor (services.Process.Supervise) with their state.
var chaosFaults = map[string]chaosFault{
	"function": {150 * time.Millisecond, 600 * time.Millisecond, func(k string) bool {
		return k != "devstack" && k != "dynamodb" && k != "queues" && !strings.HasPrefix(k, "partner ")
	}, syscall.SIGKILL},
	"engine":   {2 * time.Second, 5 * time.Second, func(k string) bool { return k == "devstack" }, syscall.SIGUSR1},
	"queues":   {8 * time.Second, 15 * time.Second, func(k string) bool { return k == "queues" }, syscall.SIGKILL},
	"dynamodb": {8 * time.Second, 15 * time.Second, func(k string) bool { return k == "dynamodb" }, syscall.SIGKILL},
	"partner":  {2 * time.Second, 5 * time.Second, func(k string) bool { return strings.HasPrefix(k, "partner ") }, syscall.SIGKILL},
	// points: kills at chosen points (pointKills), none at random.
	"points": {},
}

// pointKill kills the processes of function when a line holding match
// appears in a log of the stack (a glob under its logs folder): a kill at a
// chosen point of a step, as close after the partner's answer or the
// step's write as a log shows it — once per order and step (the line's
// "id" or "orderId"), at most once every 2 s: the kill takes every
// invocation of the function in flight with it, and a denser rain would
// exhaust some order's retries, which no production fault does.
type pointKill struct {
	what, log, match, function string
	// consumer: the function is an SQS consumer, whose message comes back
	// only after its visibility timeout (minutes): the long runs only.
	consumer bool
}

var pointKills = []pointKill{
	{"between the payment simulator's authorization and the step's record of it", "xborder-partner-payments-*.log", `"path":"/v1/authorizations"`, "authorize-payment", false},
	{"between the capture and the step's record of it", "xborder-partner-payments-*.log", `/capture"`, "capture-payment", false},
	{"between the warehouse's acceptance and the worker's record and task-token answer", "xborder-partner-warehouse-*.log", `"path":"/v1/shipments"`, "warehouse-worker", true},
	{"mid-receipt: while the API records a receipt China's E-Port delivers", "xborder-partner-china-eport-*.log", `"msg":"delivering notification"`, "api", false},
	{"between the customs step's write (submitted to China) and its task-token answer", "functions/customs-worker.log", "submitted to the china e-port", "customs-worker", true},
}

// chaosRuns are the runs CHAOS_FAULTS asks for: runs separated by commas,
// faults of one run joined by "+". make test's short variant is one run
// of function-process kills (the SQS consumers spared) and engine crashes;
// the chosen points run in make chaos and in the broken build. (Once, in
// CI, two orders of a short run with the points added stayed at
// PAYMENT_CAPTURED past the bound after an engine crash amid kills of
// capture-payment: not yet explained; make chaos runs that mix too.)
func chaosRuns(t *testing.T) [][]string {
	v := os.Getenv("CHAOS_FAULTS")
	if v == "" {
		v = "function+engine"
	}
	var runs [][]string
	for _, run := range strings.Split(v, ",") {
		faults := strings.Split(run, "+")
		for _, f := range faults {
			if _, ok := chaosFaults[f]; !ok {
				t.Fatalf("CHAOS_FAULTS=%q: no fault %q (function, engine, queues, dynamodb, partner, points)", v, f)
			}
		}
		runs = append(runs, faults)
	}
	return runs
}

// TestChaos runs bursts of orders — shoppers and partners retrying with
// their keys, and the bad-input corpus replayed — while processes of the
// stack are killed: function processes (as a Lambda execution environment
// dies out of memory), the Step Functions engine, the queue emulator,
// DynamoDB Local, the partner simulators, and kills at chosen points of
// the steps. Each run starts a stack of its own, with persistent state.
// Then it audits from outside, as an operator could (chaosAudit).
func TestChaos(t *testing.T) {
	for _, faults := range chaosRuns(t) {
		t.Run(strings.Join(faults, "+"), func(t *testing.T) {
			r := newChaosRun(t, faults, builtFunctions(t))
			r.burst()
			for _, f := range r.audit() {
				t.Error(f)
			}
		})
	}
}

// chaosAtLeast is how long the faults go on at the least: past the burst,
// while its orders run.
const chaosAtLeast = 30 * time.Second

// chaosRun is one run of the chaos test.
type chaosRun struct {
	t        *testing.T
	s        *crashStack
	dir      string // the functions' binaries
	faults   []string
	n        int
	long     bool
	samples  map[string][]byte
	clients  []*shopper
	vandal   *shopper
	kills    map[string]int
	recovery []time.Duration
	rss      map[string]int64 // the largest RSS of each kind of process, KiB
	startRSS int64            // the devstack process's at the start
	lastKill time.Time
	// dynamoKills are when DynamoDB Local was killed; emulatorLost the
	// orders it lost after acknowledging them (see lostToTheEmulator).
	dynamoKills  []time.Time
	emulatorLost map[string]string
	mu           sync.Mutex
	bound        time.Duration
	accepted     int
	burstTook    time.Duration
}

func newChaosRun(t *testing.T, faults []string, functions string) *chaosRun {
	r := &chaosRun{t: t, faults: faults, n: chaosOrders(t), long: os.Getenv("CHAOS_ORDERS") != "", samples: map[string][]byte{},
		kills: map[string]int{}, rss: map[string]int64{}, bound: 60*time.Second + longestVisibility(t)}
	for _, name := range []string{"orders/mobile-b2c-de", "orders/b2b-us", "orders/c2c-gb", "orders/m2b2c-au-overseas-warehouse",
		"orders/b2c-cn-import", "demo/customs-refused-de", "demo/declined-card-de", "partners/native-order"} {
		b, err := os.ReadFile("../../events/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		r.samples[filepath.Base(name)] = b
	}
	r.s = newCrashStackWith(t, functions)
	if slices.Contains(faults, "points") {
		// A write takes 150 ms: the kill that follows a partner's answer
		// lands before the step's record of it.
		r.s.args = append(r.s.args, "-write-latency", "150ms")
	}
	r.dir = functions
	r.s.start()
	t.Cleanup(func() {
		if r.s.cmd != nil {
			r.s.stop()
		}
	})
	run := fmt.Sprint(time.Now().UnixNano())
	for i := range 8 {
		r.clients = append(r.clients, newShopper(fmt.Sprintf("chaos-%s-%d", run, i)))
	}
	r.clients = append(r.clients, newPartnerClient(t, "demo-marketplace"))
	r.vandal = newShopper("chaos-vandal-" + run)
	return r
}

// order is the i-th order of client c: its body and how it must end. One
// order in ten is one the failure table ends early (customs refuse it,
// the card is declined); the partner posts its own orders.
func (r *chaosRun) order(c *shopper, i, j int) ([]byte, expectation) {
	if c.partner != "" {
		ref := fmt.Sprintf("CHAOS-%d-%d", time.Now().UnixNano(), j)
		return bytes.Replace(r.samples["native-order"], []byte(`"MKT-2026-000123"`), []byte(strconv.Quote(ref)), 1), dispatchedAccount
	}
	switch (i*31 + j) % 20 {
	case 3:
		return r.samples["customs-refused-de"], customsRefused
	case 13:
		return r.samples["declined-card-de"], cardDeclined
	}
	names := []string{"mobile-b2c-de", "c2c-gb", "m2b2c-au-overseas-warehouse", "b2c-cn-import"}
	if r.n <= 200 {
		// The stack seeds 1,000 of each SKU, and b2b-us takes 20 chargers
		// an order: past 250 orders it would run out, and the orders end
		// REJECTED out_of_stock, as they should — not what this test is for.
		names = append(names, "b2b-us")
	}
	return r.samples[names[(i+j)%len(names)]], dispatchedByCard
}

// burst places the run's orders while the faults strike, then waits for
// every order's end.
func (r *chaosRun) burst() {
	t := r.t
	done := make(chan struct{})
	var chaos sync.WaitGroup
	for _, name := range r.faults {
		if f := chaosFaults[name]; f.targets != nil {
			chaos.Add(1)
			go func() { defer chaos.Done(); r.strike(name, f, done) }()
		}
	}
	if slices.Contains(r.faults, "points") {
		for _, p := range pointKills {
			if p.consumer && !r.long {
				continue
			}
			chaos.Add(1)
			go func() { defer chaos.Done(); r.killAt(p, done) }()
		}
	}
	chaos.Add(1)
	go func() { defer chaos.Done(); r.sampleRSS(done) }()
	vandalDone := make(chan struct{})
	go func() {
		defer close(vandalDone)
		replayBadInput(t, r.s.api, r.vandal, r.samples["mobile-b2c-de"], done)
	}()
	began := time.Now()
	per := r.n / len(r.clients)
	var burst sync.WaitGroup
	for i, c := range r.clients {
		burst.Add(1)
		go func() {
			defer burst.Done()
			for j := range per {
				body, want := r.order(c, i, j)
				c.place(t, r.s.api, fmt.Sprintf("chaos-%d-%d", i, j), body, want)
			}
		}()
	}
	burst.Wait()
	r.burstTook = time.Since(began)
	// The faults go on for at least chaosAtLeast, while the orders run.
	time.Sleep(time.Until(began.Add(chaosAtLeast)))
	close(done)
	chaos.Wait()
	<-vandalDone
	if t.Failed() {
		t.FailNow()
	}
	r.accepted = per * len(r.clients)
	r.mu.Lock()
	t.Logf("%d orders accepted in %s under %v: kills %v", r.accepted, r.burstTook.Round(time.Second), r.faults, r.kills)
	r.mu.Unlock()
	total := 0
	for _, n := range r.kills {
		total += n
	}
	if total < 2 {
		t.Fatalf("only %d kills: the burst ended before the chaos began", total)
	}
}

// strike kills a process the fault targets, again and again until done,
// and measures how long what it killed took to serve again.
func (r *chaosRun) strike(name string, f chaosFault, done <-chan struct{}) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 21))
	spared := map[string]bool{}
	if name == "function" && !r.long {
		// make test's short run spares the SQS consumers, whose messages
		// come back only after their queue's visibility timeout — minutes.
		spared = map[string]bool{"starter": true, "customs-worker": true, "warehouse-worker": true, "callback-sender": true}
	}
	for {
		select {
		case <-done:
			return
		case <-time.After(f.min + time.Duration(rng.Int64N(int64(f.max-f.min)))):
		}
		var victims []stackProcess
		for _, p := range stackProcesses(r.s.cmd.Process.Pid, r.dir) {
			if f.targets(p.kind) && !spared[p.kind] {
				victims = append(victims, p)
			}
		}
		if len(victims) == 0 {
			continue
		}
		v := victims[rng.IntN(len(victims))]
		if syscall.Kill(v.pid, f.signal) != nil {
			continue
		}
		at := time.Now()
		kind := v.kind
		if f.signal == syscall.SIGUSR1 {
			kind = "engine"
		}
		r.mu.Lock()
		r.kills[kind]++
		r.lastKill = at
		if kind == "dynamodb" {
			r.dynamoKills = append(r.dynamoKills, at)
		}
		r.mu.Unlock()
		if took, ok := r.waitServing(kind, v.pid); ok {
			r.mu.Lock()
			r.recovery = append(r.recovery, took)
			r.lastKill = time.Now()
			r.mu.Unlock()
		}
	}
}

// waitServing waits until what was killed serves again — DynamoDB Local,
// the queue emulator, a partner simulator (started again by devstack's
// supervisor), the engine (a new one on its store) — and says how long it
// took. A function's environment starts again at its next invocation:
// nothing to wait for.
func (r *chaosRun) waitServing(kind string, pid int) (time.Duration, bool) {
	at := time.Now()
	var probe func() bool
	switch {
	case kind == "engine":
		probe = func() bool {
			return post("http://"+r.s.sfn, "AWSStepFunctions.ListStateMachines", "application/x-amz-json-1.0") == nil
		}
	case kind == "dynamodb":
		probe = func() bool {
			return post(r.s.endpoint("-dynamodb-port"), "DynamoDB_20120810.ListTables", "application/x-amz-json-1.0") == nil
		}
	case kind == "queues":
		probe = func() bool {
			return post(r.s.endpoint("-sqs-port"), "AmazonSQS.ListQueues", "application/x-amz-json-1.0") == nil
		}
	case strings.HasPrefix(kind, "partner "):
		probe = func() bool {
			for _, p := range stackProcesses(r.s.cmd.Process.Pid, r.dir) {
				if p.kind == kind && p.pid != pid {
					return true
				}
			}
			return false
		}
	default:
		return 0, false
	}
	time.Sleep(50 * time.Millisecond) // let the kill land before probing
	for time.Since(at) < 2*time.Minute {
		if probe() {
			return time.Since(at), true
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Errorf("%s did not serve again within 2 minutes of its kill", kind)
	return 0, false
}

// post sends an empty AWS JSON request and wants a 200.
func post(url, target, contentType string) error {
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%d", resp.StatusCode)
	}
	return nil
}

// killAt follows a log of the stack and, when a line matches, kills every
// process of the point's function at once: the one that has just made the
// call or the write the line shows dies before its next step, whichever of
// its kind it is.
func (r *chaosRun) killAt(p pointKill, done <-chan struct{}) {
	logs := filepath.Join(r.s.data, "logs")
	var path string
	var offset int64
	var last time.Time
	var pids []int
	refreshed := time.Time{}
	seen := map[string]bool{}
	for {
		select {
		case <-done:
			return
		case <-time.After(2 * time.Millisecond):
		}
		if path == "" {
			m, _ := filepath.Glob(filepath.Join(logs, p.log))
			if len(m) == 0 {
				continue
			}
			path = m[0]
			if fi, err := os.Stat(path); err == nil {
				offset = fi.Size()
			}
		}
		if time.Since(refreshed) > 100*time.Millisecond {
			pids = pids[:0]
			for pid, fn := range functionProcesses(r.s.cmd.Process.Pid, r.dir) {
				if fn == p.function {
					pids = append(pids, pid)
				}
			}
			refreshed = time.Now()
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		fi, _ := f.Stat()
		if fi.Size() < offset {
			offset = 0 // a restarted simulator's log
		}
		buf := make([]byte, fi.Size()-offset)
		n, _ := f.ReadAt(buf, offset)
		f.Close()
		if n == 0 {
			continue
		}
		offset += int64(n)
		if time.Since(last) < 2*time.Second || len(pids) == 0 {
			continue
		}
		hit := false
		for _, line := range bytes.Split(buf[:n], []byte("\n")) {
			if !bytes.Contains(line, []byte(p.match)) {
				continue
			}
			key := ""
			if m := idInLog.FindSubmatch(line); m != nil {
				key = string(m[1])
			}
			if !seen[key] {
				seen[key], hit = true, true
				break
			}
		}
		if !hit {
			continue
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		last = time.Now()
		r.mu.Lock()
		r.kills["at a point: "+p.function]++
		r.lastKill = last
		r.mu.Unlock()
	}
}

// idInLog finds what a log line is about: a request's webhook-id, a
// notification's id, an order id.
var idInLog = regexp.MustCompile(`"(?:id|orderId)":"([^"]+)"`)

// sampleRSS keeps the largest resident set of each kind of process of the
// stack, once a second, until done.
func (r *chaosRun) sampleRSS(done <-chan struct{}) {
	for first := true; ; first = false {
		for _, p := range stackProcesses(r.s.cmd.Process.Pid, r.dir) {
			kb := rssKiB(p.pid)
			r.mu.Lock()
			if first && p.kind == "devstack" {
				r.startRSS = kb
			}
			r.rss[p.kind] = max(r.rss[p.kind], kb)
			r.mu.Unlock()
		}
		select {
		case <-done:
			return
		case <-time.After(time.Second):
		}
	}
}

// rssKiB is a process's resident set (VmRSS), in KiB.
func rssKiB(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

// audit waits for every order's end and checks every promise from
// outside: each order ended as the failure table says within 60 s plus the
// longest visibility timeout of the last kill (none late), none lost or
// duplicated, no status reached twice, one execution per order started
// once with no state entered twice, the payment simulator's ledger as the
// order's end calls for, every dead-letter queue empty, and no order for
// the bad input.
func (r *chaosRun) audit() []string {
	t := r.t
	r.mu.Lock()
	last := r.lastKill
	r.mu.Unlock()
	r.lostToTheEmulator()
	findings := waitTerminal(t, r.s, r.clients, last, r.bound)
	if len(findings) > 0 {
		return findings
	}
	findings = append(findings, audit(t, r.s, r.clients)...)
	findings = append(findings, r.deadLetters()...)
	if ids := listOrders(t, r.s.api, r.vandal); len(ids) != 0 {
		findings = append(findings, fmt.Sprintf("bad input made orders: %v", ids))
	}
	r.report()
	return findings
}

// lostToTheEmulator finds the accepted orders the API no longer knows and
// explains those DynamoDB Local lost: it can lose a write it acknowledged
// when it is killed within about a second of it (README: it does not
// promise what DynamoDB does, which acknowledges a write only once it is
// durable in several places). An order written at most 3 s before a kill
// of DynamoDB Local (its id, a ULID, says when the API made it) and gone
// after it is the emulator's loss — even when its key's retry was answered
// 202 later, from an idempotency record the emulator kept: it is logged,
// dropped from the audit, and its hand-over may end in the starter's
// dead-letter queue (deadLetters explains it). Any other order gone is a
// finding of waitTerminal.
func (r *chaosRun) lostToTheEmulator() {
	r.emulatorLost = map[string]string{}
	r.mu.Lock()
	kills := slices.Clone(r.dynamoKills)
	r.mu.Unlock()
	if len(kills) == 0 {
		return
	}
	for _, c := range r.clients {
		for _, id := range c.ids() {
			if _, err := c.get(r.s.api, id); !errors.Is(err, errNoSuchOrder) {
				continue
			}
			u, err := ulid.Parse(id)
			if err != nil {
				continue
			}
			at := ulid.Time(u.Time())
			for _, k := range kills {
				if d := k.Sub(at); d >= 0 && d <= 3*time.Second {
					r.emulatorLost[id] = fmt.Sprintf("written %s before DynamoDB Local was killed", d.Round(time.Millisecond))
					c.forget(id)
					break
				}
			}
		}
	}
	if len(r.emulatorLost) > 0 {
		r.t.Logf("DynamoDB Local lost %d acknowledged orders when killed (an emulator limitation, not DynamoDB's): %v", len(r.emulatorLost), r.emulatorLost)
	}
}

// deadLetters: every dead-letter queue of the stack is empty, but for the
// hand-overs of orders DynamoDB Local lost (lostToTheEmulator).
func (r *chaosRun) deadLetters() []string {
	ctx := context.Background()
	client := sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(r.s.endpoint("-sqs-port")) })
	list, err := client.ListQueues(ctx, &sqs.ListQueuesInput{})
	if err != nil {
		return []string{"list the queues: " + err.Error()}
	}
	var out []string
	dlqs := 0
	for _, u := range list.QueueUrls {
		if !strings.Contains(strings.ToLower(u), "dlq") {
			continue
		}
		dlqs++
		a, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return append(out, err.Error())
		}
		if a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)] == "0" &&
			a.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible)] == "0" {
			continue
		}
		for {
			got, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(u), MaxNumberOfMessages: 10, VisibilityTimeout: 600})
			if err != nil {
				return append(out, err.Error())
			}
			if len(got.Messages) == 0 {
				break
			}
			for _, m := range got.Messages {
				body := aws.ToString(m.Body)
				explained := false
				for id := range r.emulatorLost {
					explained = explained || strings.Contains(body, id)
				}
				if !explained {
					out = append(out, fmt.Sprintf("dead-letter queue %s holds a message no fault explains: %.300s", u, body))
				}
			}
		}
	}
	if dlqs < 4 {
		out = append(out, fmt.Sprintf("only %d dead-letter queues found: %v", dlqs, list.QueueUrls))
	}
	return out
}

// report logs the run's figures: kills, recovery, memory.
func (r *chaosRun) report() {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := slices.Clone(r.recovery)
	slices.Sort(rec)
	var p50, p99, worst time.Duration
	if len(rec) > 0 {
		p50, p99, worst = rec[len(rec)/2], rec[min(len(rec)-1, len(rec)*99/100)], rec[len(rec)-1]
	}
	kinds := slices.Sorted(func(yield func(string) bool) {
		for k := range r.rss {
			if !yield(k) {
				return
			}
		}
	})
	var mem []string
	for _, k := range kinds {
		mem = append(mem, fmt.Sprintf("%s %d MiB", k, r.rss[k]>>10))
	}
	r.t.Logf("chaos %v: %d orders, burst %s; kills %v; back to serving p50 %s, p99 %s, worst %s (%d measured); largest RSS: %s; devstack %d MiB at the start",
		r.faults, r.accepted, r.burstTook.Round(time.Second), r.kills, p50.Round(time.Millisecond), p99.Round(time.Millisecond), worst.Round(time.Millisecond),
		len(rec), strings.Join(mem, ", "), r.startRSS>>10)
}

// badInput is the corpus replayed during the bursts: each must be refused
// with a 4xx and write nothing.
func badInput(sample []byte) map[string]struct {
	body        []byte
	contentType string
	token       func(string) string
} {
	valid := func(tok string) string { return tok }
	tampered := func(tok string) string { return tok[:len(tok)-4] + "AAAA" }
	json := "application/json"
	replace := func(old, new string) []byte { return bytes.Replace(sample, []byte(old), []byte(new), 1) }
	return map[string]struct {
		body        []byte
		contentType string
		token       func(string) string
	}{
		"invalid JSON":        {sample[:len(sample)/2], json, valid},
		"deep nesting":        {[]byte(`{"lines":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), json, valid},
		"oversize body":       {[]byte(`{"note":"` + strings.Repeat("x", 300<<10) + `"}`), json, valid},
		"invalid UTF-8":       {replace(`"Lena Fischer"`, "\"Lena \xff\xfe Fischer\""), json, valid},
		"a NUL byte":          {replace(`"Lena Fischer"`, "\"Lena \x00 Fischer\""), json, valid},
		"an escaped NUL":      {replace(`"Lena Fischer"`, `"Lena \u0000 Fischer"`), json, valid},
		"duplicate keys":      {replace(`"currency": "EUR",`, `"currency": "EUR", "currency": "USD",`), json, valid},
		"wrong content type":  {sample, "text/plain", valid},
		"a bad JWT":           {sample, json, tampered},
		"a currency exponent": {replace(`"amount": 1999`, `"amount": 19.99`), json, valid},
	}
}

// replayBadInput posts the corpus again and again until stop, each under
// a fresh key: a 4xx is the answer, a 5xx (a process killed under it) is
// tried again, a 2xx fails the test. It fails unless each item was refused
// at least once.
func replayBadInput(t *testing.T, api string, c *shopper, sample []byte, stop <-chan struct{}) {
	refused := map[string]int{}
	corpus := badInput(sample)
	for round := 0; ; round++ {
		for name, in := range corpus {
			select {
			case <-stop:
				for name := range corpus {
					if refused[name] == 0 {
						t.Errorf("bad input %q was never answered with a 4xx", name)
					}
				}
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/orders", bytes.NewReader(in.body))
			req.Header.Set("Authorization", "Bearer "+in.token(c.token))
			req.Header.Set("Content-Type", in.contentType)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bad-%d-%s", round, strings.ReplaceAll(name, " ", "-")))
			resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
			if err != nil {
				continue
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode < 300:
				t.Errorf("bad input %q was accepted: %d", name, resp.StatusCode)
			case resp.StatusCode >= 400 && resp.StatusCode < 500:
				refused[name]++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
