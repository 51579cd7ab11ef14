// Package dynamostore keeps orders, their history and idempotency records in
// one DynamoDB table (single-table design), through aws-sdk-go-v2.
//
// Items:
//
//	order        PK=ORDER#<id>                 SK=ORDER
//	             GSI1 byCustomer: GSI1PK=CUSTOMER#<customer>  GSI1SK=<createdAt>#<id>
//	             GSI2 byStatus:   GSI2PK=STATUS#<status>      GSI2SK=<updatedAt>#<id>
//	history      PK=ORDER#<id>                 SK=EVENT#<version, 10 digits>
//	idempotency  PK=IDEMPOTENCY#<len(scope)>:<scope>#<key>  SK=IDEMPOTENCY  (TTL expiresAt)
//
// The CDK stack defines the same table; the names below are the contract.
package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// Table contract, shared with the CDK stack in infra/.
const (
	AttrPK        = "PK"
	AttrSK        = "SK"
	AttrGSI1PK    = "GSI1PK"
	AttrGSI1SK    = "GSI1SK"
	AttrGSI2PK    = "GSI2PK"
	AttrGSI2SK    = "GSI2SK"
	AttrTTL       = "expiresAt"
	IndexCustomer = "byCustomer"
	IndexStatus   = "byStatus"
)

// sortable is a fixed-width UTC time layout that sorts as text.
const sortable = "2006-01-02T15:04:05.000000000Z"

// Store is the DynamoDB order store.
type Store struct {
	db    *dynamodb.Client
	table string
}

// New returns a store over table.
func New(db *dynamodb.Client, table string) *Store { return &Store{db: db, table: table} }

func orderPK(id string) string { return "ORDER#" + id }

const orderSK = "ORDER"

func eventSK(version int64) string { return fmt.Sprintf("EVENT#%010d", version) }

// idempotencyPK length-prefixes the scope so that no (scope, key) pair can
// spell the same item key as another.
func idempotencyPK(scope, key string) string {
	return "IDEMPOTENCY#" + strconv.Itoa(len(scope)) + ":" + scope + "#" + key
}

const idempotencySK = "IDEMPOTENCY"

// orderItem is an order as stored, with its keys.
type orderItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI1PK string `dynamodbav:"GSI1PK"`
	GSI1SK string `dynamodbav:"GSI1SK"`
	GSI2PK string `dynamodbav:"GSI2PK"`
	GSI2SK string `dynamodbav:"GSI2SK"`
	Type   string `dynamodbav:"type"`
	order.Order
}

func newOrderItem(o *order.Order) orderItem {
	return orderItem{
		PK: orderPK(o.ID), SK: orderSK, Type: "order",
		GSI1PK: "CUSTOMER#" + o.CustomerID, GSI1SK: o.CreatedAt.UTC().Format(sortable) + "#" + o.ID,
		GSI2PK: "STATUS#" + string(o.Status), GSI2SK: o.UpdatedAt.UTC().Format(sortable) + "#" + o.ID,
		Order: *o,
	}
}

type eventItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	order.Event
}

func newEventItem(ev order.Event) eventItem {
	return eventItem{PK: orderPK(ev.OrderID), SK: eventSK(ev.Version), Type: "event", Event: ev}
}

type keyItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	idempotency.Record
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: &types.AttributeValueMemberS{Value: pk}, AttrSK: &types.AttributeValueMemberS{Value: sk}}
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: marshal %T: %w", v, err)
	}
	return item, nil
}

// ClaimKey claims an idempotency key, or returns the record that blocks it
// with idempotency.ErrClaimed. An in-flight claim whose lease ran out, or a
// record past its expiry that TTL has not yet deleted, is taken over.
func (s *Store) ClaimKey(ctx context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error) {
	rec.Body = nil
	item, err := marshal(keyItem{PK: idempotencyPK(rec.Scope, rec.Key), SK: idempotencySK, Type: "idempotency", Record: rec})
	if err != nil {
		return idempotency.Record{}, err
	}
	names, values := keyFree(now)
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String(keyFreeCondition),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		var old keyItem
		if err := attributevalue.UnmarshalMap(failed.Item, &old); err != nil {
			return idempotency.Record{}, fmt.Errorf("dynamostore: read idempotency record: %w", err)
		}
		return old.Record, idempotency.ErrClaimed
	}
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", err)
	}
	return rec, nil
}

// ReleaseKey deletes an in-flight claim held by owner; anything else is left alone.
func (s *Store) ReleaseKey(ctx context.Context, scope, k, owner string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      key(idempotencyPK(scope, k), idempotencySK),
		ConditionExpression:      aws.String("#state = :inflight AND #owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#state": "state", "#owner": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inflight": &types.AttributeValueMemberS{Value: string(idempotency.StateInFlight)},
			":owner":    &types.AttributeValueMemberS{Value: owner},
		},
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("dynamostore: release idempotency key: %w", err)
	}
	return nil
}

// CreateOrder writes the order, its first history event and the completed
// idempotency record done in one transaction, on condition that done's key is
// free (never used, expired, or an in-flight claim whose lease ran out). If
// the key is taken it writes nothing and returns the key's record with
// idempotency.ErrClaimed; if a concurrent transaction holds it,
// idempotency.ErrBusy.
func (s *Store) CreateOrder(ctx context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error) {
	oi, err := marshal(newOrderItem(o))
	if err != nil {
		return idempotency.Record{}, err
	}
	ei, err := marshal(newEventItem(first))
	if err != nil {
		return idempotency.Record{}, err
	}
	done.State = idempotency.StateCompleted
	ki, err := marshal(keyItem{PK: idempotencyPK(done.Scope, done.Key), SK: idempotencySK, Type: "idempotency", Record: done})
	if err != nil {
		return idempotency.Record{}, err
	}
	names, values := keyFree(now)
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: ki, ConditionExpression: aws.String(keyFreeCondition),
			ExpressionAttributeNames: names, ExpressionAttributeValues: values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: oi, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: ei, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}})
	if err == nil {
		return done, nil
	}
	var cancelled *types.TransactionCanceledException
	switch failedItem(err) {
	case 0:
		errors.As(err, &cancelled)
		var old keyItem
		if err := attributevalue.UnmarshalMap(cancelled.CancellationReasons[0].Item, &old); err != nil || old.PK == "" {
			// The record vanished between the check and the read (TTL):
			// the key is contended, not lost.
			return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", o.ID, idempotency.ErrBusy)
		}
		return old.Record, fmt.Errorf("dynamostore: create order %s: %w", o.ID, idempotency.ErrClaimed)
	case 1, 2:
		return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", o.ID, order.ErrExists)
	}
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) || cancelledFor(err, "TransactionConflict") {
		return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", o.ID, idempotency.ErrBusy)
	}
	return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", o.ID, err)
}

// keyFreeCondition holds when an idempotency key may be taken: never used,
// past its expiry (TTL deletes lazily), or an in-flight claim whose lease ran out.
const keyFreeCondition = "attribute_not_exists(PK) OR #exp <= :now OR (#state = :inflight AND #lease <= :now)"

func keyFree(now time.Time) (map[string]string, map[string]types.AttributeValue) {
	return map[string]string{"#exp": AttrTTL, "#state": "state", "#lease": "leaseUntil"},
		map[string]types.AttributeValue{
			":now":      &types.AttributeValueMemberN{Value: strconv.FormatInt(now.Unix(), 10)},
			":inflight": &types.AttributeValueMemberS{Value: string(idempotency.StateInFlight)},
		}
}

// failedItem returns the index of the item whose condition failed in a
// cancelled transaction, or -1.
func failedItem(err error) int {
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		return -1
	}
	for i, r := range cancelled.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return i
		}
	}
	return -1
}

func cancelledFor(err error, code string) bool {
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		return false
	}
	for _, r := range cancelled.CancellationReasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// GetOrder reads one order, strongly consistent.
func (s *Store) GetOrder(ctx context.Context, id string) (*order.Order, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(orderPK(id), orderSK), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: get order %s: %w", id, err)
	}
	if out.Item == nil {
		return nil, fmt.Errorf("dynamostore: get order %s: %w", id, order.ErrNotFound)
	}
	var it orderItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("dynamostore: decode order %s: %w", id, err)
	}
	return &it.Order, nil
}

// History returns an order's events, oldest first.
func (s *Store) History(ctx context.Context, id string) ([]order.Event, error) {
	var events []order.Event
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("PK = :pk AND begins_with(SK, :ev)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: orderPK(id)},
			":ev": &types.AttributeValueMemberS{Value: "EVENT#"},
		},
		ConsistentRead: aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: history of %s: %w", id, err)
		}
		for _, item := range page.Items {
			var it eventItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return nil, fmt.Errorf("dynamostore: decode history of %s: %w", id, err)
			}
			events = append(events, it.Event)
		}
	}
	return events, nil
}

// SaveTransition writes o and its history event, conditional on the stored
// version being the one o moved from.
func (s *Store) SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error {
	oi, err := marshal(newOrderItem(o))
	if err != nil {
		return err
	}
	ei, err := marshal(newEventItem(ev))
	if err != nil {
		return err
	}
	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: oi,
			ConditionExpression:                 aws.String("#version = :prev"),
			ExpressionAttributeNames:            map[string]string{"#version": "version"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":prev": &types.AttributeValueMemberN{Value: strconv.FormatInt(o.Version-1, 10)}},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: ei, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}})
	if err == nil {
		return nil
	}
	if i := failedItem(err); i >= 0 {
		var cancelled *types.TransactionCanceledException
		errors.As(err, &cancelled)
		if i == 0 && cancelled.CancellationReasons[0].Item == nil {
			return fmt.Errorf("dynamostore: save order %s: %w", o.ID, order.ErrNotFound)
		}
		return fmt.Errorf("dynamostore: save order %s at version %d: %w", o.ID, o.Version, order.ErrVersionConflict)
	}
	if cancelledFor(err, "TransactionConflict") {
		return fmt.Errorf("dynamostore: save order %s at version %d: %w", o.ID, o.Version, order.ErrVersionConflict)
	}
	return fmt.Errorf("dynamostore: save order %s: %w", o.ID, err)
}

// pageCursor is where the next page starts. It names its partition so that a
// cursor cannot be replayed against another customer's or status's list.
type pageCursor struct {
	Partition string `json:"p"`
	Sort      string `json:"s"`
	ID        string `json:"i"`
}

func encodeCursor(c pageCursor) string {
	raw, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decodeCursor(s, partition string) (pageCursor, error) {
	var c pageCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Partition != partition || c.Sort == "" || c.ID == "" {
		return pageCursor{}, order.ErrInvalidCursor
	}
	return c, nil
}

// queryPage reads one page of an index, newest first.
func (s *Store) queryPage(ctx context.Context, index, pkAttr, skAttr, partition string, lo, hi *string, limit int, cursor string) ([]order.Order, string, error) {
	if limit < 1 {
		limit = 1
	}
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(index),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: partition},
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(limit + 1)),
	}
	if lo != nil {
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
		in.ExpressionAttributeNames["#sk"] = skAttr
		in.ExpressionAttributeValues[":lo"] = &types.AttributeValueMemberS{Value: *lo}
		in.ExpressionAttributeValues[":hi"] = &types.AttributeValueMemberS{Value: *hi}
	}
	if cursor != "" {
		c, err := decodeCursor(cursor, partition)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			AttrPK: &types.AttributeValueMemberS{Value: orderPK(c.ID)}, AttrSK: &types.AttributeValueMemberS{Value: orderSK},
			pkAttr: &types.AttributeValueMemberS{Value: partition}, skAttr: &types.AttributeValueMemberS{Value: c.Sort},
		}
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("dynamostore: query %s: %w", index, err)
	}
	items := make([]orderItem, 0, len(out.Items))
	if err := attributevalue.UnmarshalListOfMaps(out.Items, &items); err != nil {
		return nil, "", fmt.Errorf("dynamostore: decode %s page: %w", index, err)
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		last := items[limit-1]
		sk := last.GSI1SK
		if index == IndexStatus {
			sk = last.GSI2SK
		}
		next = encodeCursor(pageCursor{Partition: partition, Sort: sk, ID: last.ID})
	}
	orders := make([]order.Order, len(items))
	for i := range items {
		orders[i] = items[i].Order
	}
	return orders, next, nil
}

// ListByCustomer returns a customer's orders, newest first, one page at a time.
func (s *Store) ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error) {
	return s.queryPage(ctx, IndexCustomer, AttrGSI1PK, AttrGSI1SK, "CUSTOMER#"+customerID, nil, nil, limit, cursor)
}

// ListByStatus returns the orders in status whose last change falls in
// [since, until), newest first.
func (s *Store) ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error) {
	lo, hi := since.UTC().Format(sortable), until.UTC().Format(sortable)
	return s.queryPage(ctx, IndexStatus, AttrGSI2PK, AttrGSI2SK, "STATUS#"+string(status), &lo, &hi, limit, cursor)
}
