package wiring

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestEndpointFollowsTheSDKsVariables(t *testing.T) {
	for _, v := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_SFN"} {
		t.Setenv(v, "")
	}
	if Endpoint("DYNAMODB") != nil {
		t.Fatal("no variable: AWS's own endpoint")
	}
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
	if aws.ToString(Endpoint("SQS")) != "http://127.0.0.1:4566" {
		t.Fatal("AWS_ENDPOINT_URL applies to every service")
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:8000")
	if aws.ToString(Endpoint("DYNAMODB")) != "http://127.0.0.1:8000" || aws.ToString(Endpoint("SFN")) != "http://127.0.0.1:4566" {
		t.Fatal("the service's own variable wins")
	}
}

func TestAWSConfigNeedsTheLambdaEnvironment(t *testing.T) {
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	if _, err := AWSConfig(); err == nil {
		t.Fatal("a missing region must fail the cold start")
	}
	t.Setenv("AWS_REGION", "eu-central-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "session")
	cfg, err := AWSConfig()
	if err != nil || cfg.Region != "eu-central-1" {
		t.Fatalf("%+v %v", cfg, err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SessionToken != "session" {
		t.Fatalf("%+v %v", creds, err)
	}
	t.Setenv("TABLE_NAME", "")
	if _, err := Steps(Logger()); err == nil {
		t.Fatal("Steps without TABLE_NAME must fail")
	}
}
