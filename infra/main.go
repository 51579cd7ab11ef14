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
	var indexes []string
	if v := ctx("tableIndexes"); v != "" {
		indexes = strings.Split(v, ",")
	}
	protection, err := stack.ProtectionFromContext(app.Node())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		jsii.Close()
		os.Exit(2)
	}
	stack.New(app, "Xborder", &stack.Props{BinDir: "../bin", Destroy: ctx("removalPolicy") == "destroy",
		PaymentProvider: ctx("paymentProvider"), Sandbox: ctx("sandbox"), StripeSecretName: ctx("stripeSecretName"), TableIndexes: indexes,
		Protection: protection})
	app.Synth(nil)
}
