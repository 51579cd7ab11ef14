package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/order"
)

// Moving a table to the sharded layout
//
// A table written before the sharded indexes (byCustomer and byStatus on
// GSI1PK/GSI1SK and GSI2PK/GSI2SK, projecting every attribute; no counter
// or due items) moves in place, while the pipeline runs: the new indexes
// are added beside the old ones, the code that writes the new keys is
// deployed, Backfill gives every order the new keys (and each order
// waiting for China's customs a due time), Recount sets the counters, and
// the old indexes are dropped. infra/README.md has the steps; command
// backfill (shared/dynamostore/backfill) runs the two one-off passes.

// BackfillReport says what Backfill did.
type BackfillReport struct {
	// Orders is how many order items the scan found; Moved how many it gave
	// the new keys; Current how many had them already (a write of the new
	// code, or an earlier pass); Raced how many changed under it (their
	// writer wrote the new keys).
	Orders, Moved, Current, Raced int
	// Waits is how many orders waiting for China's customs it gave a due
	// time (now), so that the reconciler wakes them and their step records
	// the next.
	Waits int
}

// Backfill gives every order item of the table the keys of the current
// indexes (GSI4*, GSI5*, destination) and removes those of the legacy ones
// (GSI1*, GSI2*), each order in a conditional update on its version: an
// order written meanwhile by the current code has its keys already and is
// left alone. It does not move an order's version (the item is the same
// order). An order waiting for China's customs on a task token without a
// due time gets one, at now. It can run again: an order that has its keys
// is not written.
func (s *Store) Backfill(ctx context.Context, now time.Time) (BackfillReport, error) {
	var rep BackfillReport
	err := s.scanOrders(ctx, nil, func(raw map[string]types.AttributeValue) error {
		rep.Orders++
		it, err := unmarshalOrderItem(raw)
		if err != nil {
			return fmt.Errorf("decode %s: %w", sortKey(raw, AttrPK), err)
		}
		moved, err := s.backfillOrder(ctx, raw, &it.Order)
		switch {
		case err != nil:
			return err
		case moved == backfillMoved:
			rep.Moved++
		case moved == backfillCurrent:
			rep.Current++
		default:
			rep.Raced++
		}
		o := &it.Order
		if o.Status == order.StatusPaymentAuthorized && o.Customs != nil && o.Customs.AwaitingChina && o.TaskToken != "" {
			set, err := s.setDueIfNone(ctx, o.ID, now)
			if err != nil {
				return err
			}
			if set {
				rep.Waits++
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("dynamostore: backfill: %w", err)
	}
	return rep, nil
}

const (
	backfillMoved = iota
	backfillCurrent
	backfillRaced
)

// backfillOrder writes the current index keys of o onto its stored item
// raw, if they differ, on condition that the item is still at o's version.
func (s *Store) backfillOrder(ctx context.Context, raw map[string]types.AttributeValue, o *order.Order) (int, error) {
	want, err := marshalOrderItem(newOrderItem(o, nil))
	if err != nil {
		return 0, err
	}
	names := map[string]string{"#version": attrVersion}
	values := map[string]types.AttributeValue{":version": num(o.Version)}
	var set, remove []string
	for i, a := range []string{AttrGSI4PK, AttrGSI4SK, AttrGSI5PK, AttrGSI5SK, attrDestination} {
		v, ok := want[a]
		if !ok || reflect.DeepEqual(raw[a], v) {
			continue
		}
		n := strconv.Itoa(i)
		names["#s"+n], values[":s"+n] = a, v
		set = append(set, "#s"+n+" = :s"+n)
	}
	for i, a := range []string{AttrGSI1PK, AttrGSI1SK, AttrGSI2PK, AttrGSI2SK} {
		if _, ok := raw[a]; ok {
			n := strconv.Itoa(i)
			names["#r"+n] = a
			remove = append(remove, "#r"+n)
		}
	}
	if len(set)+len(remove) == 0 {
		return backfillCurrent, nil
	}
	expr := ""
	if len(set) > 0 {
		expr = "SET " + strings.Join(set, ", ")
	}
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(o.ID), orderSK),
		UpdateExpression: aws.String(expr), ConditionExpression: aws.String("#version = :version"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return backfillRaced, nil
	case err != nil:
		return 0, fmt.Errorf("order %s: %w", o.ID, err)
	}
	return backfillMoved, nil
}

// setDueIfNone sets order id's due time to at unless it has one.
func (s *Store) setDueIfNone(ctx context.Context, id string, at time.Time) (bool, error) {
	item, err := marshal(dueItem{PK: orderPK(id), SK: dueSK, GSI3PK: duePK(id), GSI3SK: timeKey(at, id), Type: "due",
		OrderID: id, DueAt: at.UTC().Format(sortable), TTL: at.Add(DueRetention).Unix()})
	if err != nil {
		return false, err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("due time of %s: %w", id, err)
	}
	return true, nil
}

// Recount sets the status counters to the orders the table holds: it
// scans the order items (their id and status), counts them per counter
// shard and overwrites each counter item. A status change committed while
// it scans may be counted on the wrong side of it: run it when the
// pipeline is quiet (or run it again then). It returns the counts.
func (s *Store) Recount(ctx context.Context) (map[order.Status]int, error) {
	shards := make([]map[order.Status]int, CounterShards)
	for i := range shards {
		shards[i] = map[order.Status]int{}
	}
	err := s.scanOrders(ctx, aws.String("#pk, #status"), func(raw map[string]types.AttributeValue) error {
		pk, status := sortKey(raw, AttrPK), order.Status(sortKey(raw, attrStatus))
		shards[shardOf(pk[len("ORDER#"):], CounterShards)][status]++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: recount: %w", err)
	}
	total := map[order.Status]int{}
	for i, counts := range shards {
		item := map[string]types.AttributeValue{AttrPK: str(counterPK(i)), AttrSK: str(counterSK), "type": str("counter")}
		for _, st := range order.Statuses {
			item[string(st)] = num(int64(counts[st]))
			total[st] += counts[st]
		}
		if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
			return nil, fmt.Errorf("dynamostore: recount: counter %d: %w", i, err)
		}
	}
	return total, nil
}

// scanOrders calls f with every order item of the table (the attributes
// projection names, or all), page by page.
func (s *Store) scanOrders(ctx context.Context, projection *string, f func(map[string]types.AttributeValue) error) error {
	in := &dynamodb.ScanInput{TableName: aws.String(s.table), FilterExpression: aws.String("#sk = :order"),
		ExpressionAttributeNames:  map[string]string{"#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":order": str(orderSK)}}
	if projection != nil {
		in.ProjectionExpression = projection
		in.ExpressionAttributeNames["#pk"], in.ExpressionAttributeNames["#status"] = AttrPK, attrStatus
	}
	p := dynamodb.NewScanPaginator(s.db, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, raw := range page.Items {
			if err := f(raw); err != nil {
				return err
			}
		}
	}
	return nil
}
