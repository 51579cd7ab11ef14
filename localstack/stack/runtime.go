package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xborder/xborder/localstack/apigw"
	"github.com/xborder/xborder/localstack/lambdart"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/reconciler"
	"github.com/xborder/xborder/shared/workflow"
)

// Pipeline is the running local pipeline.
type Pipeline struct {
	// API is the HTTP API (served by the caller, at Options.APIURL): the
	// api function's own main behind API Gateway's emulation (package
	// apigw).
	API             http.Handler
	StateMachineARN string
	Resources       *Resources
	// Payments is the payment simulator the payment steps pay through (its
	// ledger, for audits).
	Payments partnerhttp.PaymentLink
	// store reads the orders, for tests.
	store *dynamostore.Store
	wg    sync.WaitGroup
}

// Options configure the pipeline.
type Options struct {
	Clients
	// SFN is a Step Functions client of Engine's API.
	SFN    *awssfn.Client
	Engine *sfn.Engine
	ASL    string // the concrete definition (testdata/cdk/order-workflow.asl.json)
	// JWTSecret signs the local tokens the HTTP API's authorizer accepts.
	JWTSecret string
	Logger    *slog.Logger
	// PollWait is the pollers' long-poll wait (default 1 s).
	PollWait time.Duration
	// Pollers per event source mapping (default 5, as Lambda starts with).
	Pollers int
	// Endpoints are the partners the functions reach over HTTP (the
	// customs broker, the warehouse, China's E-Port and the payment
	// simulator; services.Partners starts them), and APIURL is where the
	// caller serves API, to which they post their notifications.
	Endpoints partnerlink.Config
	APIURL    string
	// APIRoutes are the HTTP API's routes (APIRoutes of the template).
	APIRoutes []apigw.Route
	// Processes run the thirteen functions, each its own main
	// (BuildFunctions, LaunchFunctions): there is no other wiring.
	Processes *Processes
	// MappingSQS, when set, is the SQS client the event source mapping of
	// function polls with. Lambda polls with the function's execution role:
	// the IAM-checking proxy sees those calls as the function's.
	MappingSQS func(function string) *sqs.Client
}

// Start starts the pipeline around the functions' processes — the HTTP
// API in front of the api, the engine's Lambda tasks, the SQS event source
// mappings, the status-change rule and the reconciler's schedule — until
// ctx ends (then Wait).
func Start(ctx context.Context, res *Resources, o Options) (*Pipeline, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	eps, err := o.Endpoints.Require("local", partnerlink.Payments)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if o.APIURL == "" || len(o.APIRoutes) == 0 {
		return nil, errors.New("stack: Options.APIURL and APIRoutes are required: the partners post their notifications to the API")
	}
	for _, fn := range workflow.Functions {
		if o.Processes.Pool(fn) == nil {
			return nil, fmt.Errorf("stack: no process for function %s (LaunchFunctions runs them all)", fn)
		}
	}
	store := dynamostore.New(o.DynamoDB, res.Table)
	p := &Pipeline{Resources: res, Payments: partnerhttp.PaymentLink{Endpoint: eps[0]}, store: store}
	o.Engine.Invoker = o.Processes
	o.Engine.Queues = sfn.SQSSender{Client: o.SQS}
	o.Engine.OnStatusChange = func(c sfn.StatusChange) {
		if c.Status == sfn.StatusSucceeded {
			return
		}
		// Not on the engine's goroutine: retrying must not hold the
		// execution (or a StopExecution call) up. It ends with ctx.
		go markStalled(ctx, stalledMarker(o.Processes.Pool(workflow.FnMarkStalled)), c, log)
	}
	sm, err := o.SFN.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String(workflow.StateMachineName),
		Definition: aws.String(o.ASL), RoleArn: aws.String("arn:aws:iam::000000000000:role/order-workflow")})
	if err != nil {
		// A restarted stack finds its machine: keep the stored one in step with the file.
		arn := "arn:aws:states:us-east-1:000000000000:stateMachine:" + workflow.StateMachineName
		if _, uerr := o.SFN.UpdateStateMachine(ctx, &awssfn.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(o.ASL)}); uerr != nil {
			return nil, fmt.Errorf("stack: state machine: %w", err)
		}
		sm = &awssfn.CreateStateMachineOutput{StateMachineArn: aws.String(arn)}
	}
	p.StateMachineARN = aws.ToString(sm.StateMachineArn)
	authn, err := auth.NewLocalHS256(o.JWTSecret)
	if err != nil {
		return nil, err
	}
	p.API = &apigw.Gateway{Function: o.Processes.Pool(workflow.FnAPI), Auth: authn, Routes: o.APIRoutes, Logger: log}
	// Executions that were running when the stack stopped (Engine.Load)
	// go on, now that their functions and queues are wired, before any
	// poller or reconcile could answer or start one.
	o.Engine.Resume()
	wait := o.PollWait
	if wait <= 0 {
		wait = time.Second
	}
	for _, m := range res.Mappings {
		handler, ok := o.Processes.Handler(m.Function)
		if !ok {
			return nil, fmt.Errorf("stack: no process for function %s of queue %s", m.Function, m.Queue)
		}
		n := o.Pollers
		if n <= 0 {
			n = 5
		}
		c := o.SQS
		if o.MappingSQS != nil {
			c = o.MappingSQS(m.Function)
		}
		for range n {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				poll(ctx, c, o.SQS, res.QueueURLs[m.Queue], m, handler, wait, log)
			}()
		}
	}
	// The schedule's rule invokes the reconciler's main.
	reconcilerPool := o.Processes.Pool(workflow.FnReconciler)
	reconcile := func(ctx context.Context, ev events.EventBridgeEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = reconcilerPool.Invoke(ctx, payload)
		return err
	}
	// On start, a catch-up run: every order still RECEIVED, however young
	// (a stop between intake and hand-over must not leave it waiting for
	// the schedule; starting an execution twice is harmless, it is named by
	// the order id), and every wait once (a stop may have lost a wake-up).
	catchUp, _ := json.Marshal(reconciler.CatchUp{CatchUp: true})
	if err := reconcile(ctx, events.EventBridgeEvent{Source: "xborder.local", DetailType: "Catch-up", Detail: catchUp}); err != nil {
		log.Warn("startup reconcile", "error", err.Error())
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ev := events.EventBridgeEvent{Source: "aws.events", DetailType: "Scheduled Event", Detail: json.RawMessage("{}"), Time: time.Now().UTC()}
				if err := reconcile(ctx, ev); err != nil {
					log.Error("reconcile", "error", err.Error())
				}
			}
		}
	}()
	return p, nil
}

// markStalled is the EventBridge rule that sends a failed execution's
// status change to mark-stalled, with the retry policy the template gives
// its target: a transient failure (the store unavailable) is retried with
// backoff until it succeeds or the stack stops; then, or for an event
// lost, the reconciler finds the failed execution and marks its order.
func markStalled(ctx context.Context, mark func(context.Context, events.EventBridgeEvent) (retry bool, err error), c sfn.StatusChange, log *slog.Logger) {
	detail, _ := json.Marshal(c)
	ev := events.EventBridgeEvent{Source: "aws.states", DetailType: "Step Functions Execution Status Change", Detail: detail}
	wait := 500 * time.Millisecond
	for {
		retry, err := mark(ctx, ev)
		if err == nil || !retry {
			if err != nil {
				log.Error("mark stalled", "execution", c.ExecutionARN, "error", err.Error())
			}
			return
		}
		log.Warn("mark stalled: retrying", "execution", c.ExecutionARN, "error", err.Error())
		select {
		case <-ctx.Done():
			return // the reconciler of the next start marks it
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// stalledMarker is the mark-stalled function's main as the status-change
// rule invokes it; retry reports an error worth trying again (a
// TransientError, or an environment lost to a timeout or an exit).
func stalledMarker(pool *lambdart.Pool) func(context.Context, events.EventBridgeEvent) (bool, error) {
	return func(ctx context.Context, ev events.EventBridgeEvent) (bool, error) {
		payload, err := json.Marshal(ev)
		if err != nil {
			return false, err
		}
		_, err = pool.Invoke(ctx, payload)
		var fe *lambdart.FunctionError
		if errors.As(err, &fe) {
			return fe.Type == "TransientError" || fe.Type == "Sandbox.Timedout" || fe.Type == "Runtime.ExitError", err
		}
		return err != nil, err
	}
}

// Wait blocks until the pollers and the reconciler have stopped.
func (p *Pipeline) Wait() { p.wg.Wait() }

// poll is a Lambda SQS event source mapping: receive up to the batch size,
// invoke the function with the SQS event through its real JSON contract,
// delete what succeeded. Failed messages come back after the queue's
// visibility timeout and, past its maxReceiveCount, go to its dead-letter
// queue — the emulator applies the queue's redrive policy. When the stack
// stops, what it took is handed back at once through local, the stack's
// own client: a convenience of the local stack, not a call Lambda makes
// with the function's role.
func poll(ctx context.Context, c, local *sqs.Client, url string, m Mapping, h lambda.Handler, wait time.Duration, log *slog.Logger) {
	seconds := int32(max(wait/time.Second, 1))
	// Lambda reads the queue's attributes (its visibility timeout, its
	// redrive policy) when the mapping starts, with the function's role.
	if _, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}}); err != nil && ctx.Err() == nil {
		log.Warn("the event source mapping cannot read its queue's attributes", "queue", m.Queue, "function", m.Function, "error", err.Error())
	}
	for ctx.Err() == nil {
		// The long poll is not cut short when the stack stops: an abandoned
		// one would still take a message sent meanwhile and hide it for the
		// visibility timeout. It ends within its wait; what it brings back
		// after the stop is handed back at once.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Duration(seconds)*time.Second+10*time.Second)
		out, err := c.ReceiveMessage(rctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: int32(min(m.BatchSize, 10)),
			WaitTimeSeconds: seconds, MessageAttributeNames: []string{"All"},
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("receive", "queue", m.Queue, "error", err.Error())
				time.Sleep(time.Second)
			}
			continue
		}
		if len(out.Messages) == 0 {
			continue
		}
		if ctx.Err() != nil {
			var back []sqstypes.ChangeMessageVisibilityBatchRequestEntry
			for i, msg := range out.Messages {
				back = append(back, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
			}
			_, _ = local.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: back})
			return
		}
		ev := events.SQSEvent{}
		for _, msg := range out.Messages {
			ev.Records = append(ev.Records, events.SQSMessage{MessageId: aws.ToString(msg.MessageId), ReceiptHandle: aws.ToString(msg.ReceiptHandle),
				Body: aws.ToString(msg.Body), Attributes: msg.Attributes, Md5OfBody: aws.ToString(msg.MD5OfBody), EventSource: "aws:sqs",
				EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:" + m.Queue, AWSRegion: "us-east-1"})
		}
		payload, _ := json.Marshal(ev)
		// The function finishes its batch even when the stack is stopping.
		resp, err := h.Invoke(context.WithoutCancel(ctx), payload)
		failed := map[string]bool{}
		if err != nil {
			log.Error("function failed", "function", m.Function, "error", err.Error())
			continue // the whole batch comes back
		}
		if m.ReportBatchFailures {
			var r events.SQSEventResponse
			_ = json.Unmarshal(resp, &r)
			for _, f := range r.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
		}
		var del []sqstypes.DeleteMessageBatchRequestEntry
		var back []sqstypes.ChangeMessageVisibilityBatchRequestEntry
		for i, msg := range out.Messages {
			if !failed[aws.ToString(msg.MessageId)] {
				del = append(del, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
			} else if ctx.Err() != nil {
				back = append(back, sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: msg.ReceiptHandle})
			}
		}
		if len(back) > 0 {
			// Stopping: hand the unfinished messages back at once instead of
			// hiding them for the visibility timeout.
			_, _ = local.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: back})
		}
		if len(del) > 0 {
			if _, err := c.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del}); err != nil {
				log.Warn("delete", "queue", m.Queue, "error", err.Error())
			}
		}
	}
}
