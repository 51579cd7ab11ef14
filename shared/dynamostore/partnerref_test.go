package dynamostore_test

import (
	"context"
	"maps"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

// transactionUnits is what a transaction of items costs by DynamoDB's
// documented rule (DynamoDB Local does not report a transaction's items
// faithfully): two write units per KB of each item, rounded up per item.
func transactionUnits(items []types.TransactWriteItem) (units, n int) {
	for _, it := range items {
		if it.Put != nil {
			units += 2 * int(math.Ceil(float64(dynamostore.ItemSize(it.Put.Item))/1024))
			n++
		}
	}
	return units, n
}

// TestPartnerOrderRefCost: claiming a partner's order reference adds one
// item to the order's creation transaction — no request of its own — under
// 1 KB even at the longest partner id, reference and delivery id, so 2
// write units per order; an order without a reference pays nothing.
func TestPartnerOrderRefCost(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	m := newMeter()
	s := dynamostore.New(m.client(db), table)
	ctx := context.Background()
	at := time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)

	partnerOrder := func(id, ref string) (*order.Order, idempotency.Record) {
		o := storetest.Order(id, "partner:"+strings.Repeat("p", 63), at)
		o.Channel, o.PartnerID, o.PartnerOrderRef = order.ChannelPartner, strings.Repeat("p", 63), ref
		key := strings.Repeat(id[len(id)-1:], 255)
		done := storetest.Completed("partner:"+o.PartnerID, key, o.ID, at)
		// A partner's answer, as the webhook writes it.
		done.Body = []byte(`{"orderId":"` + o.ID + `","status":"RECEIVED","partnerOrderRef":"` + ref +
			`","deliveryId":"` + key + `","links":{"order":"/v1/orders/` + o.ID + `"}}`)
		return o, done
	}
	first := func(o *order.Order) order.Event { return order.Event{OrderID: o.ID, Version: 1, At: at, To: o.Status} }

	plain, plainDone := partnerOrder("01KREFCOST000000000000001", "")
	claimed, claimedDone := partnerOrder("01KREFCOST000000000000002", strings.Repeat("R", 64))
	without, n0 := transactionUnits(dynamostore.CreateItems(table, plain, first(plain), plainDone))
	with, n1 := transactionUnits(dynamostore.CreateItems(table, claimed, first(claimed), claimedDone))
	t.Logf("creating a partner order: %d items, %d write units in its transaction without a reference; %d items, %d units with one",
		n0, without, n1, with)
	if n1 != n0+1 || with-without != 2 {
		t.Fatalf("the claim adds %d items and %d write units, want 1 item and 2 units", n1-n0, with-without)
	}

	// Written in the one transaction: the same requests as without.
	calls := map[string]map[string]int{}
	for name, o := range map[string]*order.Order{"without": plain, "with": claimed} {
		done := plainDone
		if o == claimed {
			done = claimedDone
		}
		m.reset()
		if _, err := s.CreateOrder(ctx, o, first(o), done, at); err != nil {
			t.Fatal(err)
		}
		calls[name] = maps.Clone(m.calls)
	}
	if !maps.Equal(calls["with"], calls["without"]) || calls["with"]["TransactWriteItems"] != 1 {
		t.Fatalf("requests %v with a reference, %v without: want the same, one transaction", calls["with"], calls["without"])
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "PARTNERREF#63:" + claimed.PartnerID + "#" + claimed.PartnerOrderRef},
			"SK": &types.AttributeValueMemberS{Value: "PARTNER_ORDER_REF"}}})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("the claim item: %v %v", out.Item, err)
	}
	if _, ok := out.Item[dynamostore.AttrTTL]; ok {
		t.Fatal("the claim has a TTL attribute: it must outlive the delivery's key")
	}
	t.Logf("the claim item as stored: %d B", dynamostore.ItemSize(out.Item))
}
