// Command mark-stalled marks an order STALLED when its execution fails (see package steps).
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
)

func main() {
	s := wiring.Must(wiring.Steps(wiring.Logger()))
	lambda.Start(s.MarkStalled)
}
