package dynamostore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

// BenchmarkRawTransactWriteItems is the floor POST /v1/orders is measured
// against: a bare loop of the same three-item transaction (order, history
// event, idempotency record), with items marshalled ahead of the clock and
// no conditions, HTTP, JSON or claim. Compare with httpapi's
// BenchmarkIntakePostOrder from the same `make bench` run.
func BenchmarkRawTransactWriteItems(b *testing.B) {
	db := dynamotest.Client(b)
	table := dynamotest.Table(b, db)
	now := time.Now().UTC()
	items := make([][]types.TransactWriteItem, b.N)
	for i := range b.N {
		o := storetest.Order(fmt.Sprintf("01KRAW%020d", i), "bench", now)
		first := order.Event{OrderID: o.ID, Version: 1, At: now, To: order.StatusReceived, Actor: "customer:bench"}
		rec := idempotency.Record{Scope: "customer:bench", Key: o.ID, RequestHash: "h", State: idempotency.StateCompleted,
			StatusCode: 202, Body: make([]byte, 1500), CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
		items[i] = dynamostore.CreateItems(table, o, first, rec)
	}
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items[i]}); err != nil {
			b.Fatal(err)
		}
	}
}
