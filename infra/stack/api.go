package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/opsconsole"
	"github.com/xborder/xborder/shared/workflow"
)

// The secrets holding the partner directory and the product catalogue.
const (
	PartnersSecret  = "xborder/partners"
	CatalogueSecret = "xborder/catalogue"
)

type apiParts struct {
	api   awsapigatewayv2.HttpApi
	users *identity
	// routes by route key ("POST /v1/webhooks/{partner}").
	routes map[string]awsapigatewayv2.HttpRoute
}

// ConsoleRoutes serve the ops console's page and its assets (GET, public).
var ConsoleRoutes = []string{"/ops", "/ops/{proxy+}"}

// apiRoutes are the routes of the HTTP API; shared/httpapi serves the same
// set (a test compares them).
var apiRoutes = []struct {
	method awsapigatewayv2.HttpMethod
	path   string
	// signed: the caller proves itself by an HMAC signature the Lambda
	// checks, not by a Cognito token (partner webhooks).
	signed bool
}{
	{awsapigatewayv2.HttpMethod_POST, "/v1/orders", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orders", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orders/{id}", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orders/{id}/cancel", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/quotes", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/quotes/{id}", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/webhooks/{partner}", true},
	{awsapigatewayv2.HttpMethod_POST, "/v1/partners/{partner}/notifications", true},
	// The ops API: behind the operators' pool's JWT authorizer; the Lambda
	// checks each route's role (httpapi.RouteRoles).
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/summary", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/orders", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/orders/stuck", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/orders/{id}", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/orders/{id}/declarations", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/orders/{id}/declarations/{messageType}", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/ops/customs/receipts", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/ops/orders/{id}/redrive", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/ops/orders/{id}/cancel", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/dlqs", false},
	{awsapigatewayv2.HttpMethod_GET, "/v1/ops/dlqs/{queue}/messages", false},
	{awsapigatewayv2.HttpMethod_POST, "/v1/ops/dlqs/{queue}/messages/{messageId}/replay", false},
}

// newAPI is the HTTP API whose JWT authorizers — the shoppers' pool's, the
// operators' pool's on the ops routes (newIdentity) — check tokens before
// the api Lambda sees a request.
func newAPI(st awscdk.Stack, f *functions, opsCallbacks, appCallbacks []string) *apiParts {
	api := awsapigatewayv2.NewHttpApi(st, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description: jsii.String("xborder order API"),
	})
	users := newIdentity(st, api, opsCallbacks, appCallbacks)
	// The ops console signs operators in through the operators' pool's
	// hosted UI (authorization code with PKCE): where it is, and the
	// console's client.
	fn := f.fn[workflow.FnAPI]
	fn.AddEnvironment(jsii.String(opsconsole.EnvSignInURL), users.domain.BaseUrl(nil), nil)
	fn.AddEnvironment(jsii.String(opsconsole.EnvClientID), users.console.UserPoolClientId(), nil)
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), f.fn[workflow.FnAPI],
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
	routes := map[string]awsapigatewayv2.HttpRoute{}
	add := func(opts *awsapigatewayv2.AddRoutesOptions) {
		for _, r := range *api.AddRoutes(opts) {
			routes[string((*opts.Methods)[0])+" "+*opts.Path] = r
		}
	}
	// The ops console's static page: public, like any web page; the data it
	// shows comes from the ops API, behind the authorizer.
	for _, path := range ConsoleRoutes {
		add(&awsapigatewayv2.AddRoutesOptions{Path: jsii.String(path), Methods: &[]awsapigatewayv2.HttpMethod{awsapigatewayv2.HttpMethod_GET},
			Integration: integration, Authorizer: awsapigatewayv2.NewHttpNoneAuthorizer()})
	}
	for _, r := range apiRoutes {
		opts := &awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String(r.path), Methods: &[]awsapigatewayv2.HttpMethod{r.method}, Integration: integration,
			Authorizer: users.shopperJWT,
		}
		switch {
		case r.signed:
			opts.Authorizer = awsapigatewayv2.NewHttpNoneAuthorizer()
		case httpapi.OpsRoute(string(r.method) + " " + r.path):
			opts.Authorizer = users.opsJWT
		}
		add(opts)
	}
	// Partners and their product catalogue: secrets the api Lambda reads
	// at cold start (created outside the stack, see the README).
	for _, s := range []struct{ env, name string }{
		{"PARTNERS_SOURCE", PartnersSecret}, {"CATALOGUE_SOURCE", CatalogueSecret},
	} {
		f.fn[workflow.FnAPI].AddEnvironment(jsii.String(s.env), jsii.String("secretsmanager:"+s.name), nil)
		f.readSecret(f.fn[workflow.FnAPI], s.name)
	}
	return &apiParts{api: api, users: users, routes: routes}
}
