package sfn

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// gatedLambda holds each invocation of "before" until released, to crash
// the engine while a Lambda task runs.
type gatedLambda struct {
	counter
	entered chan struct{}
	release chan struct{}
}

func (g *gatedLambda) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, error) {
	out, _ := g.counter.Invoke(ctx, arn, payload)
	if arn == "arn:aws:lambda:us-east-1:000000000000:function:before" {
		g.entered <- struct{}{}
		<-g.release
	}
	return out, nil
}

// TestCrashedEngineIsReplacedAndRunsNothingTwice crashes the engine (as a
// SIGKILL of its process would) first while a Lambda task runs, then while
// the execution waits on a task token; the slot starts a new engine from
// the store each time. The Lambda task runs again (its answer was lost
// with the engine, as in AWS after a crash: steps are idempotent), the
// execution keeps its name, history and token, nothing the crashed engine
// did after the crash is recorded, and the execution succeeds once.
func TestCrashedEngineIsReplacedAndRunsNothingTwice(t *testing.T) {
	dir := t.TempDir()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	fns := &gatedLambda{counter: counter{calls: map[string]int{}}, entered: make(chan struct{}, 4), release: make(chan struct{})}
	q := &capture{}
	e := NewEngine()
	e.Store, e.Invoker, e.Queues = st, fns, q
	var mu sync.Mutex
	var changes []StatusChange
	e.OnStatusChange = func(c StatusChange) { mu.Lock(); changes = append(changes, c); mu.Unlock() }
	slot := NewSlot(e)
	srv := httptest.NewServer(slot.Handler())
	defer srv.Close()
	defer func() { slot.Engine().Close() }()
	ctx := context.Background()
	client := awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", ""),
		Retryer: func() aws.Retryer { return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 5 }) }},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("crash"), Definition: aws.String(restartDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	x, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-1"), Input: aws.String(`{"orderId":"order-1"}`)})
	if err != nil {
		t.Fatal(err)
	}

	// 1. Crash while "before" runs; its answer reaches a dead engine.
	<-fns.entered
	if err := slot.CrashAndRestart(); err != nil {
		t.Fatal(err)
	}
	close(fns.release) // the old invocation returns into the crashed engine, the new one passes
	<-fns.entered

	// 2. Crash while the execution waits on its token.
	var token string
	for deadline := time.Now().Add(5 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		if n := len(q.bodies); n > 0 {
			var m struct{ TaskToken string }
			_ = json.Unmarshal([]byte(q.bodies[n-1]), &m)
			token = m.TaskToken
		}
		q.mu.Unlock()
	}
	if token == "" {
		t.Fatal("no message with a task token")
	}
	crashed := slot.Engine()
	if err := slot.CrashAndRestart(); err != nil {
		t.Fatal(err)
	}
	// An answer the crashed engine would have taken is never acknowledged by it.
	if err := crashed.SendTaskSuccess(token, `{"lost":true}`); err == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := client.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"declaration":"CD-1"}`)}); err != nil {
		t.Fatalf("the token did not survive the crash: %v", err)
	}
	var d *awssfn.DescribeExecutionOutput
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if d, err = client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); err == nil && d.Status != sfntypes.ExecutionStatusRunning {
			break
		}
	}
	if d == nil || d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"before":{"orderId":"order-1"},"customs":{"declaration":"CD-1"},"orderId":"order-1"}` {
		t.Fatalf("after two crashes: %+v %v", d, err)
	}
	if slot.Restarts() != 2 {
		t.Errorf("%d restarts, want 2", slot.Restarts())
	}
	h, err := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	entered := map[string]int{}
	for i, ev := range h.Events {
		if ev.Id != int64(i+1) {
			t.Fatalf("event %d has id %d", i+1, ev.Id)
		}
		if ev.StateEnteredEventDetails != nil {
			entered[aws.ToString(ev.StateEnteredEventDetails.Name)]++
		}
	}
	if entered["Before"] != 1 || entered["Wait"] != 1 || entered["After"] != 1 {
		t.Errorf("states entered %v, want each once", entered)
	}
	fns.mu.Lock()
	before := fns.calls["arn:aws:lambda:us-east-1:000000000000:function:before"]
	fns.mu.Unlock()
	if before != 2 {
		t.Errorf("before ran %d times: want twice, once per engine (the first answer died with the engine)", before)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(changes) != 1 || changes[0].Status != StatusSucceeded {
		t.Errorf("status changes %+v, want one SUCCEEDED from the live engine", changes)
	}
}

// TestCrashedEngineAnswersNothing: a request a crashed engine handled gets
// no answer — the connection is cut — never a success it did not record.
func TestCrashedEngineAnswersNothing(t *testing.T) {
	e := NewEngine()
	slot := NewSlot(e)
	srv := httptest.NewServer(slot.Handler())
	defer srv.Close()
	e.Crash()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
	req.Header.Set("X-Amz-Target", "AWSStepFunctions.ListStateMachines")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("a crashed engine answered %d", resp.StatusCode)
	}
}

// TestSucceededHistoryLeavesMemory: once an execution succeeds its history
// is kept in the store only, and GetExecutionHistory reads the same events
// from there — before and after a restart — so the engine's memory does not
// grow with every history it ever ran.
func TestSucceededHistoryLeavesMemory(t *testing.T) {
	dir := t.TempDir()
	fns := &counter{calls: map[string]int{}}
	ctx := context.Background()
	e, client, stop := startEngine(t, dir, fns, &capture{})
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("evict"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		Definition: aws.String(`{"StartAt":"One","States":{"One":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:one","Next":"Two"},"Two":{"Type":"Pass","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	x, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("o-1"), Input: aws.String(`{"orderId":"o-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	<-e.Done(aws.ToString(x.ExecutionArn))
	history := func() []string {
		h, err := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range h.Events {
			out = append(out, fmt.Sprint(ev.Id, " ", ev.Type))
		}
		return out
	}
	got := history()
	e.mu.Lock()
	inMemory := len(e.execs[aws.ToString(x.ExecutionArn)].history)
	e.mu.Unlock()
	if inMemory != 0 || len(got) != 9 || got[0] != "1 ExecutionStarted" || got[8] != "9 ExecutionSucceeded" {
		t.Fatalf("%d events in memory; history read back %v", inMemory, got)
	}
	stop()
	_, client, stop = startEngine(t, dir, fns, &capture{})
	defer stop()
	if again := history(); fmt.Sprint(again) != fmt.Sprint(got) {
		t.Fatalf("after a restart %v, before %v", again, got)
	}
}
