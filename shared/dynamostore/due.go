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

// Waits with a due time
//
// An order whose workflow step waits on a long outside answer (China's
// customs, on the step's task token) carries a due time: when the step
// must next be woken if nothing else wakes it. It is an item of its own
// beside the order, so that no write of the order disturbs it, and the
// only items of the sparse byDue index:
//
//	due  PK=ORDER#<id>  SK=DUE  type=due  orderId  dueAt
//	     GSI3PK=DUE#<shard>  GSI3SK=<dueAt>#<id>
//	     TTL expiresAt = dueAt + DueRetention
//
// The step sets it when it waits (SetDue) and clears it when the wait ends
// (ClearDue); the reconciler reads only the waits due (EachDue), never the
// orders that wait, and clears the due time of an order that waits no more
// (ClearDueAt). The TTL is a backstop for a due time nobody clears.
const (
	dueSK     = "DUE"
	attrDueAt = "dueAt"
	// DueRetention is how long after its due time a due item is kept at
	// most (DynamoDB's TTL deletes it some time after): longer than any
	// step waits (the customs step's timeout is 6 hours).
	DueRetention = 7 * 24 * time.Hour
)

func duePK(id string) string { return sharded("DUE", shardOf(id, DueShards)) }

// dueItem is a due time as stored.
type dueItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	GSI3PK  string `dynamodbav:"GSI3PK"`
	GSI3SK  string `dynamodbav:"GSI3SK"`
	Type    string `dynamodbav:"type"`
	OrderID string `dynamodbav:"orderId"`
	DueAt   string `dynamodbav:"dueAt"`
	TTL     int64  `dynamodbav:"expiresAt"`
}

// SetDue records that the step order id waits in is next due at at,
// replacing the due time it had.
func (s *Store) SetDue(ctx context.Context, id string, at time.Time) error {
	item, err := marshal(dueItem{PK: orderPK(id), SK: dueSK, GSI3PK: duePK(id), GSI3SK: timeKey(at, id), Type: "due",
		OrderID: id, DueAt: at.UTC().Format(sortable), TTL: at.Add(DueRetention).Unix()})
	if err != nil {
		return fmt.Errorf("dynamostore: set due time of %s: %w", id, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("dynamostore: set due time of %s: %w", id, err)
	}
	return nil
}

// ClearDue removes order id's due time: its wait ended. An order without
// one is left alone, without error.
func (s *Store) ClearDue(ctx context.Context, id string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(id), dueSK)})
	if err != nil {
		return fmt.Errorf("dynamostore: clear due time of %s: %w", id, err)
	}
	return nil
}

// ClearDueAt removes order id's due time if it is still at (as EachDue
// gave it): a due time set again meanwhile is kept.
func (s *Store) ClearDueAt(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(id), dueSK),
		ConditionExpression:       aws.String("#dueAt = :at"),
		ExpressionAttributeNames:  map[string]string{"#dueAt": attrDueAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": str(at.UTC().Format(sortable))}})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("dynamostore: clear due time of %s: %w", id, err)
	}
	return nil
}

// dueList is the waits due at or before now, the most overdue first.
func dueList(now time.Time) list {
	return list{index: IndexDue, pkAttr: AttrGSI3PK, skAttr: AttrGSI3SK, name: "DUE", partitions: shards("DUE", DueShards),
		hi: now.Add(time.Nanosecond).UTC().Format(sortable), asc: true}
}

// EachDue calls f with each order whose wait is due at or before now and
// its due time, the most overdue first, a page of 100 at a time read from
// every shard of the byDue index at once: what it reads is the waits that
// are due, however many orders wait. f may set or clear due times. The
// index is eventually consistent: a due time set a moment ago may be
// missed until the next call, one cleared may still be given.
func (s *Store) EachDue(ctx context.Context, now time.Time, f func(id string, at time.Time)) error {
	l := dueList(now)
	after := ""
	for {
		items, err := s.merged(ctx, l, after, maxPageSize)
		if err != nil {
			return fmt.Errorf("dynamostore: list due waits: %w", err)
		}
		for _, it := range items {
			k := sortKey(it, l.skAttr)
			id, ok := sortKeyID(k)
			if !ok {
				return fmt.Errorf("dynamostore: list due waits: sort key %q", k)
			}
			at, _ := time.Parse(sortable, k[:len(sortable)])
			f(id, at)
		}
		if len(items) < maxPageSize {
			return nil
		}
		after = sortKey(items[len(items)-1], l.skAttr)
	}
}
