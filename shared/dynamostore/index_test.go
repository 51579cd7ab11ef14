package dynamostore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
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

// meter is an HTTP client that asks DynamoDB for the capacity each call
// consumes (ReturnConsumedCapacity TOTAL, or INDEXES for writes) and adds up
// what the answers say: calls, items returned and read, capacity units.
// DynamoDB Local does not check the signature of the body it rewrites.
type meter struct {
	mu      sync.Mutex
	calls   map[string]int
	items   int     // items returned (Query, BatchGetItem)
	scanned int     // items a Query read (ScannedCount)
	read    float64 // read capacity units
	write   float64 // write capacity units, table and indexes
	indexes map[string]float64
}

func newMeter() *meter { return &meter{calls: map[string]int{}, indexes: map[string]float64{}} }

func (m *meter) reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls, m.items, m.scanned, m.read, m.write, m.indexes = map[string]int{}, 0, 0, 0, 0, map[string]float64{}
}

func (m *meter) client(db *dynamodb.Client) *dynamodb.Client {
	return dynamodb.New(db.Options(), func(o *dynamodb.Options) { o.HTTPClient = m })
}

type capacity struct {
	CapacityUnits          float64
	GlobalSecondaryIndexes map[string]struct{ CapacityUnits float64 }
}

func (m *meter) Do(r *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var in map[string]any
	if json.Unmarshal(body, &in) == nil {
		switch op {
		case "Query", "BatchGetItem", "GetItem":
			in["ReturnConsumedCapacity"] = "TOTAL"
		case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems":
			in["ReturnConsumedCapacity"] = "INDEXES"
		}
		body, _ = json.Marshal(in)
	}
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var out struct {
		Count, ScannedCount int
		Items               []json.RawMessage
		Responses           map[string][]json.RawMessage
		ConsumedCapacity    json.RawMessage
	}
	_ = json.Unmarshal(raw, &out)
	var caps []capacity
	if len(out.ConsumedCapacity) > 0 && out.ConsumedCapacity[0] == '[' {
		_ = json.Unmarshal(out.ConsumedCapacity, &caps)
	} else if len(out.ConsumedCapacity) > 0 {
		var c capacity
		_ = json.Unmarshal(out.ConsumedCapacity, &c)
		caps = append(caps, c)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls[op]++
	m.scanned += out.ScannedCount
	m.items += len(out.Items)
	for _, items := range out.Responses {
		m.items += len(items)
	}
	for _, c := range caps {
		switch op {
		case "Query", "BatchGetItem", "GetItem":
			m.read += c.CapacityUnits
		default:
			m.write += c.CapacityUnits
			for name, ix := range c.GlobalSecondaryIndexes {
				m.indexes[name] += ix.CapacityUnits
			}
		}
	}
	return resp, nil
}

func (m *meter) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("calls %v, %d items returned, %d read by queries, %.1f read units, %.1f write units (indexes %v)",
		m.calls, m.items, m.scanned, m.read, m.write, m.indexes)
}

// idsInShard returns n order ids (prefix and a number) whose status shard is shard.
func idsInShard(prefix string, shard, n int) []string {
	var ids []string
	for i := 0; len(ids) < n; i++ {
		id := fmt.Sprintf("%s%08d", prefix, i)
		if dynamostore.ShardOf(id, dynamostore.StatusShards) == shard {
			ids = append(ids, id)
		}
	}
	return ids
}

func createAt(t *testing.T, s *dynamostore.Store, id, customer string, at time.Time) *order.Order {
	t.Helper()
	o := storetest.Order(id, customer, at)
	done := storetest.Completed("customer:"+customer, id, id, at)
	if _, err := s.CreateOrder(context.Background(), o, order.Event{OrderID: id, Version: 1, At: at, To: o.Status}, done, at); err != nil {
		t.Fatal(err)
	}
	return o
}

// TestShardedItemLayout reads the raw items of the sharded layout: a
// partner's customer key, the counter items and the due item.
func TestShardedItemLayout(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 5, 120000000, time.UTC)
	raw := func(pk, sk string) map[string]any {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	o := createAt(t, s, "01KLAYOUTPARTNER0000000001", "partner:acme", at)
	it := raw("ORDER#"+o.ID, "ORDER")
	if want := fmt.Sprintf("CUSTOMER#partner:acme#%02d", dynamostore.ShardOf(o.ID, dynamostore.PartnerShards)); it["GSI4PK"] != want {
		t.Errorf("GSI4PK %v, want %s", it["GSI4PK"], want)
	}
	for _, old := range []string{"GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"} {
		if _, ok := it[old]; ok {
			t.Errorf("the order still has %s", old)
		}
	}
	counter := func(version int64) string {
		return fmt.Sprintf("COUNTER#STATUS#%02d", dynamostore.CounterShard(o.ID, version))
	}
	if c := raw(counter(1), "COUNTER"); c["RECEIVED"] != float64(1) || c["type"] != "counter" {
		t.Errorf("counter after intake: %v", c)
	}
	ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", at.Add(time.Minute))
	if err := s.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveTransition(ctx, o, o.Note("noted", "workflow", at.Add(2*time.Minute))); err != nil {
		t.Fatal(err)
	}
	// The change to version 2 counts in version 2's shard; the note
	// (version 3) counts nowhere.
	if counter(1) == counter(2) {
		t.Fatalf("test order %s counts versions 1 and 2 in one shard: pick another id", o.ID)
	}
	if c := raw(counter(2), "COUNTER"); c["RECEIVED"] != float64(-1) || c["STOCK_RESERVED"] != float64(1) {
		t.Errorf("counter of the status change: %v", c)
	}
	if c := raw(counter(3), "COUNTER"); counter(3) != counter(1) && counter(3) != counter(2) && len(c) != 0 {
		t.Errorf("a note counted: %v", c)
	}
	due := at.Add(3*time.Minute + 7)
	if err := s.SetDue(ctx, o.ID, due); err != nil {
		t.Fatal(err)
	}
	d := raw("ORDER#"+o.ID, "DUE")
	want := map[string]any{"PK": "ORDER#" + o.ID, "SK": "DUE", "type": "due", "orderId": o.ID, "dueAt": "2026-11-24T09:33:05.120000007Z",
		"GSI3PK": fmt.Sprintf("DUE#%02d", dynamostore.ShardOf(o.ID, dynamostore.DueShards)), "GSI3SK": "2026-11-24T09:33:05.120000007Z#" + o.ID,
		"expiresAt": float64(due.Add(dynamostore.DueRetention).Unix())}
	if fmt.Sprint(d) != fmt.Sprint(want) {
		t.Errorf("due item\n got  %v\n want %v", d, want)
	}
}

// TestSkewedShards: a status whose orders fall mostly in one shard (the
// merge asks each shard for a share of the page at first) is still listed
// whole, in order, and the page that runs out of one shard's share reads
// that shard again once.
func TestSkewedShards(t *testing.T) {
	db := dynamotest.Client(t)
	m := newMeter()
	s := dynamostore.New(m.client(db), dynamotest.Table(t, db))
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	var want []string
	for i, id := range append(idsInShard("01KSKEW3", 3, 40), idsInShard("01KSKEW9", 9, 5)...) {
		createAt(t, s, id, "skew", at.Add(time.Duration(i)*time.Second))
		want = append([]string{id}, want...)
	}
	for _, size := range []int{1, 10, 20, 44, 45, 100} {
		var got []string
		cursor, pages := "", 0
		m.reset()
		for {
			page, next, err := s.ListByStatus(ctx, order.StatusReceived, time.Unix(0, 0), at.Add(time.Hour), size, cursor)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, o := range page {
				got = append(got, o.ID)
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("pages of %d:\n got  %v\n want %v", size, got, want)
		}
		// Each page queries the 16 shards once and, when a shard's first
		// share runs out, those that still have more once again.
		if q := m.calls["Query"]; q > pages*(dynamostore.StatusShards+2) {
			t.Errorf("pages of %d: %d queries for %d pages (%v)", size, q, pages, m)
		}
		t.Logf("pages of %d: %d pages, %v", size, pages, m)
	}
}

// TestDueReadsOnlyTheDue: with a thousand orders waiting and none overdue,
// finding the due ones reads no item at all — one query per due shard, and
// their minimum charge. With three overdue it reads those three.
func TestDueReadsOnlyTheDue(t *testing.T) {
	db := dynamotest.Client(t)
	m := newMeter()
	s := dynamostore.New(m.client(db), dynamotest.Table(t, db))
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := range 1000 {
		if err := s.SetDue(ctx, fmt.Sprintf("01KWAITING%016d", i), now.Add(time.Second+time.Duration(i)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	m.reset()
	n := 0
	if err := s.EachDue(ctx, now, func(string, time.Time) { n++ }); err != nil {
		t.Fatal(err)
	}
	t.Logf("1,000 waiting, none due: %v", m)
	if n != 0 || m.scanned != 0 || m.calls["Query"] != dynamostore.DueShards || len(m.calls) != 1 {
		t.Fatalf("%d due; %v; want nothing read, one query per shard", n, m)
	}
	if m.read > float64(dynamostore.DueShards) {
		t.Errorf("%.1f read units, want at most one per shard", m.read)
	}
	for i := range 3 {
		if err := s.SetDue(ctx, fmt.Sprintf("01KWAITING%016d", i), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	m.reset()
	var due []string
	if err := s.EachDue(ctx, now, func(id string, _ time.Time) { due = append(due, id) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("1,000 waiting, 3 due: %v", m)
	if len(due) != 3 || m.scanned != 3 {
		t.Fatalf("due %v; %v; want the three, and only them read", due, m)
	}
}
