// Command customs-worker consumes the workflow's customs hand-offs from SQS
// and answers their task tokens (see package workers): it files each
// declaration with the customs broker and, for China, the CEB messages with
// the E-Port, both partners reached over HTTP (package partnerlink, the
// "customs-broker" and "china-eport" endpoints); it does not start without
// them, nor without China's declaration parties.
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
	secrets := wiring.SecretsManager(cfg)
	eps := wiring.Must(wiring.Endpoints(ctx, secrets, partnerlink.CustomsBroker, partnerlink.ChinaEPort))
	declarant := wiring.Must(wiring.ChinaDeclarantFromEnv(ctx, secrets))
	apiURL := wiring.Must(wiring.Env(wiring.EnvAPIURL))
	ownQueue := queue.Tasks{Sender: queue.Sender{Client: wiring.SQS(cfg), URL: wiring.Must(wiring.Env(workflow.EnvCustomsQueueURL))}}

	w := workers.NewCustoms(s, stepfunctions.Tasks{Client: wiring.SFN(cfg)},
		partnerhttp.Broker{Endpoint: eps[0], CallbackURL: partnerlink.CallbackURL(apiURL, partnerlink.CustomsBroker)}, logger)
	w.SetEPort(partnerhttp.EPortLink{Endpoint: eps[1], CallbackURL: partnerlink.CallbackURL(apiURL, partnerlink.ChinaEPort)})
	w.SetChinaParties(declarant.Parties)
	w.SetCEBOptions(declarant.CEBOptions)
	w.SetRecheck(ownQueue)
	lambda.Start(w.Handle)
}
