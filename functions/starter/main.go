// Command starter starts one order-workflow execution per accepted order
// (SQS orders-accepted → StartExecution named by the order id).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/starter"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	arn := wiring.Must(wiring.Env(workflow.EnvStateMachineARN))
	cfg := wiring.Must(wiring.AWSConfig())
	orders := dynamostore.New(wiring.DynamoDB(cfg), wiring.Must(wiring.Env(workflow.EnvTable)))
	h := &starter.Handler{Executions: wiring.SFN(cfg), StateMachineARN: arn, Orders: orders, Logger: logger}
	lambda.Start(h.Handle)
}
