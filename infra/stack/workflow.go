package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	sfn "github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctionstasks"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/workflow"
)

type workflowParts struct {
	machine sfn.StateMachine
}

// retryTransient retries the errors worth retrying, with backoff and full jitter.
func retryTransient(t sfn.TaskStateBase, extra ...string) {
	t.AddRetry(&sfn.RetryProps{
		Errors:         jsii.Strings(append(append([]string{}, workflow.TransientErrors...), extra...)...),
		Interval:       awscdk.Duration_Seconds(jsii.Number(workflow.RetryIntervalSeconds)),
		MaxAttempts:    jsii.Number(workflow.RetryMaxAttempts),
		BackoffRate:    jsii.Number(workflow.RetryBackoffRate),
		MaxDelay:       awscdk.Duration_Seconds(jsii.Number(workflow.RetryMaxDelaySeconds)),
		JitterStrategy: sfn.JitterType_FULL,
	})
}

// newWorkflow is the order workflow (see package workflow for the picture):
// each step retries transient errors and hands business errors to Compensate;
// no Catch covers what is left, so exhausted retries fail the execution and
// the order is STALLED, to be redriven or cancelled.
func newWorkflow(st awscdk.Stack, f *functions, m *messaging, removal awscdk.RemovalPolicy) *workflowParts {
	payload := sfn.TaskInput_FromObject(&map[string]interface{}{
		"orderId":    sfn.JsonPath_StringAt(jsii.String("$.orderId")),
		"retryCount": sfn.JsonPath_NumberAt(jsii.String("$$.State.RetryCount")),
	})
	compensate := awsstepfunctionstasks.NewLambdaInvoke(st, jsii.String(workflow.StateCompensate), &awsstepfunctionstasks.LambdaInvokeProps{
		LambdaFunction:      f.fn[workflow.FnCompensate],
		PayloadResponseOnly: jsii.Bool(true),
		Payload: sfn.TaskInput_FromObject(&map[string]interface{}{
			"orderId": sfn.JsonPath_StringAt(jsii.String("$.orderId")),
			"error":   sfn.JsonPath_ObjectAt(jsii.String("$.error")),
		}),
		ResultPath:               jsii.String("$.compensation"),
		RetryOnServiceExceptions: jsii.Bool(false),
	})
	retryTransient(compensate)
	compensate.Next(sfn.NewSucceed(st, jsii.String(workflow.StateCompensated), nil))

	catch := func(t sfn.TaskStateBase) {
		t.AddCatch(compensate, &sfn.CatchProps{Errors: jsii.Strings(workflow.BusinessErrors...), ResultPath: jsii.String("$.error")})
	}
	lambdaStep := func(state, fn, result string) sfn.TaskStateBase {
		t := awsstepfunctionstasks.NewLambdaInvoke(st, jsii.String(state), &awsstepfunctionstasks.LambdaInvokeProps{
			LambdaFunction: f.fn[fn], PayloadResponseOnly: jsii.Bool(true), Payload: payload, ResultPath: jsii.String(result),
			RetryOnServiceExceptions: jsii.Bool(false), // retryTransient covers them, once
		})
		retryTransient(t)
		catch(t)
		return t
	}
	waitStep := func(state, queue, result string, heartbeat, timeout int) sfn.TaskStateBase {
		t := awsstepfunctionstasks.NewSqsSendMessage(st, jsii.String(state), &awsstepfunctionstasks.SqsSendMessageProps{
			Queue:              m.queues[queue],
			IntegrationPattern: sfn.IntegrationPattern_WAIT_FOR_TASK_TOKEN,
			MessageBody: sfn.TaskInput_FromObject(&map[string]interface{}{
				"orderId":   sfn.JsonPath_StringAt(jsii.String("$.orderId")),
				"taskToken": sfn.JsonPath_TaskToken(),
			}),
			HeartbeatTimeout: sfn.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(float64(heartbeat)))),
			TaskTimeout:      sfn.Timeout_Duration(awscdk.Duration_Seconds(jsii.Number(float64(timeout)))),
			ResultPath:       jsii.String(result),
		})
		retryTransient(t, "SQS.SdkClientException", "SQS.AmazonSQSException")
		catch(t)
		return t
	}

	chain := lambdaStep(workflow.StateScreen, workflow.FnScreen, "$.screen").
		Next(lambdaStep(workflow.StateReserveStock, workflow.FnReserveStock, "$.reserveStock")).
		Next(lambdaStep(workflow.StateAuthorizePayment, workflow.FnAuthorizePayment, "$.authorizePayment")).
		Next(waitStep(workflow.StateCustoms, workflow.QueueCustoms, "$.customs", workflow.CustomsHeartbeatSeconds, workflow.CustomsTimeoutSeconds)).
		Next(lambdaStep(workflow.StateCapturePayment, workflow.FnCapturePayment, "$.capturePayment")).
		Next(waitStep(workflow.StateDispatch, workflow.QueueWarehouse, "$.dispatch", workflow.DispatchHeartbeatSeconds, workflow.DispatchTimeoutSeconds)).
		Next(lambdaStep(workflow.StateMarkDispatched, workflow.FnMarkDispatched, "$.markDispatched")).
		Next(sfn.NewSucceed(st, jsii.String(workflow.StateDispatched), nil))

	logs := awslogs.NewLogGroup(st, jsii.String("WorkflowLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: removal,
	})
	machine := sfn.NewStateMachine(st, jsii.String("OrderWorkflow"), &sfn.StateMachineProps{
		StateMachineType: sfn.StateMachineType_STANDARD,
		DefinitionBody:   sfn.DefinitionBody_FromChainable(chain),
		QueryLanguage:    sfn.QueryLanguage_JSON_PATH,
		TracingEnabled:   jsii.Bool(true),
		Logs:             &sfn.LogOptions{Destination: logs, Level: sfn.LogLevel_ALL, IncludeExecutionData: jsii.Bool(true)},
		Comment:          jsii.String("xborder order workflow: screen, reserve stock, authorize, customs, capture, dispatch; compensation on business failure"),
	})
	awscdk.Tags_Of(machine).Add(jsii.String("xborder:stateMachine"), jsii.String(workflow.StateMachineName), nil)
	return &workflowParts{machine: machine}
}
