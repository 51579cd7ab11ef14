// Command reconciler runs every minute: it hands orders still RECEIVED after
// a minute to the workflow again, and wakes the customs step of the orders
// waiting for China's customs (see package reconciler).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/reconciler"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	table, queueURL := wiring.Must(wiring.Env(workflow.EnvTable)), wiring.Must(wiring.Env(workflow.EnvQueueURL))
	cfg := wiring.Must(wiring.AWSConfig())
	sqsClient := wiring.SQS(cfg)
	h := &reconciler.Handler{
		Orders:   dynamostore.New(wiring.DynamoDB(cfg), table),
		Workflow: queue.Accepted{Sender: queue.Sender{Client: sqsClient, URL: queueURL}},
		Customs:  queue.Tasks{Sender: queue.Sender{Client: sqsClient, URL: wiring.Must(wiring.Env(workflow.EnvCustomsQueueURL))}},
		Logger:   logger,
	}
	lambda.Start(h.Reconcile)
}
