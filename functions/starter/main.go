// Command starter starts one order-workflow execution per accepted order
// (SQS orders-accepted → StartExecution named by the order id).
package main

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/starter"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	arn := os.Getenv(workflow.EnvStateMachineARN)
	if arn == "" {
		wiring.Must(0, errors.New(workflow.EnvStateMachineARN+" is not set"))
	}
	cfg := wiring.Must(config.LoadDefaultConfig(context.Background()))
	h := &starter.Handler{Executions: sfn.NewFromConfig(cfg), StateMachineARN: arn, Logger: logger}
	lambda.Start(h.Handle)
}
