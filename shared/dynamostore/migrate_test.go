package dynamostore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

// TestBackfillMovesATableToTheShardedLayout writes orders as the layout
// before wrote them (the legacy index keys, no counters, no due times),
// then runs the one-off passes: every order is listed and counted after,
// the orders waiting for China's customs are due, and a second pass writes
// nothing.
func TestBackfillMovesATableToTheShardedLayout(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	legacy := func(o *order.Order) {
		t.Helper()
		item, err := attributevalue.MarshalMap(o)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range map[string]string{"PK": "ORDER#" + o.ID, "SK": "ORDER", "type": "order",
			"GSI1PK": "CUSTOMER#" + o.CustomerID, "GSI1SK": o.CreatedAt.Format("2006-01-02T15:04:05.000000000Z") + "#" + o.ID,
			"GSI2PK": "STATUS#" + string(o.Status), "GSI2SK": o.UpdatedAt.Format("2006-01-02T15:04:05.000000000Z") + "#" + o.ID} {
			item[k] = &types.AttributeValueMemberS{Value: v}
		}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	var received, waiting []string
	for i := range 30 {
		o := storetest.Order(fmt.Sprintf("01KLEGACY%017d", i), fmt.Sprint("partner:p", i%2), at.Add(time.Duration(i)*time.Second))
		if i%3 == 0 {
			for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized} {
				if _, err := o.Transition(st, "", "workflow", o.UpdatedAt.Add(time.Second)); err != nil {
					t.Fatal(err)
				}
			}
			o.Customs, o.TaskToken = &order.CustomsRecord{AwaitingChina: true, SubmittedAt: o.UpdatedAt}, "token-"+o.ID
			waiting = append(waiting, o.ID)
		} else {
			received = append([]string{o.ID}, received...)
		}
		legacy(o)
	}
	if page, _, _ := s.ListByStatus(ctx, order.StatusReceived, time.Unix(0, 0), at.Add(time.Hour), 100, ""); len(page) != 0 {
		t.Fatalf("legacy orders listed before the backfill: %d", len(page))
	}
	now := at.Add(time.Hour)
	rep, err := s.Backfill(ctx, now)
	if err != nil || rep != (dynamostore.BackfillReport{Orders: 30, Moved: 30, Waits: len(waiting)}) {
		t.Fatalf("backfill: %+v, %v", rep, err)
	}
	counts, err := s.Recount(ctx)
	if err != nil || counts[order.StatusReceived] != len(received) || counts[order.StatusPaymentAuthorized] != len(waiting) {
		t.Fatalf("recount: %v, %v", counts, err)
	}
	page, _, err := s.ListByStatus(ctx, order.StatusReceived, time.Unix(0, 0), at.Add(time.Hour), 100, "")
	var ids []string
	for _, o := range page {
		ids = append(ids, o.ID)
	}
	if err != nil || !slices.Equal(ids, received) || page[0].Consignee.Address.Country != "DE" {
		t.Fatalf("RECEIVED after the backfill: %v, %v; want %v", ids, err, received)
	}
	if mine, _, err := s.ListByCustomer(ctx, "partner:p0", 100, ""); err != nil || len(mine) != 15 {
		t.Fatalf("a partner's list after the backfill: %d orders, %v", len(mine), err)
	}
	var due []string
	if err := s.EachDue(ctx, now, func(id string, _ time.Time) { due = append(due, id) }); err != nil || !slices.Equal(due, waiting) {
		t.Fatalf("due after the backfill: %v, %v; want %v", due, err, waiting)
	}
	// From here the counters follow the changes.
	o, err := s.GetOrder(ctx, received[0])
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", now)
	if err := s.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.StatusCounts(ctx); all[order.StatusReceived] != len(received)-1 || all[order.StatusStockReserved] != 1 {
		t.Fatalf("counts after a change: %v", all)
	}
	if again, err := s.Backfill(ctx, now); err != nil || again != (dynamostore.BackfillReport{Orders: 30, Current: 30}) {
		t.Fatalf("a second pass: %+v, %v; want nothing written", again, err)
	}
}
