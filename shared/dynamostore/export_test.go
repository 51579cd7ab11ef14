package dynamostore

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// CreateItems builds, unconditionally, the three items CreateOrder writes,
// for the raw-loop benchmark.
func CreateItems(table string, o *order.Order, first order.Event, done idempotency.Record) []types.TransactWriteItem {
	oi, _ := marshal(newOrderItem(o))
	ei, _ := marshal(newEventItem(first))
	ki, _ := marshal(keyItem{PK: idempotencyPK(done.Scope, done.Key), SK: idempotencySK, Type: "idempotency", Record: done})
	return []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(table), Item: ki}},
		{Put: &types.Put{TableName: aws.String(table), Item: oi}},
		{Put: &types.Put{TableName: aws.String(table), Item: ei}},
	}
}
