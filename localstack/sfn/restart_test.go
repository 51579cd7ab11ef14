package sfn

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// capture keeps the messages the sqs integration sends.
type capture struct {
	mu     sync.Mutex
	bodies []string
}

func (c *capture) SendMessage(_ context.Context, _, body string, _ map[string]any, _, _ string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.bodies = append(c.bodies, body)
	return "m", nil
}

// counter is a Lambda that counts its invocations.
type counter struct {
	mu    sync.Mutex
	calls map[string]int
}

func (c *counter) Invoke(_ context.Context, arn string, payload []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[arn]++
	return payload, nil
}

const restartDefinition = `{"StartAt":"Before","States":{
 "Before":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:before","ResultPath":"$.before","Next":"Wait"},
 "Wait":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","HeartbeatSeconds":3600,
   "Parameters":{"QueueUrl":"http://sqs.us-east-1.localhost:9324/000000000000/customs","MessageBody":{"orderId.$":"$.orderId","taskToken.$":"$$.Task.Token"}},
   "ResultPath":"$.customs","Next":"After"},
 "After":{"Type":"Task","Resource":"arn:aws:lambda:us-east-1:000000000000:function:after","End":true}}}`

func startEngine(t *testing.T, dir string, fns *counter, q *capture) (*Engine, *awssfn.Client, func()) {
	t.Helper()
	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine()
	e.Store, e.Invoker, e.Queues = st, fns, q
	if err := e.Restore(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	client := awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return e, client, func() { srv.Close(); e.Close() }
}

// TestRestartKeepsWaitingTokens stops the engine while an execution waits on a
// task token, starts a new one on the same store, and finishes the task: the
// execution completes exactly once and runs nothing twice.
func TestRestartKeepsWaitingTokens(t *testing.T) {
	dir := t.TempDir()
	fns := &counter{calls: map[string]int{}}
	q := &capture{}
	ctx := context.Background()

	_, client, stop := startEngine(t, dir, fns, q)
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("restart"), Definition: aws.String(restartDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	x, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-1"), Input: aws.String(`{"orderId":"order-1"}`)})
	if err != nil {
		t.Fatal(err)
	}
	var token string
	for deadline := time.Now().Add(5 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		if len(q.bodies) == 1 {
			var m struct{ TaskToken string }
			_ = json.Unmarshal([]byte(q.bodies[0]), &m)
			token = m.TaskToken
		}
		q.mu.Unlock()
	}
	if token == "" {
		t.Fatal("no message with a task token")
	}
	stop() // the engine goes away mid-wait

	_, client, stop = startEngine(t, dir, fns, q)
	defer stop()
	d, err := client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil || d.Status != sfntypes.ExecutionStatusRunning {
		t.Fatalf("after restart: %v %v", d, err)
	}
	if _, err := client.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"declaration":"CD-1"}`)}); err != nil {
		t.Fatalf("the old token is no longer valid: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if d, _ = client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); d.Status != sfntypes.ExecutionStatusRunning {
			break
		}
	}
	if d.Status != sfntypes.ExecutionStatusSucceeded || aws.ToString(d.Output) != `{"before":{"orderId":"order-1"},"customs":{"declaration":"CD-1"},"orderId":"order-1"}` {
		t.Fatalf("%s %s", d.Status, aws.ToString(d.Output))
	}
	fns.mu.Lock()
	before, after := fns.calls["arn:aws:lambda:us-east-1:000000000000:function:before"], fns.calls["arn:aws:lambda:us-east-1:000000000000:function:after"]
	fns.mu.Unlock()
	if before != 1 || after != 1 || len(q.bodies) != 1 {
		t.Fatalf("before ran %d times, after %d, messages %d: each exactly once", before, after, len(q.bodies))
	}
	h, err := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	succeeded := 0
	for i, ev := range h.Events {
		if ev.Id != int64(i+1) {
			t.Fatalf("event ids are not continuous across the restart: %d at %d", ev.Id, i)
		}
		if ev.Type == sfntypes.HistoryEventTypeExecutionSucceeded {
			succeeded++
		}
	}
	if succeeded != 1 {
		t.Fatalf("%d ExecutionSucceeded events", succeeded)
	}
	// A third engine sees the finished execution, and runs nothing.
	stop()
	_, client, stop = startEngine(t, dir, fns, q)
	defer stop()
	if d, _ := client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn}); d.Status != sfntypes.ExecutionStatusSucceeded {
		t.Fatalf("third engine: %s", d.Status)
	}
	if _, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-1"), Input: aws.String(`{"orderId":"order-1"}`)}); err == nil {
		t.Fatal("a closed execution's name must stay taken: ExecutionAlreadyExists")
	}
}

func TestRestartDoesNotReenterTheWaitingState(t *testing.T) {
	dir := t.TempDir()
	fns := &counter{calls: map[string]int{}}
	q := &capture{}
	ctx := context.Background()
	_, client, stop := startEngine(t, dir, fns, q)
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("r"), Definition: aws.String(restartDefinition), RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	x, _ := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{"orderId":"o"}`)})
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		n := len(q.bodies)
		q.mu.Unlock()
		if n == 1 {
			break
		}
	}
	stop()
	_, client, stop = startEngine(t, dir, fns, q)
	defer stop()
	h, _ := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn})
	entered := 0
	for _, ev := range h.Events {
		if ev.Type == sfntypes.HistoryEventTypeTaskStateEntered {
			entered++
		}
	}
	if entered != 2 { // Before and Wait, once each
		t.Fatalf("%d TaskStateEntered events after the restart, want 2", entered)
	}
}

// TestLoadedExecutionsAreNeverStartedTwice is the order the local stack
// starts in: the engine loads what was running, then the starter — told by
// a redelivered message or the reconciler — starts the same execution again
// and a worker answers its task token, all before the engine resumes it.
// The start returns the loaded execution, the answer waits for it, and
// Resume runs it once: nothing runs twice, the log has one start.
func TestLoadedExecutionsAreNeverStartedTwice(t *testing.T) {
	dir := t.TempDir()
	fns := &counter{calls: map[string]int{}}
	q := &capture{}
	ctx := context.Background()
	_, client, stop := startEngine(t, dir, fns, q)
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("twice"), Definition: aws.String(restartDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	start := &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-2"), Input: aws.String(`{"orderId":"order-2"}`)}
	x, err := client.StartExecution(ctx, start)
	if err != nil {
		t.Fatal(err)
	}
	token := waitToken(t, q)
	stop()

	st, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	e := NewEngine()
	e.Store, e.Invoker, e.Queues = st, fns, q
	if err := e.Load(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.Handler())
	defer func() { srv.Close(); e.Close() }()
	client = awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	again, err := client.StartExecution(ctx, start)
	if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(x.ExecutionArn) {
		t.Fatalf("starting a loaded running execution again: %v %v, want the same execution", again, err)
	}
	if _, err := client.SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(`{"declaration":"CD-2"}`)}); err != nil {
		t.Fatalf("a loaded execution's token must be answerable before it resumes: %v", err)
	}
	e.Resume()
	e.Resume() // resumes nothing twice
	select {
	case <-e.Done(aws.ToString(x.ExecutionArn)):
	case <-time.After(5 * time.Second):
		t.Fatal("the execution did not finish after Resume")
	}
	fns.mu.Lock()
	before, after := fns.calls["arn:aws:lambda:us-east-1:000000000000:function:before"], fns.calls["arn:aws:lambda:us-east-1:000000000000:function:after"]
	fns.mu.Unlock()
	if before != 1 || after != 1 {
		t.Fatalf("before ran %d times, after %d: each exactly once", before, after)
	}
	h, err := client.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: x.ExecutionArn, MaxResults: 1000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[sfntypes.HistoryEventType]int{}
	for _, ev := range h.Events {
		count[ev.Type]++
	}
	if count[sfntypes.HistoryEventTypeExecutionStarted] != 1 || count[sfntypes.HistoryEventTypeExecutionSucceeded] != 1 || count[sfntypes.HistoryEventTypeTaskStateEntered] != 3 {
		t.Fatalf("history: %v; want one start, one success, three task states entered", count)
	}
}

// waitToken waits for the one task message of the restart definition and
// returns its token.
func waitToken(t *testing.T, q *capture) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		n := len(q.bodies)
		var m struct{ TaskToken string }
		if n > 0 {
			_ = json.Unmarshal([]byte(q.bodies[n-1]), &m)
		}
		q.mu.Unlock()
		if m.TaskToken != "" {
			return m.TaskToken
		}
	}
	t.Fatal("no message with a task token")
	return ""
}

// TestStopWhileClosingStaysAborted: an execution stopped while the engine
// closes is ABORTED on disk too, not resumed by the next engine.
func TestStopWhileClosingStaysAborted(t *testing.T) {
	dir := t.TempDir()
	fns := &counter{calls: map[string]int{}}
	q := &capture{}
	ctx := context.Background()
	e, client, stop := startEngine(t, dir, fns, q)
	sm, err := client.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("stop"), Definition: aws.String(restartDefinition),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/r")})
	if err != nil {
		t.Fatal(err)
	}
	x, err := client.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String("order-3"), Input: aws.String(`{"orderId":"order-3"}`)})
	if err != nil {
		t.Fatal(err)
	}
	waitToken(t, q)
	e.mu.Lock()
	e.closing = true // Close has begun
	e.mu.Unlock()
	if _, err := e.StopExecution(aws.ToString(x.ExecutionArn), "OrderCancelled", "stopped"); err != nil {
		t.Fatal(err)
	}
	stop()
	_, client, stop = startEngine(t, dir, fns, q)
	defer stop()
	d, err := client.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
	if err != nil || d.Status != sfntypes.ExecutionStatusAborted {
		t.Fatalf("after a restart: %v %v, want ABORTED", d.Status, err)
	}
}
