package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// CreateTable creates the orders table as the CDK stack defines it: key PK
// (hash) and SK (range), on-demand billing, the indexes of indexes.go —
// byCustomerShard (GSI4PK, GSI4SK) keys only, byStatusShard (GSI5PK,
// GSI5SK) with StatusListAttributes, byDue (GSI3PK, GSI3SK) keys only — and
// TTL on expiresAt. It waits until the table and its indexes are active. It
// is for the local stack and tests; in AWS the stack owns the table.
func CreateTable(ctx context.Context, db *dynamodb.Client, name string) error {
	s := func(n string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: types.ScalarAttributeTypeS}
	}
	var attrs []types.AttributeDefinition
	for _, n := range []string{AttrPK, AttrSK, AttrGSI3PK, AttrGSI3SK, AttrGSI4PK, AttrGSI4SK, AttrGSI5PK, AttrGSI5SK} {
		attrs = append(attrs, s(n))
	}
	var indexes []types.GlobalSecondaryIndex
	for _, ix := range Indexes() {
		p := &types.Projection{ProjectionType: types.ProjectionType(ix.Projection)}
		if len(ix.Include) > 0 {
			p.NonKeyAttributes = ix.Include
		}
		indexes = append(indexes, types.GlobalSecondaryIndex{IndexName: aws.String(ix.Name), KeySchema: keySchema(ix.PK, ix.SK), Projection: p})
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:              aws.String(name),
		BillingMode:            types.BillingModePayPerRequest,
		AttributeDefinitions:   attrs,
		KeySchema:              keySchema(AttrPK, AttrSK),
		GlobalSecondaryIndexes: indexes,
	})
	if err != nil {
		return fmt.Errorf("dynamostore: create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 2*time.Minute,
		func(o *dynamodb.TableExistsWaiterOptions) {
			o.MinDelay, o.MaxDelay = 50*time.Millisecond, time.Second
			o.Retryable = tableNotReady
		}); err != nil {
		return fmt.Errorf("dynamostore: wait for table %s: %w", name, err)
	}
	return enableTTL(ctx, db, name)
}

func keySchema(pk, sk string) []types.KeySchemaElement {
	return []types.KeySchemaElement{
		{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
	}
}

// tableNotReady keeps waiting until the table and all its indexes are ACTIVE.
func tableNotReady(_ context.Context, _ *dynamodb.DescribeTableInput, out *dynamodb.DescribeTableOutput, err error) (bool, error) {
	var missing *types.ResourceNotFoundException
	switch {
	case errors.As(err, &missing):
		return true, nil
	case err != nil:
		return false, err
	case out.Table == nil || out.Table.TableStatus != types.TableStatusActive:
		return true, nil
	}
	for _, ix := range out.Table.GlobalSecondaryIndexes {
		if ix.IndexStatus != types.IndexStatusActive {
			return true, nil
		}
	}
	return false, nil
}

// enableTTL turns TTL on for AttrTTL. Whether the call succeeds or not
// (DynamoDB Local enables TTL at once and refuses a repeat with a
// ValidationException; AWS may report a change in progress), the outcome is
// judged by DescribeTimeToLive: enabled or enabling on AttrTTL is success.
func enableTTL(ctx context.Context, db *dynamodb.Client, name string) error {
	_, updateErr := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(AttrTTL), Enabled: aws.Bool(true)},
	})
	out, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("dynamostore: enable TTL on %s: %w", name, errors.Join(updateErr, err))
	}
	if d := out.TimeToLiveDescription; d != nil && aws.ToString(d.AttributeName) == AttrTTL &&
		(d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil
	}
	if updateErr == nil {
		updateErr = errors.New("TTL not enabled after UpdateTimeToLive")
	}
	return fmt.Errorf("dynamostore: enable TTL on %s: %w", name, updateErr)
}
