package stack

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/workflow"
)

var update = flag.Bool("update", false, "rewrite testdata/cdk from a fresh synthesis")

// resources of one type, by logical id.
func resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] == typ {
			out[id] = res["Properties"].(map[string]any)
		}
	}
	return out
}

func tag(props map[string]any, key string) string {
	return tagOf(map[string]any{"Properties": props}, key)
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestTable(t *testing.T) {
	template.HasResourceProperties(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"TimeToLiveSpecification":          map[string]any{"AttributeName": dynamostore.AttrTTL, "Enabled": true},
		"KeySchema": []any{
			map[string]any{"AttributeName": dynamostore.AttrPK, "KeyType": "HASH"},
			map[string]any{"AttributeName": dynamostore.AttrSK, "KeyType": "RANGE"},
		},
	})
	for _, props := range resources("AWS::DynamoDB::Table") {
		var names []string
		for _, g := range props["GlobalSecondaryIndexes"].([]any) {
			gm := g.(map[string]any)
			names = append(names, gm["IndexName"].(string)+":"+js(gm["KeySchema"])+":"+js(gm["Projection"]))
		}
		sort.Strings(names)
		// Each index projects only what its queries read: the customer's
		// and the due index their keys, the status index the ops lists'
		// columns; none projects every attribute.
		want := []string{
			dynamostore.IndexCustomer + `:[{"AttributeName":"GSI4PK","KeyType":"HASH"},{"AttributeName":"GSI4SK","KeyType":"RANGE"}]:{"ProjectionType":"KEYS_ONLY"}`,
			dynamostore.IndexDue + `:[{"AttributeName":"GSI3PK","KeyType":"HASH"},{"AttributeName":"GSI3SK","KeyType":"RANGE"}]:{"ProjectionType":"KEYS_ONLY"}`,
			dynamostore.IndexStatus + `:[{"AttributeName":"GSI5PK","KeyType":"HASH"},{"AttributeName":"GSI5SK","KeyType":"RANGE"}]:{"NonKeyAttributes":` +
				js(dynamostore.StatusListAttributes()) + `,"ProjectionType":"INCLUDE"}`,
		}
		sort.Strings(want)
		if !slices.Equal(names, want) {
			t.Fatalf("GSIs %v", names)
		}
	}
	if js(tmpl["Resources"]) == "" || !strings.Contains(js(tmpl), `"DeletionPolicy":"Retain"`) {
		t.Fatal("the table must be retained by default")
	}
}

func TestQueuesHaveDLQsAndSafeVisibility(t *testing.T) {
	queues := resources("AWS::SQS::Queue")
	if len(queues) != 9 {
		t.Fatalf("%d queues, want 4, their 4 DLQs and mark-stalled's", len(queues))
	}
	byName := map[string]map[string]any{}
	idOf := map[string]string{}
	for id, q := range queues {
		name := tag(q, "xborder:queue")
		byName[name], idOf[name] = q, id
		if q["SqsManagedSseEnabled"] != true {
			t.Errorf("%s is not encrypted", name)
		}
	}
	for _, name := range []string{workflow.QueueOrdersAccepted, workflow.QueueCustoms, workflow.QueueWarehouse, workflow.QueuePartnerCallbacks} {
		q := byName[name]
		rp, _ := q["RedrivePolicy"].(map[string]any)
		if rp == nil || rp["maxReceiveCount"] != float64(receivesOf(name)) || !strings.Contains(js(rp["deadLetterTargetArn"]), idOf[name+"-dlq"]) {
			t.Errorf("%s: redrive %v", name, rp)
		}
	}
	// Each event source's queue keeps a message invisible ≥ 6 × its consumer's timeout.
	fns := resources("AWS::Lambda::Function")
	maps := resources("AWS::Lambda::EventSourceMapping")
	if len(maps) != 4 {
		t.Fatalf("%d event source mappings, want 4", len(maps))
	}
	consumers := map[string]string{}
	for _, m := range maps {
		if js(m["FunctionResponseTypes"]) != `["ReportBatchItemFailures"]` {
			t.Errorf("mapping without partial batch failures: %v", m)
		}
		fnID := m["FunctionName"].(map[string]any)["Ref"].(string)
		qID := m["EventSourceArn"].(map[string]any)["Fn::GetAtt"].([]any)[0].(string)
		fn, q := fns[fnID], queues[qID]
		consumers[tag(q, "xborder:queue")] = tag(fn, "xborder:function")
		if vis, to := q["VisibilityTimeout"].(float64), fn["Timeout"].(float64); vis < 6*to {
			t.Errorf("%s visibility %v < 6 × %s timeout %v", tag(q, "xborder:queue"), vis, tag(fn, "xborder:function"), to)
		}
	}
	want := map[string]string{workflow.QueueOrdersAccepted: workflow.FnStarter, workflow.QueueCustoms: workflow.FnCustomsWorker,
		workflow.QueueWarehouse: workflow.FnWarehouseWorker, workflow.QueuePartnerCallbacks: workflow.FnCallbackSender}
	if fmt.Sprint(consumers) != fmt.Sprint(want) {
		t.Fatalf("consumers %v", consumers)
	}
}

func TestTopicFeedsPartnerCallbacks(t *testing.T) {
	template.ResourceCountIs(jsii.String("AWS::SNS::Topic"), jsii.Number(1))
	template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{"Protocol": "sqs", "RawMessageDelivery": true})
}

func TestFunctions(t *testing.T) {
	fns := resources("AWS::Lambda::Function")
	var names []string
	for _, f := range fns {
		names = append(names, tag(f, "xborder:function"))
		if f["Runtime"] != "provided.al2023" || js(f["Architectures"]) != `["arm64"]` || f["Handler"] != "bootstrap" ||
			js(f["TracingConfig"]) != `{"Mode":"Active"}` || f["LoggingConfig"] == nil {
			t.Errorf("%s: %s %s %s %s", tag(f, "xborder:function"), f["Runtime"], js(f["Architectures"]), js(f["TracingConfig"]), js(f["LoggingConfig"]))
		}
	}
	sort.Strings(names)
	want := append([]string{}, AllFunctions...)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("functions %v", names)
	}
	for _, lg := range resources("AWS::Logs::LogGroup") {
		if lg["RetentionInDays"] != float64(30) {
			t.Errorf("log group kept %v days", lg["RetentionInDays"])
		}
	}
}

func TestStateMachine(t *testing.T) {
	template.HasResourceProperties(jsii.String("AWS::StepFunctions::StateMachine"), &map[string]any{
		"StateMachineType":     "STANDARD",
		"TracingConfiguration": map[string]any{"Enabled": true},
		"LoggingConfiguration": map[string]any{"Level": "ALL", "IncludeExecutionData": true},
	})
	asl, err := LocalASL(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	var def struct {
		StartAt string
		States  map[string]struct {
			Type, Next, Resource, ResultPath string
			Retry                            []map[string]any
			Catch                            []map[string]any
			HeartbeatSeconds, TimeoutSeconds float64
			Parameters                       map[string]any
		}
	}
	if err := json.Unmarshal([]byte(asl), &def); err != nil {
		t.Fatal(err)
	}
	// The order of the steps.
	var path []string
	for s := def.StartAt; s != ""; s = def.States[s].Next {
		path = append(path, s)
	}
	if strings.Join(path, ">") != "Screen>ReserveStock>AuthorizePayment>Customs>CapturePayment>Dispatch>MarkDispatched>Dispatched" {
		t.Fatalf("path %v", path)
	}
	if def.States[workflow.StateCompensate].Next != workflow.StateCompensated || def.States[workflow.StateCompensated].Type != "Succeed" {
		t.Fatal("Compensate must end in Compensated")
	}
	lambdaSteps := map[string]string{workflow.StateScreen: workflow.FnScreen, workflow.StateReserveStock: workflow.FnReserveStock,
		workflow.StateAuthorizePayment: workflow.FnAuthorizePayment, workflow.StateCapturePayment: workflow.FnCapturePayment,
		workflow.StateMarkDispatched: workflow.FnMarkDispatched, workflow.StateCompensate: workflow.FnCompensate}
	waitSteps := map[string]string{workflow.StateCustoms: workflow.QueueCustoms, workflow.StateDispatch: workflow.QueueWarehouse}
	for name, st := range def.States {
		if st.Type != "Task" {
			continue
		}
		// One retrier, for exactly the transient errors, with backoff and jitter.
		wantErrs := workflow.TransientErrors
		if _, wait := waitSteps[name]; wait {
			wantErrs = append(append([]string{}, wantErrs...), "SQS.SdkClientException", "SQS.AmazonSQSException")
		}
		if len(st.Retry) != 1 || js(st.Retry[0]["ErrorEquals"]) != js(wantErrs) || st.Retry[0]["MaxAttempts"] != float64(workflow.RetryMaxAttempts) ||
			st.Retry[0]["JitterStrategy"] != "FULL" || st.Retry[0]["BackoffRate"] != workflow.RetryBackoffRate || st.Retry[0]["MaxDelaySeconds"] != float64(workflow.RetryMaxDelaySeconds) {
			t.Errorf("%s: Retry %s", name, js(st.Retry))
		}
		// Business errors go to compensation; nothing else is caught, so an
		// exhausted transient error fails the execution (STALLED).
		if name == workflow.StateCompensate {
			if len(st.Catch) != 0 {
				t.Errorf("Compensate must not catch")
			}
		} else if len(st.Catch) != 1 || js(st.Catch[0]["ErrorEquals"]) != js(workflow.BusinessErrors) ||
			st.Catch[0]["Next"] != workflow.StateCompensate || st.Catch[0]["ResultPath"] != "$.error" {
			t.Errorf("%s: Catch %s", name, js(st.Catch))
		}
		if fn, ok := lambdaSteps[name]; ok && st.Resource != "arn:aws:lambda:us-east-1:000000000000:function:"+fn {
			t.Errorf("%s runs %s", name, st.Resource)
		}
		if q, ok := waitSteps[name]; ok {
			if st.Resource != "arn:aws:states:::sqs:sendMessage.waitForTaskToken" || st.HeartbeatSeconds == 0 || st.TimeoutSeconds == 0 ||
				st.Parameters["QueueUrl"] != LocalSQS+"/000000000000/"+q || js(st.Parameters["MessageBody"]) != `{"orderId.$":"$.orderId","taskToken.$":"$$.Task.Token"}` {
				t.Errorf("%s: %s %v %v %s", name, st.Resource, st.HeartbeatSeconds, st.TimeoutSeconds, js(st.Parameters))
			}
		}
	}
	if strings.Contains(asl, "States.ALL") {
		t.Fatal("no state may catch States.ALL: transient failures must stall, not compensate")
	}
}

// notResourceScoped are actions AWS cannot scope to a resource.
var notResourceScoped = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets",
	"logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery", "logs:ListLogDeliveries",
	"logs:PutResourcePolicy", "logs:DescribeResourcePolicies", "logs:DescribeLogGroups"}

func TestLeastPrivilege(t *testing.T) {
	for id, p := range resources("AWS::IAM::Policy") {
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			var actions []string
			switch a := st["Action"].(type) {
			case string:
				actions = []string{a}
			case []any:
				for _, x := range a {
					actions = append(actions, x.(string))
				}
			}
			for _, a := range actions {
				if a == "*" || strings.HasSuffix(a, ":*") {
					t.Errorf("%s allows %s", id, a)
				}
			}
			if st["Resource"] == "*" {
				for _, a := range actions {
					if !slices.Contains(notResourceScoped, a) {
						t.Errorf("%s allows %s on every resource", id, a)
					}
				}
			}
		}
	}
}

func TestAPIRoutesAndAuthorizer(t *testing.T) {
	template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), &map[string]any{"AuthorizerType": "JWT"})
	var routes []string
	for _, r := range resources("AWS::ApiGatewayV2::Route") {
		key := r["RouteKey"].(string)
		if path, ok := strings.CutPrefix(key, "GET "); ok && slices.Contains(ConsoleRoutes, path) {
			if r["AuthorizationType"] != "NONE" {
				t.Errorf("%s serves the console's static page: it must be public", key)
			}
			continue
		}
		routes = append(routes, key)
		switch {
		case httpapi.SignedRoutes[key] && r["AuthorizationType"] != "NONE":
			t.Errorf("%s is signed by the partner: the Lambda checks it, no JWT authorizer may stand in front", key)
		case !httpapi.SignedRoutes[key] && r["AuthorizationType"] != "JWT":
			t.Errorf("%s is not behind the JWT authorizer", key)
		}
	}
	var served []string
	for _, r := range httpapi.Routes {
		served = append(served, r.Method+" "+r.Path)
	}
	sort.Strings(routes)
	sort.Strings(served)
	if !slices.Equal(routes, served) {
		t.Fatalf("API Gateway routes %v, the handler serves %v", routes, served)
	}
	template.HasResourceProperties(jsii.String("AWS::Cognito::UserPoolGroup"), &map[string]any{"GroupName": "ops"})
}

// TestCheckedInCopiesAreFresh keeps testdata/cdk in step with the stack: the
// local stack reads those files instead of running the CDK.
func TestCheckedInCopiesAreFresh(t *testing.T) {
	masked, err := Masked(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	asl, err := LocalASL(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{"../../testdata/cdk/template.json": masked, "../../testdata/cdk/order-workflow.asl.json": asl}
	for path, fresh := range files {
		if *update {
			if err := os.MkdirAll("../../testdata/cdk", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(fresh), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil || string(old) != fresh {
			t.Errorf("%s is stale: run `make synth-golden` (go test ./stack -run TestCheckedInCopiesAreFresh -update in infra/) and commit it", path)
		}
	}
}

// The payment Lambdas use Stripe by default, with the API key in a Secrets
// Manager secret they alone may read; the key is in no template.
func TestPaymentsUseStripeWithTheKeyInSecretsManager(t *testing.T) {
	readers := map[string]bool{}
	for _, p := range resources("AWS::IAM::Policy") {
		doc := js(p["PolicyDocument"])
		if strings.Contains(doc, "secretsmanager:GetSecretValue") && strings.Contains(doc, ":secret:xborder/stripe-??????") {
			for _, r := range p["Roles"].([]any) {
				readers[js(r)] = true
			}
		}
	}
	for _, f := range resources("AWS::Lambda::Function") {
		name := tag(f, "xborder:function")
		env, _ := f["Environment"].(map[string]any)["Variables"].(map[string]any)
		paying := slices.Contains(PaymentFunctions, name)
		switch {
		case paying && (env["PAYMENT_PROVIDER"] != "stripe" || env["STRIPE_SECRET_KEY_SECRET"] != "xborder/stripe"):
			t.Errorf("%s: payment environment %v", name, env)
		case !paying && env["STRIPE_SECRET_KEY_SECRET"] != nil:
			t.Errorf("%s does not move money, yet knows the Stripe secret", name)
		}
		if env["STRIPE_SECRET_KEY"] != nil {
			t.Errorf("%s: the Stripe key itself is in the template", name)
		}
		if role := js(f["Role"]); paying != readersByRole(readers, role) {
			t.Errorf("%s: may read the Stripe secret = %v, want %v", name, !paying, paying)
		}
	}
}

// readersByRole: a function's Role is {"Fn::GetAtt":[id,"Arn"]}, a policy's
// Roles entry {"Ref":id}; compare the ids.
func readersByRole(readers map[string]bool, role string) bool {
	var r struct {
		GetAtt []string `json:"Fn::GetAtt"`
	}
	if json.Unmarshal([]byte(role), &r) != nil || len(r.GetAtt) == 0 {
		return false
	}
	return readers[js(map[string]string{"Ref": r.GetAtt[0]})]
}

// The callback-sender reads the partner directory from its secret, knows its
// queue's URL and may change its messages' visibility (the backoff), and
// writes the orders (each attempt is recorded); it publishes nothing and
// moves no money.
func TestCallbackSender(t *testing.T) {
	fn, allowed := grantsOf(t, workflow.FnCallbackSender)
	fnID := workflow.FnCallbackSender
	queueID := ""
	for id, q := range resources("AWS::SQS::Queue") {
		if tag(q, "xborder:queue") == workflow.QueuePartnerCallbacks {
			queueID = id
		}
	}
	tableID := ""
	for id := range resources("AWS::DynamoDB::Table") {
		tableID = id
	}
	env, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if env["PARTNERS_SOURCE"] != "secretsmanager:"+PartnersSecret || js(env["CALLBACK_QUEUE_URL"]) != js(map[string]string{"Ref": queueID}) ||
		env[workflow.EnvTable] == nil || env[workflow.EnvTopicARN] != nil || env["STRIPE_SECRET_KEY_SECRET"] != nil {
		t.Fatalf("environment %v", env)
	}
	if fn["Timeout"] != float64(partnerCallbackTimout) {
		t.Errorf("timeout %v", fn["Timeout"])
	}
	has := func(action, resource string) bool {
		for _, a := range allowed {
			if strings.HasPrefix(a, action+" ") && strings.Contains(a, resource) {
				return true
			}
		}
		return false
	}
	for _, want := range [][2]string{
		{"sqs:ChangeMessageVisibility", queueID}, {"sqs:DeleteMessage", queueID}, {"dynamodb:PutItem", tableID},
		{"secretsmanager:GetSecretValue", ":secret:" + PartnersSecret + "-??????"},
	} {
		if !has(want[0], want[1]) {
			t.Errorf("%s may not %s on %s: %v", fnID, want[0], want[1], allowed)
		}
	}
	for _, a := range allowed {
		if strings.HasPrefix(a, "sns:Publish") || strings.Contains(a, "xborder/stripe") || strings.HasPrefix(a, "states:") {
			t.Errorf("%s may %s", fnID, a)
		}
	}
}

// grantsOf lists what a function's role may do, as "action resource-JSON".
func grantsOf(t *testing.T, function string) (fn map[string]any, allowed []string) {
	t.Helper()
	for _, f := range resources("AWS::Lambda::Function") {
		if tag(f, "xborder:function") == function {
			fn = f
		}
	}
	if fn == nil {
		t.Fatalf("no %s function", function)
	}
	role := js(fn["Role"])
	for _, p := range resources("AWS::IAM::Policy") {
		mine := false
		for _, r := range p["Roles"].([]any) {
			mine = mine || readersByRole(map[string]bool{js(r): true}, role)
		}
		if !mine {
			continue
		}
		for _, s := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			actions, _ := st["Action"].([]any)
			if a, ok := st["Action"].(string); ok {
				actions = []any{a}
			}
			for _, a := range actions {
				allowed = append(allowed, a.(string)+" "+js(st["Resource"]))
			}
		}
	}
	return fn, allowed
}

// The ops API: the api Lambda knows the state machine (as the starter does)
// and every queue with its dead-letter queue; it may describe, read and
// redrive the machine's executions (and start none), peek at, delete from
// and replay out of the dead-letter queues, and send to their source
// queues, but not consume those.
func TestAPIOps(t *testing.T) {
	fn, allowed := grantsOf(t, workflow.FnAPI)
	machineID := ""
	for id := range resources("AWS::StepFunctions::StateMachine") {
		machineID = id
	}
	env, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if js(env[workflow.EnvStateMachineARN]) != js(map[string]string{"Ref": machineID}) {
		t.Errorf("%s = %s, want the machine's ARN", workflow.EnvStateMachineARN, js(env[workflow.EnvStateMachineARN]))
	}
	// DLQ_URLS is JSON with the queues' URLs ({"Ref": id}) joined in: put
	// "ref:<id>" in their place and read it as the api Lambda does.
	var join struct {
		Parts []any `json:"Fn::Join"`
	}
	_ = json.Unmarshal([]byte(js(env[httpapi.EnvDeadLetters])), &join)
	var text strings.Builder
	if len(join.Parts) == 2 {
		parts, _ := join.Parts[1].([]any)
		for _, p := range parts {
			switch p := p.(type) {
			case string:
				text.WriteString(p)
			case map[string]any:
				text.WriteString(fmt.Sprint("ref:", p["Ref"]))
			}
		}
	}
	pairs, err := httpapi.ParseDeadLetters(text.String())
	if err != nil || len(pairs) != 4 {
		t.Fatalf("%s = %s: %v %v", httpapi.EnvDeadLetters, js(env[httpapi.EnvDeadLetters]), pairs, err)
	}
	has := func(action string, resource ...string) bool {
		for _, a := range allowed {
			ok := strings.HasPrefix(a, action+" ")
			for _, r := range resource {
				ok = ok && strings.Contains(a, r)
			}
			if ok {
				return true
			}
		}
		return false
	}
	for _, action := range []string{"states:DescribeExecution", "states:GetExecutionHistory", "states:RedriveExecution"} {
		if !has(action, ":execution:", machineID) {
			t.Errorf("the api may not %s on the machine's executions: %v", action, allowed)
		}
	}
	if has("states:StartExecution") || has("states:StopExecution") {
		t.Error("the api may start or stop executions")
	}
	queues := map[string]string{} // name → logical id
	for id, q := range resources("AWS::SQS::Queue") {
		queues[tag(q, "xborder:queue")] = id
	}
	for _, name := range []string{workflow.QueueOrdersAccepted, workflow.QueueCustoms, workflow.QueueWarehouse, workflow.QueuePartnerCallbacks} {
		src, dlq := queues[name], queues[name+"-dlq"]
		if src == "" || dlq == "" {
			t.Fatalf("queue %s: %q, dead-letter queue %q", name, src, dlq)
		}
		for _, action := range []string{"sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} {
			if !has(action, dlq) {
				t.Errorf("the api may not %s on %s-dlq", action, name)
			}
		}
		if !has("sqs:SendMessage", src) {
			t.Errorf("the api may not replay into %s", name)
		}
		if has("sqs:ReceiveMessage", `"`+src+`"`) || has("sqs:DeleteMessage", `"`+src+`"`) {
			t.Errorf("the api may consume %s", name)
		}
		if want := (httpapi.QueuePair{SourceURL: "ref:" + src, DLQURL: "ref:" + dlq}); pairs[name] != want {
			t.Errorf("%s names %+v for %s, want %+v", httpapi.EnvDeadLetters, pairs[name], name, want)
		}
	}
}

// The reconciler knows the customs queue and may send to it (it wakes the
// customs steps waiting for China's customs); it lists the workflow's
// executions and describes them, and writes orders (it marks STALLED those
// of executions that failed unseen) and announces that; it consumes no
// queue, starts, redrives and answers nothing.
func TestReconcilerWakesTheCustomsSteps(t *testing.T) {
	fn, allowed := grantsOf(t, workflow.FnReconciler)
	customsID := ""
	for id, q := range resources("AWS::SQS::Queue") {
		if tag(q, "xborder:queue") == workflow.QueueCustoms {
			customsID = id
		}
	}
	env, _ := fn["Environment"].(map[string]any)["Variables"].(map[string]any)
	if js(env[workflow.EnvCustomsQueueURL]) != js(map[string]string{"Ref": customsID}) || env[workflow.EnvStateMachineARN] == nil || env[workflow.EnvTopicARN] == nil {
		t.Fatalf("environment %v", env)
	}
	has := func(prefix, contains string) bool {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(a, prefix) && strings.Contains(a, contains) })
	}
	if !has("sqs:SendMessage ", customsID) {
		t.Errorf("the reconciler may not send to the customs queue: %v", allowed)
	}
	if !has("states:ListExecutions ", "OrderWorkflow") || !has("states:DescribeExecution ", ":execution:") || !has("dynamodb:UpdateItem ", "") || !has("sns:Publish ", "") {
		t.Errorf("the reconciler cannot find failed executions and mark their orders: %v", allowed)
	}
	for _, a := range allowed {
		action, _, _ := strings.Cut(a, " ")
		if strings.HasPrefix(action, "states:") && action != "states:ListExecutions" && action != "states:DescribeExecution" ||
			action == "sqs:ReceiveMessage" || action == "sqs:DeleteMessage" {
			t.Errorf("the reconciler may %s", a)
		}
	}
}

// A failed execution's status change reaches mark-stalled with retries for
// a day; what cannot be delivered or processed lands in mark-stalled-dlq.
func TestExecutionStalledRuleRetriesIntoADeadLetterQueue(t *testing.T) {
	dlqID := ""
	for id, q := range resources("AWS::SQS::Queue") {
		if tag(q, "xborder:queue") == QueueMarkStalledDLQ {
			dlqID = id
		}
	}
	if dlqID == "" {
		t.Fatal("no mark-stalled-dlq queue")
	}
	found := false
	for _, r := range resources("AWS::Events::Rule") {
		if !strings.Contains(js(r["EventPattern"]), "Step Functions Execution Status Change") {
			continue
		}
		found = true
		target := r["Targets"].([]any)[0].(map[string]any)
		if js(target["RetryPolicy"]) != `{"MaximumEventAgeInSeconds":86400,"MaximumRetryAttempts":185}` || !strings.Contains(js(target["DeadLetterConfig"]), dlqID) {
			t.Errorf("the stall rule's target: %v", target)
		}
	}
	if !found {
		t.Fatal("no rule for execution status changes")
	}
	configs := resources("AWS::Lambda::EventInvokeConfig")
	ok := false
	for _, c := range configs {
		ok = ok || (strings.Contains(js(c["DestinationConfig"]), dlqID) && c["MaximumRetryAttempts"] == float64(2))
	}
	if !ok {
		t.Errorf("mark-stalled's failures have no destination: %v", configs)
	}
}

// The starter reads the order before starting its execution.
func TestStarterReadsTheOrder(t *testing.T) {
	_, allowed := grantsOf(t, workflow.FnStarter)
	if !slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(a, "dynamodb:GetItem ") }) {
		t.Errorf("the starter cannot read orders: %v", allowed)
	}
	if slices.ContainsFunc(allowed, func(a string) bool {
		return strings.HasPrefix(a, "dynamodb:PutItem ") || strings.HasPrefix(a, "dynamodb:UpdateItem ")
	}) {
		t.Errorf("the starter may write orders: %v", allowed)
	}
}

// TestStagedTableIndexes: while an existing table moves to the current
// indexes, the stack defines the ones named (current or legacy), one
// deployment per index added or dropped; an unknown name stops synthesis.
func TestStagedTableIndexes(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Context: &map[string]interface{}{"aws:cdk:disable-stack-trace": true}})
	st := awscdk.NewStack(app, jsii.String("Staged"), nil)
	newData(st, awscdk.RemovalPolicy_RETAIN, []string{dynamostore.LegacyIndexCustomer, dynamostore.LegacyIndexStatus, dynamostore.IndexDue})
	var staged map[string]any
	raw, _ := json.Marshal(assertions.Template_FromStack(st, nil).ToJSON())
	_ = json.Unmarshal(raw, &staged)
	var names []string
	for _, r := range staged["Resources"].(map[string]any) {
		props := r.(map[string]any)["Properties"].(map[string]any)
		for _, g := range props["GlobalSecondaryIndexes"].([]any) {
			gm := g.(map[string]any)
			names = append(names, gm["IndexName"].(string)+":"+js(gm["KeySchema"].([]any)[0].(map[string]any)["AttributeName"])+":"+js(gm["Projection"]))
		}
	}
	want := []string{`byCustomer:"GSI1PK":{"ProjectionType":"ALL"}`, `byStatus:"GSI2PK":{"ProjectionType":"ALL"}`, `byDue:"GSI3PK":{"ProjectionType":"KEYS_ONLY"}`}
	if !slices.Equal(names, want) {
		t.Fatalf("staged indexes %v, want %v", names, want)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("an unknown index name was accepted")
		}
	}()
	newData(awscdk.NewStack(app, jsii.String("Unknown"), nil), awscdk.RemovalPolicy_RETAIN, []string{"byNothing"})
}

// TestScreenRecordsItsHit: a screening hit is written on the order — the
// grant Screen had (read only) made that call AccessDenied in AWS, retried
// as transient until the order stalled instead of ending REJECTED. It may
// put and update, and still not delete or batch-write.
func TestScreenRecordsItsHit(t *testing.T) {
	_, allowed := grantsOf(t, workflow.FnScreen)
	has := func(action string) bool {
		return slices.ContainsFunc(allowed, func(a string) bool { return strings.HasPrefix(a, action+" ") })
	}
	for _, a := range []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"} {
		if !has(a) {
			t.Errorf("screen lacks %s: %v", a, allowed)
		}
	}
	for _, a := range []string{"dynamodb:DeleteItem", "dynamodb:BatchWriteItem"} {
		if has(a) {
			t.Errorf("screen may %s: %v", a, allowed)
		}
	}
}
