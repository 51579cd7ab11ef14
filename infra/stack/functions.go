package stack

import (
	"maps"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambdadestinations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/workflow"
)

// functionTimeouts: the API answers fast, steps are short, workers call out.
var functionTimeouts = map[string]int{
	workflow.FnAPI: apiTimeoutSeconds, workflow.FnCustomsWorker: workerTimeoutSeconds, workflow.FnWarehouseWorker: workerTimeoutSeconds,
	workflow.FnCallbackSender: partnerCallbackTimout,
}

// AllFunctions lists every Lambda, by its folder under functions/.
var AllFunctions = workflow.Functions

type functions struct {
	st  awscdk.Stack
	fn  map[string]awslambda.Function
	msg *messaging
}

func timeoutOf(name string) int {
	if t, ok := functionTimeouts[name]; ok {
		return t
	}
	return stepTimeoutSeconds
}

// newFunctions makes the Lambdas (provided.al2023, arm64, X-Ray, a month of
// logs) with the least each needs: table access, queues, topic. The api
// Lambda runs at most apiConcurrency at once (DefaultAPIConcurrency says
// why): the others share the rest of the account's concurrency.
func newFunctions(st awscdk.Stack, binDir string, removal awscdk.RemovalPolicy, d *data, m *messaging, sandbox string, apiConcurrency int) *functions {
	f := &functions{st: st, fn: map[string]awslambda.Function{}, msg: m}
	for _, name := range AllFunctions {
		id := pascal(name)
		logs := awslogs.NewLogGroup(st, jsii.String(id+"Logs"), &awslogs.LogGroupProps{
			Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: removal,
		})
		env := map[string]*string{workflow.EnvTable: d.table.TableName()}
		if sandbox != "" {
			env["XBORDER_SANDBOX"] = jsii.String(sandbox)
		}
		var reserved *float64
		if name == workflow.FnAPI {
			reserved = jsii.Number(float64(apiConcurrency))
		}
		fn := awslambda.NewFunction(st, jsii.String(id+"Function"), &awslambda.FunctionProps{
			Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
			Architecture: awslambda.Architecture_ARM_64(),
			Handler:      jsii.String("bootstrap"),
			Code:         awslambda.Code_FromAsset(jsii.String(codeDir(binDir, name)), nil),
			MemorySize:   jsii.Number(256),
			Timeout:      awscdk.Duration_Seconds(jsii.Number(float64(timeoutOf(name)))),
			Tracing:      awslambda.Tracing_ACTIVE,
			LogGroup:     logs,
			Environment:  &env,
			Description:  jsii.String("xborder " + name),

			ReservedConcurrentExecutions: reserved,
		})
		awscdk.Tags_Of(fn).Add(jsii.String("xborder:function"), jsii.String(name), nil)
		f.fn[name] = fn
	}
	publishers := []string{workflow.FnReserveStock, workflow.FnAuthorizePayment, workflow.FnCapturePayment, workflow.FnMarkDispatched,
		workflow.FnCompensate, workflow.FnMarkStalled, workflow.FnCustomsWorker, workflow.FnWarehouseWorker}
	for _, name := range append(publishers, workflow.FnScreen) {
		f.fn[name].AddEnvironment(jsii.String(workflow.EnvTopicARN), m.topic.TopicArn(), nil)
	}
	for _, name := range publishers {
		m.topic.GrantPublish(f.fn[name])
	}
	// Each function's table actions (grants.go). Screen among them reads
	// the order and, on a hit, records the matched entry on it: no delete,
	// no batch write.
	f.grantTable(d)
	// The reconciler marks the orders of executions that failed unseen
	// STALLED: it writes them and announces the change.
	f.fn[workflow.FnReconciler].AddEnvironment(jsii.String(workflow.EnvTopicARN), m.topic.TopicArn(), nil)
	m.topic.GrantPublish(f.fn[workflow.FnReconciler])
	accepted := m.queues[workflow.QueueOrdersAccepted]
	for _, name := range []string{workflow.FnAPI, workflow.FnReconciler} {
		f.fn[name].AddEnvironment(jsii.String(workflow.EnvQueueURL), accepted.QueueUrl(), nil)
		sendTo(f.fn[name], accepted)
	}
	f.consume(workflow.FnStarter, workflow.QueueOrdersAccepted, 10)
	f.consume(workflow.FnCustomsWorker, workflow.QueueCustoms, 5)
	f.consume(workflow.FnWarehouseWorker, workflow.QueueWarehouse, 5)
	f.consume(workflow.FnCallbackSender, workflow.QueuePartnerCallbacks, 5)
	// The reconciler wakes the customs steps waiting for China's customs.
	customs := m.queues[workflow.QueueCustoms]
	f.fn[workflow.FnReconciler].AddEnvironment(jsii.String(workflow.EnvCustomsQueueURL), customs.QueueUrl(), nil)
	sendTo(f.fn[workflow.FnReconciler], customs)
	f.wireCallbacks(d)
	awsevents.NewRule(st, jsii.String("ReconcileEveryMinute"), &awsevents.RuleProps{
		Schedule: awsevents.Schedule_Rate(awscdk.Duration_Minutes(jsii.Number(1))),
		Targets:  &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.fn[workflow.FnReconciler], nil)},
	})
	return f
}

// wireCallbacks gives the callback-sender, besides its event source, the
// visibility changes of its backoff on that queue, the orders
// (it reads them and records each attempt) and the partner directory (a
// Secrets Manager secret: it holds the partners' signing secrets).
func (f *functions) wireCallbacks(d *data) {
	fn, q := f.fn[workflow.FnCallbackSender], f.msg.queues[workflow.QueuePartnerCallbacks]
	fn.AddEnvironment(jsii.String("CALLBACK_QUEUE_URL"), q.QueueUrl(), nil)
	q.Grant(fn, jsii.String("sqs:ChangeMessageVisibility"))
	fn.AddEnvironment(jsii.String("PARTNERS_SOURCE"), jsii.String("secretsmanager:"+PartnersSecret), nil)
	f.readSecret(fn, PartnersSecret)
}

// Secrets the partner functions read at cold start, created outside the
// stack (see infra/README.md): the workflow's partner endpoints (their
// URLs and signing secrets, partnerlink.Config) and the enterprises China's
// declarations name.
const (
	PartnerEndpointsSecret = "xborder/partner-endpoints"
	ChinaDeclarantSecret   = "xborder/china-declarant"
)

// wirePartners gives the functions that reach the workflow's partners —
// the customs-worker (broker, China's E-Port), the warehouse-worker and
// the api (which verifies their notifications) — their endpoints, the
// API's URL to tell partners where to post their notifications, and each
// worker its own queue, to ask a partner again later about what it answered
// pending.
func (f *functions) wirePartners(apiURL *string) {
	for _, name := range []string{workflow.FnAPI, workflow.FnCustomsWorker, workflow.FnWarehouseWorker} {
		f.fn[name].AddEnvironment(jsii.String("PARTNER_ENDPOINTS_SOURCE"), jsii.String("secretsmanager:"+PartnerEndpointsSecret), nil)
		f.readSecret(f.fn[name], PartnerEndpointsSecret)
	}
	for name, queue := range map[string]string{workflow.FnCustomsWorker: workflow.QueueCustoms, workflow.FnWarehouseWorker: workflow.QueueWarehouse} {
		fn, q := f.fn[name], f.msg.queues[queue]
		fn.AddEnvironment(jsii.String("API_URL"), apiURL, nil)
		env := workflow.EnvCustomsQueueURL
		if queue == workflow.QueueWarehouse {
			env = workflow.EnvWarehouseQueueURL
		}
		fn.AddEnvironment(jsii.String(env), q.QueueUrl(), nil)
		sendTo(fn, q)
	}
	f.fn[workflow.FnCustomsWorker].AddEnvironment(jsii.String("CHINA_DECLARANT_SOURCE"), jsii.String("secretsmanager:"+ChinaDeclarantSecret), nil)
	f.readSecret(f.fn[workflow.FnCustomsWorker], ChinaDeclarantSecret)
}

// PaymentFunctions are the Lambdas that move money.
var PaymentFunctions = []string{workflow.FnAuthorizePayment, workflow.FnCapturePayment, workflow.FnCompensate}

// wirePayments tells the payment Lambdas their provider; for Stripe, where
// the API key is (a Secrets Manager secret they may read, never the key
// itself in the template or the environment); for the payment simulator,
// which only a sandbox deployment may use, its endpoint.
func (f *functions) wirePayments(provider, secretName, sandbox string) {
	if provider == "" {
		provider = "stripe"
	}
	switch {
	case provider == "simulator" && sandbox == "":
		panic("stack: paymentProvider=simulator moves no money: name the deployment a sandbox (context sandbox=<name>)")
	case provider == "simulator":
		for _, name := range PaymentFunctions {
			f.fn[name].AddEnvironment(jsii.String("PARTNER_ENDPOINTS_SOURCE"), jsii.String("secretsmanager:"+PartnerEndpointsSecret), nil)
			f.readSecret(f.fn[name], PartnerEndpointsSecret)
		}
	case provider != "stripe":
		panic("stack: paymentProvider must be stripe or simulator, not " + provider)
	}
	if secretName == "" {
		secretName = "xborder/stripe"
	}
	for _, name := range PaymentFunctions {
		f.fn[name].AddEnvironment(jsii.String("PAYMENT_PROVIDER"), jsii.String(provider), nil)
		if provider == "stripe" {
			f.fn[name].AddEnvironment(jsii.String("STRIPE_SECRET_KEY_SECRET"), jsii.String(secretName), nil)
			f.readSecret(f.fn[name], secretName)
		}
	}
}

// wireWorkflow gives the functions what they need of the state machine.
func (f *functions) wireWorkflow(wf *workflowParts) {
	f.fn[workflow.FnStarter].AddEnvironment(jsii.String(workflow.EnvStateMachineARN), wf.machine.StateMachineArn(), nil)
	wf.machine.GrantStartExecution(f.fn[workflow.FnStarter])
	for _, name := range []string{workflow.FnCustomsWorker, workflow.FnWarehouseWorker} {
		wf.machine.GrantTaskResponse(f.fn[name])
	}
	// The api fails the task a cancelled order waits on; it never succeeds
	// one nor beats its heart.
	wf.machine.Grant(f.fn[workflow.FnAPI], jsii.String("states:SendTaskFailure"))
	f.wireOps(wf)
	awsevents.NewRule(f.st, jsii.String("ExecutionStalled"), &awsevents.RuleProps{
		EventPattern: &awsevents.EventPattern{
			Source:     jsii.Strings("aws.states"),
			DetailType: jsii.Strings("Step Functions Execution Status Change"),
			Detail: &map[string]interface{}{
				"status":          []string{"FAILED", "TIMED_OUT", "ABORTED"},
				"stateMachineArn": []*string{wf.machine.StateMachineArn()},
			},
		},
		// Delivery is retried for a day; what still fails (and what the
		// function itself fails on, past Lambda's two asynchronous retries)
		// lands in mark-stalled-dlq. The reconciler marks those orders too.
		Targets: &[]awsevents.IRuleTarget{awseventstargets.NewLambdaFunction(f.fn[workflow.FnMarkStalled], &awseventstargets.LambdaFunctionProps{
			DeadLetterQueue: f.msg.stalledDLQ,
			RetryAttempts:   jsii.Number(185),
			MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
		})},
	})
	f.fn[workflow.FnMarkStalled].ConfigureAsyncInvoke(&awslambda.EventInvokeConfigOptions{
		RetryAttempts: jsii.Number(2),
		OnFailure:     awslambdadestinations.NewSqsDestination(f.msg.stalledDLQ),
	})
	// The reconciler lists the executions that failed and reads why.
	rec := f.fn[workflow.FnReconciler]
	rec.AddEnvironment(jsii.String(workflow.EnvStateMachineARN), wf.machine.StateMachineArn(), nil)
	wf.machine.Grant(rec, jsii.String("states:ListExecutions"))
	wf.machine.GrantExecution(rec, jsii.String("states:DescribeExecution"))
}

// wireOps gives the api Lambda what the ops API needs: the state machine's
// executions (described, their history read, redriven; the api depends on
// the machine as the starter does, never the other way round) and the
// dead-letter queues (peeked, replayed to their source queue, deleted).
func (f *functions) wireOps(wf *workflowParts) {
	api := f.fn[workflow.FnAPI]
	api.AddEnvironment(jsii.String(workflow.EnvStateMachineARN), wf.machine.StateMachineArn(), nil)
	wf.machine.GrantExecution(api, jsii.String("states:DescribeExecution"), jsii.String("states:GetExecutionHistory"),
		jsii.String("states:RedriveExecution"))
	pairs := map[string]any{}
	// In a fixed order: the policy's statements follow it.
	for _, name := range slices.Sorted(maps.Keys(f.msg.queues)) {
		q, dlq := f.msg.queues[name], f.msg.dlqs[name]
		pairs[name] = map[string]any{"source": q.QueueUrl(), "dlq": dlq.QueueUrl()}
		dlq.Grant(api, jsii.String("sqs:ReceiveMessage"), jsii.String("sqs:ChangeMessageVisibility"), jsii.String("sqs:DeleteMessage"),
			jsii.String("sqs:GetQueueAttributes"))
		sendTo(api, q)
	}
	api.AddEnvironment(jsii.String(httpapi.EnvDeadLetters), f.st.ToJsonString(pairs, nil), nil)
}
