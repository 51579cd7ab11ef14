// Command api is the Lambda behind the HTTP API: mobile apps and web shops
// place and follow orders through it.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/stepfunctions"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	table := os.Getenv("TABLE_NAME")
	if table == "" {
		logger.Error("TABLE_NAME is not set")
		os.Exit(1)
	}
	awsCfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		logger.Error("load AWS config", "error", err.Error())
		os.Exit(1)
	}
	store := dynamostore.New(dynamodb.NewFromConfig(awsCfg), table)
	tasks := stepfunctions.Tasks{Client: sfn.NewFromConfig(awsCfg)}
	api := httpapi.New(httpapi.Config{Store: store, Auth: auth.APIGatewayClaims{}, Tasks: tasks, Logger: logger})
	lambda.Start(httpadapter.NewV2(api).ProxyWithContext)
}
