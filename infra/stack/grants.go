package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/workflow"
)

// Least privilege, call by call. CDK's table and secret grants give more
// than the code calls (GrantReadWriteData: batch writes, deletes, scans,
// streams, on every index; GrantRead: DescribeSecret; GrantSendMessages:
// GetQueueAttributes and GetQueueUrl; SqsEventSource: visibility changes
// and queue URLs). Each role here gets the actions its function's code can
// call — the AWS operations its binary links (localstack's
// TestEveryGrantIsOneTheCodeCanCall checks them against the built mains,
// and make iam-report against the calls of the end-to-end tests) — on the
// resources it names. A transaction's Put and Update items are authorized
// as PutItem and UpdateItem, and shared/dynamostore writes no other kind.

// stepTableActions are what a workflow step reads and writes of the table
// (shared/steps through shared/dynamostore: the order, its history, the
// idempotency records, the references).
var stepTableActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"}

// tableActions are, per function, its DynamoDB actions on the table.
var tableActions = map[string][]string{
	workflow.FnAPI: append([]string{"dynamodb:BatchGetItem"}, stepTableActions...),
	// The starter starts no execution for an order the table does not hold.
	workflow.FnStarter:          {"dynamodb:GetItem", "dynamodb:Query"},
	workflow.FnScreen:           stepTableActions,
	workflow.FnReserveStock:     append([]string{"dynamodb:BatchGetItem"}, stepTableActions...), // the SKUs' stock shards
	workflow.FnAuthorizePayment: stepTableActions,
	workflow.FnCapturePayment:   stepTableActions,
	workflow.FnMarkDispatched:   stepTableActions,
	workflow.FnCompensate:       stepTableActions,
	workflow.FnMarkStalled:      stepTableActions,
	workflow.FnWarehouseWorker:  stepTableActions,
	workflow.FnCallbackSender:   stepTableActions,
	// The customs-worker and the reconciler clear an order's due time
	// (the wait for China's customs) when it ends.
	workflow.FnCustomsWorker: append([]string{"dynamodb:DeleteItem"}, stepTableActions...),
	workflow.FnReconciler:    append([]string{"dynamodb:DeleteItem"}, stepTableActions...),
}

// indexReaders query the table's indexes (shared/dynamostore's lists: a
// customer's orders and the orders by status for the api, the orders due
// and the stalled for the reconciler). No one else may.
var indexReaders = []string{workflow.FnAPI, workflow.FnReconciler}

// grantTable gives each function its actions on the table, and Query on
// its indexes to the index readers.
func (f *functions) grantTable(d *data) {
	for _, name := range AllFunctions {
		actions, ok := tableActions[name]
		if !ok {
			panic("stack: no table actions for function " + name)
		}
		allow(f.fn[name], actions, d.table.TableArn())
	}
	for _, name := range indexReaders {
		allow(f.fn[name], []string{"dynamodb:Query"}, jsii.String(*d.table.TableArn()+"/index/*"))
	}
}

// allow adds to fn's role a statement allowing actions on resources.
func allow(fn awslambda.Function, actions []string, resources ...*string) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions: jsii.Strings(actions...), Resources: &resources,
	}))
}

// readSecret lets fn read the secret name (created outside the stack):
// GetSecretValue only, on the secret's ARN, which AWS ends with "-" and six
// random characters.
func (f *functions) readSecret(fn awslambda.Function, name string) {
	allow(fn, []string{"secretsmanager:GetSecretValue"}, awscdk.Stack_Of(f.st).FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("secretsmanager"), Resource: jsii.String("secret"), ResourceName: jsii.String(name + "-??????"),
		ArnFormat: awscdk.ArnFormat_COLON_RESOURCE_NAME,
	}))
}

// sendTo lets fn send to q: SendMessage, which is all the SDK's
// SendMessage with a queue URL needs.
func sendTo(fn awslambda.Function, q awssqs.IQueue) {
	q.Grant(fn, jsii.String("sqs:SendMessage"))
}

// consume makes q the event source of fn, as Lambda's SQS event source
// mapping, whose poller uses fn's role for what AWS documents it needs:
// ReceiveMessage, DeleteMessage and GetQueueAttributes. Each batch reports
// its failed items.
func (f *functions) consume(name, queue string, batch int) {
	fn, q := f.fn[name], f.msg.queues[queue]
	fn.AddEventSourceMapping(jsii.String(pascal(queue)+"Source"), &awslambda.EventSourceMappingOptions{
		EventSourceArn: q.QueueArn(), BatchSize: jsii.Number(float64(batch)), ReportBatchItemFailures: jsii.Bool(true),
	})
	q.Grant(fn, jsii.String("sqs:ReceiveMessage"), jsii.String("sqs:DeleteMessage"), jsii.String("sqs:GetQueueAttributes"))
}
