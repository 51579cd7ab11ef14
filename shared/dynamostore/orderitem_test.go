package dynamostore_test

import (
	"context"
	"encoding/json"
	"reflect"
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

// TestDocKeepsEveryAttributeType: doc carries every kind of attribute value
// back as it was, and refuses what it cannot read.
func TestDocKeepsEveryAttributeType(t *testing.T) {
	attrs := map[string]types.AttributeValue{
		"s": &types.AttributeValueMemberS{Value: "Zoë \"quoted\" 海关\n"}, "empty": &types.AttributeValueMemberS{Value: ""},
		"n": &types.AttributeValueMemberN{Value: "-12.5e3"}, "b": &types.AttributeValueMemberB{Value: []byte{0, 1, 254}},
		"t": &types.AttributeValueMemberBOOL{Value: true}, "f": &types.AttributeValueMemberBOOL{Value: false},
		"null": &types.AttributeValueMemberNULL{Value: true},
		"ss":   &types.AttributeValueMemberSS{Value: []string{"a", "b"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1", "2"}},
		"bs":     &types.AttributeValueMemberBS{Value: [][]byte{{1}, {2, 3}}},
		"l":      &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberS{Value: "x"}, &types.AttributeValueMemberL{Value: []types.AttributeValue{}}}},
		"m":      &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"inner": &types.AttributeValueMemberN{Value: "7"}}},
		"emptyM": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}},
	}
	doc, err := dynamostore.PackDoc(attrs)
	if err != nil {
		t.Fatal(err)
	}
	back, err := dynamostore.UnpackDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, attrs) {
		t.Fatalf("round trip:\n got  %#v\n want %#v", back, attrs)
	}
	again, _ := dynamostore.PackDoc(attrs)
	if string(again) != string(doc) {
		t.Error("the same attributes packed twice differ: an unchanged order would rewrite its doc")
	}
	for _, bad := range [][]byte{nil, {9, 1, 2}, append([]byte{doc[0]}, 0xff, 0xff, 0xff)} {
		if _, err := dynamostore.UnpackDoc(bad); err == nil {
			t.Errorf("doc %x read without an error", bad)
		}
	}
}

// TestOrdersStoredBeforeDocStillWork: an order item of the layout before
// (every attribute plain, no doc, no lastEvent, every event an item of its
// own) reads back whole, moves on, and keeps its history.
func TestOrdersStoredBeforeDocStillWork(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	o := storetest.Order("01KOLDLAYOUT00000000000001", "alice", at)
	o.Charge = &order.Charge{ID: "ch_old", Status: order.ChargeAuthorized, Amount: o.Total}
	o.StatusSince = time.Time{} // not recorded then
	plain, err := attributevalue.MarshalMap(o)
	if err != nil {
		t.Fatal(err)
	}
	delete(plain, "statusSince")
	for k, v := range map[string]string{"PK": "ORDER#" + o.ID, "SK": "ORDER", "type": "order"} {
		plain[k] = &types.AttributeValueMemberS{Value: v}
	}
	first := order.Event{OrderID: o.ID, Version: 1, At: at, To: o.Status, Actor: "customer:alice"}
	ev, _ := attributevalue.MarshalMap(first)
	ev["PK"], ev["SK"], ev["type"] = &types.AttributeValueMemberS{Value: "ORDER#" + o.ID}, &types.AttributeValueMemberS{Value: "EVENT#0000000001"}, &types.AttributeValueMemberS{Value: "event"}
	for _, item := range []map[string]types.AttributeValue{plain, ev} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *o
	want.StatusSince = o.UpdatedAt // the time of its last change stands for it
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("read back:\n got  %+v\n want %+v", *got, want)
	}
	next, _ := got.Transition(order.StatusStockReserved, "", "workflow", at.Add(time.Minute))
	if err := s.SaveTransition(ctx, got, next); err != nil {
		t.Fatal(err)
	}
	h, err := s.History(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if js, _ := json.Marshal(h); !reflect.DeepEqual(h, []order.Event{first, next}) {
		t.Fatalf("history %s", js)
	}
	raw, _ := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORDER#" + o.ID}, "SK": &types.AttributeValueMemberS{Value: "ORDER"}}})
	if _, ok := raw.Item["doc"]; !ok {
		t.Error("the change did not move the order to the new layout")
	}
	if _, ok := raw.Item["charge"]; ok {
		t.Error("the change left the charge plain beside doc")
	}
}

// TestDocumentsStoredAsTextStillRead: a declaration and a message stored as
// text (before they were deflated) read back as they were.
func TestDocumentsStoredAsTextStillRead(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	id := "01KOLDDOCS0000000000000001"
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	str := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	for _, item := range []map[string]types.AttributeValue{
		{"PK": str("ORDER#" + id), "SK": str("DOC#CUSTOMS#DECLARATION"), "type": str("declaration"), "orderId": str(id), "declaration": str(`{"old":true}`)},
		{"PK": str("ORDER#" + id), "SK": str("DOC#CEB#CEB303"), "type": str("message"), "orderId": str(id), "messageType": str("CEB303"),
			"xml": str("<ceb:CEB303Message/>"), "at": str(at.Format(time.RFC3339Nano))},
	} {
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	d, err := s.CustomsDocuments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if string(d.Declaration) != `{"old":true}` || len(d.Messages) != 1 || d.Messages[0].XML != "<ceb:CEB303Message/>" || !d.Messages[0].At.Equal(at) {
		t.Fatalf("documents %+v", d)
	}
	// Filing again keeps what is stored and says so.
	again, err := s.PutCustomsDocuments(ctx, id, order.CustomsDocuments{Declaration: json.RawMessage(`{"new":true}`),
		Messages: []order.CustomsMessage{{Type: "CEB303", XML: "<other/>", At: at.Add(time.Hour)}}})
	if err != nil || string(again.Declaration) != `{"old":true}` || again.Messages[0].XML != "<ceb:CEB303Message/>" {
		t.Fatalf("filing again: %+v %v", again, err)
	}
}
