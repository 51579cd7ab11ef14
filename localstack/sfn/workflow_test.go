package sfn_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/localstack/partnersim"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/payment/stripetest"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/storetest"
	"github.com/xborder/xborder/shared/workers"
	"github.com/xborder/xborder/shared/workflow"
)

// queues stands in for SQS between the workflow and its workers: a message
// goes to the queue's consumer; a reported failure comes back after a short
// "visibility timeout", as SQS would redeliver it.
type queues struct {
	consumers map[string]func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	seq       atomic.Int64
}

func (q *queues) SendMessage(ctx context.Context, url, body string, _ map[string]any, _, _ string) (string, error) {
	name := url[strings.LastIndex(url, "/")+1:]
	consume, ok := q.consumers[name]
	if !ok {
		return "", fmt.Errorf("no queue %s", name)
	}
	id := fmt.Sprint("msg-", q.seq.Add(1))
	go func() {
		for receive := 1; receive <= 20; receive++ {
			resp, _ := consume(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: id, Body: body,
				Attributes: map[string]string{"ApproximateReceiveCount": fmt.Sprint(receive)}}}})
			if len(resp.BatchItemFailures) == 0 {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return id, nil
}

type stack struct {
	engine  *sfn.Engine
	client  *awssfn.Client
	machine string
	orders  *memstore.Store
	stock   *memstore.Stock
	pay     *payment.Simulator
	steps   *steps.Steps
	broker  *workers.BrokerSimulator
}

// newStack runs the project's own definition (testdata/cdk, synthesized from
// the CDK app) on the engine, over HTTP, with the real step handlers, workers
// and simulators.
func newStack(t *testing.T) *stack {
	t.Helper()
	sim := payment.NewSimulator()
	st := newStackPaying(t, sim)
	st.pay = sim
	return st
}

// newStackPaying is newStack with another payment provider.
func newStackPaying(t *testing.T, pay steps.Payments) *stack {
	t.Helper()
	e := sfn.NewEngine()
	e.TimeScale = 0.001
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(func() { srv.Close() })
	client := awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	st := &stack{engine: e, client: client, orders: memstore.New(), stock: memstore.NewStock(), broker: &workers.BrokerSimulator{}}
	st.steps = &steps.Steps{Orders: st.orders, Stock: st.stock, Payments: pay}
	fns := stepFunctions(st.steps)
	tasks := stepfunctions.Tasks{Client: client} // workers answer over the API, as in AWS
	log := slog.New(slog.DiscardHandler)
	q := &queues{consumers: map[string]func(context.Context, events.SQSEvent) (events.SQSEventResponse, error){
		workflow.QueueCustoms:   workers.NewCustoms(st.steps, tasks, st.broker, log).Handle,
		workflow.QueueWarehouse: workers.NewDispatch(st.steps, tasks, &workers.WarehouseSimulator{}, log).Handle,
	}}
	e.Invoker, e.Queues = fns, q
	def, err := os.ReadFile("../../testdata/cdk/order-workflow.asl.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.CreateStateMachine(context.Background(), &awssfn.CreateStateMachineInput{
		Name: aws.String(workflow.StateMachineName), Definition: aws.String(string(def)),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/order-workflow"),
	})
	if err != nil {
		t.Fatal(err)
	}
	st.machine = aws.ToString(out.StateMachineArn)
	return st
}

var orderSeq atomic.Int64

// place stores an order (changed by change) and stocks the origin warehouse.
func (s *stack) place(t *testing.T, change func(o *order.Order)) *order.Order {
	t.Helper()
	ctx := context.Background()
	o := storetest.Order(fmt.Sprintf("01KENGINE%017d", orderSeq.Add(1)), "alice", time.Now())
	if change != nil {
		change(o)
	}
	if _, err := s.orders.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	for _, l := range o.Lines {
		if n, _ := s.stock.Available(ctx, "CN-SZX-1", l.SKU); n == 0 && !strings.HasPrefix(l.SKU, "NOSTOCK") {
			_ = s.stock.Put(ctx, "CN-SZX-1", l.SKU, 100)
		}
	}
	return o
}

func (s *stack) start(t *testing.T, o *order.Order) string {
	t.Helper()
	out, err := s.client.StartExecution(context.Background(), &awssfn.StartExecutionInput{StateMachineArn: aws.String(s.machine),
		Name: aws.String(o.ID), Input: aws.String(`{"orderId":"` + o.ID + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.ExecutionArn)
}

// wait polls DescribeExecution until the execution ends.
func (s *stack) wait(t *testing.T, arn string) *awssfn.DescribeExecutionOutput {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		d, err := s.client.DescribeExecution(context.Background(), &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			return d
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s still running", arn)
	return nil
}

func (s *stack) order(t *testing.T, id string) *order.Order {
	o, err := s.orders.GetOrder(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestWorkflowPathsOnTheEngine(t *testing.T) {
	st := newStack(t)
	for _, tc := range []struct {
		name    string
		change  func(o *order.Order)
		status  order.Status
		reason  string
		charge  order.ChargeStatus // "" when no charge is left
		endedIn string
	}{
		{"dispatched", nil, order.StatusDispatched, "", order.ChargeCaptured, workflow.StateDispatched},
		{"restricted goods", func(o *order.Order) { o.Lines[0].HSCode = "9303200000" }, order.StatusRejected, "restricted_goods", "", workflow.StateCompensated},
		{"out of stock", func(o *order.Order) { o.Lines[0].SKU = "NOSTOCK-1" }, order.StatusRejected, "out_of_stock", "", workflow.StateCompensated},
		{"declined", func(o *order.Order) { o.Payment.Token = "tok_chargeDeclined" }, order.StatusPaymentDeclined, "card_declined", "", workflow.StateCompensated},
		{"answers lost twice, then the retry finds the charge", func(o *order.Order) { o.Payment.Token = "tok_timeout_2" }, order.StatusDispatched, "", order.ChargeCaptured, workflow.StateDispatched},
		{"provider down twice, then up", func(o *order.Order) { o.Payment.Token = "tok_transient_2" }, order.StatusDispatched, "", order.ChargeCaptured, workflow.StateDispatched},
		{"customs rejected", func(o *order.Order) { o.Lines[0].HSCode = "3004900000" }, order.StatusCustomsRejected, "licence_required", order.ChargeVoided, workflow.StateCompensated},
		{"authorization expired", func(o *order.Order) { o.Payment.Token = "tok_expiredAuthorization" }, order.StatusFailed, "authorization_expired", order.ChargeVoided, workflow.StateCompensated},
		{"warehouse cannot ship", func(o *order.Order) { o.Lines[1].SKU = "SIM-CANNOT-SHIP" }, order.StatusFailed, "warehouse_cannot_ship", order.ChargeRefunded, workflow.StateCompensated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := st.place(t, tc.change)
			before := map[string]int64{}
			for _, l := range o.Lines {
				before[l.SKU], _ = st.stock.Available(context.Background(), "CN-SZX-1", l.SKU)
			}
			d := st.wait(t, st.start(t, o))
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			got := st.order(t, o.ID)
			if got.Status != tc.status || got.Reason != tc.reason {
				t.Fatalf("order %s %q, want %s %q", got.Status, got.Reason, tc.status, tc.reason)
			}
			if tc.charge == "" && got.Charge != nil || tc.charge != "" && (got.Charge == nil || got.Charge.Status != tc.charge) {
				t.Fatalf("charge %+v, want %q", got.Charge, tc.charge)
			}
			// What moved at the provider: one capture per dispatched order,
			// a void or a refund for each compensated one, nothing twice.
			l, charged := st.pay.Order(o.ID)
			want := map[order.ChargeStatus]payment.OrderLedger{
				order.ChargeCaptured: {Authorizations: 1, Captures: 1}, order.ChargeVoided: {Authorizations: 1, Voids: 1},
				order.ChargeRefunded: {Authorizations: 1, Captures: 1, Refunds: 1}, "": {},
			}[tc.charge]
			if tc.charge == "" && charged || tc.charge != "" && (l.Authorizations != want.Authorizations || l.Captures != want.Captures ||
				l.Voids != want.Voids || l.Refunds != want.Refunds) {
				t.Fatalf("provider ledger %+v, want %+v", l, want)
			}
			if got.Status != order.StatusDispatched {
				for _, l := range got.Lines {
					if n, _ := st.stock.Available(context.Background(), "CN-SZX-1", l.SKU); n != before[l.SKU] {
						t.Fatalf("stock of %s not released: %d, was %d", l.SKU, n, before[l.SKU])
					}
				}
			}
			h, err := st.client.GetExecutionHistory(context.Background(), &awssfn.GetExecutionHistoryInput{ExecutionArn: d.ExecutionArn, MaxResults: 1000})
			if err != nil {
				t.Fatal(err)
			}
			last := h.Events[len(h.Events)-2] // before ExecutionSucceeded
			if last.Type != sfntypes.HistoryEventTypeSucceedStateExited || aws.ToString(last.StateExitedEventDetails.Name) != tc.endedIn {
				t.Fatalf("ended in %s %v, want %s", last.Type, last.StateExitedEventDetails, tc.endedIn)
			}
		})
	}
}

func TestStallThenRedriveOnTheEngine(t *testing.T) {
	st := newStack(t)
	// The Retry allows 1 + RetryMaxAttempts attempts: each fails.
	o := st.place(t, func(o *order.Order) { o.Payment.Token = fmt.Sprint("tok_transient_", 1+workflow.RetryMaxAttempts) })
	arn := st.start(t, o)
	d := st.wait(t, arn)
	if d.Status != sfntypes.ExecutionStatusFailed || aws.ToString(d.Error) != workflow.ErrTransient {
		t.Fatalf("execution %s %s, want FAILED TransientError", d.Status, aws.ToString(d.Error))
	}
	// EventBridge would deliver the status change to mark-stalled.
	if _, err := st.steps.MarkStalled(context.Background(), events.EventBridgeEvent{
		Detail: []byte(fmt.Sprintf(`{"executionArn":%q,"name":%q,"status":"FAILED","error":"TransientError"}`, arn, o.ID))}); err != nil {
		t.Fatal(err)
	}
	if got := st.order(t, o.ID); got.Status != order.StatusStalled || got.Charge != nil {
		t.Fatalf("stalled order %s %+v: nothing may be compensated", got.Status, got.Charge)
	}
	if _, err := st.client.RedriveExecution(context.Background(), &awssfn.RedriveExecutionInput{ExecutionArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	d = st.wait(t, arn)
	if d.Status != sfntypes.ExecutionStatusSucceeded || d.RedriveCount == nil || *d.RedriveCount != 1 {
		t.Fatalf("after redrive: %s %s %s redrives %v", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause), aws.ToInt32(d.RedriveCount))
	}
	if got := st.order(t, o.ID); got.Status != order.StatusDispatched {
		t.Fatalf("order %s after redrive", got.Status)
	}
	if a, c, _, _ := st.pay.Ledger(); a != 1 || c != 1 {
		t.Fatalf("%d authorized, %d captured: one charge, once", a, c)
	}
}

func TestCancelWhileWaitingOnCustoms(t *testing.T) {
	st := newStack(t)
	st.broker.Latency = 300 * time.Millisecond
	o := st.place(t, nil)
	arn := st.start(t, o)
	ctx := context.Background()
	var token string
	for deadline := time.Now().Add(5 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		token = st.order(t, o.ID).TaskToken
	}
	if token == "" {
		t.Fatal("the customs worker never stored the task token")
	}
	// What POST /v1/orders/{id}/cancel does.
	cur := st.order(t, o.ID)
	ev, _, err := cur.RequestCancel("customer:alice", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.orders.SaveTransition(ctx, cur, ev); err != nil {
		t.Fatal(err)
	}
	if err := (stepfunctions.Tasks{Client: st.client}).FailTask(ctx, token, workflow.ErrOrderCancelled, "cancelled_by_customer"); err != nil {
		t.Fatal(err)
	}
	d := st.wait(t, arn)
	got := st.order(t, o.ID)
	if d.Status != sfntypes.ExecutionStatusSucceeded || got.Status != order.StatusCancelled || got.Reason != "cancelled_by_customer" ||
		got.Charge == nil || got.Charge.Status != order.ChargeVoided {
		t.Fatalf("execution %s, order %s %q %+v", d.Status, got.Status, got.Reason, got.Charge)
	}
	// The answer to a token nobody waits on is refused as AWS refuses it.
	err = (stepfunctions.Tasks{Client: st.client}).SucceedTask(ctx, token, `{}`)
	if err != nil {
		t.Fatalf("a late answer must be swallowed by the adapter: %v", err)
	}
	time.Sleep(400 * time.Millisecond) // let the worker's broker call finish
	if got := st.order(t, o.ID); got.Status != order.StatusCancelled {
		t.Fatalf("a late customs clearance changed a cancelled order: %s", got.Status)
	}
}

// directTasks answers task tokens in-process, without HTTP.
type directTasks struct{ e *sfn.Engine }

func (d directTasks) SucceedTask(_ context.Context, token, output string) error {
	return d.e.SendTaskSuccess(token, output)
}
func (d directTasks) FailTask(_ context.Context, token, name, cause string) error {
	return d.e.SendTaskFailure(token, name, cause)
}
func (d directTasks) Heartbeat(_ context.Context, token string) error {
	return d.e.SendTaskHeartbeat(token)
}

// BenchmarkProjectWorkflow runs the project's own workflow to DISPATCHED with
// every task in-process: the step handlers, the workers and the simulators.
func BenchmarkProjectWorkflow(b *testing.B) {
	e := sfn.NewEngine()
	orders, stock, pay := memstore.New(), memstore.NewStock(), payment.NewSimulator()
	s := &steps.Steps{Orders: orders, Stock: stock, Payments: pay}
	fns := stepFunctions(s)
	log := slog.New(slog.DiscardHandler)
	tasks := directTasks{e}
	e.Invoker = fns
	e.Queues = &queues{consumers: map[string]func(context.Context, events.SQSEvent) (events.SQSEventResponse, error){
		workflow.QueueCustoms:   workers.NewCustoms(s, tasks, &workers.BrokerSimulator{}, log).Handle,
		workflow.QueueWarehouse: workers.NewDispatch(s, tasks, &workers.WarehouseSimulator{}, log).Handle,
	}}
	def, err := os.ReadFile("../../testdata/cdk/order-workflow.asl.json")
	if err != nil {
		b.Fatal(err)
	}
	sm, err := e.CreateStateMachine(workflow.StateMachineName, string(def), "r", "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	_ = stock.Put(ctx, "CN-SZX-1", "SKU-1", 1<<40)
	_ = stock.Put(ctx, "CN-SZX-1", "SKU-2", 1<<40)
	ids := make([]string, b.N)
	for i := range b.N {
		o := storetest.Order(fmt.Sprintf("01KBENCH%018d", i), "bench", time.Now())
		ids[i] = o.ID
		_, _ = orders.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
			storetest.Completed("customer:bench", o.ID, o.ID, o.CreatedAt), o.CreatedAt)
	}
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		x, err := e.StartExecution(sm.ARN, ids[i], `{"orderId":"`+ids[i]+`"}`)
		if err != nil {
			b.Fatal(err)
		}
		<-e.Done(x.ARN)
		if x.Status != sfn.StatusSucceeded {
			b.Fatalf("%s %s", x.Status, x.Error)
		}
	}
	secs := time.Since(start).Seconds()
	const transitions = 8 // Screen, ReserveStock, AuthorizePayment, Customs, CapturePayment, Dispatch, MarkDispatched, Dispatched
	b.ReportMetric(float64(b.N)/secs, "executions/s")
	b.ReportMetric(float64(b.N*transitions)/secs, "transitions/s")
}

// stripeLedger reads what the recording proxy `make test` puts in front of
// stripe-mock saw take effect for an order.
func stripeLedger(t *testing.T, orderID string) partnersim.StripeLedger {
	t.Helper()
	base := os.Getenv(stripetest.EnvRecorderURL)
	if base == "" {
		t.Fatal("no recording proxy: run the tests through `make test` (" + stripetest.EnvRecorderURL + ")")
	}
	resp, err := http.Get(base + partnersim.RecorderPath + orderID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l partnersim.StripeLedger
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	return l
}

// TestWorkflowOnStripe runs the order workflow with the Stripe provider —
// the official client — against stripe-mock, and counts what reached Stripe
// for each order, by idempotency key: one authorization and one capture per
// dispatched order, a cancellation (void) or a refund for each compensated
// one, and nothing twice.
func TestWorkflowOnStripe(t *testing.T) {
	rec := stripetest.New(t)
	st := newStackPaying(t, payment.NewStripe(payment.StripeConfig{SecretKey: "sk_test_workflow", URL: rec.URL}))
	type calls struct{ authorize, capture, void, refund int }
	for _, tc := range []struct {
		name   string
		change func(o *order.Order)
		fault  func(o *order.Order) *stripetest.Fault
		status order.Status
		reason string
		want   calls
	}{
		{"dispatched", func(o *order.Order) { o.Payment.Token = "pm_card_visa" }, nil, order.StatusDispatched, "", calls{1, 1, 0, 0}},
		{"dispatched, paid with a legacy token", nil, nil, order.StatusDispatched, "", calls{1, 1, 0, 0}},
		{"declined", func(o *order.Order) { o.Payment.Token = "pm_card_chargeDeclinedInsufficientFunds" },
			func(o *order.Order) *stripetest.Fault {
				return &stripetest.Fault{Match: stripetest.PaymentMethodIs("pm_card_chargeDeclinedInsufficientFunds"), Status: 402, Body: stripetest.InsufficientBody}
			}, order.StatusPaymentDeclined, "insufficient_funds", calls{1, 0, 0, 0}},
		{"customs rejected: void", func(o *order.Order) { o.Payment.Token = "pm_card_visa"; o.Lines[0].HSCode = "3004900000" }, nil,
			order.StatusCustomsRejected, "licence_required", calls{1, 0, 1, 0}},
		{"authorization expired at capture: void", func(o *order.Order) { o.Payment.Token = "pm_card_visa" },
			func(o *order.Order) *stripetest.Fault {
				return &stripetest.Fault{Match: stripetest.KeyIs(payment.Key(o.ID, "capture")), Status: 400, Body: stripetest.UnexpectedState("canceled", "automatic")}
			}, order.StatusFailed, "authorization_expired", calls{1, 1, 1, 0}},
		{"warehouse cannot ship: refund", func(o *order.Order) { o.Payment.Token = "pm_card_visa"; o.Lines[1].SKU = "SIM-CANNOT-SHIP" }, nil,
			order.StatusFailed, "warehouse_cannot_ship", calls{1, 1, 0, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := st.place(t, tc.change)
			if tc.fault != nil {
				rec.Fail(tc.fault(o))
			}
			d := st.wait(t, st.start(t, o))
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("execution %s: %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			got := st.order(t, o.ID)
			if got.Status != tc.status || got.Reason != tc.reason {
				t.Fatalf("order %s %q, want %s %q", got.Status, got.Reason, tc.status, tc.reason)
			}
			keys := map[string]map[string]bool{}
			for _, r := range rec.Requests() {
				step, ok := strings.CutPrefix(r.Key(), "xborder:"+o.ID+":")
				if !ok {
					continue
				}
				kind := map[string]string{"/v1/payment_intents": "authorize", "/v1/refunds": "refund"}[r.Path]
				switch {
				case strings.HasSuffix(r.Path, "/capture"):
					kind = "capture"
				case strings.HasSuffix(r.Path, "/cancel"):
					kind = "void"
				case kind == "" && r.Path == "/v1/payment_methods":
					continue
				}
				if keys[kind] == nil {
					keys[kind] = map[string]bool{}
				}
				keys[kind][step] = true
			}
			have := calls{len(keys["authorize"]), len(keys["capture"]), len(keys["void"]), len(keys["refund"])}
			if have != tc.want {
				t.Fatalf("Stripe saw %+v (by idempotency key), want %+v", have, tc.want)
			}
			// What took effect at Stripe, by the recording proxy in front
			// of stripe-mock: at most one authorization and one capture,
			// and, where no fault answered instead of Stripe, what was sent.
			l := stripeLedger(t, o.ID)
			if l.Authorizations > 1 || l.Captures > 1 || l.Voids > 1 || l.Refunds > 1 {
				t.Fatalf("the recording proxy saw %+v", l)
			}
			if tc.fault == nil && (calls{l.Authorizations, l.Captures, l.Voids, l.Refunds}) != tc.want {
				t.Fatalf("the recording proxy saw %+v, want %+v", l, tc.want)
			}
		})
	}
}

// stepFunctions registers the workflow's Lambda steps in-process, under the
// function names the state machine's definition invokes: these tests run
// the definition against the step handlers themselves.
func stepFunctions(s *steps.Steps) *sfn.Functions {
	fns := &sfn.Functions{}
	fns.Register(workflow.FnScreen, s.Screen)
	fns.Register(workflow.FnReserveStock, s.ReserveStock)
	fns.Register(workflow.FnAuthorizePayment, s.AuthorizePayment)
	fns.Register(workflow.FnCapturePayment, s.CapturePayment)
	fns.Register(workflow.FnMarkDispatched, s.MarkDispatched)
	fns.Register(workflow.FnCompensate, s.Compensate)
	return fns
}
