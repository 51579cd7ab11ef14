// Package localstack holds the LocalStack deploy path for hosts with Docker.
package localstack

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// cfnToService maps the template's resource namespaces to LocalStack services.
var cfnToService = map[string]string{
	"ApiGatewayV2": "apigateway", "CloudWatch": "cloudwatch", "Cognito": "cognito-idp", "DynamoDB": "dynamodb",
	"Events": "events", "IAM": "iam", "Lambda": "lambda", "Logs": "logs", "SNS": "sns", "SQS": "sqs", "StepFunctions": "stepfunctions",
}

// TestComposeServesWhatTheStackUses parses the compose file (no Docker
// needed) and checks it enables every service the synthesized template uses,
// plus what cdklocal itself needs.
func TestComposeServesWhatTheStackUses(t *testing.T) {
	b, err := os.ReadFile("docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Ports       []string          `yaml:"ports"`
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	ls, ok := compose.Services["localstack"]
	if !ok || !strings.HasPrefix(ls.Image, "localstack/localstack:") || strings.HasSuffix(ls.Image, ":latest") {
		t.Fatalf("want a pinned localstack/localstack image, got %q", ls.Image)
	}
	if len(ls.Ports) == 0 || !strings.HasPrefix(ls.Ports[0], "127.0.0.1:") {
		t.Fatalf("LocalStack must publish on loopback only: %v", ls.Ports)
	}
	if ls.Environment["DISABLE_EVENTS"] != "1" {
		t.Fatal("LocalStack's usage events must be off (nothing leaves the machine)")
	}
	enabled := strings.Split(ls.Environment["SERVICES"], ",")
	tb, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	var tmpl struct {
		Resources map[string]struct{ Type string }
	}
	if err := json.Unmarshal(tb, &tmpl); err != nil {
		t.Fatal(err)
	}
	need := map[string]bool{"cloudformation": true, "s3": true, "ssm": true, "sts": true} // cdklocal bootstrap and deploy
	for _, r := range tmpl.Resources {
		ns := strings.Split(r.Type, "::")[1]
		svc, ok := cfnToService[ns]
		if !ok {
			t.Errorf("resource type %s: no LocalStack service known for it", r.Type)
			continue
		}
		need[svc] = true
	}
	for svc := range need {
		if !slices.Contains(enabled, svc) {
			t.Errorf("the template uses %s but SERVICES does not enable it", svc)
		}
	}
}
