package stack

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// One synthesis per test binary: each costs seconds of the jsii runtime.
var (
	template assertions.Template
	tmpl     map[string]any // the same template as plain JSON
)

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{"aws:cdk:disable-stack-trace": true}})
	st := New(app, "Xborder", &Props{BinDir: "../../bin"})
	template = assertions.Template_FromStack(st, nil)
	raw, _ := json.Marshal(template.ToJSON())
	_ = json.Unmarshal(raw, &tmpl)
	code := m.Run()
	jsii.Close()
	os.Exit(code)
}
