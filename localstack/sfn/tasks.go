package sfn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"time"
)

// Invoker runs a Lambda function: an in-process registry of handlers, or the
// Lambda Invoke API. A function error (the handler returned an error) comes
// back as a *FunctionError, anything else as a service error.
type Invoker interface {
	Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, error)
}

// FunctionError is a Lambda function's own error: its errorType becomes the
// Error that Retry and Catch match.
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

func (e *FunctionError) payload() string {
	return mustJSON(map[string]string{"errorMessage": e.Message, "errorType": e.Type})
}

// MessageSender sends an SQS message (the sqs:sendMessage integration).
type MessageSender interface {
	SendMessage(ctx context.Context, queueURL, body string, attributes map[string]any, groupID, dedupID string) (messageID string, err error)
}

// Task tokens --------------------------------------------------------------

type tokenResult struct {
	output    any
	errName   string
	cause     string
	failed    bool
	heartbeat bool
}

type waiter struct {
	ch   chan tokenResult
	done bool
	// machine is the ARN of the state machine whose execution waits: what
	// IAM checks a SendTask* call with this token against.
	machine string
}

// newToken is a task token for an execution of machine: the machine's ARN
// and 48 random bytes, each base64url, joined by a dot. Like AWS's tokens
// it names its state machine whether the engine still knows it or not (an
// answer after a restart, or long after the task ended), for IAM.
func (e *Engine) newToken(machine string) string {
	b := make([]byte, 48)
	_, _ = randRead(b)
	return base64.RawURLEncoding.EncodeToString([]byte(machine)) + "." + base64.RawURLEncoding.EncodeToString(b)
}

// registerToken makes token answerable. A restored execution's token is
// registered by Load, before anything can answer it: the answers that come
// before the execution resumes wait in its channel.
func (e *Engine) registerToken(token, machine string) *waiter {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w, ok := e.tokens[token]; ok {
		return w
	}
	w := &waiter{ch: make(chan tokenResult, 16), machine: machine}
	e.tokens[token] = w
	return w
}

func (e *Engine) closeToken(token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w, ok := e.tokens[token]; ok {
		w.done = true
	}
}

// TokenStateMachine is the ARN of the state machine whose execution a
// task token was given to ("" for a token no engine gave).
func (e *Engine) TokenStateMachine(token string) string {
	e.mu.Lock()
	w, ok := e.tokens[token]
	e.mu.Unlock()
	if ok {
		return w.machine
	}
	prefix, _, found := strings.Cut(token, ".")
	arn, err := base64.RawURLEncoding.DecodeString(prefix)
	if !found || err != nil || !strings.HasPrefix(string(arn), "arn:aws:states:") {
		return ""
	}
	return string(arn)
}

// answer delivers a SendTask* call to the waiting task.
func (e *Engine) answer(token string, r tokenResult) error {
	if token == "" || len(token) > 1024 {
		return apiErr("InvalidToken", "Invalid Token: '%s'", token)
	}
	e.mu.Lock()
	w, ok := e.tokens[token]
	if !ok {
		e.mu.Unlock()
		return apiErr("TaskDoesNotExist", "Task Does Not Exist: '%s'", token)
	}
	if w.done {
		e.mu.Unlock()
		return apiErr("TaskTimedOut", "Task Timed Out: '%s'", token)
	}
	if !r.heartbeat {
		w.done = true
	}
	e.mu.Unlock()
	select {
	case w.ch <- r:
	default: // a flood of heartbeats: one pending is enough
	}
	return nil
}

// SendTaskSuccess completes the task waiting on token.
func (e *Engine) SendTaskSuccess(token, output string) error {
	v, err := decodeJSON([]byte(output))
	if err != nil {
		return apiErr("InvalidOutput", "the output is not JSON: %v", err)
	}
	return e.answer(token, tokenResult{output: v})
}

// SendTaskFailure fails the task waiting on token.
func (e *Engine) SendTaskFailure(token, errName, cause string) error {
	return e.answer(token, tokenResult{failed: true, errName: errName, cause: cause})
}

// SendTaskHeartbeat tells the waiting task its worker is alive.
func (e *Engine) SendTaskHeartbeat(token string) error {
	return e.answer(token, tokenResult{heartbeat: true})
}

// Invocation ---------------------------------------------------------------

// invoke runs a Task's resource with its effective input.
// stateInput (after InputPath) resolves TimeoutSecondsPath and HeartbeatSecondsPath.
func (e *Engine) invoke(ctx context.Context, x *execution, s *State, in, stateInput any, cobj map[string]any, token string) (any, error) {
	timeout := 99999999
	if s.TimeoutSeconds != nil {
		timeout = *s.TimeoutSeconds
	} else if s.TimeoutPath != "" {
		f, ok := toFloat(valueAt(s.TimeoutPath, stateInput, cobj))
		if !ok || f <= 0 {
			return nil, &stateError{"States.Runtime", "TimeoutSecondsPath must point at a positive number"}
		}
		timeout = int(f)
	}
	heartbeat := 0
	if s.Heartbeat != nil {
		heartbeat = *s.Heartbeat
	} else if s.HeartbeatPath != "" {
		f, ok := toFloat(valueAt(s.HeartbeatPath, stateInput, cobj))
		if !ok || f <= 0 {
			return nil, &stateError{"States.Runtime", "HeartbeatSecondsPath must point at a positive number"}
		}
		heartbeat = int(f)
	}
	tctx := ctx
	if timeout != 99999999 { // the default needs no deadline
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, e.scaled(time.Duration(timeout)*time.Second))
		defer cancel()
	}

	if isLambdaARN(s.Resource) {
		e.event(x, "LambdaFunctionScheduled", map[string]any{"resource": s.Resource, "input": jsonText{in},
			"inputDetails": map[string]any{"truncated": false}, "timeoutInSeconds": timeout})
		e.event(x, "LambdaFunctionStarted", nil)
		out, err := e.callLambda(tctx, s.Resource, in)
		switch {
		case tctx.Err() != nil && ctx.Err() == nil:
			e.event(x, "LambdaFunctionTimedOut", map[string]any{"error": "States.Timeout", "cause": "the function ran past TimeoutSeconds"})
			return nil, &stateError{"States.Timeout", "the function ran past TimeoutSeconds"}
		case err != nil:
			se := lambdaError(err)
			e.event(x, "LambdaFunctionFailed", map[string]any{"error": se.Name, "cause": se.Cause})
			return nil, se
		}
		e.event(x, "LambdaFunctionSucceeded", payloadDetails("output", jsonText{out}))
		return out, nil
	}

	base, wait := splitResource(s.Resource)
	service, action, _ := strings.Cut(strings.TrimPrefix(base, "arn:aws:states:::"), ":")
	params := map[string]any{}
	if m, ok := in.(map[string]any); ok {
		params = m
	}
	sched := map[string]any{"resourceType": service, "resource": strings.TrimPrefix(s.Resource, "arn:aws:states:::"+service+":"),
		"region": Region, "parameters": jsonText{params}, "timeoutInSeconds": timeout}
	if heartbeat > 0 {
		sched["heartbeatInSeconds"] = heartbeat
	}
	e.event(x, "TaskScheduled", sched)
	e.event(x, "TaskStarted", map[string]any{"resourceType": service, "resource": sched["resource"]})
	var w *waiter
	if wait {
		w = e.registerToken(token, x.MachineARN)
		defer e.closeToken(token)
		e.persistToken(x, s, token)
	}
	result, err := e.callService(tctx, service, action, params)
	if err != nil {
		se := runtimeError(err)
		if tctx.Err() != nil && ctx.Err() == nil {
			se = &stateError{"States.Timeout", "the task ran past TimeoutSeconds"}
		}
		e.event(x, "TaskFailed", map[string]any{"resourceType": service, "resource": sched["resource"], "error": se.Name, "cause": se.Cause})
		return nil, se
	}
	if !wait {
		e.event(x, "TaskSucceeded", map[string]any{"resourceType": service, "resource": sched["resource"], "output": jsonText{result},
			"outputDetails": map[string]any{"truncated": false}})
		return result, nil
	}
	e.event(x, "TaskSubmitted", map[string]any{"resourceType": service, "resource": sched["resource"], "output": jsonText{result},
		"outputDetails": map[string]any{"truncated": false}})
	return e.awaitToken(ctx, tctx, x, w, service, sched["resource"], heartbeat)
}

func valueAt(p string, in, ctx any) any {
	pp, err := parsePath(p)
	if err != nil {
		return nil
	}
	v, _ := pp.get(in, ctx)
	return v
}

// awaitToken waits for SendTask*, honouring the heartbeat and the timeout.
func (e *Engine) awaitToken(ctx, tctx context.Context, x *execution, w *waiter, service string, resource any, heartbeat int) (any, error) {
	var beat <-chan time.Time
	var timer *time.Timer
	resetBeat := func() {
		if heartbeat <= 0 {
			return
		}
		if timer != nil {
			timer.Stop()
		}
		timer = time.NewTimer(e.scaled(time.Duration(heartbeat) * time.Second))
		beat = timer.C
	}
	resetBeat()
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	timedOut := func(name, cause string) (any, error) {
		e.event(x, "TaskTimedOut", map[string]any{"resourceType": service, "resource": resource, "error": name, "cause": cause})
		return nil, &stateError{name, cause}
	}
	for {
		select {
		case r := <-w.ch:
			if r.heartbeat {
				resetBeat()
				continue
			}
			if r.failed {
				e.event(x, "TaskFailed", map[string]any{"resourceType": service, "resource": resource, "error": r.errName, "cause": r.cause})
				return nil, &stateError{r.errName, r.cause}
			}
			e.event(x, "TaskSucceeded", map[string]any{"resourceType": service, "resource": resource, "output": jsonText{r.output},
				"outputDetails": map[string]any{"truncated": false}})
			return r.output, nil
		case <-beat:
			return timedOut("States.HeartbeatTimeout", "no heartbeat within HeartbeatSeconds")
		case <-tctx.Done():
			if ctx.Err() != nil {
				return nil, errStopped
			}
			return timedOut("States.Timeout", "no answer within TimeoutSeconds")
		}
	}
}

func lambdaError(err error) *stateError {
	if fe, ok := err.(*FunctionError); ok {
		return &stateError{fe.Type, fe.payload()}
	}
	return &stateError{"Lambda.ServiceException", err.Error()}
}

func (e *Engine) callLambda(ctx context.Context, arn string, in any) (any, error) {
	if e.Invoker == nil {
		return nil, fmt.Errorf("no Lambda invoker configured")
	}
	out, err := e.Invoker.Invoke(ctx, arn, []byte(mustJSON(in)))
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	v, derr := decodeJSON(out)
	if derr != nil {
		return nil, &stateError{"States.Runtime", "the function returned invalid JSON"}
	}
	return v, nil
}

// callService runs an optimized integration.
func (e *Engine) callService(ctx context.Context, service, action string, p map[string]any) (any, error) {
	switch service + ":" + action {
	case "lambda:invoke":
		fn, _ := p["FunctionName"].(string)
		if !strings.HasPrefix(fn, "arn:") {
			fn = fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", Region, Account, fn)
		}
		out, err := e.callLambda(ctx, fn, p["Payload"])
		if fe, ok := err.(*FunctionError); ok {
			return nil, &stateError{fe.Type, fe.payload()}
		}
		if err != nil {
			return nil, &stateError{"Lambda.ServiceException", err.Error()}
		}
		return map[string]any{"ExecutedVersion": "$LATEST", "Payload": out, "StatusCode": json.Number("200"),
			"SdkHttpMetadata": map[string]any{"HttpStatusCode": json.Number("200")}}, nil
	case "sqs:sendMessage":
		if e.Queues == nil {
			return nil, &stateError{"SQS.SdkClientException", "no SQS endpoint configured"}
		}
		url, _ := p["QueueUrl"].(string)
		body := p["MessageBody"]
		text, ok := body.(string)
		if !ok {
			text = mustJSON(body)
		}
		attrs, _ := p["MessageAttributes"].(map[string]any)
		group, _ := p["MessageGroupId"].(string)
		dedup, _ := p["MessageDeduplicationId"].(string)
		id, err := e.Queues.SendMessage(ctx, url, text, attrs, group, dedup)
		if err != nil {
			return nil, &stateError{"SQS.AmazonSQSException", err.Error()}
		}
		return map[string]any{"MessageId": id, "MD5OfMessageBody": md5Hex(text)}, nil
	}
	if e.Services == nil {
		return nil, &stateError{"States.Runtime", "no endpoint configured for the " + service + ":" + action + " integration"}
	}
	return e.Services.Call(ctx, service, action, p)
}

// takeResumeToken hands a restored execution's waiting token to its task, once.
func (e *Engine) takeResumeToken(x *execution) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := x.resumeToken
	x.resumeToken = ""
	return t
}

// resumeWait goes on waiting for a token issued before a restart: the
// message went out then, so only the wait resumes.
func (e *Engine) resumeWait(ctx context.Context, x *execution, s *State, entered time.Time, retryCount int, token string) (any, map[string]any, error) {
	cobj := e.contextObject(x, s, entered, retryCount, token)
	timeout := 99999999
	if s.TimeoutSeconds != nil {
		timeout = *s.TimeoutSeconds
	}
	heartbeat := 0
	if s.Heartbeat != nil {
		heartbeat = *s.Heartbeat
	}
	w := e.registerToken(token, x.MachineARN)
	defer e.closeToken(token)
	e.persistToken(x, s, token)
	// TimeoutSeconds counts from the state's entry, before the restart.
	left := time.Duration(timeout)*time.Second - e.now().Sub(e.enteredAt(x))
	tctx, cancel := context.WithTimeout(ctx, e.scaled(max(left, 0)))
	defer cancel()
	base, _ := splitResource(s.Resource)
	service, _, _ := strings.Cut(strings.TrimPrefix(base, "arn:aws:states:::"), ":")
	out, err := e.awaitToken(ctx, tctx, x, w, service, strings.TrimPrefix(s.Resource, "arn:aws:states:::"+service+":"), heartbeat)
	return out, cobj, err
}

// enteredAt is when the state a restored execution waits in was entered.
func (e *Engine) enteredAt(x *execution) time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range x.history {
		if ev.ID == x.resumeEntered {
			return ev.Timestamp
		}
	}
	return e.now()
}

// persistToken records the token a task waits on, with its state entry.
func (e *Engine) persistToken(x *execution, s *State, token string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var entered int64
	for i := len(x.history) - 1; i >= 0; i-- {
		if x.history[i].Type == "TaskStateEntered" && x.history[i].Details["name"] == s.name {
			entered = x.history[i].ID
			break
		}
	}
	e.Store.append(x.ARN, record{Token: &tokenRecord{State: s.name, Token: token, Entered: entered}})
}
