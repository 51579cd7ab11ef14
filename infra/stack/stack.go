// Package stack is xborder's CDK stack: one stack composed of constructs per
// concern — data, messaging, functions, workflow, api, observability.
package stack

import (
	"os"
	"path/filepath"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Props configure the stack.
type Props struct {
	awscdk.StackProps
	// BinDir holds bin/<function>/bootstrap from `make build`; a function
	// whose binary is missing gets a placeholder, so synthesis and the tests
	// never need a build.
	BinDir string
	// Destroy makes the table and log groups go with the stack (for test
	// deployments); by default they are retained.
	Destroy bool
	// PaymentProvider is "stripe" (the default) or "simulator" (the
	// payment simulator's endpoint: it moves no money; a sandbox only).
	PaymentProvider string
	// Sandbox names a sandbox deployment (XBORDER_SANDBOX in every
	// function, in every log line): only a sandbox may use partner
	// sandboxes or simulators. Empty: production.
	Sandbox string
	// StripeSecretName is the Secrets Manager secret with the Stripe API key
	// (created outside the stack); "xborder/stripe" by default.
	StripeSecretName string
	// OpsCallbackURLs are where the operators' hosted UI may send the
	// console back besides the API's /ops/ page (a custom domain, a
	// CloudFront distribution); AppCallbackURLs the shoppers' apps' (their
	// URL schemes). Context opsCallbackUrls and appCallbackUrls,
	// comma-separated.
	OpsCallbackURLs, AppCallbackURLs []string
	// TableIndexes names the table's indexes while an existing table moves
	// to the current ones (see infra/README.md); empty: the current ones.
	TableIndexes []string
	// Protection: the api Lambda's reserved concurrency and the optional
	// CloudFront and WAF in front of the API (ProtectionFromContext).
	Protection Protection
}

// New builds the stack.
func New(scope constructs.Construct, id string, props *Props) awscdk.Stack {
	st := awscdk.NewStack(scope, &id, &props.StackProps)
	removal := awscdk.RemovalPolicy_RETAIN
	if props.Destroy {
		removal = awscdk.RemovalPolicy_DESTROY
	}
	data := newData(st, removal, props.TableIndexes)
	msg := newMessaging(st)
	fns := newFunctions(st, props.BinDir, removal, data, msg, props.Sandbox, props.Protection.apiConcurrency())
	fns.wirePayments(props.PaymentProvider, props.StripeSecretName, props.Sandbox)
	wf := newWorkflow(st, fns, msg, removal)
	fns.wireWorkflow(wf)
	api := newAPI(st, fns, props.OpsCallbackURLs, props.AppCallbackURLs)
	protectStage(st, api, removal)
	fns.wirePartners(api.api.Url())
	newObservability(st, msg, fns, wf, api)

	out := func(name, value string) {
		awscdk.NewCfnOutput(st, jsii.String(name), &awscdk.CfnOutputProps{Value: jsii.String(value)})
	}
	out("ApiUrl", *api.api.Url())
	out("UserPoolId", *api.users.shoppers.UserPoolId())
	out("UserPoolClientId", *api.users.shopperApp.UserPoolClientId())
	out("OperatorsPoolId", *api.users.operators.UserPoolId())
	out("OpsConsoleClientId", *api.users.console.UserPoolClientId())
	out("EPortForwarderClientId", *api.users.forwarder.UserPoolClientId())
	out("OperatorsSignInUrl", *api.users.domain.BaseUrl(nil))
	out("TableName", *data.table.TableName())
	out("StateMachineArn", *wf.machine.StateMachineArn())
	if props.Protection.WAF {
		edge := newEdge(st, api, props.Protection)
		out("EdgeUrl", "https://"+*edge.DistributionDomainName()+"/")
	}
	return st
}

// codeDir is where a function's bootstrap is, or the placeholder.
func codeDir(binDir, fn string) string {
	dir := filepath.Join(binDir, fn)
	if _, err := os.Stat(filepath.Join(dir, "bootstrap")); err == nil {
		return dir
	}
	return placeholderDir()
}

// placeholderDir finds infra/placeholder from the stack package or infra/.
func placeholderDir() string {
	for _, d := range []string{"placeholder", "../placeholder"} {
		if _, err := os.Stat(filepath.Join(d, "bootstrap")); err == nil {
			abs, _ := filepath.Abs(d)
			return abs
		}
	}
	return "placeholder"
}
