// Command reconciler runs every minute and hands orders still RECEIVED after
// a minute to the workflow again (see package reconciler).
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
	h := &reconciler.Handler{
		Orders:   dynamostore.New(wiring.DynamoDB(cfg), table),
		Workflow: queue.Accepted{Sender: queue.Sender{Client: wiring.SQS(cfg), URL: queueURL}},
		Logger:   logger,
	}
	lambda.Start(h.Reconcile)
}
