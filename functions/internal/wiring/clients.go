package wiring

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DynamoDB is a DynamoDB client at its standard endpoint.
func DynamoDB(cfg aws.Config) *dynamodb.Client {
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = Endpoint("DYNAMODB") })
}

// SQS is an SQS client at its standard endpoint.
func SQS(cfg aws.Config) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = Endpoint("SQS") })
}

// SNS is an SNS client at its standard endpoint.
func SNS(cfg aws.Config) *sns.Client {
	return sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = Endpoint("SNS") })
}

// SFN is a Step Functions client at its standard endpoint.
func SFN(cfg aws.Config) *sfn.Client {
	return sfn.NewFromConfig(cfg, func(o *sfn.Options) { o.BaseEndpoint = Endpoint("SFN") })
}
