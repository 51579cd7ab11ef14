package wiring

import (
	"errors"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// AWSConfig is the SDK configuration of a function in Lambda, read from the
// environment Lambda provides: AWS_REGION and the execution role's
// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN.
//
// It stands in for config.LoadDefaultConfig, whose shared-file, SSO and STS
// providers a Lambda never uses and which cost each binary 1.5 MB (the
// binaries must stay under 10 MB). Endpoints still come the standard way:
// each client takes Endpoint(service), which honours AWS_ENDPOINT_URL_<SERVICE>
// and AWS_ENDPOINT_URL as the SDK would (LocalStack deployments rely on it).
func AWSConfig() (aws.Config, error) {
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = os.Getenv("AWS_DEFAULT_REGION")
	}
	key, secret := os.Getenv("AWS_ACCESS_KEY_ID"), os.Getenv("AWS_SECRET_ACCESS_KEY")
	if region == "" || key == "" || secret == "" {
		return aws.Config{}, errors.New("wiring: AWS_REGION, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set (Lambda sets them)")
	}
	return aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(key, secret, os.Getenv("AWS_SESSION_TOKEN"))),
	}, nil
}

// Endpoint is the endpoint override for a service id (DYNAMODB, SQS, SNS,
// SFN): AWS_ENDPOINT_URL_<ID>, else AWS_ENDPOINT_URL, else nil (AWS's own).
func Endpoint(service string) *string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(service, " ", "_"))); v != "" {
		return aws.String(v)
	}
	if v := os.Getenv("AWS_ENDPOINT_URL"); v != "" {
		return aws.String(v)
	}
	return nil
}
