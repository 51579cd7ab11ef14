// Command api is the Lambda behind the HTTP API: mobile apps and web shops
// quote landed costs and place, follow and cancel orders through it, and
// partners post orders by signed webhook.
package main

import (
	"context"

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
	partners := wiring.Must(wiring.Partners(context.Background(), wiring.SecretsManager(cfg)))
	api := httpapi.New(httpapi.Config{
		Store:     store,
		Auth:      auth.APIGatewayClaims{},
		Tasks:     stepfunctions.Tasks{Client: wiring.SFN(cfg)},
		Workflow:  queue.Accepted{Sender: queue.Sender{Client: wiring.SQS(cfg), URL: queueURL}},
		Quoter:    customs.Default(),
		Quotes:    store,
		Partners:  partners.Directory,
		Catalogue: partners.Catalogue,
		Logger:    logger,
	})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}
