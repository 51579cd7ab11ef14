package dynamostore_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/stock"
)

// keyWriteLimit is DynamoDB's write throughput per partition key: about
// 1,000 write units a second.
const keyWriteLimit = 1000

// TestStockHotSKUThroughput measures, with DynamoDB's ConsumedCapacity, the
// write units a one-line reservation costs and how many of them land on the
// key of the shard it takes from, and derives how many reservations a
// second one SKU takes on AWS with the default shard count: shards × 1,000
// ÷ units on one shard key. It must be at least 1,000 (BENCHMARKS.md,
// hot-sku).
//
// DynamoDB Local reports 2 units for a whole transaction whatever it holds
// (awslabs/amazon-dynamodb-local-samples#31: AWS reports 2 per item of up
// to 1 KB), but a one-item transaction as AWS does. So the test takes the
// reservation's transaction as the adapter sent it and sends each of its
// items again, alone in a transaction, to read what each key costs.
func TestStockHotSKUThroughput(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.NewStock(db, table)
	var sent []types.TransactWriteItem
	var reported float64
	s.ObserveTransactions(func(op string, actions []types.TransactWriteItem, used []types.ConsumedCapacity) {
		if op == "reserve" {
			sent, reported = actions, units(used)
		}
	})
	if err := s.Put(ctx, "DE-FRA-1", "FLASH", 1_000_000); err != nil {
		t.Fatal(err)
	}
	shards, err := s.Shards(ctx, "DE-FRA-1", "FLASH")
	if err != nil || len(shards) != stock.DefaultShards {
		t.Fatalf("shards %v (%v), want %d", shards, err, stock.DefaultShards)
	}
	if _, err := s.Reserve(ctx, "01KFLASHSALE0000000000000001", "DE-FRA-1", []stock.Item{{SKU: "FLASH", Quantity: 1}}); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 2 {
		t.Fatalf("the reservation sent %d items, want the reservation and one shard", len(sent))
	}
	perKey := map[string]float64{}
	var total float64
	for _, a := range sent {
		pk, u := writeAlone(t, db, a)
		perKey[pk] += u
		total += u
	}
	var onShard float64
	for pk, u := range perKey {
		if strings.HasPrefix(pk, "STOCK#") {
			onShard = max(onShard, u)
		}
	}
	if onShard <= 0 {
		t.Fatalf("no units measured on a shard key: %v", perKey)
	}
	perSKU := float64(len(shards)) * keyWriteLimit / onShard
	t.Logf("write units per reservation %.1f (DynamoDB Local reported %.1f for the transaction): %.1f on the shard's key, %.1f on the order's", total, reported, onShard, total-onShard)
	t.Logf("reservations/s per SKU: %d shards × %d ÷ %.1f = %.0f (one counter per SKU: %.0f)", len(shards), keyWriteLimit, onShard, perSKU, keyWriteLimit/onShard)
	if perSKU < 1000 {
		t.Fatalf("one SKU takes %.0f reservations/s with %d shards, want at least 1,000", perSKU, len(shards))
	}
}

// writeAlone sends one item of a transaction again, alone in a transaction,
// and returns its partition key and the units it consumed. A put's
// condition is dropped: the item it writes is there now, and writing it
// again costs what writing it the first time did (units go by item size).
func writeAlone(t *testing.T, db *dynamodb.Client, a types.TransactWriteItem) (string, float64) {
	t.Helper()
	var pk types.AttributeValue
	switch {
	case a.Put != nil:
		put := *a.Put
		put.ConditionExpression, put.ExpressionAttributeValues, put.ExpressionAttributeNames = nil, nil, nil
		a = types.TransactWriteItem{Put: &put}
		pk = put.Item["PK"]
	case a.Update != nil:
		pk = a.Update.Key["PK"]
	default:
		t.Fatalf("unexpected transaction item %+v", a)
	}
	out, err := db.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{a}, ReturnConsumedCapacity: types.ReturnConsumedCapacityIndexes})
	if err != nil {
		t.Fatal(err)
	}
	return pk.(*types.AttributeValueMemberS).Value, units(out.ConsumedCapacity)
}

// units sums the capacity units consumed on the tables and their indexes.
func units(used []types.ConsumedCapacity) float64 {
	var sum float64
	for _, c := range used {
		sum += aws.ToFloat64(c.CapacityUnits)
	}
	return sum
}
