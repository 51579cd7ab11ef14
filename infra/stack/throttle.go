package stack

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/httpapi"
)

// Throttle is an API Gateway token bucket: Rate requests per second in
// the steady state, Burst the bucket's size (what may arrive at once).
// Past it API Gateway answers 429 without invoking the api Lambda.
type Throttle struct{ Rate, Burst float64 }

// The HTTP API's throttles. API Gateway applies the stage's default to
// each route without settings of its own (a limit per route, as a REST
// API's default method throttling is per method); what all routes
// together may cost is bounded by the api Lambda's reserved concurrency
// (DefaultAPIConcurrency: about 3,500 requests/s at the measured 86 ms)
// and by the account's 10,000 requests/s per Region. A request past the
// reserved concurrency is one Lambda throttles, which the HTTP API answers
// 500 (not a 429 clients back off from): the routes open to anyone stay
// far below it.
var (
	// StageThrottle, the shoppers' routes (orders, quotes; behind the JWT
	// authorizer): at the cell's ceiling of 188 orders/s (docs/capacity.md)
	// a shopper's order is a POST and a handful of reads of it, so the
	// busiest route, GET /v1/orders/{id}, sees about 188 × 5 ≈ 940
	// requests/s: 1,000, with half a second of it as the burst.
	StageThrottle = Throttle{Rate: 1000, Burst: 500}
	// PartnerThrottle, each partner route (no JWT authorizer: the api
	// Lambda checks the signature, so every request costs an invocation,
	// of up to a 256 KiB body). Partners' orders by webhook: about half of
	// the cell's 188 orders/s; a throttled delivery is answered 429 and
	// retried by the partner, its delivery id making the repeat harmless.
	// Partners' notifications only wake a step that otherwise asks again
	// within 2 minutes: throttling one delays an order, it loses nothing.
	PartnerThrottle = Throttle{Rate: 100, Burst: 50}
	// OpsThrottle, each route of the ops console (its page and assets,
	// public) and of the ops API: people, not machines. The console polls
	// every 5 s and follows an open order once a second, so 20 requests/s
	// on a route serve 20 operators at once.
	OpsThrottle = Throttle{Rate: 20, Burst: 40}
	// ReceiptsThrottle, POST /v1/ops/customs/receipts: an ops route, but
	// machine traffic that grows with the orders: the E-Port's data
	// exchange client forwards every CEB receipt, 6.6 per order in the even
	// mix, 188 × 6.6 ≈ 1,240 requests/s at the cell's ceiling. Behind the
	// JWT authorizer: a request without an ops token never reaches the
	// Lambda. A receipt refused 429 is sent again by the client, or
	// answered again when the customs step resubmits after 3 quiet minutes.
	ReceiptsThrottle = Throttle{Rate: 1250, Burst: 500}
)

// ReceiptsRoute is the E-Port's receipts route, throttled on its own.
const ReceiptsRoute = http.MethodPost + " /v1/ops/customs/receipts"

// RouteThrottles are the routes with throttles of their own, by route key:
// the partner routes, the ops console, the ops API.
func RouteThrottles() map[string]Throttle {
	out := map[string]Throttle{}
	for key := range httpapi.SignedRoutes {
		out[key] = PartnerThrottle
	}
	for _, path := range ConsoleRoutes {
		out[http.MethodGet+" "+path] = OpsThrottle
	}
	for _, r := range apiRoutes {
		if strings.HasPrefix(r.path, "/v1/ops/") {
			out[string(r.method)+" "+r.path] = OpsThrottle
		}
	}
	out[ReceiptsRoute] = ReceiptsThrottle
	return out
}

// AccessLogFormat is what the stage logs of each request, as JSON: no
// header (Authorization above all), no body, no query string, no path
// (the route key names the route without the ids in it), no claim of the
// caller's token; the caller's IP address, for finding a flood's source
// (behind CloudFront, the edge's address), kept a month like the rest.
// errorType says why API Gateway answered itself (THROTTLED,
// UNAUTHORIZED, …).
var AccessLogFormat = map[string]string{
	"requestId":               "$context.requestId",
	"ip":                      "$context.identity.sourceIp",
	"requestTime":             "$context.requestTime",
	"httpMethod":              "$context.httpMethod",
	"routeKey":                "$context.routeKey",
	"status":                  "$context.status",
	"protocol":                "$context.protocol",
	"responseLength":          "$context.responseLength",
	"integrationLatency":      "$context.integrationLatency",
	"integrationErrorMessage": "$context.integrationErrorMessage",
	"errorType":               "$context.error.responseType",
}

// protectStage sets the default stage's throttles and access logs. The
// HttpApi construct offers neither for its default stage, so they go on
// its CfnStage. A route key in RouteSettings must exist when the stage is
// created or updated: the stage depends on those routes.
func protectStage(st awscdk.Stack, a *apiParts, removal awscdk.RemovalPolicy) {
	stage := a.api.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetDefaultRouteSettings(&awsapigatewayv2.CfnStage_RouteSettingsProperty{
		ThrottlingRateLimit: jsii.Number(StageThrottle.Rate), ThrottlingBurstLimit: jsii.Number(StageThrottle.Burst),
	})
	throttles := RouteThrottles()
	settings := map[string]any{}
	for _, key := range slices.Sorted(maps.Keys(throttles)) {
		route, ok := a.routes[key]
		if !ok {
			panic("stack: a throttle for " + key + ", which is not a route of the API")
		}
		// A route's settings replace the stage's default ones whole, so
		// each names both figures; RouteSettings is plain JSON to
		// CloudFormation, its keys spelled as CloudFormation does.
		t := throttles[key]
		settings[key] = map[string]any{"ThrottlingRateLimit": t.Rate, "ThrottlingBurstLimit": t.Burst}
		stage.Node().AddDependency(route)
	}
	stage.SetRouteSettings(settings)

	logs := awslogs.NewLogGroup(st, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_ONE_MONTH, RemovalPolicy: removal,
	})
	format, _ := json.Marshal(AccessLogFormat)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: logs.LogGroupArn(), Format: jsii.String(string(format)),
	})
}
