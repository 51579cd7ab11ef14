package stack

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/httpapi"
)

// resource is one resource of a template whole (Type, Properties,
// DependsOn), by logical id.
func resource(template map[string]any, id string) map[string]any {
	r, _ := template["Resources"].(map[string]any)[id].(map[string]any)
	return r
}

// only is the one resource of a type in a template, with its logical id.
func only(t *testing.T, template map[string]any, typ string) (string, map[string]any) {
	t.Helper()
	var ids []string
	for id, r := range template["Resources"].(map[string]any) {
		if r.(map[string]any)["Type"] == typ {
			ids = append(ids, id)
		}
	}
	if len(ids) != 1 {
		t.Fatalf("%d resources of type %s, want one: %v", len(ids), typ, ids)
	}
	return ids[0], resource(template, ids[0])["Properties"].(map[string]any)
}

func throttleOf(t *testing.T, settings any) Throttle {
	t.Helper()
	m, _ := settings.(map[string]any)
	rate, okRate := m["ThrottlingRateLimit"].(float64)
	burst, okBurst := m["ThrottlingBurstLimit"].(float64)
	if !okRate || !okBurst {
		t.Fatalf("route settings without both limits: %s", js(settings))
	}
	return Throttle{Rate: rate, Burst: burst}
}

// The stage throttles every route; the routes anyone may call without a
// token (the partners' webhooks and notifications, the ops console's
// page) and the ops API are throttled tighter, each on a route that
// exists, and the stage waits for those routes.
func TestStageThrottles(t *testing.T) {
	stageID, stage := only(t, tmpl, "AWS::ApiGatewayV2::Stage")
	if got := throttleOf(t, stage["DefaultRouteSettings"]); got != (Throttle{Rate: 1000, Burst: 500}) {
		t.Errorf("stage default throttle %+v", got)
	}
	stageRate := StageThrottle.Rate
	settings, _ := stage["RouteSettings"].(map[string]any)
	routeIDs := map[string]string{} // route key → logical id
	public := map[string]bool{}     // the routes without a JWT authorizer
	for id, r := range resources("AWS::ApiGatewayV2::Route") {
		key := r["RouteKey"].(string)
		routeIDs[key] = id
		public[key] = r["AuthorizationType"] == "NONE"
	}
	want := map[string]Throttle{
		"POST /v1/webhooks/{partner}":               {Rate: 100, Burst: 50},
		"POST /v1/partners/{partner}/notifications": {Rate: 100, Burst: 50},
		"GET /v1/ops/summary":                       {Rate: 20, Burst: 40},
		"POST /v1/ops/orders/{id}/redrive":          {Rate: 20, Burst: 40},
		"GET /ops/{proxy+}":                         {Rate: 20, Burst: 40},
		ReceiptsRoute:                               {Rate: 1250, Burst: 500},
	}
	for key, w := range want {
		if got := throttleOf(t, settings[key]); got != w {
			t.Errorf("%s throttled at %+v, want %+v", key, got, w)
		}
	}
	depends := js(resource(tmpl, stageID)["DependsOn"])
	for _, key := range slices.Sorted(maps.Keys(settings)) {
		id, ok := routeIDs[key]
		if !ok {
			t.Errorf("route settings for %s, which is no route: the stage would fail to deploy", key)
			continue
		}
		if !strings.Contains(depends, `"`+id+`"`) {
			t.Errorf("the stage does not wait for %s (%s): CloudFormation may make it first", key, id)
		}
	}
	for key, open := range public {
		got, ok := settings[key]
		if open && (!ok || throttleOf(t, got).Rate >= stageRate) {
			t.Errorf("%s invokes the api Lambda without a token, yet has no throttle tighter than the stage's", key)
		}
	}
	for _, r := range httpapi.Routes {
		key := r.Method + " " + r.Path
		if !strings.HasPrefix(r.Path, "/v1/ops/") || key == ReceiptsRoute {
			continue
		}
		if got, ok := settings[key]; !ok || throttleOf(t, got).Rate >= stageRate {
			t.Errorf("ops route %s has no throttle tighter than the stage's", key)
		}
	}
}

// The stage logs each request as JSON into a log group kept a month, with
// nothing of the caller's token, headers or body.
func TestAPIAccessLogs(t *testing.T) {
	_, stage := only(t, tmpl, "AWS::ApiGatewayV2::Stage")
	logs, _ := stage["AccessLogSettings"].(map[string]any)
	var dest struct {
		GetAtt []string `json:"Fn::GetAtt"`
	}
	_ = json.Unmarshal([]byte(js(logs["DestinationArn"])), &dest)
	if len(dest.GetAtt) != 2 || dest.GetAtt[1] != "Arn" {
		t.Fatalf("access log destination %s", js(logs["DestinationArn"]))
	}
	group := resource(tmpl, dest.GetAtt[0])
	if group["Type"] != "AWS::Logs::LogGroup" || group["Properties"].(map[string]any)["RetentionInDays"] != float64(30) {
		t.Errorf("access logs go to %s", js(group))
	}
	format, _ := logs["Format"].(string)
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not JSON: %v\n%s", err, format)
	}
	for key, variable := range map[string]string{
		"requestId": "$context.requestId", "ip": "$context.identity.sourceIp", "requestTime": "$context.requestTime",
		"httpMethod": "$context.httpMethod", "routeKey": "$context.routeKey", "status": "$context.status",
		"protocol": "$context.protocol", "responseLength": "$context.responseLength",
		"integrationLatency": "$context.integrationLatency", "integrationErrorMessage": "$context.integrationErrorMessage",
	} {
		if fields[key] != variable {
			t.Errorf("access log %s = %q, want %s", key, fields[key], variable)
		}
	}
	lower := strings.ToLower(format)
	for _, never := range []string{"$context.authorizer", "header", "body", "useragent", "$context.path", "querystring", "claims"} {
		if strings.Contains(lower, strings.ToLower(never)) {
			t.Errorf("the access log format logs %s: %s", never, format)
		}
	}
}
