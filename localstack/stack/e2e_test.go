package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xborder/xborder/localstack/hostedui"
	"github.com/xborder/xborder/localstack/iam"
	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
)

func env(t testing.TB, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is unset: run the tests through `make test`, which starts the local services", name)
	}
	return v
}

// TestPipelineEndToEnd runs the whole pipeline as `make dev` does — table,
// queues and topic from the synthesized template, the engine running its
// definition, every function in-process behind SQS pollers — and follows
// orders from POST to their terminal state.
// testPipeline is the pipeline `make dev` runs, on the services `make test`
// started, with a fresh table.
type testPipeline struct {
	*Pipeline
	clients   Clients
	res       *Resources
	api       *httptest.Server
	processes *Processes
	// iam checks every AWS call of the functions against their roles.
	iam *iam.Checker
	// signIn is the stand-in of the operators' hosted UI.
	signIn string
	stop   func()
}

// processSteps are the functions the shared pipeline runs as processes of
// their own built mains: the api behind the HTTP API's emulation (package
// apigw), the workflow's Lambda steps, the starter (fed by the
// orders-accepted queue), the customs and warehouse workers (fed by theirs,
// reaching the partner simulators over HTTP), the callback-sender (telling
// the test's partners) and mark-stalled (invoked with the status-change
// rule's EventBridge event) and the reconciler (the schedule's rule, and a
// catch-up run at start): all thirteen.
var processSteps = []string{"api", "screen", "reserve-stock", "authorize-payment", "capture-payment", "mark-dispatched", "compensate",
	"starter", "customs-worker", "warehouse-worker", "callback-sender", "reconciler", "mark-stalled"}

// processPartners is the partner directory the functions run as processes
// read (PARTNERS_SOURCE): the test's, when it has one.
var processPartners string

// withProcesses builds the function mains and prepares processes for names,
// with the environment the template gives them on this stack.
// builtMains are the function binaries the shared pipeline runs.
var builtMains map[string]string

// Every AWS call a function makes — DynamoDB, SQS, SNS, Step Functions —
// is checked by checker against its role in the template (package iam);
// its event source mappings poll as the function, through the same check.
func withProcesses(t testing.TB, tmpl *Template, res *Resources, checker *iam.Checker, engineURL, apiURL, signInURL string, names []string) (*Processes, func(*Options), func()) {
	t.Helper()
	dir, err := os.MkdirTemp("", "xborder-functions-")
	if err != nil {
		t.Fatal(err)
	}
	bins, err := BuildFunctions(context.Background(), "../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	repo, _ := filepath.Abs("../..")
	logs := func(string) io.Writer { return io.Discard }
	if os.Getenv("XBORDER_TEST_LOG") != "" {
		logs = func(string) io.Writer { return os.Stderr }
	}
	dynamo, err := checker.Proxy(env(t, "AWS_ENDPOINT_URL_DYNAMODB"))
	if err != nil {
		t.Fatal(err)
	}
	queues, err := checker.Proxy(env(t, "AWS_ENDPOINT_URL_SQS"))
	if err != nil {
		t.Fatal(err)
	}
	checkedDynamo, checkedQueues := httptest.NewServer(dynamo), httptest.NewServer(queues)
	procs, err := LaunchFunctions(Launch{Template: tmpl, Resources: res, Bins: bins, Repo: repo, PartnersFile: processPartners,
		AWS:       map[string]string{"DYNAMODB": checkedDynamo.URL, "SQS": checkedQueues.URL, "SNS": checkedQueues.URL, "SFN": engineURL},
		Endpoints: env(t, services.EnvPartnerEndpoints), APIURL: apiURL, SignInURL: signInURL, Only: names, Logs: logs})
	if err != nil {
		t.Fatal(err)
	}
	builtMains = bins
	mappings := func(o *Options) { o.MappingSQS = SQSAs(checkedQueues.URL) }
	return procs, mappings, func() { procs.Close(); checkedDynamo.Close(); checkedQueues.Close(); os.RemoveAll(dir) }
}

func startTestPipeline(t testing.TB, processNames []string, opts ...func(*Options)) *testPipeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	clients := Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
			o.BaseEndpoint, o.DisableValidateResponseChecksum = aws.String(env(t, "AWS_ENDPOINT_URL_DYNAMODB")), true
		}),
		SQS: sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(env(t, "AWS_ENDPOINT_URL_SQS")) }),
		SNS: sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(env(t, "AWS_ENDPOINT_URL_SNS")) }),
	}
	// One pipeline at a time on these queues (make capacity's test runs its own).
	unlock, err := services.LockQueues(env(t, "AWS_ENDPOINT_URL_SQS"))
	if err != nil {
		t.Fatal(err)
	}
	engine := sfn.NewEngine()
	table := fmt.Sprintf("xborder-e2e-%d", time.Now().UnixNano())
	checker, err := iam.ForTemplate("../../testdata/cdk/template.json", table)
	if err != nil {
		t.Fatal(err)
	}
	checker.TaskTokens = engine.TokenStateMachine
	rawTemplate, _ := os.ReadFile("../../testdata/cdk/template.json")
	if err := checker.Secrets(rawTemplate); err != nil {
		t.Fatal(err)
	}
	engineSrv := httptest.NewServer(checker.Wrap(engine.Handler()))
	sfnClient := awssfn.NewFromConfig(cfg, func(o *awssfn.Options) { o.BaseEndpoint = aws.String(engineSrv.URL) })
	tmpl, err := ReadTemplate("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Provision(ctx, tmpl, clients, table)
	if err != nil {
		t.Fatal(err)
	}
	if err := SeedStock(ctx, dynamostore.NewStock(clients.DynamoDB, table), 1_000_000, "../../events/orders", "../../events/demo"); err != nil {
		t.Fatal(err)
	}
	asl, err := os.ReadFile("../../testdata/cdk/order-workflow.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("XBORDER_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	engine.Logger = log
	endpoints, err := services.LoadEndpoints(env(t, services.EnvPartnerEndpoints))
	if err != nil {
		t.Fatal(err)
	}
	// The API listens before the pipeline starts: the partners post to it.
	api := httptest.NewUnstartedServer(nil)
	o := Options{Clients: clients, SFN: sfnClient, Engine: engine, ASL: string(asl), JWTSecret: auth.DevSecret, Logger: log,
		Endpoints: endpoints, APIURL: "http://" + api.Listener.Addr().String(), APIRoutes: APIRoutes(tmpl)}
	// Operators sign in at the stand-in of the operators' hosted UI.
	operators, err := hostedui.Load("../operators.json")
	if err != nil {
		t.Fatal(err)
	}
	signIn := httptest.NewServer(hostedui.New(operators, auth.DevSecret).Handler())
	stopProcesses := func() {}
	if len(processNames) > 0 {
		var mappings func(*Options)
		o.Processes, mappings, stopProcesses = withProcesses(t, tmpl, res, checker, engineSrv.URL, o.APIURL, signIn.URL, processNames)
		mappings(&o)
	}
	for _, opt := range opts {
		opt(&o)
	}
	p, err := Start(ctx, res, o)
	if err != nil {
		t.Fatal(err)
	}
	api.Config.Handler = p.API
	api.Start()
	tp := &testPipeline{Pipeline: p, clients: clients, res: res, api: api, processes: o.Processes, iam: checker, signIn: signIn.URL}
	tp.stop = func() {
		api.Close()
		signIn.Close()
		cancel()
		p.Wait()
		stopProcesses()
		engineSrv.Close()
		engine.Close()
		unlock()
		_, _ = clients.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	}
	return tp
}

// The tests and benchmarks of this package share one pipeline, started on
// first use and stopped by TestMain: a stopped pipeline's last long polls
// would take (and hide, for the visibility timeout) messages meant for the
// next one on the same queues, as SQS would.
var (
	sharedOnce sync.Once
	shared     *testPipeline
)

func sharedPipeline(t testing.TB) *testPipeline {
	t.Helper()
	sharedOnce.Do(func() {
		hooks = newPartnerHooks()
		file := filepath.Join(os.TempDir(), fmt.Sprintf("xborder-e2e-partners-%d.json", os.Getpid()))
		if err := os.WriteFile(file, hooks.raw, 0o600); err != nil {
			t.Fatal(err)
		}
		processPartners = file
		shared = startTestPipeline(t, processSteps)
	})
	if shared == nil {
		t.Fatal("the shared pipeline did not start")
	}
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	// make iam-report: what the functions' DynamoDB calls used of their
	// roles, and what they never did.
	if path := os.Getenv("XBORDER_IAM_REPORT"); path != "" && shared != nil {
		report, err := iamReport(shared.iam)
		if err == nil {
			err = os.WriteFile(path, []byte(strings.ReplaceAll(report, shared.res.Table, "<table>")), 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "iam report:", err)
		}
	}
	if shared != nil {
		shared.stop()
	}
	if hooks != nil {
		hooks.Close()
	}
	if processPartners != "" {
		os.Remove(processPartners)
	}
	os.Exit(code)
}

// iamReport is make iam-report's docs/iam-report.md: per function, every
// grant of its role and whether a call of the tests (or, for Secrets
// Manager, its environment) needed it.
func iamReport(c *iam.Checker) (string, error) {
	callable, err := callableByFunction()
	if err != nil {
		return "", err
	}
	return "# Grants used by the end-to-end tests (make iam-report)\n\n" +
		"Per function, each grant its role has in the synthesized template (DynamoDB, SQS, SNS, Step Functions, Secrets Manager) " +
		"and whether a call of the end-to-end tests needed it: `used`; `callable` when no test call did but the function's code " +
		"can call the action (its binary links the SDK operation); `kept` with the reason, for calls the Lambda service makes " +
		"with the function's role; `never used` otherwise (none should be). Secrets Manager is checked statically: each secret " +
		"a function's environment names. Refused calls: " + fmt.Sprint(len(c.Denied())) + ".\n\n```" +
		c.Policies.Report(c.Used(), callable, iam.Kept) + "```\n", nil
}

// callableByFunction is, per function, the AWS actions its built main can
// call (iam.CallableIn).
func callableByFunction() (map[string][]string, error) {
	out := map[string][]string{}
	for fn, bin := range builtMains {
		actions, err := iam.CallableIn(context.Background(), bin)
		if err != nil {
			return nil, err
		}
		out[fn] = actions
	}
	return out, nil
}

func TestPipelineEndToEnd(t *testing.T) {
	ctx := context.Background()
	tp := sharedPipeline(t)
	deniedBefore := len(tp.iam.Denied())
	p, clients, res, api := tp.Pipeline, tp.clients, tp.res, tp.api
	if len(res.QueueURLs) != 9 || len(res.Mappings) != 4 || res.TopicARN == "" { // four queues, their DLQs, mark-stalled-dlq
		t.Fatalf("provisioned %+v", res)
	}
	tok, _ := auth.MintLocal(auth.DevSecret, "e2e-customer", nil, time.Hour, time.Now())

	do := func(method, path string, body []byte, key string) map[string]any {
		t.Helper()
		return apiCall(t, api.URL, tok, method, path, body, key)
	}
	sample := func(name string, change func(s string) string) []byte {
		b, err := os.ReadFile("../../events/orders/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return []byte(change(string(b)))
	}
	same := func(s string) string { return s }
	type want struct {
		status order.Status
		reason string
		charge string
	}
	cases := map[string]struct {
		body   []byte
		want   want
		cancel bool
	}{
		"b2c-de":     {sample("mobile-b2c-de.json", same), want{order.StatusDispatched, "", "captured"}, false},
		"b2b-us":     {sample("b2b-us.json", same), want{order.StatusDispatched, "", "captured"}, false},
		"c2c-gb":     {sample("c2c-gb.json", same), want{order.StatusDispatched, "", "captured"}, false},
		"m2b2c-au":   {sample("m2b2c-au-overseas-warehouse.json", same), want{order.StatusDispatched, "", "captured"}, false},
		"declined":   {sample("mobile-b2c-de.json", func(s string) string { return strings.Replace(s, "tok_visa", "tok_chargeDeclined", 1) }), want{order.StatusPaymentDeclined, "card_declined", ""}, false},
		"restricted": {sample("mobile-b2c-de.json", func(s string) string { return strings.Replace(s, `"hsCode": "851830"`, `"hsCode": "930320"`, 1) }), want{order.StatusRejected, "restricted_goods", ""}, false},
		"no stock":   {sample("mobile-b2c-de.json", func(s string) string { return strings.Replace(s, "EARBUDS-BT5", "OUT-OF-STOCK-EARBUDS", 1) }), want{order.StatusRejected, "out_of_stock", ""}, false},
		"customs":    {sample("mobile-b2c-de.json", func(s string) string { return strings.Replace(s, `"hsCode": "851830"`, `"hsCode": "300490"`, 1) }), want{order.StatusCustomsRejected, "licence_required", "voided"}, false},
		"cancelled":  {sample("c2c-gb.json", same), want{order.StatusCancelled, "cancelled_by_customer", ""}, true},
		// The broker and the warehouse answer it pending, and notify: the
		// notification wakes the step, which asks again.
		"answered later": {sample("../demo/answered-later-gb.json", same), want{order.StatusDispatched, "", "captured"}, false},
	}
	ids := map[string]string{}
	run := time.Now().UnixNano() // keys of this run (the pipeline outlives it with -count)
	for name, c := range cases {
		ids[name] = do(http.MethodPost, "/v1/orders", c.body, fmt.Sprintf("e2e-%s-%d", strings.ReplaceAll(name, " ", "-"), run))["orderId"].(string)
		if c.cancel {
			do(http.MethodPost, "/v1/orders/"+ids[name]+"/cancel", nil, "")
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for name, c := range cases {
		var got map[string]any
		for {
			got = do(http.MethodGet, "/v1/orders/"+ids[name], nil, "")
			st := order.Status(got["status"].(string))
			if st.Terminal() || st == order.StatusDispatched {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: still %s after 60 s", name, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
		reason, _ := got["reason"].(string)
		if order.Status(got["status"].(string)) != c.want.status || reason != c.want.reason {
			t.Errorf("%s: %s %q, want %s %q", name, got["status"], reason, c.want.status, c.want.reason)
		}
		charge, _ := got["charge"].(map[string]any)
		chargeStatus, _ := charge["status"].(string)
		if c.want.charge != "" && chargeStatus != c.want.charge {
			t.Errorf("%s: charge %v, want %s", name, charge, c.want.charge)
		}
		if c.want.status == order.StatusDispatched && got["trackingNumber"] == nil {
			t.Errorf("%s: dispatched without a tracking number", name)
		}
		// The history is in order: versions count up from 1, each version's
		// event first, then the notes (customs receipts) that followed it
		// without changing the order.
		last := 0
		for _, h := range got["history"].([]any) {
			if v := int(h.(map[string]any)["version"].(float64)); v != last && v != last+1 {
				t.Errorf("%s: history out of order: %v", name, got["history"])
				break
			} else {
				last = v
			}
		}
		if v, _ := got["version"].(float64); int(v) != last {
			t.Errorf("%s: the history ends at version %d, the order is at %v", name, last, got["version"])
		}
	}
	// Exactly one authorization and one capture per dispatched order, read
	// off this test's own orders (the pipeline is shared with other tests).
	// The cancelled order may have been authorized, or even captured, before
	// the workflow saw the cancellation: then all of it went back.
	var a, captured, voided, refunded int
	for name, id := range ids {
		l, err := p.Payments.Ledger(ctx, id)
		var se *partnerlink.StatusError
		if errors.As(err, &se) && se.Status == http.StatusNotFound {
			continue // never authorized
		}
		if err != nil {
			t.Fatalf("%s: the payment simulator's ledger: %v", name, err)
		}
		// Per order, from the simulator's own record: one authorization,
		// at most one capture, whatever was retried or redelivered.
		if l.Authorizations != 1 || l.Captures > 1 || l.Voids > 1 || l.Refunds > 1 {
			t.Errorf("%s: the payment simulator's ledger %+v: want one authorization and at most one capture", name, l)
		}
		if cases[name].cancel {
			if l.Authorizations > 1 || l.Captures != l.Refunds || l.Authorizations != l.Voids+l.Captures {
				t.Errorf("%s: money not returned after the cancellation: %+v", name, l)
			}
			continue
		}
		a, captured, voided, refunded = a+l.Authorizations, captured+l.Captures, voided+l.Voids, refunded+l.Refunds
	}
	if captured != 5 || voided != 1 || refunded != 0 || a != 6 {
		t.Errorf("ledger: %d authorized, %d captured, %d voided, %d refunded; want 6 (5 dispatched, 1 refused by customs), 5, 1, 0",
			a, captured, voided, refunded)
	}
	queuesDrain(ctx, t, clients, res)
	// Under the template's IAM: no function's call was refused.
	if denied := tp.iam.Denied()[deniedBefore:]; len(denied) > 0 {
		t.Errorf("AccessDenied under the template's roles: %v", denied)
	}
}

// queuesDrain fails unless every queue, partner-callbacks included (its
// consumer acknowledges the events of orders no partner placed), is soon
// empty and nothing was dead-lettered.
func queuesDrain(ctx context.Context, t *testing.T, clients Clients, res *Resources) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for name, url := range res.QueueURLs {
		for {
			a, err := clients.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages, sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
			if err != nil {
				t.Fatal(err)
			}
			if a.Attributes["ApproximateNumberOfMessages"] == "0" && a.Attributes["ApproximateNumberOfMessagesNotVisible"] == "0" {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("queue %s not empty: %v", name, a.Attributes)
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// apiCall sends a request to the pipeline's API as token's bearer and
// returns the JSON answer; a status of 300 or more fails the test.
func apiCall(t *testing.T, base, token, method, path string, body []byte, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %v", method, path, resp.StatusCode, m)
	}
	return m
}
