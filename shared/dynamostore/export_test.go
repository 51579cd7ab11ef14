package dynamostore

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// CreateItems builds the three items CreateOrder writes, without their
// conditions, for the raw-loop benchmark.
func CreateItems(table string, o *order.Order, first order.Event, done idempotency.Record) []types.TransactWriteItem {
	items, err := createItems(table, o, first, done, keyFree(time.Now(), ""))
	if err != nil {
		panic(err)
	}
	for _, it := range items {
		if it.Put == nil {
			continue // the status counters' update
		}
		it.Put.ConditionExpression, it.Put.ExpressionAttributeNames, it.Put.ExpressionAttributeValues = nil, nil, nil
		it.Put.ReturnValuesOnConditionCheckFailure = ""
	}
	return items
}

// Internals the package's own tests look at.
var (
	IdempotencyPK       = idempotencyPK
	CreateOrderError    = createOrderError
	SaveTransitionError = saveTransitionError
	RetryConflicts      = retryConflicts
	ConflictAttempts    = conflictAttempts
)

// CounterShard is the counter shard a change of order id to version
// counts in.
func CounterShard(id string, version int64) int { return counterShard(id, version) }

// PackDoc and UnpackDoc are the order item's doc codec.
func PackDoc(attrs map[string]types.AttributeValue) ([]byte, error) { return packDoc(attrs) }
func UnpackDoc(doc []byte) (map[string]types.AttributeValue, error) { return unpackDoc(doc) }
