package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/dynamostore"
)

type data struct {
	table awsdynamodb.Table
}

// newData is the single table, keyed exactly as shared/dynamostore reads it.
func newData(st awscdk.Stack, removal awscdk.RemovalPolicy) *data {
	s := func(name string) *awsdynamodb.Attribute {
		return &awsdynamodb.Attribute{Name: jsii.String(name), Type: awsdynamodb.AttributeType_STRING}
	}
	t := awsdynamodb.NewTable(st, jsii.String("Orders"), &awsdynamodb.TableProps{
		PartitionKey:                     s(dynamostore.AttrPK),
		SortKey:                          s(dynamostore.AttrSK),
		BillingMode:                      awsdynamodb.BillingMode_PAY_PER_REQUEST,
		PointInTimeRecoverySpecification: &awsdynamodb.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: jsii.Bool(true)},
		TimeToLiveAttribute:              jsii.String(dynamostore.AttrTTL),
		Encryption:                       awsdynamodb.TableEncryption_AWS_MANAGED,
		RemovalPolicy:                    removal,
	})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{IndexName: jsii.String(dynamostore.IndexCustomer),
		PartitionKey: s(dynamostore.AttrGSI1PK), SortKey: s(dynamostore.AttrGSI1SK), ProjectionType: awsdynamodb.ProjectionType_ALL})
	t.AddGlobalSecondaryIndex(&awsdynamodb.GlobalSecondaryIndexProps{IndexName: jsii.String(dynamostore.IndexStatus),
		PartitionKey: s(dynamostore.AttrGSI2PK), SortKey: s(dynamostore.AttrGSI2SK), ProjectionType: awsdynamodb.ProjectionType_ALL})
	return &data{table: t}
}
