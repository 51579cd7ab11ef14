package sfn

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

func apiClient(t *testing.T, e *Engine) *awssfn.Client {
	t.Helper()
	srv := httptest.NewServer(e.Handler())
	t.Cleanup(srv.Close)
	return awssfn.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")},
		func(o *awssfn.Options) { o.BaseEndpoint = aws.String(srv.URL) })
}

const waitDef = `{"StartAt":"W","States":{"W":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken",
  "HeartbeatSeconds":2,"TimeoutSeconds":30,"Parameters":{"QueueUrl":"q","MessageBody":{"token.$":"$$.Task.Token"}},"End":true}}}`

func TestAPIExecutionsLifecycle(t *testing.T) {
	e := NewEngine()
	q := &capture{}
	e.Queues = q
	c := apiClient(t, e)
	ctx := context.Background()
	sm, err := c.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("w"), Definition: aws.String(waitDef), RoleArn: aws.String("r")})
	if err != nil {
		t.Fatal(err)
	}
	// Creating the same machine again returns it; a different definition is refused.
	if _, err := c.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("w"), Definition: aws.String(waitDef), RoleArn: aws.String("r")}); err != nil {
		t.Fatalf("same machine again: %v", err)
	}
	var exists *sfntypes.StateMachineAlreadyExists
	if _, err := c.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("w"), Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`), RoleArn: aws.String("r")}); !errors.As(err, &exists) {
		t.Fatalf("different machine, same name: %v", err)
	}
	start := func(name, input string) (*awssfn.StartExecutionOutput, error) {
		return c.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Name: aws.String(name), Input: aws.String(input)})
	}
	a, err := start("a", `{"n":1}`)
	if err != nil {
		t.Fatal(err)
	}
	// Same name and input while it runs: the same execution.
	again, err := start("a", `{"n":1}`)
	if err != nil || aws.ToString(again.ExecutionArn) != aws.ToString(a.ExecutionArn) {
		t.Fatalf("same name and input: %v %v", again, err)
	}
	var already *sfntypes.ExecutionAlreadyExists
	if _, err := start("a", `{"n":2}`); !errors.As(err, &already) {
		t.Fatalf("same name, other input: %v", err)
	}
	for _, n := range []string{"b", "c"} {
		if _, err := start(n, `{}`); err != nil {
			t.Fatal(err)
		}
	}
	// Stop one: ABORTED — once it has entered its first state, so that its
	// history holds more than the start and the stop.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		h, err := c.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: a.ExecutionArn})
		if err == nil && len(h.Events) >= 2 {
			break
		}
	}
	if _, err := c.StopExecution(ctx, &awssfn.StopExecutionInput{ExecutionArn: a.ExecutionArn, Error: aws.String("Ops"), Cause: aws.String("stopped")}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: a.ExecutionArn})
	if d.Status != sfntypes.ExecutionStatusAborted || aws.ToString(d.Error) != "Ops" {
		t.Fatalf("stopped: %s %s", d.Status, aws.ToString(d.Error))
	}
	if _, err := start("a", `{"n":1}`); !errors.As(err, &already) {
		t.Fatalf("a closed execution's name: %v", err)
	}
	// ListExecutions: status filter and paging.
	running, err := c.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, StatusFilter: sfntypes.ExecutionStatusRunning})
	if err != nil || len(running.Executions) != 2 {
		t.Fatalf("running: %v %v", running, err)
	}
	p1, _ := c.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, MaxResults: 2})
	p2, _ := c.ListExecutions(ctx, &awssfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn, MaxResults: 2, NextToken: p1.NextToken})
	if len(p1.Executions) != 2 || p1.NextToken == nil || len(p2.Executions) != 1 || p2.NextToken != nil ||
		aws.ToString(p1.Executions[0].Name) != "c" || aws.ToString(p2.Executions[0].Name) != "a" {
		t.Fatalf("pages %v / %v", p1.Executions, p2.Executions)
	}
	// Heartbeats keep a task alive past HeartbeatSeconds; their absence times it out.
	var token string
	for deadline := time.Now().Add(2 * time.Second); token == "" && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		q.mu.Lock()
		for _, b := range q.bodies {
			if strings.Contains(b, "token") {
				token = b[strings.Index(b, `"token":"`)+9 : len(b)-2]
			}
		}
		q.mu.Unlock()
	}
	if token == "" {
		t.Fatal("no token")
	}
	if _, err := c.SendTaskHeartbeat(ctx, &awssfn.SendTaskHeartbeatInput{TaskToken: aws.String("nope")}); err == nil {
		t.Fatal("a heartbeat for an unknown token must fail")
	}
	h, err := c.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: a.ExecutionArn, ReverseOrder: true, MaxResults: 2})
	if err != nil || len(h.Events) != 2 || h.Events[0].Type != sfntypes.HistoryEventTypeExecutionAborted || h.NextToken == nil {
		t.Fatalf("reverse history: %+v %v", h, err)
	}
	if h.Events[0].ExecutionAbortedEventDetails == nil || aws.ToString(h.Events[0].ExecutionAbortedEventDetails.Error) != "Ops" {
		t.Fatal("aborted details missing")
	}
}

func TestHeartbeatTimeout(t *testing.T) {
	e := NewEngine()
	e.TimeScale = 0.01 // HeartbeatSeconds 2 → 20 ms
	e.Queues = &capture{}
	sm, _ := e.CreateStateMachine("hb", waitDef, "r", "")
	x, _ := e.StartExecution(sm.ARN, "x", `{}`)
	select {
	case <-e.Done(x.ARN):
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat timeout")
	}
	s := e.snapshot(x)
	if s.Status != StatusFailed || s.Error != "States.HeartbeatTimeout" {
		t.Fatalf("%s %s", s.Status, s.Error)
	}
	if s.history[len(s.history)-2].Type != "TaskTimedOut" {
		t.Fatalf("events %v", s.history[len(s.history)-2].Type)
	}
}

func TestLambdaInvokeIntegrationShape(t *testing.T) {
	checkVectors(t, []vector{{
		name: "lambda:invoke wraps the result in Payload",
		definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"FN:f","Payload":{"orderId.$":"$.orderId"}},"ResultSelector":{"p.$":"$.Payload","code.$":"$.StatusCode"},"End":true}}}`,
		input: `{"orderId":"o"}`, tasks: map[string][]string{"f": {`{"ok":true}`}}, output: `{"p":{"ok":true},"code":200}`,
		events: []string{"ExecutionStarted", "TaskStateEntered", "TaskScheduled", "TaskStarted", "TaskSucceeded", "TaskStateExited", "ExecutionSucceeded"},
	}, {
		name: "lambda:invoke function error is named by its errorType",
		definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"f","Payload.$":"$"},"End":true}}}`,
		input: `{}`, tasks: map[string][]string{"f": {"!PaymentDeclined:card_declined"}}, status: StatusFailed, errorN: "PaymentDeclined",
	}, {
		name:       "Wait with Timestamp in the past",
		definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","Timestamp":"2020-01-01T00:00:00Z","End":true}}}`,
		input:      `{"a":1}`, output: `{"a":1}`,
	}, {
		name:       "Wait with TimestampPath",
		definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.until","End":true}}}`,
		input:      `{"until":"2020-01-01T00:00:00Z"}`, output: `{"until":"2020-01-01T00:00:00Z"}`,
	}, {
		name:       "Wait with a bad TimestampPath fails",
		definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","TimestampPath":"$.until","End":true}}}`,
		input:      `{"until":"tomorrow"}`, status: StatusFailed, errorN: "States.Runtime",
	}, {
		name:       "TimeoutSecondsPath",
		definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","TimeoutSecondsPath":"$.t","Parameters":{"QueueUrl":"q","MessageBody":{"x.$":"$$.Task.Token"}},"End":true}}}`,
		input:      `{"t":1}`, status: StatusFailed, errorN: "States.Timeout",
	}})
}

func TestAPIStateMachines(t *testing.T) {
	e := NewEngine()
	c := apiClient(t, e)
	ctx := context.Background()
	pass := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":1,"End":true}}}`
	for _, n := range []string{"b", "a", "c"} {
		if _, err := c.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String(n), Definition: aws.String(pass), RoleArn: aws.String("r")}); err != nil {
			t.Fatal(err)
		}
	}
	l1, err := c.ListStateMachines(ctx, &awssfn.ListStateMachinesInput{MaxResults: 2})
	if err != nil || len(l1.StateMachines) != 2 || aws.ToString(l1.StateMachines[0].Name) != "a" || l1.NextToken == nil {
		t.Fatalf("list: %+v %v", l1, err)
	}
	arn := "arn:aws:states:us-east-1:000000000000:stateMachine:a"
	two := `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":2,"End":true}}}`
	if _, err := c.UpdateStateMachine(ctx, &awssfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(two)}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeStateMachine(ctx, &awssfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
	if err != nil || aws.ToString(d.Definition) != two || d.Type != sfntypes.StateMachineTypeStandard {
		t.Fatalf("describe: %+v %v", d, err)
	}
	var invalid *sfntypes.InvalidDefinition
	if _, err := c.UpdateStateMachine(ctx, &awssfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(`{"StartAt":"X","States":{}}`)}); !errors.As(err, &invalid) {
		t.Fatalf("bad update: %v", err)
	}
	if _, err := c.DeleteStateMachine(ctx, &awssfn.DeleteStateMachineInput{StateMachineArn: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	var missing *sfntypes.StateMachineDoesNotExist
	if _, err := c.DescribeStateMachine(ctx, &awssfn.DescribeStateMachineInput{StateMachineArn: aws.String(arn)}); !errors.As(err, &missing) {
		t.Fatalf("after delete: %v", err)
	}
	var exprs *sfntypes.ValidationException
	if _, err := c.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("x"), Definition: aws.String(pass), RoleArn: aws.String("r"), Type: sfntypes.StateMachineTypeExpress}); !errors.As(err, &exprs) {
		t.Fatalf("EXPRESS must be refused, not run as STANDARD: %v", err)
	}
}

func TestExecutionTimeout(t *testing.T) {
	e := NewEngine()
	e.TimeScale = 0.001
	sm, err := e.CreateStateMachine("t", `{"TimeoutSeconds":1,"StartAt":"W","States":{"W":{"Type":"Wait","Seconds":60,"End":true}}}`, "r", "")
	if err != nil {
		t.Fatal(err)
	}
	x, _ := e.StartExecution(sm.ARN, "x", `{}`)
	select {
	case <-e.Done(x.ARN):
	case <-time.After(5 * time.Second):
		t.Fatal("no execution timeout")
	}
	s := e.snapshot(x)
	if s.Status != StatusTimedOut || s.history[len(s.history)-1].Type != "ExecutionTimedOut" {
		t.Fatalf("%s %s", s.Status, s.history[len(s.history)-1].Type)
	}
	if _, err := e.RedriveExecution(x.ARN); err != nil {
		t.Fatalf("a timed-out execution is redrivable: %v", err)
	}
}

func TestBackoff(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	r := Retrier{IntervalSeconds: f(2), BackoffRate: f(3), MaxDelaySeconds: f(10)}
	for attempt, want := range []time.Duration{2 * time.Second, 6 * time.Second, 10 * time.Second, 10 * time.Second} {
		if got := backoff(r, attempt); got != want {
			t.Errorf("attempt %d: %v, want %v", attempt, got, want)
		}
	}
	r.JitterStrategy = "FULL"
	for range 100 {
		if got := backoff(r, 1); got < 0 || got > 6*time.Second {
			t.Fatalf("full jitter out of [0, 6s]: %v", got)
		}
	}
	if maxAttempts(Retrier{}) != 3 || backoff(Retrier{}, 0) != time.Second {
		t.Fatal("defaults: 3 attempts, 1 s, rate 2")
	}
	if !errorMatches([]string{"States.ALL"}, "Anything") || errorMatches([]string{"States.ALL"}, "States.Runtime") ||
		errorMatches([]string{"States.TaskFailed"}, "States.Timeout") || !errorMatches([]string{"States.TaskFailed"}, "Boom") {
		t.Fatal("error matching")
	}
}

func TestHeartbeatSecondsPath(t *testing.T) {
	checkVectors(t, []vector{{
		name:       "HeartbeatSecondsPath",
		definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","HeartbeatSecondsPath":"$.hb","Parameters":{"QueueUrl":"q","MessageBody":{"x.$":"$$.Task.Token"}},"End":true}}}`,
		input:      `{"hb":1}`, status: StatusFailed, errorN: "States.HeartbeatTimeout",
	}})
}

func TestStatusChangeNotifications(t *testing.T) {
	e := NewEngine()
	got := make(chan StatusChange, 4)
	e.OnStatusChange = func(c StatusChange) { got <- c }
	sm, _ := e.CreateStateMachine("n", `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"Boom","Cause":"why"}}}`, "r", "")
	x, _ := e.StartExecution(sm.ARN, "order-1", `{}`)
	select {
	case c := <-got:
		if c.Name != "order-1" || c.Status != StatusFailed || c.Error != "Boom" || c.ExecutionARN != x.ARN {
			t.Fatalf("%+v", c)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no status change")
	}
}

// TestTaskTokensNameTheirStateMachine: a task token names the state
// machine whose execution it was given to, known or forgotten by the
// engine (what IAM checks SendTask* calls against); a token no engine gave
// names none.
func TestTaskTokensNameTheirStateMachine(t *testing.T) {
	e := NewEngine()
	defer e.Close()
	arn := "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow"
	token := e.newToken(arn)
	if got := e.TokenStateMachine(token); got != arn {
		t.Errorf("a forgotten token names %q, want %q", got, arn)
	}
	e.registerToken(token, arn)
	if got := e.TokenStateMachine(token); got != arn {
		t.Errorf("a waiting token names %q, want %q", got, arn)
	}
	for _, bad := range []string{"", "not-a-token", "bm90LWFuLWFybg.xyz"} {
		if got := e.TokenStateMachine(bad); got != "" {
			t.Errorf("token %q names %q", bad, got)
		}
	}
}
