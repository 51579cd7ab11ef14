package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/stock"
)

// Stock keeps warehouse stock and per-order reservations in the orders table:
//
//	stock        PK=STOCK#<warehouse>  SK=SKU#<sku>    available
//	reservation  PK=ORDER#<id>         SK=RESERVATION  warehouse, items, released
type Stock struct {
	db    *dynamodb.Client
	table string
}

// NewStock returns the stock adapter over table.
func NewStock(db *dynamodb.Client, table string) *Stock { return &Stock{db: db, table: table} }

const reservationSK = "RESERVATION"

// maxReservedItems keeps a reservation within one transaction (100 actions).
const maxReservedItems = 99

type stockItem struct {
	PK        string `dynamodbav:"PK"`
	SK        string `dynamodbav:"SK"`
	Type      string `dynamodbav:"type"`
	Available int64  `dynamodbav:"available"`
}

type reservationItem struct {
	PK        string       `dynamodbav:"PK"`
	SK        string       `dynamodbav:"SK"`
	Type      string       `dynamodbav:"type"`
	Warehouse string       `dynamodbav:"warehouse"`
	Items     []stock.Item `dynamodbav:"items"`
	Released  bool         `dynamodbav:"released"`
}

func stockKey(warehouse, sku string) map[string]types.AttributeValue {
	return itemKey("STOCK#"+warehouse, "SKU#"+sku)
}

// Put sets the available quantity of a SKU (seeding and tests).
func (s *Stock) Put(ctx context.Context, warehouse, sku string, available int64) error {
	item, err := marshal(stockItem{PK: "STOCK#" + warehouse, SK: "SKU#" + sku, Type: "stock", Available: available})
	if err != nil {
		return fmt.Errorf("dynamostore: put stock %s/%s: %w", warehouse, sku, err)
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item}); err != nil {
		return fmt.Errorf("dynamostore: put stock %s/%s: %w", warehouse, sku, err)
	}
	return nil
}

// Available reads a SKU's available quantity (0 when unknown).
func (s *Stock) Available(ctx context.Context, warehouse, sku string) (int64, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: stockKey(warehouse, sku), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("dynamostore: read stock %s/%s: %w", warehouse, sku, err)
	}
	var it stockItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return 0, fmt.Errorf("dynamostore: decode stock: %w", err)
	}
	return it.Available, nil
}

// Reserve takes items out of warehouse for the order, all or nothing, once:
// if the order already holds a reservation it returns that reservation's
// warehouse and takes nothing more. stock.ErrOutOfStock when any item is short.
func (s *Stock) Reserve(ctx context.Context, orderID, warehouse string, items []stock.Item) (string, error) {
	if len(items) > maxReservedItems {
		return "", fmt.Errorf("dynamostore: reserve %d distinct SKUs: at most %d fit one transaction", len(items), maxReservedItems)
	}
	res, err := marshal(reservationItem{PK: orderPK(orderID), SK: reservationSK, Type: "reservation", Warehouse: warehouse, Items: items})
	if err != nil {
		return "", fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
	}
	actions := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: res,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	for _, it := range items {
		actions = append(actions, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: stockKey(warehouse, it.SKU),
			UpdateExpression:          aws.String("SET available = available - :q"),
			ConditionExpression:       aws.String("available >= :q"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Quantity, 10)}},
		}})
	}
	err = transactWithRetry(ctx, s.db, actions)
	switch i := failedItem(err); {
	case err == nil:
		return warehouse, nil
	case i == 0:
		existing, found, err := s.reservation(ctx, orderID)
		if err != nil || !found {
			return "", fmt.Errorf("dynamostore: read reservation of %s: %w (found %v)", orderID, err, found)
		}
		return existing.Warehouse, nil
	case i > 0:
		return "", fmt.Errorf("dynamostore: reserve %s in %s: %w", items[i-1].SKU, warehouse, stock.ErrOutOfStock)
	}
	return "", fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
}

func (s *Stock) reservation(ctx context.Context, orderID string) (reservationItem, bool, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(orderID), reservationSK), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return reservationItem{}, false, err
	}
	var r reservationItem
	err = attributevalue.UnmarshalMap(out.Item, &r)
	return r, err == nil, err
}

// Release gives an order's reserved items back, once. Without a reservation,
// or after release, it does nothing.
func (s *Stock) Release(ctx context.Context, orderID string) error {
	r, found, err := s.reservation(ctx, orderID)
	if err != nil {
		return fmt.Errorf("dynamostore: read reservation of %s: %w", orderID, err)
	}
	if !found || r.Released {
		return nil
	}
	actions := []types.TransactWriteItem{{Update: &types.Update{
		TableName: aws.String(s.table), Key: itemKey(orderPK(orderID), reservationSK),
		UpdateExpression:          aws.String("SET released = :t"),
		ConditionExpression:       aws.String("released = :f"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":t": &types.AttributeValueMemberBOOL{Value: true}, ":f": &types.AttributeValueMemberBOOL{Value: false}},
	}}}
	for _, it := range r.Items {
		actions = append(actions, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: stockKey(r.Warehouse, it.SKU),
			UpdateExpression:          aws.String("ADD available :q"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": &types.AttributeValueMemberN{Value: strconv.FormatInt(it.Quantity, 10)}},
		}})
	}
	err = transactWithRetry(ctx, s.db, actions)
	if failedItem(err) == 0 {
		return nil // released meanwhile by another attempt
	}
	if err != nil && isConflict(err) {
		return fmt.Errorf("dynamostore: release stock of %s: busy, retry: %w", orderID, err)
	}
	if err != nil {
		return fmt.Errorf("dynamostore: release stock of %s: %w", orderID, err)
	}
	return nil
}

// transactWithRetry runs a transaction, retrying a few times, with jitter,
// when it collides with another one on the same items: stock counters are
// hot items, and a collision says nothing about whether the goods are there.
func transactWithRetry(ctx context.Context, db *dynamodb.Client, actions []types.TransactWriteItem) error {
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: actions})
		var conflict *types.TransactionConflictException
		if err == nil || !(errors.As(err, &conflict) || cancelledFor(err, "TransactionConflict")) {
			return err
		}
		wait := time.Duration(rand.IntN(10<<attempt)+1) * time.Millisecond
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	return err
}
