// Package capacity measures what an order costs in AWS terms: it runs
// batches of each sample order through the local stack with every client
// behind a recording proxy (Recorder) in front of DynamoDB Local, the
// SQS/SNS emulator and the Step Functions engine, so the counts are taken
// at the service endpoints whatever runs the functions; it reads each
// execution's history from the engine afterwards; and it turns the counts
// per order into dollars (docs/prices.json) and into the order rate at
// which each default quota binds.
//
// It needs the local services: run it through `make capacity` (or the
// test through `make test`).
package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/localstack/stack"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/order"
)

// Options configure the measured stack.
type Options struct {
	// Repo is the repository's root (testdata/cdk, events/); default ".".
	Repo string
	// InFlight is how many orders are under way at once (default 32): each
	// client posts an order and waits for its end before the next, so the
	// stack runs busy without a backlog that would make orders wait long
	// enough for the reconciler's minute to touch them.
	InFlight int
	// Timeout bounds each order, POST to DISPATCHED (default 3 min).
	Timeout time.Duration
	Logger  *slog.Logger
	// Trace, when set, gets one line per DynamoDB write call (see
	// Recorder.Trace).
	Trace io.Writer
}

// Stack is the local stack with every client behind a Recorder.
type Stack struct {
	Recorder *Recorder
	Engine   *sfn.Engine
	Pipeline *stack.Pipeline
	Template *stack.Template
	Table    string
	// Direct reach the services without the recorder, for the
	// measurement's own look-ups; SFN the engine likewise.
	Direct stack.Clients
	SFN    *awssfn.Client
	// Proxied are the clients the stack runs with.
	Proxied stack.Clients
	// API is the API's base URL (behind Recorder.API).
	API  string
	opts Options
	stop []func()
}

// Path is one batch of one sample order, measured.
type Path struct {
	Name, Sample string
	Orders       int
	// Customers is how many customers placed the batch's orders, Busiest
	// how many the busiest of them placed.
	Customers, Busiest int
	// Elapsed runs from the first POST to the last order's end; Window
	// from the counts' reset to their snapshot (the stack quiet on both
	// sides).
	Elapsed, Window time.Duration
	Counts          Counts
	Workflow        Workflow
	// Executions are the batch's executions (one per order).
	Executions []string
}

// endpoint reads a service endpoint from the environment.
func endpoint(name string) (string, error) {
	v := os.Getenv(name)
	if v == "" {
		return "", fmt.Errorf("capacity: %s is unset: run it through `make capacity` or `make test`, which start the local services", name)
	}
	return v, nil
}

// Start provisions a fresh table, the queues, the topic and the state
// machine from the synthesized template and starts the stack with its
// clients pointed at a Recorder.
func Start(ctx context.Context, o Options) (*Stack, error) {
	if o.Repo == "" {
		o.Repo = "."
	}
	if o.InFlight <= 0 {
		o.InFlight = 32
	}
	if o.Timeout <= 0 {
		o.Timeout = 3 * time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ddbURL, err := endpoint("AWS_ENDPOINT_URL_DYNAMODB")
	if err != nil {
		return nil, err
	}
	sqsURL, err := endpoint("AWS_ENDPOINT_URL_SQS")
	if err != nil {
		return nil, err
	}
	snsURL, err := endpoint("AWS_ENDPOINT_URL_SNS")
	if err != nil {
		return nil, err
	}
	// One pipeline at a time on these queues (the stack's tests run theirs).
	unlock, err := services.LockQueues(sqsURL)
	if err != nil {
		return nil, err
	}
	s := &Stack{opts: o, Engine: sfn.NewEngine()}
	s.stop = append(s.stop, unlock)
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	s.Engine.Logger = o.Logger
	engineURL, err := s.serve(s.Engine.Handler())
	if err != nil {
		return nil, err
	}
	s.stop = append(s.stop, s.Engine.Close)
	s.Direct, s.SFN = clients(ddbURL, sqsURL, snsURL, engineURL)

	if s.Template, err = stack.ReadTemplate(filepath.Join(o.Repo, "testdata", "cdk", "template.json")); err != nil {
		return nil, err
	}
	s.Table = fmt.Sprintf("xborder-capacity-%d", time.Now().UnixNano())
	res, err := stack.Provision(ctx, s.Template, s.Direct, s.Table)
	if err != nil {
		return nil, err
	}
	s.stop = append(s.stop, func() {
		_, _ = s.Direct.DynamoDB.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(s.Table)})
	})
	if err := stack.SeedStock(ctx, dynamostore.NewStock(s.Direct.DynamoDB, s.Table), 1_000_000_000,
		filepath.Join(o.Repo, "events", "orders"), filepath.Join(o.Repo, "events", "demo")); err != nil {
		return nil, err
	}
	queues := map[string]string{}
	for _, m := range res.Mappings {
		queues[m.Queue] = m.Function
	}
	s.Recorder = NewRecorder(queues)
	s.Recorder.Trace(o.Trace)
	var proxies [4]string
	for i, h := range []http.Handler{s.Recorder.DynamoDB(ddbURL), s.Recorder.Fauxqs(sqsURL), s.Recorder.Fauxqs(snsURL), s.Recorder.StepFunctions(engineURL)} {
		if proxies[i], err = s.serve(h); err != nil {
			return nil, err
		}
	}
	var proxiedSFN *awssfn.Client
	s.Proxied, proxiedSFN = clients(proxies[0], proxies[1], proxies[2], proxies[3])

	asl, err := os.ReadFile(filepath.Join(o.Repo, "testdata", "cdk", "order-workflow.asl.json"))
	if err != nil {
		return nil, err
	}
	// The partners of `devstack with-services`, over HTTP; they post their
	// notifications — China's receipts, each a POST to the API in AWS — to
	// the API, served (and counted) before the pipeline starts.
	endpoints, err := services.LoadEndpoints(os.Getenv(services.EnvPartnerEndpoints))
	if err != nil {
		return nil, fmt.Errorf("capacity: run it through `devstack with-services`, which starts the partner simulators: %w", err)
	}
	api := &apiHandler{}
	if s.API, err = s.serve(s.Recorder.API(api)); err != nil {
		return nil, err
	}
	// The functions are their own mains, processes whose AWS clients reach
	// the services through the recording proxies, as the stack's are.
	repo, err := filepath.Abs(o.Repo)
	if err != nil {
		return nil, err
	}
	binDir, err := os.MkdirTemp("", "xborder-capacity-functions-")
	if err != nil {
		return nil, err
	}
	s.stop = append(s.stop, func() { os.RemoveAll(binDir) })
	bins, err := stack.BuildFunctions(ctx, repo, binDir)
	if err != nil {
		return nil, err
	}
	procs, err := stack.LaunchFunctions(stack.Launch{Template: s.Template, Resources: res, Bins: bins, Repo: repo,
		AWS:       map[string]string{"DYNAMODB": proxies[0], "SQS": proxies[1], "SNS": proxies[2], "SFN": proxies[3]},
		Endpoints: os.Getenv(services.EnvPartnerEndpoints), APIURL: s.API, Concurrency: 16})
	if err != nil {
		return nil, err
	}
	s.stop = append(s.stop, procs.Close)
	pctx, cancel := context.WithCancel(context.Background())
	p, err := stack.Start(pctx, res, stack.Options{Clients: s.Proxied, SFN: proxiedSFN, Engine: s.Engine, ASL: string(asl),
		JWTSecret: auth.DevSecret, Logger: o.Logger, Endpoints: endpoints, APIURL: s.API, APIRoutes: stack.APIRoutes(s.Template), Processes: procs})
	if err != nil {
		cancel()
		return nil, err
	}
	api.set(p.API)
	s.Pipeline = p
	s.stop = append(s.stop, func() { cancel(); p.Wait() })
	ok = true
	return s, nil
}

// apiHandler serves the API once the pipeline has built it (503 before).
type apiHandler struct {
	mu sync.Mutex
	h  http.Handler
}

func (a *apiHandler) set(h http.Handler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.h = h
}

func (a *apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	h := a.h
	a.mu.Unlock()
	if h == nil {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

// clients reach DynamoDB, SQS, SNS and Step Functions at the endpoints
// given, with dummy credentials.
func clients(ddb, sqsURL, snsURL, sfnURL string) (stack.Clients, *awssfn.Client) {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	return stack.Clients{
		DynamoDB: dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(ddb) }),
		SQS:      sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }),
		SNS:      sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(snsURL) }),
	}, awssfn.NewFromConfig(cfg, func(o *awssfn.Options) { o.BaseEndpoint = aws.String(sfnURL) })
}

// serve serves h on a free loopback port until Stop.
func (s *Stack) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("capacity: listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	s.stop = append(s.stop, func() { _ = srv.Close() })
	return "http://" + ln.Addr().String(), nil
}

// Stop stops what Start started, last first, and deletes the table.
func (s *Stack) Stop() {
	for i := len(s.stop) - 1; i >= 0; i-- {
		s.stop[i]()
	}
	s.stop = nil
}

// RunPath sends n orders of the sample file through the stack, each from a
// customer drawn from a Zipf distribution (most place one order, a few
// several), waits until every one is DISPATCHED and the stack is quiet, and
// returns what the batch cost.
func (s *Stack) RunPath(ctx context.Context, sample string, n int) (*Path, error) {
	body, err := os.ReadFile(sample)
	if err != nil {
		return nil, fmt.Errorf("capacity: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(sample), ".json")
	customers := customersFor(name, n)
	perCustomer := map[string]int{}
	for _, c := range customers {
		perCustomer[c]++
	}
	p := &Path{Name: name, Sample: sample, Orders: n, Customers: len(perCustomer)}
	for _, k := range perCustomer {
		p.Busiest = max(p.Busiest, k)
	}
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	s.Recorder.Reset()
	start := time.Now()
	p.Executions = make([]string, n)
	work := make(chan int)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range min(s.opts.InFlight, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				arn, err := s.placeAndFollow(ctx, body, customers[i], fmt.Sprintf("capacity-%s-%d-%d", name, start.UnixNano(), i))
				if err != nil {
					errs <- err
					continue
				}
				p.Executions[i] = arn
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := errors.Join(collect(errs)...); err != nil {
		return nil, fmt.Errorf("capacity: %s: %w", name, err)
	}
	p.Elapsed = time.Since(start)
	if err := s.settle(ctx); err != nil {
		return nil, err
	}
	p.Counts, p.Window = s.Recorder.Snapshot(), time.Since(start)
	if p.Workflow, err = readWorkflow(ctx, s.SFN, p.Executions); err != nil {
		return nil, err
	}
	return p, nil
}

func collect(errs <-chan error) []error {
	var out []error
	for err := range errs {
		if len(out) < 5 { // the first few say enough
			out = append(out, err)
		}
	}
	return out
}

// customersFor draws the customer of each of n orders: Zipf over a pool of
// 20n customers (s = 1.1, v = 100), the same for the same path and n. For
// 500 orders that is about 440 customers, 9 in 10 of them with one order
// and the busiest with five.
func customersFor(path string, n int) []string {
	h := fnv.New64a()
	h.Write([]byte(path))
	z := rand.NewZipf(rand.New(rand.NewPCG(h.Sum64(), uint64(n))), 1.1, 100, uint64(20*n))
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-customer-%d", path, z.Uint64())
	}
	return out
}

// placeAndFollow posts one order as customer, waits for its execution to
// end and checks that it succeeded and the order is DISPATCHED; it returns
// the execution's ARN.
func (s *Stack) placeAndFollow(ctx context.Context, body []byte, customer, key string) (string, error) {
	tok, err := auth.MintLocal(auth.DevSecret, customer, nil, time.Hour, time.Now())
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.API+"/v1/orders", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	var placed struct{ OrderID string }
	_ = json.NewDecoder(resp.Body).Decode(&placed)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || placed.OrderID == "" {
		return "", fmt.Errorf("POST /v1/orders: %d", resp.StatusCode)
	}
	arn := strings.Replace(s.Pipeline.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + placed.OrderID
	deadline := time.Now().Add(s.opts.Timeout)
	for {
		if _, err := s.Engine.Execution(arn); err == nil {
			break
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("order %s: no execution after %s", placed.OrderID, s.opts.Timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-s.Engine.Done(arn):
	case <-time.After(time.Until(deadline)):
		return "", fmt.Errorf("order %s: still running after %s", placed.OrderID, s.opts.Timeout)
	case <-ctx.Done():
		return "", ctx.Err()
	}
	x, err := s.SFN.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	if err != nil {
		return "", err
	}
	if x.Status != sfntypes.ExecutionStatusSucceeded {
		return "", fmt.Errorf("order %s: execution %s: %s %s", placed.OrderID, x.Status, aws.ToString(x.Error), aws.ToString(x.Cause))
	}
	o, err := dynamostore.New(s.Direct.DynamoDB, s.Table).GetOrder(ctx, placed.OrderID)
	if err != nil {
		return "", err
	}
	if o.Status != order.StatusDispatched {
		return "", fmt.Errorf("order %s ended %s, not DISPATCHED", placed.OrderID, o.Status)
	}
	return arn, nil
}

// settle waits until every queue is empty and the stack has made no
// request but idle long polls for two seconds (the E-Port's last receipts,
// the callbacks of the last status changes).
func (s *Stack) settle(ctx context.Context) error {
	deadline := time.Now().Add(2 * time.Minute)
	last, quietSince := -1, time.Now()
	for {
		if b := s.Recorder.busy(); b != last {
			last, quietSince = b, time.Now()
		}
		if time.Since(quietSince) >= 2*time.Second {
			empty, err := s.queuesEmpty(ctx)
			if err != nil {
				return err
			}
			if empty {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return errors.New("capacity: the stack did not go quiet within 2 minutes")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// queuesEmpty says whether every queue is empty; a dead-letter queue that
// is not is an error: an order went wrong and the figures would be too.
func (s *Stack) queuesEmpty(ctx context.Context) (bool, error) {
	for name, url := range s.Pipeline.Resources.QueueURLs {
		a, err := s.Direct.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
				sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
		if err != nil {
			return false, fmt.Errorf("capacity: queue %s: %w", url, err)
		}
		if a.Attributes["ApproximateNumberOfMessages"] != "0" || a.Attributes["ApproximateNumberOfMessagesNotVisible"] != "0" {
			if strings.HasSuffix(name, "-dlq") {
				return false, fmt.Errorf("capacity: messages were dead-lettered in %s", name)
			}
			return false, nil
		}
	}
	return true, nil
}
