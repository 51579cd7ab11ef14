package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/oklog/ulid/v2"
	"gopkg.in/yaml.v3"

	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/storetest"
	"github.com/xborder/xborder/shared/workflow"
)

// opsWorkflow is a small workflow for the ops API's tests, run on the local
// engine: one Lambda task that retries TransientError twice and catches
// Rejected and OrderCancelled into compensation.
const opsWorkflow = `{
  "StartAt": "Work",
  "States": {
    "Work": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:000000000000:function:work", "ResultPath": "$.work",
      "Retry": [{"ErrorEquals": ["TransientError"], "IntervalSeconds": 1, "MaxAttempts": 2, "BackoffRate": 1.0}],
      "Catch": [{"ErrorEquals": ["Rejected", "OrderCancelled"], "Next": "Compensate", "ResultPath": "$.error"}],
      "Next": "Done"},
    "Compensate": {"Type": "Pass", "Next": "Compensated"},
    "Compensated": {"Type": "Succeed"},
    "Done": {"Type": "Succeed"}
  }
}`

// work is the workflow's one function: what it does for an order is set by
// the test ("transient" fails, "reject" rejects, anything else succeeds);
// a cancelled order's is OrderCancelled, as the real steps do.
type work struct {
	mu    sync.Mutex
	modes map[string]string
	store storetest.Store
}

func (f *work) set(id, mode string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modes[id] = mode
}

func (f *work) handle(ctx context.Context, in struct {
	OrderID string `json:"orderId"`
}) (map[string]string, error) {
	if o, err := f.store.GetOrder(ctx, in.OrderID); err == nil && o.CancelRequested {
		return nil, &workflow.OrderCancelled{Reason: "cancelled_by_ops"}
	}
	f.mu.Lock()
	mode := f.modes[in.OrderID]
	f.mu.Unlock()
	switch mode {
	case "transient":
		return nil, &workflow.TransientError{Err: errors.New("warehouse API timed out")}
	case "reject":
		return nil, &workflow.Rejected{Reason: "restricted_goods"}
	}
	return map[string]string{"done": "yes"}, nil
}

type opsHarness struct {
	*harness
	engine  *sfn.Engine
	sfn     *awssfn.Client
	machine string
	work    *work
	sqs     *sqs.Client
	pair    httpapi.QueuePair // the "customs" queue and its DLQ
	doc     openAPIDoc
}

// newOpsHarness is the API with the ops API wired: to a local Step
// Functions engine running opsWorkflow and, with queues, to a fresh queue
// and dead-letter queue on the SQS emulator `make test` starts.
func newOpsHarness(t *testing.T, store storetest.Store, configured bool) *opsHarness {
	t.Helper()
	authn, err := auth.NewLocalHS256(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := &opsHarness{harness: &harness{t: t, store: store, tasks: &taskRecorder{}, queue: &enqueueRecorder{}, clock: &clock{}},
		doc: loadOpenAPI(t)}
	cfg := httpapi.Config{Store: store, Auth: authn, Tasks: h.tasks, Workflow: h.queue, Quoter: customs.Default(), Quotes: store, Now: h.clock.Now}
	if configured {
		h.startEngine(t)
		h.startQueues(t)
		cfg.Executions, cfg.StateMachineARN = h.sfn, h.machine
		cfg.Queues, cfg.DeadLetters = h.sqs, map[string]httpapi.QueuePair{"customs": h.pair}
		cfg.Receipts = &receipts.Recorder{Orders: store}
	}
	h.srv = httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *opsHarness) startEngine(t *testing.T) {
	h.engine = sfn.NewEngine()
	h.engine.TimeScale = 0.001
	h.work = &work{modes: map[string]string{}, store: h.store}
	fns := &sfn.Functions{}
	fns.Register("work", h.work.handle)
	h.engine.Invoker = fns
	srv := httptest.NewServer(h.engine.Handler())
	t.Cleanup(srv.Close)
	h.sfn = awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	out, err := h.sfn.CreateStateMachine(context.Background(), &awssfn.CreateStateMachineInput{Name: aws.String(workflow.StateMachineName),
		Definition: aws.String(opsWorkflow), RoleArn: aws.String("arn:aws:iam::000000000000:role/order-workflow")})
	if err != nil {
		t.Fatal(err)
	}
	h.machine = aws.ToString(out.StateMachineArn)
}

func (h *opsHarness) startQueues(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint == "" {
		t.Fatal("no SQS endpoint: run the tests through `make test`, which starts the SQS/SNS emulator")
	}
	if u, _ := url.Parse(endpoint); u == nil || net.ParseIP(u.Hostname()) == nil || !net.ParseIP(u.Hostname()).IsLoopback() {
		t.Fatalf("refusing non-loopback endpoint %s", endpoint)
	}
	h.sqs = sqs.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	name := fmt.Sprintf("ops-customs-%d", time.Now().UnixNano())
	for _, q := range []struct {
		name string
		url  *string
	}{{name, &h.pair.SourceURL}, {name + "-dlq", &h.pair.DLQURL}} {
		out, err := h.sqs.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(q.name)})
		if err != nil {
			t.Fatal(err)
		}
		*q.url = aws.ToString(out.QueueUrl)
		t.Cleanup(func() { _, _ = h.sqs.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: out.QueueUrl}) })
	}
}

func opsToken(t *testing.T, sub string) string {
	t.Helper()
	tok, err := auth.MintLocal(secret, sub, []string{"support", auth.GroupOps}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ops calls the API as operator olga.
func (h *opsHarness) ops(method, path string) response {
	h.t.Helper()
	return h.do(method, path, "", nil, map[string]string{"Authorization": "Bearer " + opsToken(h.t, "olga")})
}

// conforms checks a response against the documented schema of its operation.
func (h *opsHarness) conforms(r response, method, route string) map[string]any {
	h.t.Helper()
	got := r.json(h.t)
	media := h.doc.Paths[route][strings.ToLower(method)].Responses[fmt.Sprint(r.status)].Content["application/json"]
	if media.Schema.Ref == "" && media.Schema.Type == "" {
		h.t.Fatalf("%s %s documents no JSON %d", method, route, r.status)
	}
	h.doc.conforms(h.t, route, media.Schema, got)
	return got
}

// place stores an order changed at at, moved on to status to.
func (h *opsHarness) place(t *testing.T, at time.Time, to order.Status, reason string) *order.Order {
	t.Helper()
	ctx := context.Background()
	id := ulid.Make().String()
	o := storetest.Order(id, "cust-"+strings.ToLower(id[20:]), at)
	first := order.Event{OrderID: id, Version: 1, At: at, To: order.StatusReceived, Actor: "customer:" + o.CustomerID}
	if _, err := h.store.CreateOrder(ctx, o, first, storetest.Completed("customer:"+o.CustomerID, "k-"+id, id, at), at); err != nil {
		t.Fatal(err)
	}
	path := map[order.Status][]order.Status{
		order.StatusStalled:           {order.StatusStalled},
		order.StatusRejected:          {order.StatusRejected},
		order.StatusStockReserved:     {order.StatusStockReserved},
		order.StatusPaymentCaptured:   {order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared, order.StatusPaymentCaptured},
		order.StatusDispatched:        {order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared, order.StatusPaymentCaptured, order.StatusDispatched},
		order.StatusPaymentDeclined:   {order.StatusStockReserved, order.StatusPaymentDeclined},
		order.StatusPaymentAuthorized: {order.StatusStockReserved, order.StatusPaymentAuthorized},
	}[to]
	for i, st := range path {
		why := ""
		if i == len(path)-1 {
			why = reason
		}
		h.move(t, o, st, why, at)
	}
	return o
}

func (h *opsHarness) move(t *testing.T, o *order.Order, to order.Status, reason string, at time.Time) {
	t.Helper()
	ev, err := o.Transition(to, reason, "workflow", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.SaveTransition(context.Background(), o, ev); err != nil {
		t.Fatal(err)
	}
}

// run starts the order's execution, the work function doing mode, and
// waits for it to end.
func (h *opsHarness) run(t *testing.T, o *order.Order, mode string) string {
	t.Helper()
	h.work.set(o.ID, mode)
	out, err := h.sfn.StartExecution(context.Background(), &awssfn.StartExecutionInput{StateMachineArn: aws.String(h.machine),
		Name: aws.String(o.ID), Input: aws.String(`{"orderId":"` + o.ID + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.ExecutionArn)
	h.wait(t, arn)
	return arn
}

func (h *opsHarness) wait(t *testing.T, arn string) {
	t.Helper()
	select {
	case <-h.engine.Done(arn):
	case <-time.After(10 * time.Second):
		t.Fatalf("execution %s did not end", arn)
	}
}

func (h *opsHarness) history(t *testing.T, id string) []order.Event {
	t.Helper()
	hist, err := h.store.History(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return hist
}

func hasEvent(hist []order.Event, reason, actor string) bool {
	return slices.ContainsFunc(hist, func(e order.Event) bool { return e.Reason == reason && e.Actor == actor })
}

func TestOps(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("only for ops", func(t *testing.T) { testOpsOnly(t, newOpsHarness(t, b.store(t), false)) })
			t.Run("summary", func(t *testing.T) { testOpsSummary(t, newOpsHarness(t, b.store(t), true)) })
			t.Run("orders by status", func(t *testing.T) { testOpsList(t, newOpsHarness(t, b.store(t), false)) })
			t.Run("stuck orders", func(t *testing.T) { testOpsStuck(t, newOpsHarness(t, b.store(t), false)) })
			t.Run("timeline and redrive", func(t *testing.T) { testOpsRedrive(t, newOpsHarness(t, b.store(t), true)) })
			t.Run("business failures are final", func(t *testing.T) { testOpsFinal(t, newOpsHarness(t, b.store(t), true)) })
			t.Run("cancel", func(t *testing.T) { testOpsCancel(t, newOpsHarness(t, b.store(t), true)) })
			t.Run("dead letters", func(t *testing.T) { testOpsDeadLetters(t, newOpsHarness(t, b.store(t), true)) })
			t.Run("not configured", func(t *testing.T) { testOpsNotConfigured(t, newOpsHarness(t, b.store(t), false)) })
			t.Run("declarations", func(t *testing.T) { testOpsDeclarations(t, newOpsHarness(t, b.store(t), false)) })
			t.Run("customs receipts", func(t *testing.T) { testOpsCustomsReceipts(t, newOpsHarness(t, b.store(t), true)) })
		})
	}
}

// opsPaths are the ops routes with their parameters filled in.
func opsPaths(id string) []httpapi.Route {
	var out []httpapi.Route
	for _, r := range httpapi.Routes {
		if strings.HasPrefix(r.Path, "/v1/ops/") {
			p := strings.NewReplacer("{id}", id, "{queue}", "customs", "{messageId}", "m-1", "{messageType}", "CEB303").Replace(r.Path)
			out = append(out, httpapi.Route{Method: r.Method, Path: p})
		}
	}
	return out
}

func testOpsOnly(t *testing.T, h *opsHarness) {
	o := h.place(t, time.Now(), order.StatusReceived, "")
	routes := opsPaths(o.ID)
	if len(routes) != 12 {
		t.Fatalf("%d ops routes", len(routes))
	}
	for _, r := range routes {
		p := wantProblem(t, h.do(r.Method, r.Path, "mallory", nil, nil), http.StatusForbidden, "/problems/forbidden")
		if !strings.Contains(p["detail"].(string), "ops") {
			t.Errorf("%s %s: %v", r.Method, r.Path, p)
		}
		wantProblem(t, h.do(r.Method, r.Path, "", nil, nil), http.StatusUnauthorized, "/problems/unauthorized")
	}
	// A customer token with other groups is no better.
	tok, _ := auth.MintLocal(secret, "mallory", []string{"operations", "admin"}, time.Hour, time.Now())
	wantProblem(t, h.do(http.MethodGet, "/v1/ops/summary", "", nil, map[string]string{"Authorization": "Bearer " + tok}),
		http.StatusForbidden, "/problems/forbidden")
	// Nothing was cancelled or noted.
	if got, _ := h.store.GetOrder(context.Background(), o.ID); got.CancelRequested || got.Version != 1 {
		t.Fatalf("a forbidden request changed the order: %+v", got)
	}
	r := h.do(http.MethodDelete, "/v1/ops/summary", "", nil, map[string]string{"Authorization": "Bearer " + opsToken(t, "olga")})
	wantProblem(t, r, http.StatusMethodNotAllowed, "/problems/method-not-allowed")
}

func testOpsSummary(t *testing.T, h *opsHarness) {
	old, now := time.Now().Add(-time.Hour), time.Now()
	h.place(t, old, order.StatusReceived, "")
	h.place(t, old, order.StatusReceived, "")
	h.place(t, now, order.StatusReceived, "")
	h.place(t, old, order.StatusStalled, "TransientError")
	h.place(t, old, order.StatusRejected, "restricted_goods")
	h.place(t, old, order.StatusDispatched, "")
	for i := range 2 {
		if _, err := h.sqs.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(h.pair.DLQURL),
			MessageBody: aws.String(fmt.Sprintf(`{"orderId":"dead-%d"}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	r := h.ops(http.MethodGet, "/v1/ops/summary")
	wantStatus(t, r, http.StatusOK)
	got := h.conforms(r, http.MethodGet, "/v1/ops/summary")
	var s struct {
		Counts map[string]int `json:"counts"`
		Stuck  int            `json:"stuck"`
		DLQs   []struct {
			Queue string `json:"queue"`
			Depth int    `json:"depth"`
		} `json:"dlqs"`
		At time.Time `json:"at"`
	}
	_ = json.Unmarshal(r.body, &s)
	want := map[string]int{"RECEIVED": 3, "STALLED": 1, "REJECTED": 1, "DISPATCHED": 1}
	for _, st := range order.Statuses {
		if n, ok := s.Counts[string(st)]; !ok || n != want[string(st)] {
			t.Errorf("count of %s: %d (present %v), want %d", st, n, ok, want[string(st)])
		}
	}
	if len(s.Counts) != len(order.Statuses) {
		t.Errorf("counts %v: want every status", s.Counts)
	}
	// Two old RECEIVED and the STALLED one; not the new one, the rejected
	// one (final) nor the dispatched one.
	if s.Stuck != 3 {
		t.Errorf("stuck %d, want 3", s.Stuck)
	}
	if len(s.DLQs) != 1 || s.DLQs[0].Queue != "customs" || s.DLQs[0].Depth != 2 {
		t.Errorf("dlqs %+v, want customs with 2", s.DLQs)
	}
	if time.Since(s.At) > time.Minute || got["at"] == nil {
		t.Errorf("at %v", got["at"])
	}
}

// opsIDs reads one page of an ops list.
func opsIDs(t *testing.T, r response) ([]string, string) {
	t.Helper()
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Orders []struct {
			ID string `json:"orderId"`
		} `json:"orders"`
		NextCursor string `json:"nextCursor"`
	}
	if err := json.Unmarshal(r.body, &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range page.Orders {
		ids = append(ids, o.ID)
	}
	return ids, page.NextCursor
}

// opsAll pages through an ops list with pages of size.
func (h *opsHarness) opsAll(t *testing.T, path string, size int) []string {
	t.Helper()
	var all []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		p := fmt.Sprintf("%s&limit=%d", path, size)
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.ops(http.MethodGet, p)
		ids, next := opsIDs(t, r)
		if len(ids) > size || (next != "" && len(ids) != size) {
			t.Fatalf("%s: a page of %d (limit %d, next %q)", p, len(ids), size, next)
		}
		all = append(all, ids...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

func testOpsList(t *testing.T, h *opsHarness) {
	now := time.Now()
	a := h.place(t, now.Add(-3*time.Hour), order.StatusReceived, "")
	b := h.place(t, now.Add(-2*time.Hour), order.StatusReceived, "")
	c := h.place(t, now.Add(-time.Minute), order.StatusReceived, "")
	s := h.place(t, now.Add(-time.Hour), order.StatusStalled, "TransientError")
	r := h.ops(http.MethodGet, "/v1/ops/orders?status=RECEIVED")
	h.conforms(r, http.MethodGet, "/v1/ops/orders")
	if ids, next := opsIDs(t, r); fmt.Sprint(ids) != fmt.Sprint([]string{c.ID, b.ID, a.ID}) || next != "" {
		t.Fatalf("RECEIVED: %v %q, want newest first", ids, next)
	}
	for _, size := range []int{1, 2, 3} {
		if got := h.opsAll(t, "/v1/ops/orders?status=RECEIVED", size); fmt.Sprint(got) != fmt.Sprint([]string{c.ID, b.ID, a.ID}) {
			t.Fatalf("pages of %d: %v", size, got)
		}
	}
	rfc := func(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339)) }
	if ids, _ := opsIDs(t, h.ops(http.MethodGet, "/v1/ops/orders?status=RECEIVED&since="+rfc(now.Add(-150*time.Minute)))); fmt.Sprint(ids) != fmt.Sprint([]string{c.ID, b.ID}) {
		t.Fatalf("since: %v", ids)
	}
	if ids, _ := opsIDs(t, h.ops(http.MethodGet, "/v1/ops/orders?status=RECEIVED&since="+rfc(now.Add(-150*time.Minute))+"&until="+rfc(now.Add(-10*time.Minute)))); fmt.Sprint(ids) != fmt.Sprint([]string{b.ID}) {
		t.Fatalf("since and until: %v", ids)
	}
	r = h.ops(http.MethodGet, "/v1/ops/orders?status=STALLED")
	got := h.conforms(r, http.MethodGet, "/v1/ops/orders")
	row := got["orders"].([]any)[0].(map[string]any)
	for k, v := range map[string]any{"orderId": s.ID, "status": "STALLED", "reason": "TransientError", "tradeMode": "B2C", "channel": "mobile",
		"partnerId": "", "destination": "DE", "createdAt": s.CreatedAt.Format(time.RFC3339Nano), "statusSince": s.Since().Format(time.RFC3339Nano)} {
		if row[k] != v {
			t.Errorf("%s = %v, want %v", k, row[k], v)
		}
	}
	if total := row["total"].(map[string]any); total["amount"] != float64(9496) || total["currency"] != "EUR" {
		t.Errorf("total %v", total)
	}
	for _, q := range []string{"", "status=", "status=BOGUS", "status=RECEIVED&since=yesterday", "status=RECEIVED&until=2026-13-01T00:00:00Z",
		"status=RECEIVED&since=2026-11-24T10:00:00Z&until=2026-11-24T10:00:00Z", "status=RECEIVED&limit=0", "status=RECEIVED&limit=101",
		"status=RECEIVED&cursor=garbage!"} {
		wantProblem(t, h.ops(http.MethodGet, "/v1/ops/orders?"+q), http.StatusBadRequest, "/problems/bad-request")
	}
	// A cursor is bound to its status.
	_, next := opsIDs(t, h.ops(http.MethodGet, "/v1/ops/orders?status=RECEIVED&limit=1"))
	wantProblem(t, h.ops(http.MethodGet, "/v1/ops/orders?status=STALLED&cursor="+next), http.StatusBadRequest, "/problems/bad-request")
}

func testOpsStuck(t *testing.T, h *opsHarness) {
	now := time.Now()
	var want []string // newest first
	for i, st := range []order.Status{order.StatusReceived, order.StatusStockReserved, order.StatusStalled, order.StatusPaymentCaptured,
		order.StatusReceived, order.StatusStalled, order.StatusPaymentAuthorized} {
		o := h.place(t, now.Add(-time.Duration(20+10*i)*time.Minute), st, "")
		want = append(want, o.ID)
	}
	// Not stuck: recent, ended, or dispatched.
	h.place(t, now.Add(-5*time.Minute), order.StatusReceived, "")
	h.place(t, now.Add(-5*time.Minute), order.StatusStalled, "TransientError")
	h.place(t, now.Add(-time.Hour), order.StatusRejected, "denied_party")
	h.place(t, now.Add(-time.Hour), order.StatusPaymentDeclined, "card_declined")
	h.place(t, now.Add(-time.Hour), order.StatusDispatched, "")

	r := h.ops(http.MethodGet, "/v1/ops/orders/stuck")
	h.conforms(r, http.MethodGet, "/v1/ops/orders/stuck")
	if ids, next := opsIDs(t, r); fmt.Sprint(ids) != fmt.Sprint(want) || next != "" {
		t.Fatalf("stuck: %v %q\nwant %v", ids, next, want)
	}
	for _, size := range []int{1, 2, 3, 6, 7, 8} {
		if got := h.opsAll(t, "/v1/ops/orders/stuck?minutes=15", size); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("pages of %d: %v\nwant %v", size, got, want)
		}
	}
	// Not changed for 45 minutes: the ones placed 50 minutes ago and before.
	if got := h.opsAll(t, "/v1/ops/orders/stuck?minutes=45", 2); fmt.Sprint(got) != fmt.Sprint(want[3:]) {
		t.Fatalf("45 minutes: %v, want %v", got, want[3:])
	}
	for _, q := range []string{"minutes=0", "minutes=x", "minutes=20000", "limit=500", "cursor=garbage!", "cursor=e30"} {
		wantProblem(t, h.ops(http.MethodGet, "/v1/ops/orders/stuck?"+q), http.StatusBadRequest, "/problems/bad-request")
	}
}

// step is a step of the timeline, as the API answers it.
type step struct {
	Name, Status, Error, Cause string
	Attempts                   int
	Start                      time.Time
	End                        *time.Time
	DurationMs                 *int64
}

type detail struct {
	Order     map[string]any `json:"order"`
	History   []order.Event  `json:"history"`
	Execution *struct {
		ExecutionARN string     `json:"executionArn"`
		Status       string     `json:"status"`
		StartDate    time.Time  `json:"startDate"`
		StopDate     *time.Time `json:"stopDate"`
		Error        string     `json:"error"`
		Cause        string     `json:"cause"`
		RedriveCount int        `json:"redriveCount"`
	} `json:"execution"`
	Steps   []step   `json:"steps"`
	Actions []string `json:"actions"`
}

func (h *opsHarness) detail(t *testing.T, id string) detail {
	t.Helper()
	r := h.ops(http.MethodGet, "/v1/ops/orders/"+id)
	wantStatus(t, r, http.StatusOK)
	h.conforms(r, http.MethodGet, "/v1/ops/orders/{id}")
	var d detail
	if err := json.Unmarshal(r.body, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func timelineOf(steps []step) string {
	var s []string
	for _, st := range steps {
		s = append(s, fmt.Sprintf("%s:%s:%d", st.Name, st.Status, st.Attempts))
	}
	return strings.Join(s, " ")
}

func testOpsRedrive(t *testing.T, h *opsHarness) {
	ctx := context.Background()
	o := h.place(t, time.Now(), order.StatusReceived, "")
	// Before the workflow started it: no execution.
	d := h.detail(t, o.ID)
	if d.Execution != nil || len(d.Steps) != 0 || fmt.Sprint(d.Actions) != "[cancel]" {
		t.Fatalf("before its execution: %+v %v %v", d.Execution, d.Steps, d.Actions)
	}
	// The step fails until its retries run out; mark-stalled marks the order.
	arn := h.run(t, o, "transient")
	h.move(t, o, order.StatusStalled, workflow.ErrTransient, time.Now())

	d = h.detail(t, o.ID)
	x := d.Execution
	if x == nil || x.ExecutionARN != arn || x.Status != "FAILED" || x.Error != workflow.ErrTransient || x.Cause != "warehouse API timed out" ||
		x.StopDate == nil || x.RedriveCount != 0 {
		t.Fatalf("execution %+v", x)
	}
	if arn != strings.Replace(h.machine, ":stateMachine:", ":execution:", 1)+":"+o.ID {
		t.Fatalf("execution ARN %s", arn)
	}
	if timelineOf(d.Steps) != "Work:failed:3" {
		t.Fatalf("steps %s", timelineOf(d.Steps))
	}
	w := d.Steps[0]
	if w.Error != workflow.ErrTransient || w.Cause != "warehouse API timed out" || w.End == nil || w.DurationMs == nil || w.Start.IsZero() {
		t.Fatalf("the failed step: %+v", w)
	}
	if fmt.Sprint(d.Actions) != "[redrive cancel]" {
		t.Fatalf("actions %v", d.Actions)
	}
	if d.Order["orderId"] != o.ID || d.Order["status"] != "STALLED" || d.Order["payment"].(map[string]any)["token"] != nil ||
		d.Order["taskToken"] != nil || len(d.History) != 2 {
		t.Fatalf("order %v, history %v", d.Order, d.History)
	}

	// The cause is fixed; the operator redrives.
	h.work.set(o.ID, "ok")
	r := h.ops(http.MethodPost, "/v1/ops/orders/"+o.ID+"/redrive")
	wantStatus(t, r, http.StatusAccepted)
	got := h.conforms(r, http.MethodPost, "/v1/ops/orders/{id}/redrive")
	if got["orderId"] != o.ID || got["executionArn"] != arn || got["redriveCount"] != float64(1) {
		t.Fatalf("redrive: %s", r.body)
	}
	h.wait(t, arn)
	out, err := h.sfn.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil || out.Status != "SUCCEEDED" || aws.ToInt32(out.RedriveCount) != 1 {
		t.Fatalf("after the redrive: %v %v", out, err)
	}
	if !hasEvent(h.history(t, o.ID), "redriven_by_ops", "ops:olga") {
		t.Fatalf("the redrive is not in the history: %+v", h.history(t, o.ID))
	}
	d = h.detail(t, o.ID)
	if d.Execution.Status != "SUCCEEDED" || d.Execution.RedriveCount != 1 || timelineOf(d.Steps) != "Work:failed:3 Work:succeeded:1 Done:succeeded:1" {
		t.Fatalf("after the redrive: %+v %s", d.Execution, timelineOf(d.Steps))
	}
	if d.Steps[1].Error != "" || d.Steps[0].Error != workflow.ErrTransient {
		t.Fatalf("errors %+v", d.Steps)
	}
	// Still STALLED in this test (no real steps), but the execution is done.
	p := wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+o.ID+"/redrive"), http.StatusConflict, "/problems/conflict")
	if !strings.Contains(p["detail"].(string), "SUCCEEDED") {
		t.Fatalf("second redrive: %v", p)
	}
	if fmt.Sprint(h.detail(t, o.ID).Actions) != "[cancel]" {
		t.Fatal("a succeeded execution offers no redrive")
	}
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+ulid.Make().String()+"/redrive"), http.StatusNotFound, "/problems/not-found")
	wantProblem(t, h.ops(http.MethodGet, "/v1/ops/orders/"+ulid.Make().String()), http.StatusNotFound, "/problems/not-found")
	// A STALLED order whose execution is gone has nothing to redrive.
	lost := h.place(t, time.Now(), order.StatusStalled, "execution_ABORTED")
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+lost.ID+"/redrive"), http.StatusConflict, "/problems/conflict")
}

func testOpsFinal(t *testing.T, h *opsHarness) {
	o := h.place(t, time.Now(), order.StatusReceived, "")
	h.run(t, o, "reject")
	h.move(t, o, order.StatusRejected, "restricted_goods", time.Now())
	d := h.detail(t, o.ID)
	if d.Execution == nil || d.Execution.Status != "SUCCEEDED" || timelineOf(d.Steps) != "Work:caught:1 Compensate:succeeded:1 Compensated:succeeded:1" {
		t.Fatalf("execution %+v, steps %s", d.Execution, timelineOf(d.Steps))
	}
	if d.Steps[0].Error != workflow.ErrRejected || d.Steps[0].Cause != "restricted_goods" {
		t.Fatalf("the caught step: %+v", d.Steps[0])
	}
	if len(d.Actions) != 0 || d.Actions == nil {
		t.Fatalf("a rejected order offers %v", d.Actions)
	}
	p := wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+o.ID+"/redrive"), http.StatusConflict, "/problems/conflict")
	if detail := p["detail"].(string); !strings.Contains(detail, "REJECTED") || !strings.Contains(detail, "final") {
		t.Fatalf("refusal %q", detail)
	}
	for _, st := range []order.Status{order.StatusPaymentDeclined, order.StatusDispatched, order.StatusPaymentAuthorized} {
		x := h.place(t, time.Now(), st, "")
		wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+x.ID+"/redrive"), http.StatusConflict, "/problems/conflict")
	}
	if hist := h.history(t, o.ID); hasEvent(hist, "redriven_by_ops", "ops:olga") {
		t.Fatal("a refused redrive was recorded")
	}
}

func testOpsCancel(t *testing.T, h *opsHarness) {
	ctx := context.Background()
	// Any customer's order, waiting on customs.
	o := h.place(t, time.Now(), order.StatusPaymentAuthorized, "")
	ev := o.Note("awaiting_customs", "workflow", time.Now())
	o.TaskToken = "token-customs-9"
	if err := h.store.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		r := h.ops(http.MethodPost, "/v1/ops/orders/"+o.ID+"/cancel")
		wantStatus(t, r, http.StatusAccepted)
		if got := h.conforms(r, http.MethodPost, "/v1/ops/orders/{id}/cancel"); got["cancelRequested"] != true || got["taskToken"] != nil {
			t.Fatalf("cancel: %s", r.body)
		}
	}
	hist := h.history(t, o.ID)
	if n := len(slices.DeleteFunc(slices.Clone(hist), func(e order.Event) bool { return e.Reason != "cancel_requested" })); n != 1 ||
		!hasEvent(hist, "cancel_requested", "ops:olga") {
		t.Fatalf("history %+v, want one cancel_requested by ops:olga", hist)
	}
	if got, _ := h.store.GetOrder(ctx, o.ID); !got.CancelRequested || got.CancelledBy != "ops:olga" {
		t.Fatalf("stored %v %q", got.CancelRequested, got.CancelledBy)
	}
	if len(h.tasks.failed) == 0 || slices.ContainsFunc(h.tasks.failed, func(f string) bool { return f != "token-customs-9 OrderCancelled cancelled_by_ops" }) {
		t.Fatalf("task failures %v", h.tasks.failed)
	}
	d := h.detail(t, o.ID)
	if d.Order["cancelledBy"] != "ops:olga" || len(d.Actions) != 0 {
		t.Fatalf("after the cancellation: %v %v", d.Order["cancelledBy"], d.Actions)
	}

	// A stalled order: its execution is redriven, sees the request and compensates.
	s := h.place(t, time.Now(), order.StatusReceived, "")
	arn := h.run(t, s, "transient")
	h.move(t, s, order.StatusStalled, workflow.ErrTransient, time.Now())
	wantStatus(t, h.ops(http.MethodPost, "/v1/ops/orders/"+s.ID+"/cancel"), http.StatusAccepted)
	h.wait(t, arn)
	d = h.detail(t, s.ID)
	if d.Execution.Status != "SUCCEEDED" || d.Execution.RedriveCount != 1 ||
		timelineOf(d.Steps) != "Work:failed:3 Work:caught:1 Compensate:succeeded:1 Compensated:succeeded:1" || d.Steps[1].Error != workflow.ErrOrderCancelled {
		t.Fatalf("the stalled order after its cancellation: %+v %s", d.Execution, timelineOf(d.Steps))
	}
	if hist := h.history(t, s.ID); !hasEvent(hist, "cancel_requested", "ops:olga") || !hasEvent(hist, "redriven_by_ops", "ops:olga") {
		t.Fatalf("history %+v", hist)
	}

	// After dispatch: 409; no such order: 404.
	x := h.place(t, time.Now(), order.StatusDispatched, "")
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+x.ID+"/cancel"), http.StatusConflict, "/problems/conflict")
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/orders/"+ulid.Make().String()+"/cancel"), http.StatusNotFound, "/problems/not-found")
	// An ended order: nothing to do, the same 202.
	rej := h.place(t, time.Now(), order.StatusRejected, "denied_party")
	wantStatus(t, h.ops(http.MethodPost, "/v1/ops/orders/"+rej.ID+"/cancel"), http.StatusAccepted)
	if got, _ := h.store.GetOrder(ctx, rej.ID); got.CancelRequested {
		t.Fatal("an ended order was marked for cancellation")
	}
}

func (h *opsHarness) depth(t *testing.T, queueURL string) string {
	t.Helper()
	out, err := h.sqs.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"]
}

func testOpsDeadLetters(t *testing.T, h *opsHarness) {
	ctx := context.Background()
	o := h.place(t, time.Now(), order.StatusPaymentAuthorized, "")
	bodies := []string{`{"orderId":"` + o.ID + `","taskToken":"tok-1"}`, `{"orderId":"01KNOSUCHORDER000000000000"}`, `not json`}
	ids := map[string]string{} // body → message id
	for _, b := range bodies {
		out, err := h.sqs.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(h.pair.DLQURL), MessageBody: aws.String(b),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{"kind": {DataType: aws.String("String"), StringValue: aws.String("customs")}}})
		if err != nil {
			t.Fatal(err)
		}
		ids[b] = aws.ToString(out.MessageId)
	}
	r := h.ops(http.MethodGet, "/v1/ops/dlqs")
	wantStatus(t, r, http.StatusOK)
	got := h.conforms(r, http.MethodGet, "/v1/ops/dlqs")
	want := []any{map[string]any{"queue": "customs", "dlqUrl": h.pair.DLQURL, "depth": float64(3), "sourceUrl": h.pair.SourceURL}}
	if fmt.Sprint(got["dlqs"]) != fmt.Sprint(want) {
		t.Fatalf("dlqs %v, want %v", got["dlqs"], want)
	}

	// A peek leaves every message where it was, visible at once.
	for range 2 {
		r = h.ops(http.MethodGet, "/v1/ops/dlqs/customs/messages?max=10")
		wantStatus(t, r, http.StatusOK)
		h.conforms(r, http.MethodGet, "/v1/ops/dlqs/{queue}/messages")
		var peek struct {
			Messages []struct {
				MessageID    string    `json:"messageId"`
				Body         string    `json:"body"`
				ReceiveCount int       `json:"receiveCount"`
				SentAt       time.Time `json:"sentAt"`
			} `json:"messages"`
		}
		_ = json.Unmarshal(r.body, &peek)
		if len(peek.Messages) != 3 {
			t.Fatalf("peeked %d messages, want 3: %s", len(peek.Messages), r.body)
		}
		for _, m := range peek.Messages {
			if ids[m.Body] != m.MessageID || m.ReceiveCount < 1 || time.Since(m.SentAt) > time.Minute {
				t.Fatalf("peeked %+v", m)
			}
		}
		if d := h.depth(t, h.pair.DLQURL); d != "3" {
			t.Fatalf("after a peek the DLQ holds %s visible messages, want 3", d)
		}
	}
	for _, q := range []string{"max=0", "max=11", "max=x"} {
		wantProblem(t, h.ops(http.MethodGet, "/v1/ops/dlqs/customs/messages?"+q), http.StatusBadRequest, "/problems/bad-request")
	}
	wantProblem(t, h.ops(http.MethodGet, "/v1/ops/dlqs/nowhere/messages"), http.StatusNotFound, "/problems/not-found")

	// Replay the order's message: it moves to the source queue, with its
	// attributes, and the order's history says who did it.
	id := ids[bodies[0]]
	r = h.ops(http.MethodPost, "/v1/ops/dlqs/customs/messages/"+id+"/replay")
	wantStatus(t, r, http.StatusAccepted)
	if got := h.conforms(r, http.MethodPost, "/v1/ops/dlqs/{queue}/messages/{messageId}/replay"); got["messageId"] != id || got["queue"] != "customs" {
		t.Fatalf("replay: %s", r.body)
	}
	out, err := h.sqs.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(h.pair.SourceURL), WaitTimeSeconds: 1,
		MaxNumberOfMessages: 10, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != bodies[0] ||
		aws.ToString(out.Messages[0].MessageAttributes["kind"].StringValue) != "customs" {
		t.Fatalf("the source queue holds %+v, %v", out.Messages, err)
	}
	if d := h.depth(t, h.pair.DLQURL); d != "2" {
		t.Fatalf("after the replay the DLQ holds %s, want 2", d)
	}
	if !hasEvent(h.history(t, o.ID), "dead_letter_replayed", "ops:olga") {
		t.Fatalf("history %+v", h.history(t, o.ID))
	}
	// Replayed already, or never there: 404; the others stay, visible.
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/dlqs/customs/messages/"+id+"/replay"), http.StatusNotFound, "/problems/not-found")
	wantProblem(t, h.ops(http.MethodPost, "/v1/ops/dlqs/nowhere/messages/"+id+"/replay"), http.StatusNotFound, "/problems/not-found")
	if d := h.depth(t, h.pair.DLQURL); d != "2" {
		t.Fatalf("after a replay that found nothing the DLQ holds %s visible, want 2", d)
	}
	// A body naming no known order is replayed too.
	wantStatus(t, h.ops(http.MethodPost, "/v1/ops/dlqs/customs/messages/"+ids[bodies[2]]+"/replay"), http.StatusAccepted)
	wantStatus(t, h.ops(http.MethodPost, "/v1/ops/dlqs/customs/messages/"+ids[bodies[1]]+"/replay"), http.StatusAccepted)
	if d := h.depth(t, h.pair.DLQURL); d != "0" {
		t.Fatalf("the DLQ holds %s, want 0", d)
	}
}

func testOpsNotConfigured(t *testing.T, h *opsHarness) {
	o := h.place(t, time.Now(), order.StatusStalled, "TransientError")
	for _, r := range []httpapi.Route{
		{Method: http.MethodPost, Path: "/v1/ops/orders/" + o.ID + "/redrive"},
		{Method: http.MethodGet, Path: "/v1/ops/dlqs"},
		{Method: http.MethodGet, Path: "/v1/ops/dlqs/customs/messages"},
		{Method: http.MethodPost, Path: "/v1/ops/dlqs/customs/messages/m-1/replay"},
		{Method: http.MethodPost, Path: "/v1/ops/customs/receipts"},
	} {
		p := wantProblem(t, h.ops(r.Method, r.Path), http.StatusServiceUnavailable, "/problems/not-configured")
		if !strings.Contains(p["detail"].(string), "Not configured") {
			t.Errorf("%s %s: %v", r.Method, r.Path, p)
		}
	}
	r := h.ops(http.MethodGet, "/v1/ops/summary")
	wantStatus(t, r, http.StatusOK)
	if got := h.conforms(r, http.MethodGet, "/v1/ops/summary"); got["dlqs"] != nil {
		t.Fatalf("summary without queues: %s", r.body)
	}
	// The order view works without Step Functions: no timeline, no redrive.
	d := h.detail(t, o.ID)
	if d.Execution != nil || len(d.Steps) != 0 || fmt.Sprint(d.Actions) != "[cancel]" {
		t.Fatalf("without Step Functions: %+v %v %v", d.Execution, d.Steps, d.Actions)
	}
	// An ops cancel of a stalled order still records the request.
	wantStatus(t, h.ops(http.MethodPost, "/v1/ops/orders/"+o.ID+"/cancel"), http.StatusAccepted)
	if !hasEvent(h.history(t, o.ID), "cancel_requested", "ops:olga") {
		t.Fatal("the cancellation was not recorded")
	}
}

// TestOpenAPIOpsExamples: every ops operation documents 401 and 403, and
// its answer with one example that matches its schema.
func TestOpenAPIOpsExamples(t *testing.T) {
	doc := loadOpenAPI(t)
	var raw struct {
		Paths map[string]map[string]struct {
			Responses map[string]struct {
				Content map[string]struct {
					Example any `yaml:"example"`
				} `yaml:"content"`
			} `yaml:"responses"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(httpapi.OpenAPI, &raw); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/ops/") {
			continue
		}
		for method, op := range ops {
			n++
			for _, code := range []string{"401", "403", "500"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
			code := "200"
			if _, ok := op.Responses[code]; !ok && method == "post" {
				code = "202" // the actions (redrive, cancel, replay) are accepted, not done
			}
			if _, xml := op.Responses[code].Content["application/xml"]; xml {
				continue // a file download (the customs messages), not JSON
			}
			ex := raw.Paths[path][method].Responses[code].Content["application/json"].Example
			if ex == nil {
				t.Errorf("%s %s: no example of its %s", method, path, code)
				continue
			}
			doc.conforms(t, method+" "+path, op.Responses[code].Content["application/json"].Schema, asJSON(t, ex))
		}
	}
	if n != 12 {
		t.Fatalf("%d ops operations documented, want 12", n)
	}
}

// testOpsDeclarations: the customs messages stored with an order are listed
// and downloaded as XML, by ops only.
func testOpsDeclarations(t *testing.T, h *opsHarness) {
	ctx := context.Background()
	o := h.place(t, time.Now(), order.StatusReceived, "")
	r := h.ops(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations")
	wantStatus(t, r, http.StatusOK)
	if list := h.conforms(r, http.MethodGet, "/v1/ops/orders/{id}/declarations")["declarations"].([]any); len(list) != 0 {
		t.Fatalf("an order without messages lists %v", list)
	}
	xml := `<?xml version="1.0" encoding="UTF-8"?><ceb:CEB303Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0"/>`
	msgs := []order.CustomsMessage{{Type: "CEB303", XML: xml, At: time.Now().UTC()}}
	if _, err := h.store.PutCustomsDocuments(ctx, o.ID, order.CustomsDocuments{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	r = h.ops(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations")
	list := h.conforms(r, http.MethodGet, "/v1/ops/orders/{id}/declarations")["declarations"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["type"] != "CEB303" {
		t.Fatalf("declarations %v", list)
	}
	r = h.ops(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations/CEB303")
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/xml") || string(r.body) != xml {
		t.Fatalf("download: %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	wantStatus(t, h.ops(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations/CEB403"), http.StatusNotFound)
	cust := h.do(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations/CEB303", "alice", nil, nil)
	wantStatus(t, cust, http.StatusForbidden)
	// The customer's view of the order never carries the messages.
	if strings.Contains(string(h.do(http.MethodGet, "/v1/orders/"+o.ID, o.CustomerID, nil, nil).body), "CEB303Message") {
		t.Fatal("the order view carries the XML")
	}
}
