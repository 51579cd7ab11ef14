// Command compensate is the workflow's Compensate step (see package steps).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
)

func main() {
	s := wiring.Must(wiring.PayingSteps(wiring.Logger()))
	lambda.Start(s.Compensate)
}
