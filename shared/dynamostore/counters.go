package dynamostore

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/order"
)

// Counts per status
//
// The ops summary shows how many orders each status holds. Counting them
// in the status index reads every order of every status on each poll;
// instead the transaction that writes an order's status change also
// updates a counter item, and a count is the sum of the counter items:
//
//	counter  PK=COUNTER#STATUS#<shard>  SK=COUNTER  type=counter
//	         one number attribute per status, named by the status (RECEIVED: 12, …)
//
// Each change goes to the shard of its own order id and version (a hash
// modulo CounterShards), so an order's six or so changes spread over six
// shards rather than landing on one: a shard's count can go below zero,
// the sum of the shards cannot. One item per shard holds every status, so
// a status change updates one item (ADD from -1, to +1), not two, and the
// summary reads all counts with two BatchGetItems of CounterShards small
// items (CounterShards/2 read units). A counter shard is updated inside
// the order's transactions, and DynamoDB refuses a transaction on an item
// another transaction holds (TransactionConflict, which the store retries
// with backoff). 128 shards carry a status change each per write unit:
// at 10,000 orders a second and six changes each, about 470 write units a
// second per shard, under half a partition's limit.
const CounterShards = 128

const counterSK = "COUNTER"

func counterPK(shard int) string { return sharded("COUNTER#STATUS", shard) }

// counterShard is the shard the change of order id to version counts in.
func counterShard(id string, version int64) int {
	return shardOf(id+"#"+strconv.FormatInt(version, 10), CounterShards)
}

// statusCountDelta is the update of the status counters for order id moving
// from status from ("" at intake) to status to, to go into the transaction
// that writes the move; ok is false when the status does not move. The
// transaction must also hold the stored order to status from (SaveTransition
// conditions on it), or the counts drift.
func statusCountDelta(table, id string, version int64, from, to order.Status) (item types.TransactWriteItem, ok bool) {
	if from == to {
		return types.TransactWriteItem{}, false
	}
	u := &types.Update{
		TableName:                 aws.String(table),
		Key:                       itemKey(counterPK(counterShard(id, version)), counterSK),
		UpdateExpression:          aws.String("SET #type = :counter ADD #to :one"),
		ExpressionAttributeNames:  map[string]string{"#type": "type", "#to": string(to)},
		ExpressionAttributeValues: map[string]types.AttributeValue{":counter": str("counter"), ":one": num(1)},
	}
	if from != "" {
		u.UpdateExpression = aws.String("SET #type = :counter ADD #to :one, #from :minusOne")
		u.ExpressionAttributeNames["#from"] = string(from)
		u.ExpressionAttributeValues[":minusOne"] = num(-1)
	}
	return types.TransactWriteItem{Update: u}, true
}

// StatusCounts counts the orders in every status (0 for none): the sum of
// the counter shards, read with one eventually consistent BatchGetItem, so
// a count can lag a just-written change by a moment, as the lists do.
func (s *Store) StatusCounts(ctx context.Context) (map[order.Status]int, error) {
	keys := make([]map[string]types.AttributeValue, CounterShards)
	for i := range keys {
		keys[i] = itemKey(counterPK(i), counterSK)
	}
	found, err := s.batchGet(ctx, keys, false)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: count orders: %w", err)
	}
	counts := make(map[order.Status]int, len(order.Statuses))
	for _, st := range order.Statuses {
		counts[st] = 0
	}
	for _, item := range found {
		for _, st := range order.Statuses {
			v, ok := item[string(st)].(*types.AttributeValueMemberN)
			if !ok {
				continue
			}
			n, err := strconv.Atoi(v.Value)
			if err != nil {
				return nil, fmt.Errorf("dynamostore: count orders: counter %s of %s: %w", st, sortKey(item, AttrPK), err)
			}
			counts[st] += n
		}
	}
	for st, n := range counts {
		counts[st] = max(n, 0) // only before a table's counters were counted (see Recount)
	}
	return counts, nil
}

// CountByStatus counts the orders in status (StatusCounts).
func (s *Store) CountByStatus(ctx context.Context, status order.Status) (int, error) {
	counts, err := s.StatusCounts(ctx)
	if err != nil {
		return 0, err
	}
	return counts[status], nil
}

// holdStatus adds to w, the write of an order item in a transaction, the
// condition that the stored order is in status from: the counters then
// move from the status the order really leaves, whatever the event says.
func holdStatus(w types.TransactWriteItem, from order.Status) types.TransactWriteItem {
	var expr **string
	var names *map[string]string
	var values *map[string]types.AttributeValue
	switch {
	case w.Put != nil:
		expr, names, values = &w.Put.ConditionExpression, &w.Put.ExpressionAttributeNames, &w.Put.ExpressionAttributeValues
	case w.Update != nil:
		expr, names, values = &w.Update.ConditionExpression, &w.Update.ExpressionAttributeNames, &w.Update.ExpressionAttributeValues
	default:
		return w
	}
	if *names == nil {
		*names = map[string]string{}
	}
	if *values == nil {
		*values = map[string]types.AttributeValue{}
	}
	(*names)["#status"], (*values)[":from"] = attrStatus, str(string(from))
	cond := "#status = :from"
	if *expr != nil {
		cond = "(" + aws.ToString(*expr) + ") AND " + cond
	}
	*expr = aws.String(cond)
	return w
}
