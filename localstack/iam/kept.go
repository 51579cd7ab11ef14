package iam

import "github.com/xborder/xborder/shared/workflow"

// Kept says why a role holds a grant its function's code never calls
// (Callable), by "function action" ("*" for every function): calls the
// Lambda service makes with the function's role. make iam-report prints
// the reason beside the grant; a grant neither callable nor kept fails
// localstack's TestEveryGrantIsOneTheCodeCanCall.
var Kept = func() map[string]string {
	tracing := "Tracing: ACTIVE — Lambda sends the function's X-Ray segments with its role (no X-Ray locally)"
	m := map[string]string{
		"* xray:PutTraceSegments":    tracing,
		"* xray:PutTelemetryRecords": tracing,
		workflow.FnMarkStalled + " sqs:SendMessage": "Lambda sends the asynchronous invocations that fail past their retries to the " +
			"OnFailure destination, mark-stalled-dlq, with the function's role",
		workflow.FnMarkStalled + " sqs:GetQueueAttributes": "comes with CDK's SqsDestination (grantSendMessages), on mark-stalled-dlq only",
		workflow.FnMarkStalled + " sqs:GetQueueUrl":        "comes with CDK's SqsDestination (grantSendMessages), on mark-stalled-dlq only",
	}
	// Lambda's SQS event source mapping polls with the function's role.
	for _, fn := range []string{workflow.FnStarter, workflow.FnCustomsWorker, workflow.FnWarehouseWorker, workflow.FnCallbackSender} {
		for _, a := range []string{"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			m[fn+" "+a] = "its event source mapping: Lambda's poller calls it with the function's role"
		}
	}
	return m
}()
