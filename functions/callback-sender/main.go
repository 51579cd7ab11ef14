// Command callback-sender consumes the partner-callbacks queue (subscribed
// to the order-events topic) and POSTs each status change of a partner's
// order to the partner's callback URL, signed, in status order, with
// exponential backoff (see package callbacks).
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	logger := wiring.Logger()
	table := wiring.Must(wiring.Env(workflow.EnvTable))
	source := wiring.Must(wiring.Env(wiring.EnvPartnersSource))
	queueURL := wiring.Must(wiring.Env(callbacks.EnvQueueURL))
	cfg := wiring.Must(wiring.AWSConfig())
	// Read again after a while: a partner's rotated secret or new callback
	// URL takes effect without a redeploy.
	partners := wiring.Must(partner.NewRefreshing(context.Background(), source, wiring.SecretsManager(cfg), logger))
	// Partners choose their callback URLs: public addresses only, but on
	// the local stack, whose partners listen on loopback.
	destinations := egress.ForSandbox(wiring.Sandbox())
	if destinations.AllowLoopback {
		logger.Warn("callbacks may reach loopback addresses: this deployment is the local stack", "sandbox", wiring.Sandbox(), "destinations", destinations.String())
	}
	s := &callbacks.Sender{
		Orders:   dynamostore.New(wiring.DynamoDB(cfg), table),
		Partners: partners,
		Queue:    wiring.SQS(cfg),
		QueueURL: queueURL,
		HTTP:     callbacks.NewHTTPClient(callbacks.DefaultTimeout, destinations.Dialer()),
		Logger:   logger,
	}
	lambda.Start(s.Handle)
}
