package stack

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsdynamodb"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/dynamostore"
)

type data struct {
	table awsdynamodb.Table
}

// newData is the single table, keyed exactly as shared/dynamostore reads it,
// with its indexes (dynamostore.Indexes). indexes, when set, names the
// indexes to define instead, among the current and the legacy ones
// (dynamostore.LegacyIndexes): an existing table moves to the current ones
// a deployment per index added or dropped, as CloudFormation changes one
// global secondary index per stack update (see infra/README.md).
func newData(st awscdk.Stack, removal awscdk.RemovalPolicy, indexes []string) *data {
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
	known := map[string]dynamostore.Index{}
	var names []string
	for _, ix := range dynamostore.Indexes() {
		known[ix.Name] = ix
		names = append(names, ix.Name)
	}
	for _, ix := range dynamostore.LegacyIndexes() {
		known[ix.Name] = ix
	}
	if len(indexes) > 0 {
		names = indexes
	}
	for _, name := range names {
		ix, ok := known[name]
		if !ok {
			keys := make([]string, 0, len(known))
			for k := range known {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			panic(fmt.Sprintf("stack: no table index %q; the indexes are %v", name, keys))
		}
		props := &awsdynamodb.GlobalSecondaryIndexProps{IndexName: jsii.String(ix.Name),
			PartitionKey: s(ix.PK), SortKey: s(ix.SK), ProjectionType: awsdynamodb.ProjectionType(ix.Projection)}
		if len(ix.Include) > 0 {
			props.NonKeyAttributes = jsii.Strings(ix.Include...)
		}
		t.AddGlobalSecondaryIndex(props)
	}
	return &data{table: t}
}
