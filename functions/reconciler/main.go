// Command reconciler runs every minute: it hands orders still RECEIVED after
// a minute to the workflow again, marks STALLED the orders of executions
// that failed unseen, and wakes the customs step of the orders waiting for
// China's customs (see package reconciler).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/reconciler"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	table, queueURL := wiring.Must(wiring.Env(workflow.EnvTable)), wiring.Must(wiring.Env(workflow.EnvQueueURL))
	cfg := wiring.Must(wiring.AWSConfig())
	sqsClient := wiring.SQS(cfg)
	orders := dynamostore.New(wiring.DynamoDB(cfg), table)
	h := &reconciler.Handler{
		Orders:          orders,
		Workflow:        queue.Accepted{Sender: queue.Sender{Client: sqsClient, URL: queueURL}},
		Customs:         queue.Tasks{Sender: queue.Sender{Client: sqsClient, URL: wiring.Must(wiring.Env(workflow.EnvCustomsQueueURL))}},
		Executions:      wiring.SFN(cfg),
		StateMachineARN: wiring.Must(wiring.Env(workflow.EnvStateMachineARN)),
		// Marking an order STALLED moves no money and no stock.
		Stalls: &steps.Steps{Orders: orders, Logger: logger,
			Events: orderevents.Publisher{Client: wiring.SNS(cfg), TopicARN: wiring.Must(wiring.Env(workflow.EnvTopicARN))}},
		Logger: logger,
	}
	lambda.Start(h.Reconcile)
}
