package iam

import (
	"os"
	"slices"
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "anything:at/all", true},
		{"dynamodb:*Item", "dynamodb:GetItem", true},
		{"dynamodb:Get?tem", "dynamodb:GetItem", true},
		{"arn:aws:dynamodb:*:*:table/t/index/*", "arn:aws:dynamodb:us-east-1:0:table/t/index/byStatus", true},
		{"arn:aws:dynamodb:us-east-1:0:table/t", "arn:aws:dynamodb:us-east-1:0:table/t/index/x", false},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"", "", true},
		{"", "x", false},
	} {
		if got := Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.s, got)
		}
	}
}

// TestTheTemplatesGrants: the roles of the synthesized template, resolved
// to the local stack's ARNs, allow what each function needs and no more.
func TestTheTemplatesGrants(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	arns, err := LocalARNs(raw, "xborder-orders", "order-workflow")
	if err != nil {
		t.Fatal(err)
	}
	p, err := FromTemplate(raw, arns)
	if err != nil {
		t.Fatal(err)
	}
	table := "arn:aws:dynamodb:us-east-1:000000000000:table/xborder-orders"
	queue := func(name string) string { return "arn:aws:sqs:us-east-1:000000000000:" + name }
	for _, c := range []struct {
		fn, action, resource string
		want                 bool
	}{
		{"screen", "dynamodb:GetItem", table, true},
		{"screen", "dynamodb:PutItem", table, true},
		{"screen", "dynamodb:DeleteItem", table, false},
		{"starter", "dynamodb:GetItem", table, true},
		{"starter", "dynamodb:PutItem", table, false},
		{"api", "dynamodb:Query", table + "/index/byStatusSince", true},
		{"api", "sqs:SendMessage", queue("orders-accepted"), true},
		{"api", "states:DescribeExecution", "arn:aws:states:us-east-1:000000000000:execution:order-workflow:01KB0S2H7M9N4P6Q8R1T3V5W7X", true},
		{"api", "states:StartExecution", "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow", false},
		{"starter", "states:StartExecution", "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow", true},
		{"mark-dispatched", "sqs:SendMessage", queue("orders-accepted"), false},
		{"customs-worker", "sqs:SendMessage", queue("customs"), true},
		{"warehouse-worker", "sqs:SendMessage", queue("warehouse"), true},
		{"warehouse-worker", "sqs:SendMessage", queue("customs"), false},
		{"reserve-stock", "sns:Publish", "arn:aws:sns:us-east-1:000000000000:order-events", true},
		{"screen", "sns:Publish", "arn:aws:sns:us-east-1:000000000000:order-events", false},
		{"nobody", "dynamodb:GetItem", table, false},
	} {
		if got := p.Allowed(c.fn, c.action, c.resource); got != c.want {
			t.Errorf("%s %s on %s: %v, want %v", c.fn, c.action, c.resource, got, c.want)
		}
	}
	if g := p.Grants("screen"); !slices.ContainsFunc(g, func(s string) bool { return strings.HasPrefix(s, "dynamodb:PutItem ") }) {
		t.Errorf("screen's grants: %v", g)
	}
}

// TestDenyWins: an explicit Deny beats any Allow; a Condition is never
// assumed to hold.
func TestDenyWins(t *testing.T) {
	raw := []byte(`{"Resources": {
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Tags": [{"Key": "xborder:function", "Value": "f"}]}},
	  "P": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
	    {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
	    {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
	    {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEquals": {"kms:ViaService": "x"}}}]}}}}}`)
	p, err := FromTemplate(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Allowed("f", "s3:GetObject", "arn:aws:s3:::b/k") || p.Allowed("f", "s3:DeleteObject", "arn:aws:s3:::b/k") ||
		!p.Allowed("f", "S3:deleteobject", "arn:aws:s3:::c/k") || p.Allowed("f", "kms:Decrypt", "arn:aws:kms:us-east-1:0:key/k") {
		t.Fatal("deny, case or condition evaluated wrongly")
	}
}

// TestReport: a grant a call needed is "used", one none did "never used"
// unless a reason keeps it, on every service.
func TestReport(t *testing.T) {
	raw := []byte(`{"Resources": {
	  "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]}, "Tags": [{"Key": "xborder:function", "Value": "f"}]}},
	  "P": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": [{"Ref": "Role"}], "PolicyDocument": {"Statement": [
	    {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:DeleteItem"], "Resource": "arn:aws:dynamodb:us-east-1:0:table/t"},
	    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}}}}}`)
	p, err := FromTemplate(raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := p.Report(map[string][]string{"f": {"dynamodb:GetItem arn:aws:dynamodb:us-east-1:0:table/t"}}, nil, map[string]string{"f sqs:SendMessage": "a reason"})
	if !strings.Contains(r, "used       dynamodb:GetItem") || !strings.Contains(r, "never used dynamodb:DeleteItem") || !strings.Contains(r, "kept       sqs:SendMessage * — a reason") {
		t.Fatalf("report:\n%s", r)
	}
	r = p.Report(nil, map[string][]string{"f": {"dynamodb:DeleteItem"}}, nil)
	if !strings.Contains(r, "callable   dynamodb:DeleteItem") || !strings.Contains(r, "never used dynamodb:GetItem") {
		t.Fatalf("report:\n%s", r)
	}
}

// TestSecretsAreCheckedStatically: a secret a function's environment names
// is readable under its role in the template; one it is not granted is
// refused, and recorded so.
func TestSecretsAreCheckedStatically(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	c, err := ForTemplateJSON(raw, "t")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Secrets(raw); err != nil {
		t.Fatal(err)
	}
	if d := c.Denied(); len(d) != 0 {
		t.Errorf("secrets the environment names but the role cannot read: %v", d)
	}
	used := strings.Join(c.Used()["customs-worker"], "\n")
	for _, s := range []string{"secret:xborder/partner-endpoints-", "secret:xborder/china-declarant-"} {
		if !strings.Contains(used, "secretsmanager:GetSecretValue arn:aws:secretsmanager:us-east-1:000000000000:"+s) {
			t.Errorf("customs-worker reads %s: used %s", s, used)
		}
	}
	// The warehouse-worker's role never names China's declarant: a
	// template whose environment gave it that secret would be refused.
	mixed := strings.Replace(string(raw), `"STRIPE_SECRET_KEY_SECRET": "xborder/stripe"`, `"STRIPE_SECRET_KEY_SECRET": "xborder/china-declarant"`, 1)
	if mixed == string(raw) {
		t.Fatal("no STRIPE_SECRET_KEY_SECRET in the template")
	}
	c, _ = ForTemplateJSON([]byte(mixed), "t")
	if err := c.Secrets([]byte(mixed)); err != nil {
		t.Fatal(err)
	}
	if d := c.Denied(); len(d) != 1 || !strings.Contains(d[0], "secretsmanager:GetSecretValue") || !strings.Contains(d[0], "china-declarant") {
		t.Errorf("denied %v, want the payment function's read of china-declarant", d)
	}
}

// TestCallable: the SDK operations in a symbol table, as IAM actions.
func TestCallable(t *testing.T) {
	nm := []byte(`  9a0f0 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).GetItem
  9a1f0 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).TransactWriteItems
  9a2f0 T github.com/aws/aws-sdk-go-v2/service/dynamodb.(*Client).DescribeEndpoints
  9a3f0 T github.com/aws/aws-sdk-go-v2/service/sqs.(*Client).DeleteMessageBatch
  9a4f0 T github.com/aws/aws-sdk-go-v2/service/sfn.(*Client).SendTaskFailure
  9a5f0 T github.com/aws/aws-sdk-go-v2/service/sqs.(*Client).SendMessage.func1
  9a6f0 T github.com/aws/aws-sdk-go-v2/service/sns.(*Client).Publish`)
	got := strings.Join(Callable(nm), " ")
	if want := "dynamodb:GetItem dynamodb:PutItem dynamodb:UpdateItem sns:Publish sqs:DeleteMessage states:SendTaskFailure"; got != want {
		t.Errorf("Callable = %s, want %s", got, want)
	}
}
