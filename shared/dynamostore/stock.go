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

// Stock keeps warehouse stock and per-order reservations in the orders
// table. A SKU's stock is spread over shards, counters under partition keys
// of their own, so that a flash sale on one SKU is not held to the write
// limit of one key (about 1,000 write units/s); a small SKU item says how
// many shards there are:
//
//	SKU          PK=STOCK#<warehouse>#<sku>          SK=SKU          shards
//	shard        PK=STOCK#<warehouse>#<sku>#<shard>  SK=SHARD        available
//	reservation  PK=ORDER#<id>                       SK=RESERVATION  warehouse, items, takes, released
//
// A reservation is one transaction: the reservation item, written only if
// the order has none (so an order reserves once), and a conditional
// decrement (available ≥ quantity) of each shard it takes from. Its first
// attempt reads no stock, only the SKUs' shard counts (remembered for a
// minute): each line whole from the shard the order id hashes to, so
// concurrent orders spread over the shards. When a shard is short it reads
// every shard of the order's SKUs, strongly consistent, and plans afresh
// with stock.Plan: each line from a shard that holds it all, or else split
// over the fullest shards within the same transaction. It refuses only when
// a SKU's shards together fall short: stock that is there is never refused
// because it is spread out. The reservation item records the takes, and a
// release adds back exactly those, shard by shard.
type Stock struct {
	db    *dynamodb.Client
	table string
	// Sharding says how many shards Put spreads a SKU over (the zero value:
	// stock.DefaultShards each). A SKU keeps the most shards it was ever put
	// with, so that a shard a reservation took from stays counted.
	Sharding stock.Sharding

	counts shardCounts
	// observe, when set (by tests), is handed each transaction that went
	// through and the capacity DynamoDB says it consumed.
	observe func(op string, actions []types.TransactWriteItem, used []types.ConsumedCapacity)
}

// NewStock returns the stock adapter over table.
func NewStock(db *dynamodb.Client, table string) *Stock { return &Stock{db: db, table: table} }

const (
	reservationSK = "RESERVATION"
	stockSKUSK    = "SKU"
	stockShardSK  = "SHARD"
)

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// maxReservedItems keeps a reservation within one transaction: its own item
// and one take per SKU. Lines split over several shards take more; a plan
// that outgrows the transaction fails (see take).
const maxReservedItems = maxTransactItems - 1

// maxPlans bounds how often a reservation reads the shards and plans again
// after stock moved under its plan (other orders took it first).
const maxPlans = 8

type stockSKUItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	Type   string `dynamodbav:"type"`
	Shards int    `dynamodbav:"shards"`
}

type stockShardItem struct {
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
	// Takes are the shards the items came from. A reservation made before
	// stock was sharded has none: its goods came from a counter no longer
	// read, and releasing it gives nothing back.
	Takes    []stock.Take `dynamodbav:"takes"`
	Released bool         `dynamodbav:"released"`
}

// skuPK is a SKU item's partition; its shards append #<shard>, whose digits
// keep the keys of two SKUs apart whatever their names hold.
func skuPK(warehouse, sku string) string { return "STOCK#" + warehouse + "#" + sku }

func shardPK(warehouse, sku string, shard int) string {
	return skuPK(warehouse, sku) + "#" + strconv.Itoa(shard)
}

func skuKey(warehouse, sku string) map[string]types.AttributeValue {
	return itemKey(skuPK(warehouse, sku), stockSKUSK)
}

func shardKey(warehouse, sku string, shard int) map[string]types.AttributeValue {
	return itemKey(shardPK(warehouse, sku, shard), stockShardSK)
}

// Put sets the available quantity of a SKU (seeding and tests), spread
// evenly over its shards: as many as Sharding says, or as the SKU had if
// that is more. The SKU item and every shard are written in one transaction,
// so Available never sees half a put.
func (s *Stock) Put(ctx context.Context, warehouse, sku string, available int64) error {
	if available < 0 {
		return fmt.Errorf("dynamostore: put stock %s/%s: %d is negative", warehouse, sku, available)
	}
	for attempt := 0; ; attempt++ {
		counts, err := s.readCounts(ctx, warehouse, []string{sku}, true)
		if err != nil {
			return fmt.Errorf("dynamostore: put stock %s/%s: %w", warehouse, sku, err)
		}
		n := max(s.Sharding.For(sku), counts[sku])
		actions, err := s.putActions(warehouse, sku, available, n)
		if err != nil {
			return fmt.Errorf("dynamostore: put stock %s/%s: %w", warehouse, sku, err)
		}
		err = s.transact(ctx, "put", actions)
		if failedItem(err) == 0 && attempt < 3 {
			continue // another put gave the SKU more shards meanwhile
		}
		if err != nil {
			return fmt.Errorf("dynamostore: put stock %s/%s: %w", warehouse, sku, err)
		}
		s.counts.remember(warehouse, sku, n)
		return nil
	}
}

// putActions writes the SKU item, unless it has more than n shards (the
// count never shrinks), and n shards holding available between them.
func (s *Stock) putActions(warehouse, sku string, available int64, n int) ([]types.TransactWriteItem, error) {
	head, err := marshal(stockSKUItem{PK: skuPK(warehouse, sku), SK: stockSKUSK, Type: "stock", Shards: n})
	if err != nil {
		return nil, err
	}
	actions := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: head,
		ConditionExpression:       aws.String("attribute_not_exists(PK) OR shards <= :n"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":n": num(int64(n))}}}}
	for i, q := range stock.Spread(available, n) {
		item, err := marshal(stockShardItem{PK: shardPK(warehouse, sku, i), SK: stockShardSK, Type: "stock-shard", Available: q})
		if err != nil {
			return nil, err
		}
		actions = append(actions, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: item}})
	}
	return actions, nil
}

// Available reads a SKU's available quantity, the sum of its shards (0 when
// unknown), strongly consistent.
func (s *Stock) Available(ctx context.Context, warehouse, sku string) (int64, error) {
	shards, err := s.Shards(ctx, warehouse, sku)
	if err != nil {
		return 0, err
	}
	var sum int64
	for _, n := range shards {
		sum += n
	}
	return sum, nil
}

// Shards reads what each of a SKU's shards holds (none when the SKU is
// unknown), strongly consistent.
func (s *Stock) Shards(ctx context.Context, warehouse, sku string) ([]int64, error) {
	shards, err := s.readShards(ctx, warehouse, []string{sku})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: read stock %s/%s: %w", warehouse, sku, err)
	}
	return shards[sku], nil
}

// Reserve takes items out of warehouse for the order, all or nothing, once:
// if the order already holds a reservation it returns that reservation's
// warehouse and takes nothing more. stock.ErrOutOfStock when the shards of
// any SKU together hold less than its quantity; stock.ErrBusy when other
// orders kept taking what its plans counted on.
func (s *Stock) Reserve(ctx context.Context, orderID, warehouse string, items []stock.Item) (string, error) {
	if len(items) > maxReservedItems {
		return "", fmt.Errorf("dynamostore: reserve %d distinct SKUs: at most %d fit one transaction", len(items), maxReservedItems)
	}
	if err := stock.CheckQuantities(items); err != nil {
		return "", fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
	}
	lines := stock.Sum(items)
	skus := skusOf(lines)
	counts, err := s.rememberedCounts(ctx, warehouse, skus)
	if err != nil {
		return "", fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
	}
	takes := stock.TakeFromFirstShards(orderID, lines, counts) // nil when a SKU seems unknown: read first
	for plan := 0; ; plan++ {
		if takes != nil {
			w, reserved, err := s.take(ctx, orderID, warehouse, items, takes)
			if err != nil || reserved {
				return w, err
			}
		}
		if plan == maxPlans {
			return "", fmt.Errorf("dynamostore: reserve stock for %s in %s after %d plans: %w", orderID, warehouse, plan, stock.ErrBusy)
		}
		if plan > 0 {
			if err := pause(ctx, plan); err != nil {
				return "", err
			}
		}
		available, err := s.readShards(ctx, warehouse, skus)
		if err != nil {
			return "", fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
		}
		var short string
		if takes, short = stock.Plan(orderID, lines, available); short != "" {
			return s.refuse(ctx, orderID, warehouse, short)
		}
	}
}

// take writes the reservation item and decrements the shards of takes in
// one transaction. reserved reports that the order holds a reservation now:
// this one, or one made before, whose warehouse it returns. Not reserved
// and no error means a shard was short: the caller plans again.
func (s *Stock) take(ctx context.Context, orderID, warehouse string, items []stock.Item, takes []stock.Take) (w string, reserved bool, err error) {
	if len(takes) >= maxTransactItems {
		return "", false, fmt.Errorf("dynamostore: reserve stock for %s: %d shard takes do not fit one transaction", orderID, len(takes))
	}
	res, err := marshal(reservationItem{PK: orderPK(orderID), SK: reservationSK, Type: "reservation", Warehouse: warehouse, Items: items, Takes: takes})
	if err != nil {
		return "", false, fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
	}
	actions := []types.TransactWriteItem{{Put: &types.Put{TableName: aws.String(s.table), Item: res,
		ConditionExpression: aws.String("attribute_not_exists(PK)")}}}
	for _, tk := range takes {
		actions = append(actions, takeAction(s.table, warehouse, tk))
	}
	err = s.transact(ctx, "reserve", actions)
	switch i := failedItem(err); {
	case err == nil:
		return warehouse, true, nil
	case i == 0:
		existing, found, err := s.reservation(ctx, orderID)
		if err != nil || !found {
			return "", false, fmt.Errorf("dynamostore: read reservation of %s: %w (found %v)", orderID, err, found)
		}
		return existing.Warehouse, true, nil
	case i > 0:
		return "", false, nil
	case isConflict(err):
		return "", false, fmt.Errorf("dynamostore: reserve stock for %s: %w: %w", orderID, stock.ErrBusy, err)
	}
	return "", false, fmt.Errorf("dynamostore: reserve stock for %s: %w", orderID, err)
}

// takeAction decrements one shard by a take, if it holds that much.
func takeAction(table, warehouse string, tk stock.Take) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName: aws.String(table), Key: shardKey(warehouse, tk.SKU, tk.Shard),
		UpdateExpression:          aws.String("SET available = available - :q"),
		ConditionExpression:       aws.String("available >= :q"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":q": num(tk.Quantity)},
	}}
}

// refuse answers for an order whose items the shards cannot cover: out of
// stock, unless the order holds a reservation already (made here or in
// another warehouse, perhaps released since), whose warehouse it returns.
func (s *Stock) refuse(ctx context.Context, orderID, warehouse, sku string) (string, error) {
	existing, found, err := s.reservation(ctx, orderID)
	if err != nil {
		return "", fmt.Errorf("dynamostore: read reservation of %s: %w", orderID, err)
	}
	if found {
		return existing.Warehouse, nil
	}
	return "", fmt.Errorf("dynamostore: reserve %s in %s: %w", sku, warehouse, stock.ErrOutOfStock)
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

// Release gives an order's reserved items back, once, to the shards they
// were taken from. Without a reservation, or after release, it does nothing.
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
	for _, tk := range r.Takes {
		actions = append(actions, types.TransactWriteItem{Update: &types.Update{
			TableName: aws.String(s.table), Key: shardKey(r.Warehouse, tk.SKU, tk.Shard),
			UpdateExpression:          aws.String("ADD available :q"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":q": num(tk.Quantity)},
		}})
	}
	err = s.transact(ctx, "release", actions)
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

// transact runs a transaction, retrying a few times, with jitter, when it
// collides with another one on the same items: stock shards are hot items,
// and a collision says nothing about whether the goods are there.
func (s *Stock) transact(ctx context.Context, op string, actions []types.TransactWriteItem) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: actions}
	if s.observe != nil {
		in.ReturnConsumedCapacity = types.ReturnConsumedCapacityIndexes
	}
	var err error
	for attempt := 0; attempt < 8; attempt++ {
		var out *dynamodb.TransactWriteItemsOutput
		out, err = s.db.TransactWriteItems(ctx, in)
		if err == nil && s.observe != nil {
			s.observe(op, actions, out.ConsumedCapacity)
		}
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

// pause waits a few jittered milliseconds, longer after each plan that
// stock moved under, so that orders racing for the last units of a SKU do
// not read and collide in lockstep.
func pause(ctx context.Context, plan int) error {
	t := time.NewTimer(time.Duration(rand.IntN(2<<min(plan, 6))+1) * time.Millisecond)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func skusOf(items []stock.Item) []string {
	skus := make([]string, len(items))
	for i, it := range items {
		skus[i] = it.SKU
	}
	return skus
}
