package stack

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestEnvironmentsResolveTheTemplate: every function of the synthesized
// template gets its environment with each reference resolved to what the
// local stack provisioned, and the local overrides on top.
func TestEnvironmentsResolveTheTemplate(t *testing.T) {
	tmpl, err := ReadTemplate("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	res := &Resources{Table: "local-table", TopicARN: "arn:aws:sns:us-east-1:000000000000:local-topic", QueueURLs: map[string]string{}}
	for _, id := range tmpl.byType("AWS::SQS::Queue") {
		name := tag(tmpl.Resources[id], "xborder:queue")
		res.QueueURLs[name] = "http://127.0.0.1:1/000000000000/" + name
	}
	sm := "arn:aws:states:us-east-1:000000000000:stateMachine:local"
	envs, err := Environments(tmpl, res, sm, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:2", "PARTNERS_SOURCE": "file:partners.json",
		"API_URL": "http://127.0.0.1:3", "OPS_SIGNIN_URL": "http://127.0.0.1:4", "OPS_CLIENT_ID": LocalConsoleClient})
	if err != nil {
		t.Fatal(err)
	}
	if len(envs) != len(tmpl.byType("AWS::Lambda::Function")) || len(envs) < 13 {
		t.Fatalf("%d environments for %d functions", len(envs), len(tmpl.byType("AWS::Lambda::Function")))
	}
	get := func(fn, k string) string {
		for _, kv := range envs[fn] {
			if name, v, _ := strings.Cut(kv, "="); name == k {
				return v
			}
		}
		return ""
	}
	for fn := range envs {
		if get(fn, "TABLE_NAME") != "local-table" || get(fn, "AWS_ENDPOINT_URL") != "http://127.0.0.1:2" {
			t.Errorf("%s: %v", fn, envs[fn])
		}
	}
	if get("api", "STATE_MACHINE_ARN") != sm || get("api", "QUEUE_URL") != res.QueueURLs["orders-accepted"] || get("api", "PARTNERS_SOURCE") != "file:partners.json" {
		t.Errorf("api: %v", envs["api"])
	}
	var dlqs map[string]struct{ DLQ, Source string }
	if err := json.Unmarshal([]byte(get("api", "DLQ_URLS")), &dlqs); err != nil || dlqs["customs"].Source != res.QueueURLs["customs"] || !strings.HasPrefix(dlqs["customs"].DLQ, "http://127.0.0.1:1/") {
		t.Errorf("api DLQ_URLS %q: %v", get("api", "DLQ_URLS"), err)
	}
	// The partner workers: the API's URL the local stack serves (the
	// template's is the deployed API's), their own queue to ask again.
	if get("customs-worker", "API_URL") != "http://127.0.0.1:3" || get("customs-worker", "CUSTOMS_QUEUE_URL") != res.QueueURLs["customs"] ||
		get("warehouse-worker", "WAREHOUSE_QUEUE_URL") != res.QueueURLs["warehouse"] {
		t.Errorf("partner workers: %v %v", envs["customs-worker"], envs["warehouse-worker"])
	}
	if _, err := Environments(tmpl, res, sm, map[string]string{"OPS_SIGNIN_URL": "http://127.0.0.1:4", "OPS_CLIENT_ID": LocalConsoleClient}); err == nil || !strings.Contains(err.Error(), "API_URL") {
		t.Errorf("the deployed API's URL, unreplaced: %v", err)
	}
	if get("screen", "ORDER_EVENTS_TOPIC_ARN") != res.TopicARN {
		t.Errorf("screen: %v", envs["screen"])
	}

	// What the local stack does not create is an error, not a guess.
	delete(res.QueueURLs, "customs")
	if _, err := Environments(tmpl, res, sm, nil); err == nil || !strings.Contains(err.Error(), "not provisioned") {
		t.Errorf("a missing queue: %v", err)
	}
	if _, err := resolve(map[string]any{"Fn::GetAtt": []any{"X", "Arn"}}, nil); err == nil {
		t.Error("Fn::GetAtt resolved")
	}
	if _, err := resolve(map[string]any{"Ref": "Nope"}, map[string]string{}); err == nil {
		t.Error("a Ref to nothing resolved")
	}
}
