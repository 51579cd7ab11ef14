// Command infra is the CDK app that deploys xborder (run by `cdk synth` /
// `cdk deploy`, see the Makefile targets synth and deploy).
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/infra/stack"
)

func main() {
	defer jsii.Close()
	app := awscdk.NewApp(nil)
	ctx := func(key string) string {
		v, _ := app.Node().TryGetContext(jsii.String(key)).(string)
		return v
	}
	list := func(key string) []string {
		if v := ctx(key); v != "" {
			return strings.Split(v, ",")
		}
		return nil
	}
	protection, err := stack.ProtectionFromContext(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(2)
	}
	stack.New(app, "Xborder", &stack.Props{BinDir: "../bin", Destroy: ctx("removalPolicy") == "destroy",
		PaymentProvider: ctx("paymentProvider"), Sandbox: ctx("sandbox"), StripeSecretName: ctx("stripeSecretName"),
		TableIndexes: list("tableIndexes"), OpsCallbackURLs: list("opsCallbackUrls"), AppCallbackURLs: list("appCallbackUrls"),
		Protection: protection})
	app.Synth(nil)
}
