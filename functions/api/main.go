// Command api is the Lambda behind the HTTP API: mobile apps and web shops
// quote landed costs and place, follow and cancel orders through it,
// partners post orders by signed webhook, and operations staff use the ops
// API (the workflow's executions through STATE_MACHINE_ARN, the dead-letter
// queues through DLQ_URLS; without them those parts answer 503; China's
// customs receipts are recorded on the orders in the table).
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	table, queueURL := wiring.Must(wiring.Env(workflow.EnvTable)), wiring.Must(wiring.Env(workflow.EnvQueueURL))
	deadLetters := wiring.Must(httpapi.ParseDeadLetters(os.Getenv(httpapi.EnvDeadLetters)))
	cfg := wiring.Must(wiring.AWSConfig())
	store := dynamostore.New(wiring.DynamoDB(cfg), table)
	partners := wiring.Must(wiring.Partners(context.Background(), wiring.SecretsManager(cfg)))
	sfnClient, sqsClient := wiring.SFN(cfg), wiring.SQS(cfg)
	apiCfg := httpapi.Config{
		Store:     store,
		Auth:      auth.APIGatewayClaims{},
		Tasks:     stepfunctions.Tasks{Client: sfnClient},
		Workflow:  queue.Accepted{Sender: queue.Sender{Client: sqsClient, URL: queueURL}},
		Quoter:    customs.Default(),
		Quotes:    store,
		Partners:  partners.Directory,
		Catalogue: partners.Catalogue,
		Logger:    logger,
	}
	recorder := &receipts.Recorder{Orders: store, Logger: logger}
	if customsQueue, ok := deadLetters[workflow.QueueCustoms]; ok {
		// A receipt wakes the customs step of an order waiting for China's customs.
		recorder.Wake = queue.Tasks{Sender: queue.Sender{Client: sqsClient, URL: customsQueue.SourceURL}}
	}
	apiCfg.Receipts = recorder
	if arn := os.Getenv(workflow.EnvStateMachineARN); arn != "" {
		apiCfg.Executions, apiCfg.StateMachineARN = sfnClient, arn
	}
	if len(deadLetters) > 0 {
		apiCfg.Queues, apiCfg.DeadLetters = sqsClient, deadLetters
	}
	lambda.Start(httpadapter.NewV2(httpapi.New(apiCfg)).ProxyWithContext)
}
