// Command mark-dispatched is the workflow's MarkDispatched step (see package steps).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
)

func main() {
	s := wiring.Must(wiring.Steps(context.Background(), wiring.Logger()))
	lambda.Start(s.MarkDispatched)
}
