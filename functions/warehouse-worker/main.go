// Command warehouse-worker consumes the workflow's dispatch hand-offs from
// SQS and answers their task tokens (see package workers): the overseas
// warehouse, reached over HTTP (package partnerlink, the "warehouse"
// endpoint), picks, packs and hands the parcel to its carrier; it does not
// start without it.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/functions/internal/wiring"
	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/stepfunctions"
	"github.com/xborder/xborder/shared/workers"
	"github.com/xborder/xborder/shared/workflow"
)

func main() {
	ctx, logger := context.Background(), wiring.Logger()
	s := wiring.Must(wiring.Steps(logger))
	cfg := wiring.Must(wiring.AWSConfig())
	eps := wiring.Must(wiring.Endpoints(ctx, wiring.SecretsManager(cfg), partnerlink.Warehouse))
	apiURL := wiring.Must(wiring.Env(wiring.EnvAPIURL))
	ownQueue := queue.Tasks{Sender: queue.Sender{Client: wiring.SQS(cfg), URL: wiring.Must(wiring.Env(workflow.EnvWarehouseQueueURL))}}

	w := workers.NewDispatch(s, stepfunctions.Tasks{Client: wiring.SFN(cfg)},
		partnerhttp.WarehouseLink{Endpoint: eps[0], CallbackURL: partnerlink.CallbackURL(apiURL, partnerlink.Warehouse)}, logger)
	w.SetRecheck(ownQueue)
	lambda.Start(w.Handle)
}
