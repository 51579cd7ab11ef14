package dynamostore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

// TestItemSizeAsDynamoDBCountsIt: ItemSize rounds up to the write units
// DynamoDB charges for a put, on either side of a kilobyte.
func TestItemSizeAsDynamoDBCountsIt(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	ctx := context.Background()
	for _, n := range []int{10, 900, 990, 1010, 2000, 3070, 3100} {
		item := map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: fmt.Sprint("SIZE#", n)}, "SK": &types.AttributeValueMemberS{Value: "X"},
			"text":   &types.AttributeValueMemberS{Value: strings.Repeat("é", n/2)},
			"amount": &types.AttributeValueMemberN{Value: "1999000000"},
			"flags":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberBOOL{Value: true}}},
			"money":  &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{"currency": &types.AttributeValueMemberS{Value: "EUR"}}},
		}
		out, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item, ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal})
		if err != nil {
			t.Fatal(err)
		}
		size := dynamostore.ItemSize(item)
		if want := float64((size + 1023) / 1024); aws.ToFloat64(out.ConsumedCapacity.CapacityUnits) != want {
			t.Errorf("an item of %d bytes by ItemSize: DynamoDB charged %v write units, want %v", size, aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), want)
		}
	}
}

// TestDocumentLayout reads the raw items kept beside an order: their keys
// are a contract with the ops tools and anyone reading the table, and none
// of them is the order item.
func TestDocumentLayout(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 5, 120000000, time.UTC)
	o := storetest.Order("01KLAYOUT00000000000000003", "alice", at)
	if _, err := s.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, At: at, To: o.Status},
		storetest.Completed("customer:alice", "k", o.ID, at), at); err != nil {
		t.Fatal(err)
	}
	decl := json.RawMessage(`{"orderId":"` + o.ID + `"}`)
	if _, err := s.PutCustomsDocuments(ctx, o.ID, order.CustomsDocuments{Declaration: decl,
		Messages: []order.CustomsMessage{{Type: "CEB303", XML: "<ceb:CEB303Message/>", At: at}}}); err != nil {
		t.Fatal(err)
	}
	r := order.CustomsReceipt{Type: "CEB304", Answers: "CEB303", GUID: "4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02", Status: 120,
		Meaning: "stored", Outcome: "pending", At: at.Add(time.Second), ReceivedAt: at.Add(2 * time.Second)}
	if ok, err := s.RecordReceipt(ctx, o.ID, r, o.Annotate("customs_receipt", "china-eport", r.ReceivedAt)); !ok || err != nil {
		t.Fatalf("receipt: %v %v", ok, err)
	}
	a := order.CallbackAttempt{Version: 1, Status: order.StatusReceived, At: at.Add(time.Minute), HTTPStatus: 204, Delivered: true}
	if ok, err := s.RecordCallback(ctx, o.ID, a, o.Annotate("callback_delivered:RECEIVED", "callbacks", a.At)); !ok || err != nil {
		t.Fatalf("callback: %v %v", ok, err)
	}
	out, err := db.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		KeyConditionExpression:    aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "ORDER#" + o.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	attrs := map[string]map[string]types.AttributeValue{}
	for _, it := range out.Items {
		sk := it["SK"].(*types.AttributeValueMemberS).Value
		keys = append(keys, sk)
		attrs[sk] = it
	}
	want := []string{
		"CALLBACK#0000000001#2026-11-24T09:31:05.120000000Z",
		"CALLBACKS",
		"DOC#CEB#CEB303",
		"DOC#CUSTOMS#DECLARATION",
		// no EVENT#0000000001: the order carries its latest event until
		// its next change (transition.go)
		// the receipt's note is in the receipt
		"EVENT#0000000001#2026-11-24T09:31:05.120000000Z#CALLBACK#0000000001#2026-11-24T09:31:05.120000000Z",
		"ORDER",
		"RECEIPT#CEB304#4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02#120#2026-11-24T09:30:06.120000000Z",
	}
	if !reflect.DeepEqual(keys, want) {
		t.Fatalf("the order's partition holds\n %s\nwant\n %s", strings.Join(keys, "\n "), strings.Join(want, "\n "))
	}
	if d, ok := attrs["DOC#CUSTOMS#DECLARATION"]["declarationDeflated"].(*types.AttributeValueMemberB); !ok || len(d.Value) == 0 {
		t.Errorf("the declaration is not kept deflated: %v", attrs["DOC#CUSTOMS#DECLARATION"])
	}
	if _, ok := attrs["RECEIPT#CEB304#4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02#120#2026-11-24T09:30:06.120000000Z"]["note"].(*types.AttributeValueMemberM); !ok {
		t.Error("the receipt does not carry its note")
	}
	if h, err := s.History(ctx, o.ID); err != nil || len(h) != 3 || h[1].Reason != "customs_receipt" || h[2].Reason != "callback_delivered:RECEIVED" {
		t.Errorf("history %+v %v: want the first event, the receipt's note, the callback's", h, err)
	}
	if v, ok := attrs["ORDER"]["version"].(*types.AttributeValueMemberN); !ok || v.Value != "1" {
		t.Errorf("the documents wrote the order: version %v", attrs["ORDER"]["version"])
	}
	for _, sk := range []string{"CALLBACKS", "DOC#CEB#CEB303", "RECEIPT#CEB304#4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02#120#2026-11-24T09:30:06.120000000Z"} {
		for _, gsi := range []string{dynamostore.AttrGSI1PK, dynamostore.AttrGSI2PK} {
			if _, ok := attrs[sk][gsi]; ok {
				t.Errorf("%s has %s: only orders are listed", sk, gsi)
			}
		}
	}
}

// writes records the transactions a client sends.
type writes struct {
	mu  sync.Mutex
	txs [][]types.TransactWriteItem
}

func (w *writes) record(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("writes", func(ctx context.Context, in middleware.InitializeInput,
		next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
		isOrder := func(key map[string]types.AttributeValue) bool {
			sk, ok := key["SK"].(*types.AttributeValueMemberS)
			return ok && sk.Value == "ORDER"
		}
		var write *types.TransactWriteItem
		switch in := in.Parameters.(type) {
		case *dynamodb.TransactWriteItemsInput:
			write = &in.TransactItems[0]
		case *dynamodb.UpdateItemInput:
			if isOrder(in.Key) {
				write = &types.TransactWriteItem{Update: &types.Update{Key: in.Key, UpdateExpression: in.UpdateExpression,
					ExpressionAttributeNames: in.ExpressionAttributeNames, ExpressionAttributeValues: in.ExpressionAttributeValues}}
			}
		case *dynamodb.PutItemInput:
			if isOrder(in.Item) {
				write = &types.TransactWriteItem{Put: &types.Put{Item: in.Item}}
			}
		}
		if write != nil {
			w.mu.Lock()
			w.txs = append(w.txs, []types.TransactWriteItem{*write})
			w.mu.Unlock()
		}
		return next.HandleInitialize(ctx, in)
	}), middleware.Before)
}

func (w *writes) last() types.TransactWriteItem {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.txs[len(w.txs)-1][0]
}

// TestSaveWritesOnlyWhatChanged: a store that read the order (or wrote it)
// updates the attributes a change touched and removes those it cleared; one
// that never saw that version reads it first and does the same. Both leave
// the same order.
func TestSaveWritesOnlyWhatChanged(t *testing.T) {
	base := dynamotest.Client(t)
	table := dynamotest.Table(t, base)
	w := &writes{}
	db := dynamodb.New(base.Options(), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, w.record) })
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	o := storetest.Order("01KDIFF0000000000000000001", "alice", at)
	o.Charge = &order.Charge{ID: "ch_1", Status: order.ChargeAuthorized, Amount: o.Total}
	if _, err := s.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, At: at, To: o.Status},
		storetest.Completed("customer:alice", "k", o.ID, at), at); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := got.Transition(order.StatusStockReserved, "", "workflow", at.Add(time.Minute))
	got.Warehouse, got.StockReserved, got.Charge = "DE-FRA-1", true, nil
	if err := s.SaveTransition(ctx, got, ev); err != nil {
		t.Fatal(err)
	}
	u := w.last().Update
	if u == nil {
		t.Fatalf("a change of an order the store read: %+v, want an Update", w.last())
	}
	var set, removed []string
	for k, v := range u.ExpressionAttributeNames {
		switch {
		case strings.HasPrefix(v, "GSI"):
			// the index keys follow the order, however the indexes are keyed
		case strings.HasPrefix(k, "#a"):
			set = append(set, v)
		case strings.HasPrefix(k, "#r"):
			removed = append(removed, v)
		}
	}
	sort.Strings(set)
	// The warehouse, the reservation, the charge gone and the time of the
	// change travel in doc (orderitem.go); status and version are
	// attributes of their own, and the time the order entered its status is
	// in the status index's sort key.
	wantSet := []string{"doc", "status", "version"}
	if fmt.Sprint(set) != fmt.Sprint(wantSet) || len(removed) != 0 {
		t.Fatalf("SET %v REMOVE %v (%s), want SET %v REMOVE []", set, removed, aws.ToString(u.UpdateExpression), wantSet)
	}
	if again, _ := s.GetOrder(ctx, o.ID); !reflect.DeepEqual(again, got) {
		t.Fatalf("after the update:\n got  %+v\n want %+v", again, got)
	}

	// Another store (another Lambda) never saw version 2: it reads it (for
	// the event it carries) and updates what changed all the same.
	other := dynamostore.New(db, table)
	ev, _ = got.Transition(order.StatusPaymentAuthorized, "", "workflow", at.Add(2*time.Minute))
	got.Charge = &order.Charge{ID: "ch_2", Status: order.ChargeAuthorized, Amount: got.Total}
	if err := other.SaveTransition(ctx, got, ev); err != nil {
		t.Fatal(err)
	}
	if u := w.last().Update; u == nil {
		t.Fatalf("a change of an order the store never saw: %+v, want an Update", w.last())
	}
	if again, _ := s.GetOrder(ctx, o.ID); !reflect.DeepEqual(again, got) {
		t.Fatalf("after the update:\n got  %+v\n want %+v", again, got)
	}
	// The first store's image is of version 2: its stale write conflicts.
	stale := *got
	stale.Version = 2
	staleEv, _ := stale.Transition(order.StatusCancelled, "", "workflow", at.Add(3*time.Minute))
	if err := s.SaveTransition(ctx, &stale, staleEv); err == nil {
		t.Fatal("a write from version 2 over version 3 got through")
	}
}

// TestConcurrentChangesLoseNothing: writers that read, change and save an
// order, some through one store (their images shared), some each through
// a store of its own (no image: the whole item), each adding a line and
// trying again on a version conflict: every line is kept.
func TestConcurrentChangesLoseNothing(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	shared := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC)
	o := storetest.Order("01KRACE0000000000000000001", "alice", at)
	if _, err := shared.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, At: at, To: o.Status},
		storetest.Completed("customer:alice", "k", o.ID, at), at); err != nil {
		t.Fatal(err)
	}
	const writers = 12
	var wg sync.WaitGroup
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := shared
			if i%3 == 0 {
				s = dynamostore.New(db, table)
			}
			for attempt := 0; ; attempt++ {
				got, err := s.GetOrder(ctx, o.ID)
				if err != nil {
					t.Error(err)
					return
				}
				line := got.Lines[0]
				line.SKU = fmt.Sprint("WRITER-", i)
				got.Lines = append(got.Lines, line)
				err = s.SaveTransition(ctx, got, got.Note(line.SKU, "test", at.Add(time.Duration(attempt)*time.Millisecond)))
				if err == nil {
					return
				}
				if !errors.Is(err, order.ErrVersionConflict) || attempt > 200 {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	got, err := shared.GetOrder(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, l := range got.Lines {
		seen[l.SKU] = true
	}
	for i := range writers {
		if !seen[fmt.Sprint("WRITER-", i)] {
			t.Errorf("writer %d's line was lost: %d lines at version %d", i, len(got.Lines), got.Version)
		}
	}
	if got.Version != 1+writers {
		t.Errorf("version %d after %d changes", got.Version, writers)
	}
}
