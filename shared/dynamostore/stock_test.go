package dynamostore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/stock"
	"github.com/xborder/xborder/shared/storetest"
)

func TestStockContract(t *testing.T) {
	db := dynamotest.Client(t)
	storetest.RunStock(t, func(t *testing.T, sharding stock.Sharding) storetest.Stock {
		s := dynamostore.NewStock(db, dynamotest.Table(t, db))
		s.Sharding = sharding
		return s
	})
}

// TestStockShardCountOnlyGrows: a put with fewer shards than the SKU has
// keeps them all, so a shard a reservation took from stays counted; and a
// stock keeper that remembers a smaller count (another Lambda) still
// reserves all the stock, first from the shards it knows, then, once they
// are short, from every shard.
func TestStockShardCountOnlyGrows(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	old := dynamostore.NewStock(db, table) // remembers 8 shards
	must(old.Put(ctx, "DE-FRA-1", "FLASH", 8))

	hot := dynamostore.NewStock(db, table)
	hot.Sharding = stock.Sharding{SKUs: map[string]int{"FLASH": 32}}
	must(hot.Put(ctx, "DE-FRA-1", "FLASH", 32))
	hot.Sharding = stock.Sharding{Default: 2}
	must(hot.Put(ctx, "DE-FRA-1", "FLASH", 32))
	shards, err := old.Shards(ctx, "DE-FRA-1", "FLASH")
	must(err)
	if !slices.Equal(shards, stock.Spread(32, 32)) {
		t.Fatalf("after puts with 32 and then 2 shards: %v, want 32 shards of 1", shards)
	}
	for i := range 32 {
		if _, err := old.Reserve(ctx, fmt.Sprintf("grow-%02d", i), "DE-FRA-1", []stock.Item{{SKU: "FLASH", Quantity: 1}}); err != nil {
			t.Fatalf("reservation %d of 32 by a keeper that remembered 8 shards: %v", i+1, err)
		}
	}
	if n, err := old.Available(ctx, "DE-FRA-1", "FLASH"); err != nil || n != 0 {
		t.Fatalf("after 32 reservations: %d left (%v)", n, err)
	}
}

// TestStockReleaseBeforeSharding: a reservation written before stock was
// sharded records no shards; releasing it marks it released and gives
// nothing back (its counter is no longer read), and reserving the order
// again takes nothing.
func TestStockReleaseBeforeSharding(t *testing.T) {
	ctx := context.Background()
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.NewStock(db, table)
	if err := s.Put(ctx, "DE-FRA-1", "TSHIRT", 5); err != nil {
		t.Fatal(err)
	}
	_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "ORDER#legacy"}, "SK": &types.AttributeValueMemberS{Value: "RESERVATION"},
		"type": &types.AttributeValueMemberS{Value: "reservation"}, "warehouse": &types.AttributeValueMemberS{Value: "DE-FRA-1"},
		"items": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"SKU": &types.AttributeValueMemberS{Value: "TSHIRT"}, "Quantity": &types.AttributeValueMemberN{Value: "2"}}}}},
		"released": &types.AttributeValueMemberBOOL{Value: false},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(ctx, "legacy"); err != nil {
		t.Fatal(err)
	}
	w, err := s.Reserve(ctx, "legacy", "DE-FRA-1", []stock.Item{{SKU: "TSHIRT", Quantity: 2}})
	if n, _ := s.Available(ctx, "DE-FRA-1", "TSHIRT"); err != nil || w != "DE-FRA-1" || n != 5 {
		t.Fatalf("legacy reservation: reserve again %q %v, TSHIRT %d, want 5", w, err, n)
	}
}
