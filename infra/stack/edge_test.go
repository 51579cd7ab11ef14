package stack

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// Without waf=true the stack has no CloudFront and no WAF.
func TestNoEdgeByDefault(t *testing.T) {
	for _, r := range tmpl["Resources"].(map[string]any) {
		typ := r.(map[string]any)["Type"].(string)
		if strings.HasPrefix(typ, "AWS::WAFv2::") || strings.HasPrefix(typ, "AWS::CloudFront::") {
			t.Errorf("a %s without waf=true", typ)
		}
	}
	if _, ok := tmpl["Rules"].(map[string]any)["EdgeWebAclRegion"]; ok {
		t.Error("the us-east-1 rule without waf=true")
	}
}

// With waf=true: a CLOUDFRONT-scoped web ACL (its per-IP rate rules, the
// managed rule groups, the body size rule only counting) on a
// distribution whose origin is the HTTP API, which forwards every method
// and caches nothing; the stack deploys in us-east-1 only.
func TestEdgeWithWAF(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{
		"aws:cdk:disable-stack-trace": true, "waf": "true", "wafRateLimit": "1000", "originVerifySecret": "xborder/origin-verify",
	}})
	p, err := ProtectionFromContext(app.Node())
	if err != nil {
		t.Fatal(err)
	}
	st := New(app, "XborderEdge", &Props{BinDir: "../../bin", Protection: p})
	var edge map[string]any
	raw, _ := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
	_ = json.Unmarshal(raw, &edge)

	aclID, acl := only(t, edge, "AWS::WAFv2::WebACL")
	if acl["Scope"] != "CLOUDFRONT" || js(acl["DefaultAction"]) != `{"Allow":{}}` {
		t.Errorf("web ACL scope %v, default action %s", acl["Scope"], js(acl["DefaultAction"]))
	}
	rules := map[string]map[string]any{}
	for _, r := range acl["Rules"].([]any) {
		rules[r.(map[string]any)["Name"].(string)] = r.(map[string]any)
	}
	rate := func(name string) map[string]any {
		stmt, _ := rules[name]["Statement"].(map[string]any)["RateBasedStatement"].(map[string]any)
		if stmt == nil || stmt["AggregateKeyType"] != "IP" || stmt["EvaluationWindowSec"] != float64(300) ||
			js(rules[name]["Action"]) != `{"Block":{"CustomResponse":{"ResponseCode":429}}}` {
			t.Errorf("%s: %s", name, js(rules[name]))
		}
		return stmt
	}
	if got := rate(RuleRatePerIP)["Limit"]; got != float64(1000) {
		t.Errorf("rate limit per IP %v, want the context's 1000", got)
	}
	if got := rate(RulePartnerRatePerIP)["Limit"]; got != float64(DefaultWAFPartnerRateLimit) {
		t.Errorf("partner rate limit per IP %v", got)
	}
	if scope := js(rate(RuleRatePerIP)["ScopeDownStatement"]); !strings.Contains(scope, "NotStatement") || !strings.Contains(scope, "/v1/webhooks/") {
		t.Errorf("the shoppers' rate rule also counts the partners' posts: %s", scope)
	}
	for _, name := range []string{RuleCommon, RuleKnownBadInputs} {
		group, _ := rules[name]["Statement"].(map[string]any)["ManagedRuleGroupStatement"].(map[string]any)
		if group == nil || group["VendorName"] != "AWS" || group["Name"] != name || js(rules[name]["OverrideAction"]) != `{"None":{}}` {
			t.Errorf("%s: %s", name, js(rules[name]))
		}
	}
	if got := js(rules[RuleCommon]["Statement"].(map[string]any)["ManagedRuleGroupStatement"].(map[string]any)["RuleActionOverrides"]); got != `[{"ActionToUse":{"Count":{}},"Name":"SizeRestrictions_BODY"}]` {
		t.Errorf("the common rule set would block 256 KiB webhooks: overrides %s", got)
	}

	_, dist := only(t, edge, "AWS::CloudFront::Distribution")
	cfg := dist["DistributionConfig"].(map[string]any)
	if js(cfg["WebACLId"]) != js(map[string]any{"Fn::GetAtt": []string{aclID, "Arn"}}) {
		t.Errorf("the distribution's web ACL is %s", js(cfg["WebACLId"]))
	}
	apiID, _ := only(t, edge, "AWS::ApiGatewayV2::Api")
	origins := cfg["Origins"].([]any)
	origin := origins[0].(map[string]any)
	if domain := js(origin["DomainName"]); len(origins) != 1 || !strings.Contains(domain, `{"Ref":"`+apiID+`"}`) || !strings.Contains(domain, ".execute-api.") ||
		js(origin["CustomOriginConfig"].(map[string]any)["OriginProtocolPolicy"]) != `"https-only"` {
		t.Errorf("the distribution's origin is not the HTTP API over HTTPS: %s", js(origins))
	}
	headers := js(origin["OriginCustomHeaders"])
	if !strings.Contains(headers, `"HeaderName":"`+OriginVerifyHeader+`"`) || !strings.Contains(headers, `{{resolve:secretsmanager:xborder/origin-verify:SecretString`) {
		t.Errorf("the origin secret is not a dynamic reference: %s", headers)
	}
	behavior := cfg["DefaultCacheBehavior"].(map[string]any)
	if js(behavior["AllowedMethods"]) != `["GET","HEAD","OPTIONS","PUT","PATCH","POST","DELETE"]` ||
		behavior["CachePolicyId"] != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" || // CachingDisabled
		behavior["OriginRequestPolicyId"] != "b689b0a8-53d0-40ab-baf2-68738e2966ac" || // AllViewerExceptHostHeader
		behavior["ViewerProtocolPolicy"] != "https-only" {
		t.Errorf("default behavior %s", js(behavior))
	}
	rule, _ := edge["Rules"].(map[string]any)["EdgeWebAclRegion"].(map[string]any)
	if !strings.Contains(js(rule), `{"Fn::Equals":[{"Ref":"AWS::Region"},"us-east-1"]}`) {
		t.Errorf("nothing keeps the stack in us-east-1: %s", js(rule))
	}
	if outputs := js(edge["Outputs"]); !strings.Contains(outputs, "EdgeUrl") {
		t.Errorf("no EdgeUrl output: %s", outputs)
	}
}

// A stack whose Region is fixed elsewhere than us-east-1 is refused at
// synthesis with waf=true (the rule refuses an environment-agnostic one at
// deployment).
func TestEdgeOutsideUSEast1IsRefused(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{"aws:cdk:disable-stack-trace": true}})
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), EdgeRegion) {
			t.Fatalf("waf=true in eu-west-1: %v", r)
		}
	}()
	New(app, "XborderEU", &Props{BinDir: "../../bin", Protection: Protection{WAF: true},
		StackProps: awscdk.StackProps{Env: &awscdk.Environment{Region: jsii.String("eu-west-1")}}})
}
