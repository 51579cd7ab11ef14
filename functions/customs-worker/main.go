// Command customs-worker consumes the workflow's customs broker hand-offs from SQS and
// answers their task tokens (see package workers). The simulated customs broker
// stands in until a real one plugs in behind the same interface.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/workers"
)

func main() {
	logger := wiring.Logger()
	s := wiring.Must(wiring.Steps(logger))
	cfg := wiring.Must(wiring.AWSConfig())
	w := workers.NewCustoms(s, stepfunctions.Tasks{Client: wiring.SFN(cfg)}, &workers.BrokerSimulator{}, logger)
	lambda.Start(w.Handle)
}
