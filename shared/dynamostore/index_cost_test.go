package dynamostore_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/order"
)

// TestIndexCosts measures, on DynamoDB Local, what the indexes cost: the
// size of what each index keeps of an order (write units per write of the
// order: one per KB, rounded up, for the entry put and, when its key moves,
// one for the entry deleted), and the read units of a page of the ops list
// (read from the status index's projection) against the same page read as
// whole orders after a keys-only index (BatchGetItem), and of a customer's
// page. It asserts only that the status index keeps an order in one write
// unit; the figures are logged (go test -v -run TestIndexCosts).
func TestIndexCosts(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	m := newMeter()
	s := dynamostore.New(m.client(db), table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 100 {
		o := createAt(t, s, fmt.Sprintf("01KCOST%019d", i), "cost", at.Add(time.Duration(i)*time.Second))
		// Where a China order waits: paid, declared, its task token held.
		for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized} {
			ev, _ := o.Transition(st, "", "workflow", o.UpdatedAt.Add(time.Second))
			if err := s.SaveTransition(ctx, o, ev); err != nil {
				t.Fatal(err)
			}
		}
		o.Charge = &order.Charge{ID: "pi_3PzXaBcDeFgHiJkL", Status: order.ChargeAuthorized, Amount: o.ChargeAmount()}
		o.Customs = &order.CustomsRecord{SupervisionMode: "9610", AwaitingChina: true, SubmittedAt: o.UpdatedAt}
		o.TaskToken = "AQCEAAAAKgAAAAMAAAAAAAAAAc5w" + strings.Repeat("x", 700) // task tokens run to some 700 characters
		if err := s.SaveTransition(ctx, o, o.Note("submitted_to_china_eport", "workflow", o.UpdatedAt.Add(time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	item, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "ORDER#01KCOST0000000000000000099"}, "SK": &types.AttributeValueMemberS{Value: "ORDER"}}})
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"PK", "SK"}
	entry := func(index []string) map[string]types.AttributeValue {
		e := map[string]types.AttributeValue{}
		for _, a := range append(keys, index...) {
			if v, ok := item.Item[a]; ok {
				e[a] = v
			}
		}
		return e
	}
	orderSize := dynamostore.ItemSize(item.Item)
	statusEntry := dynamostore.ItemSize(entry(append([]string{"GSI5PK", "GSI5SK"}, dynamostore.StatusListAttributes()...)))
	customerEntry := dynamostore.ItemSize(entry([]string{"GSI4PK", "GSI4SK"}))
	kb := func(n int) int { return int(math.Ceil(float64(n) / 1024)) }
	t.Logf("a China order waiting on customs: item %d B (%d write units); status index entry %d B (%d), customer index entry %d B (%d)",
		orderSize, kb(orderSize), statusEntry, kb(statusEntry), customerEntry, kb(customerEntry))
	t.Logf("index write units per write of the order that moves its time (every change): before, both indexes ALL: %d (status: delete %d + put %d; customer: put %d); now: %d (status: delete 1 + put %d; customer: none, its key and keys-only entry do not change)",
		3*kb(orderSize), kb(orderSize), kb(orderSize), kb(orderSize), 1+kb(statusEntry), kb(statusEntry))
	if kb(statusEntry) != 1 {
		t.Errorf("the status index keeps %d B of an order: more than one write unit", statusEntry)
	}

	for _, size := range []int{20, 100} {
		m.reset()
		page, _, err := s.ListByStatus(ctx, order.StatusPaymentAuthorized, time.Unix(0, 0), at.Add(time.Hour), size, "")
		if err != nil || len(page) != size {
			t.Fatalf("a page of %d: %d, %v", size, len(page), err)
		}
		listed := m.read
		queries := m.calls["Query"]
		var ks []map[string]types.AttributeValue
		for _, o := range page {
			ks = append(ks, map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORDER#" + o.ID},
				"SK": &types.AttributeValueMemberS{Value: "ORDER"}})
		}
		m.reset()
		if _, err := m.client(db).BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{table: {Keys: ks}}}); err != nil {
			t.Fatal(err)
		}
		t.Logf("an ops list page of %d: %.1f read units in %d queries (the status index's projection, one round); the same orders read whole after a keys-only index: %.1f more read units (BatchGetItem, eventually consistent), a second round",
			size, listed, queries, m.read)
		m.reset()
		if _, _, err := s.ListByCustomer(ctx, "cost", size, ""); err != nil {
			t.Fatal(err)
		}
		t.Logf("a customer's page of %d: %.1f read units (%v)", size, m.read, m.calls)
	}
	m.reset()
	if _, err := s.StatusCounts(ctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("the counts of every status: %.1f read units (%v; DynamoDB charges at least 0.5 per item: %d counter items → %.0f)",
		m.read, m.calls, dynamostore.CounterShards, float64(dynamostore.CounterShards)/2)
	m.reset()
	if _, err := s.CountByStatusBefore(ctx, order.StatusPaymentAuthorized, at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	t.Logf("the stuck count of one status holding 100 orders: %.1f read units (%v)", m.read, m.calls)
}
