// Command api is the Lambda behind the HTTP API: mobile apps and web shops
// quote landed costs and place, follow and cancel orders through it.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	table, queueURL := wiring.Must(wiring.Env(workflow.EnvTable)), wiring.Must(wiring.Env(workflow.EnvQueueURL))
	cfg := wiring.Must(wiring.AWSConfig())
	store := dynamostore.New(wiring.DynamoDB(cfg), table)
	api := httpapi.New(httpapi.Config{
		Store:    store,
		Auth:     auth.APIGatewayClaims{},
		Tasks:    stepfunctions.Tasks{Client: wiring.SFN(cfg)},
		Workflow: queue.Accepted{Sender: queue.Sender{Client: wiring.SQS(cfg), URL: queueURL}},
		Quoter:   customs.Default(),
		Quotes:   store,
		Logger:   logger,
	})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}
