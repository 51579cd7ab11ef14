// Command api is the Lambda behind the HTTP API: mobile apps and web shops
// quote landed costs and place, follow and cancel orders through it,
// partners post orders by signed webhook, and operations staff use the ops
// API (the workflow's executions through STATE_MACHINE_ARN, the dead-letter
// queues through DLQ_URLS; without them those parts answer 503; China's
// customs receipts are recorded on the orders in the table), and the
// workflow's partners — customs broker, warehouse, China's E-Port — post
// their signed notifications (it does not start without their endpoints).
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
	"github.com/xborder/xborder/shared/partnerlink"
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
	ctx, secrets := context.Background(), wiring.SecretsManager(cfg)
	partners := wiring.Must(wiring.Partners(ctx, secrets))
	// The workflow's partners post their notifications here, signed.
	links := wiring.Must(wiring.Endpoints(ctx, secrets, partnerlink.CustomsBroker, partnerlink.Warehouse, partnerlink.ChinaEPort))
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
	apiCfg.PartnerLinks = httpapi.PartnerLinks{Secrets: map[string]string{partnerlink.CustomsBroker: links[0].Secret,
		partnerlink.Warehouse: links[1].Secret, partnerlink.ChinaEPort: links[2].Secret}}
	if customsQueue, ok := deadLetters[workflow.QueueCustoms]; ok {
		apiCfg.PartnerLinks.Customs = queue.Tasks{Sender: queue.Sender{Client: sqsClient, URL: customsQueue.SourceURL}}
	}
	if warehouseQueue, ok := deadLetters[workflow.QueueWarehouse]; ok {
		apiCfg.PartnerLinks.Warehouse = queue.Tasks{Sender: queue.Sender{Client: sqsClient, URL: warehouseQueue.SourceURL}}
	}
	if arn := os.Getenv(workflow.EnvStateMachineARN); arn != "" {
		apiCfg.Executions, apiCfg.StateMachineARN = sfnClient, arn
	}
	if len(deadLetters) > 0 {
		apiCfg.Queues, apiCfg.DeadLetters = sqsClient, deadLetters
	}
	lambda.Start(httpadapter.NewV2(httpapi.New(apiCfg)).ProxyWithContext)
}
