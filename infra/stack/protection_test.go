package stack

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"

	"github.com/xborder/xborder/shared/workflow"
)

// The api Lambda alone has reserved concurrency, the default figure,
// leaving the steps the rest of the account's 1,000.
func TestAPIReservedConcurrency(t *testing.T) {
	for _, f := range resources("AWS::Lambda::Function") {
		name, reserved := tag(f, "xborder:function"), f["ReservedConcurrentExecutions"]
		switch {
		case name == workflow.FnAPI && reserved != float64(300):
			t.Errorf("the api Lambda's reserved concurrency is %v, want 300", reserved)
		case name != workflow.FnAPI && reserved != nil:
			t.Errorf("%s reserves %v: the steps share the unreserved pool", name, reserved)
		}
	}
	if DefaultAPIConcurrency > 1000-100-300 {
		t.Errorf("the api's %d leaves the steps too little of a 1,000 account", DefaultAPIConcurrency)
	}
}

// Context values come as strings from -c and as JSON values from cdk.json.
func TestProtectionFromContext(t *testing.T) {
	read := func(ctx map[string]any) (Protection, error) {
		return ProtectionFromContext(awscdk.NewApp(&awscdk.AppProps{Context: &ctx}).Node())
	}
	p, err := read(map[string]any{})
	if err != nil || p != (Protection{}) || p.apiConcurrency() != 300 || p.wafRateLimit() != 2000 || p.wafPartnerRateLimit() != 15000 {
		t.Errorf("defaults: %+v %v", p, err)
	}
	p, err = read(map[string]any{"apiConcurrency": "200", "waf": true, "wafRateLimit": float64(500), "originVerifySecret": "x"})
	if err != nil || p != (Protection{APIConcurrency: 200, WAF: true, WAFRateLimit: 500, OriginVerifySecret: "x"}) {
		t.Errorf("set: %+v %v", p, err)
	}
	p, err = read(map[string]any{"apiConcurrency": float64(250)})
	if err != nil || p.apiConcurrency() != 250 {
		t.Errorf("from cdk.json: %+v %v", p, err)
	}
	for _, bad := range []map[string]any{{"apiConcurrency": "lots"}, {"apiConcurrency": "0"}, {"apiConcurrency": "-5"}, {"waf": "maybe"},
		{"wafRateLimit": "-1"}, {"originVerifySecret": "x"}} {
		if _, err := read(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}
