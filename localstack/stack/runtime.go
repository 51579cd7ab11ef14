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
	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/reconciler"
	"github.com/xborder/xborder/shared/starter"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/workers"
	"github.com/xborder/xborder/shared/workflow"
)

// Pipeline is the running local pipeline.
type Pipeline struct {
	// API is the HTTP API (served by the caller, at Options.APIURL): the
	// api function's own main as a process behind API Gateway's emulation
	// (package apigw) when Options.Processes has it, in-process otherwise.
	API             http.Handler
	StateMachineARN string
	Resources       *Resources
	Steps           *steps.Steps
	// Payments is the payment simulator the steps pay through.
	Payments partnerhttp.PaymentLink
	store    *dynamostore.Store
	wg       sync.WaitGroup
}

// Options configure the pipeline.
type Options struct {
	Clients
	// SFN is a Step Functions client of Engine's API (starter, workers and
	// the API's cancellation answer task tokens through it, as in AWS).
	SFN       *awssfn.Client
	Engine    *sfn.Engine
	ASL       string // the concrete definition (testdata/cdk/order-workflow.asl.json)
	JWTSecret string
	Logger    *slog.Logger
	// PollWait is the pollers' long-poll wait (default 1 s).
	PollWait time.Duration
	// Pollers per event source mapping (default 5, as Lambda starts with).
	Pollers int
	// Partners are told of their orders' status changes by the
	// callback-sender (none when nil).
	Partners *partner.Directory
	// Catalogue gives partner formats the HS codes, origins and weights
	// their payloads lack (empty when nil).
	Catalogue *partner.Catalogue
	// CallbackBaseDelay is the callback-sender's backoff unit
	// (callbacks.DefaultBaseDelay when zero).
	CallbackBaseDelay time.Duration
	// Endpoints are the partners the workflow reaches over HTTP — the
	// customs broker, the warehouse, China's E-Port and the payment
	// simulator (services.Partners starts them) — and APIURL is where the
	// caller serves API, to which they post their notifications.
	Endpoints partnerlink.Config
	APIURL    string
	// APIRoutes are the HTTP API's routes (APIRoutes of the template), for
	// the api as a process.
	APIRoutes []apigw.Route
	// Processes, when set, run the functions they have a pool for — the
	// workflow's Lambda steps and the SQS consumers — as processes of their
	// own built mains (BuildFunctions, StartProcesses); the others run
	// in-process.
	Processes *Processes
}

// Start wires the functions in-process and starts the pollers and the
// reconciler; they stop when ctx ends (then Wait).
func Start(ctx context.Context, res *Resources, o Options) (*Pipeline, error) {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	eps, err := o.Endpoints.Require("local", partnerlink.CustomsBroker, partnerlink.Warehouse, partnerlink.ChinaEPort, partnerlink.Payments)
	if err != nil {
		return nil, fmt.Errorf("stack: %w", err)
	}
	if o.APIURL == "" {
		return nil, errors.New("stack: Options.APIURL is required: the partners post their notifications to the API")
	}
	pay := partnerhttp.PaymentLink{Endpoint: eps[3]}
	store := dynamostore.New(o.DynamoDB, res.Table)
	s := &steps.Steps{Orders: store, Stock: dynamostore.NewStock(o.DynamoDB, res.Table), Payments: pay,
		Events: orderevents.Publisher{Client: o.SNS, TopicARN: res.TopicARN}, Logger: log}
	o.Engine.Invoker = StepFunctions(s)
	if o.Processes != nil {
		o.Engine.Invoker = processesFirst{o.Processes, o.Engine.Invoker}
	}
	o.Engine.Queues = sfn.SQSSender{Client: o.SQS}
	p := &Pipeline{}
	o.Engine.OnStatusChange = func(c sfn.StatusChange) {
		if c.Status == sfn.StatusSucceeded {
			return
		}
		// Not on the engine's goroutine: retrying must not hold the
		// execution (or a StopExecution call) up. It ends with ctx.
		go markStalled(ctx, stalledMarker(s, o.Processes), c, log)
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
	tasks := stepfunctions.Tasks{Client: o.SFN}
	accepted := queue.Accepted{Sender: queue.Sender{Client: o.SQS, URL: res.QueueURLs[workflow.QueueOrdersAccepted]}}
	partners := o.Partners
	if partners == nil {
		if partners, err = partner.Parse([]byte(`{"partners": []}`)); err != nil {
			return nil, err
		}
	}
	sender := &callbacks.Sender{Orders: store, Partners: partners, Queue: o.SQS, QueueURL: res.QueueURLs[workflow.QueuePartnerCallbacks],
		BaseDelay: o.CallbackBaseDelay, Logger: log}
	customsQueue := queue.Tasks{Sender: queue.Sender{Client: o.SQS, URL: res.QueueURLs[workflow.QueueCustoms]}}
	warehouseQueue := queue.Tasks{Sender: queue.Sender{Client: o.SQS, URL: res.QueueURLs[workflow.QueueWarehouse]}}
	recorder := &receipts.Recorder{Orders: store, Logger: log, Wake: customsQueue}
	// (the reconciler below wakes each minute the waits that are due, and every wait at start)
	customsWorker := workers.NewCustoms(s, tasks, partnerhttp.Broker{Endpoint: eps[0], CallbackURL: partnerlink.CallbackURL(o.APIURL, partnerlink.CustomsBroker)}, log)
	customsWorker.SetEPort(partnerhttp.EPortLink{Endpoint: eps[2], CallbackURL: partnerlink.CallbackURL(o.APIURL, partnerlink.ChinaEPort)})
	customsWorker.SetRecheck(customsQueue)
	dispatch := workers.NewDispatch(s, tasks, partnerhttp.WarehouseLink{Endpoint: eps[1], CallbackURL: partnerlink.CallbackURL(o.APIURL, partnerlink.Warehouse)}, log)
	dispatch.SetRecheck(warehouseQueue)
	consumers := map[string]any{
		workflow.FnStarter:         (&starter.Handler{Executions: o.SFN, StateMachineARN: aws.ToString(sm.StateMachineArn), Orders: store, Logger: log}).Handle,
		workflow.FnCustomsWorker:   customsWorker.Handle,
		workflow.FnWarehouseWorker: dispatch.Handle,
		workflow.FnCallbackSender:  sender.Handle,
	}
	authn, err := auth.NewLocalHS256(o.JWTSecret)
	if err != nil {
		return nil, err
	}
	secrets := o.Endpoints.Secrets()
	delete(secrets, partnerlink.Payments) // the payment provider notifies nothing
	api := httpapi.New(httpapi.Config{Store: store, Auth: authn, Tasks: tasks, Workflow: accepted,
		Quoter: customs.Default(), Quotes: store, Partners: partners, Catalogue: o.Catalogue, Logger: log,
		Executions: o.SFN, StateMachineARN: aws.ToString(sm.StateMachineArn), Queues: o.SQS, DeadLetters: deadLetters(res.QueueURLs),
		Receipts:     recorder,
		PartnerLinks: httpapi.PartnerLinks{Secrets: secrets, Customs: customsQueue, Warehouse: warehouseQueue}})
	p.API, p.StateMachineARN, p.Resources, p.Steps, p.Payments, p.store = api, aws.ToString(sm.StateMachineArn), res, s, pay, store
	if pool := o.Processes.Pool(workflow.FnAPI); pool != nil {
		if len(o.APIRoutes) == 0 {
			return nil, errors.New("stack: the api as a process needs Options.APIRoutes (APIRoutes of the template)")
		}
		p.API = &apigw.Gateway{Function: pool, Auth: authn, Routes: o.APIRoutes, Logger: log}
	}
	// Executions that were running when the stack stopped (Engine.Load)
	// go on, now that their functions and queues are wired, before any
	// poller or reconcile could answer or start one.
	o.Engine.Resume()
	wait := o.PollWait
	if wait <= 0 {
		wait = time.Second
	}
	for _, m := range res.Mappings {
		h, ok := consumers[m.Function]
		if !ok {
			return nil, fmt.Errorf("stack: no in-process function %s for queue %s", m.Function, m.Queue)
		}
		n := o.Pollers
		if n <= 0 {
			n = 5
		}
		handler := lambda.NewHandler(h)
		if o.Processes != nil {
			if ph, ok := o.Processes.Handler(m.Function); ok {
				handler = ph // the function's own main, as a process
			}
		}
		for range n {
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				poll(ctx, o.SQS, res.QueueURLs[m.Queue], m, handler, wait, log)
			}()
		}
	}
	rec := &reconciler.Handler{Orders: store, Workflow: accepted, Customs: customsQueue, Logger: log,
		Executions: o.SFN, StateMachineARN: p.StateMachineARN, Stalls: s}
	// The schedule's rule: the reconciler's own main as a process when
	// Processes has it, in-process otherwise.
	reconcile := func(ctx context.Context, ev events.EventBridgeEvent) error {
		_, err := rec.Reconcile(ctx, ev)
		return err
	}
	if pool := o.Processes.Pool(workflow.FnReconciler); pool != nil {
		reconcile = func(ctx context.Context, ev events.EventBridgeEvent) error {
			payload, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			_, err = pool.Invoke(ctx, payload)
			return err
		}
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

// stalledMarker is the mark-stalled function as the status-change rule
// invokes it: its own main as a process when procs has it, in-process
// otherwise; retry reports an error worth trying again (a TransientError,
// or an environment lost to a timeout or an exit).
func stalledMarker(s *steps.Steps, procs *Processes) func(context.Context, events.EventBridgeEvent) (bool, error) {
	if procs != nil {
		if pool := procs.Pool(workflow.FnMarkStalled); pool != nil {
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
	}
	return func(ctx context.Context, ev events.EventBridgeEvent) (bool, error) {
		_, err := s.MarkStalled(ctx, ev)
		var transient *workflow.TransientError
		return errors.As(err, &transient), err
	}
}

// deadLetters pairs each queue with its dead-letter queue, which the
// template names <queue>-dlq, for the ops API.
func deadLetters(urls map[string]string) map[string]httpapi.QueuePair {
	out := map[string]httpapi.QueuePair{}
	for name, url := range urls {
		if dlq, ok := urls[name+"-dlq"]; ok {
			out[name] = httpapi.QueuePair{SourceURL: url, DLQURL: dlq}
		}
	}
	return out
}

// StepFunctions registers the workflow's Lambda steps in-process, under the
// function names the state machine's definition invokes.
func StepFunctions(s *steps.Steps) *sfn.Functions {
	fns := &sfn.Functions{}
	fns.Register(workflow.FnScreen, s.Screen)
	fns.Register(workflow.FnReserveStock, s.ReserveStock)
	fns.Register(workflow.FnAuthorizePayment, s.AuthorizePayment)
	fns.Register(workflow.FnCapturePayment, s.CapturePayment)
	fns.Register(workflow.FnMarkDispatched, s.MarkDispatched)
	fns.Register(workflow.FnCompensate, s.Compensate)
	return fns
}

// Wait blocks until the pollers and the reconciler have stopped.
func (p *Pipeline) Wait() { p.wg.Wait() }

// poll is a Lambda SQS event source mapping: receive up to the batch size,
// invoke the function with the SQS event through its real JSON contract,
// delete what succeeded. Failed messages come back after the queue's
// visibility timeout and, past its maxReceiveCount, go to its dead-letter
// queue — the emulator applies the queue's redrive policy.
func poll(ctx context.Context, c *sqs.Client, url string, m Mapping, h lambda.Handler, wait time.Duration, log *slog.Logger) {
	seconds := int32(max(wait/time.Second, 1))
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
			_, _ = c.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: back})
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
			_, _ = c.ChangeMessageVisibilityBatch(context.Background(), &sqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(url), Entries: back})
		}
		if len(del) > 0 {
			if _, err := c.DeleteMessageBatch(context.Background(), &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(url), Entries: del}); err != nil {
				log.Warn("delete", "queue", m.Queue, "error", err.Error())
			}
		}
	}
}
