package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

func TestContract(t *testing.T) {
	db := dynamotest.Client(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return dynamostore.New(db, dynamotest.Table(t, db)) })
}

// TestCreateTable checks the table against the contract the CDK stack shares.
func TestCreateTable(t *testing.T) {
	db := dynamotest.Client(t)
	name := dynamotest.Table(t, db)
	ctx := context.Background()
	out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	tb := out.Table
	keys := func(ks []types.KeySchemaElement) string {
		var s []string
		for _, k := range ks {
			s = append(s, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
		}
		return strings.Join(s, ",")
	}
	if tb.TableStatus != types.TableStatusActive || keys(tb.KeySchema) != "PK:HASH,SK:RANGE" ||
		tb.BillingModeSummary == nil || tb.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("table: status %s, keys %s, billing %+v", tb.TableStatus, keys(tb.KeySchema), tb.BillingModeSummary)
	}
	for _, a := range tb.AttributeDefinitions {
		if a.AttributeType != types.ScalarAttributeTypeS {
			t.Errorf("attribute %s is %s, want S", aws.ToString(a.AttributeName), a.AttributeType)
		}
	}
	got := map[string]string{}
	for _, ix := range tb.GlobalSecondaryIndexes {
		got[aws.ToString(ix.IndexName)] = fmt.Sprintf("%s %s%v %s", keys(ix.KeySchema), ix.Projection.ProjectionType, ix.Projection.NonKeyAttributes, ix.IndexStatus)
	}
	want := map[string]string{
		dynamostore.IndexCustomer: "GSI4PK:HASH,GSI4SK:RANGE KEYS_ONLY[] ACTIVE",
		dynamostore.IndexStatus:   fmt.Sprintf("GSI5PK:HASH,GSI5SK:RANGE INCLUDE%v ACTIVE", dynamostore.StatusListAttributes()),
		dynamostore.IndexDue:      "GSI3PK:HASH,GSI3SK:RANGE KEYS_ONLY[] ACTIVE",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("indexes %v, want %v", got, want)
	}
	ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil || aws.ToString(ttl.TimeToLiveDescription.AttributeName) != dynamostore.AttrTTL ||
		ttl.TimeToLiveDescription.TimeToLiveStatus != types.TimeToLiveStatusEnabled {
		t.Fatalf("TTL %+v %v, want enabled on %s", ttl.TimeToLiveDescription, err, dynamostore.AttrTTL)
	}
	var inUse *types.ResourceInUseException
	if err := dynamostore.CreateTable(ctx, db, name); !errors.As(err, &inUse) {
		t.Fatalf("creating it again: %v, want ResourceInUseException", err)
	}
}

// TestItemLayout reads the raw items: the key layout is a contract with the
// CDK stack, the ops tools and anyone reading the table.
func TestItemLayout(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 24, 9, 30, 5, 120000000, time.FixedZone("CST", 8*3600))
	o := storetest.Order("01KLAYOUT00000000000000001", "alice", at)
	done := storetest.Completed("customer:a#b", "key#1", o.ID, o.CreatedAt)
	if _, err := s.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, At: o.CreatedAt, To: o.Status}, done, o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	raw := func(pk, sk string) map[string]any {
		t.Helper()
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil || out.Item == nil {
			t.Fatalf("item %s / %s: %v (found %v)", pk, sk, err, out != nil && out.Item != nil)
		}
		var m map[string]any
		if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	expect := func(item map[string]any, attr string, want any) {
		t.Helper()
		if fmt.Sprint(item[attr]) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", attr, item[attr], want)
		}
	}
	it := raw("ORDER#"+o.ID, "ORDER")
	shard := fmt.Sprintf("%02d", dynamostore.ShardOf(o.ID, dynamostore.StatusShards))
	expect(it, "GSI4PK", "CUSTOMER#alice")
	expect(it, "GSI4SK", "2026-11-24T01:30:05.120000000Z#"+o.ID)
	expect(it, "GSI5PK", "STATUS#RECEIVED#"+shard)
	expect(it, "GSI5SK", "2026-11-24T01:30:05.120000000Z#"+o.ID)
	expect(it, "destination", "DE")
	expect(it, "version", 1)
	if _, ok := it["doc"].([]byte); !ok {
		t.Errorf("the order's less-read attributes are not in doc: %v", it)
	}
	key := raw("IDEMPOTENCY#12:customer:a#b#key#1", "IDEMPOTENCY")
	expect(key, dynamostore.AttrTTL, float64(done.ExpiresAt.Unix())) // a number, epoch seconds, as TTL needs
	expect(key, "state", "COMPLETED")

	ev, _ := o.Transition(order.StatusStockReserved, "", "workflow", at.Add(time.Minute))
	if err := s.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	it = raw("ORDER#"+o.ID, "ORDER")
	expect(it, "GSI4SK", "2026-11-24T01:30:05.120000000Z#"+o.ID) // creation does not move
	expect(it, "GSI5PK", "STATUS#STOCK_RESERVED#"+shard)
	expect(it, "GSI5SK", "2026-11-24T01:31:05.120000000Z#"+o.ID)
	expect(it, "version", 2)
	// The first event went to its own item when the order moved past it;
	// the second is in the order.
	expect(raw("ORDER#"+o.ID, "EVENT#0000000001"), "to", "RECEIVED")

	q := storetest.Quote("01KLAYOUT00000000000000002", "alice", at)
	if err := s.PutQuote(ctx, q); err != nil {
		t.Fatal(err)
	}
	qi := raw("QUOTE#"+q.ID, "QUOTE")
	expect(qi, "type", "quote")
	expect(qi, "customerId", "alice")
	expect(qi, "quote", string(q.Quote)) // JSON text, readable in a scan
	expect(qi, "validUntil", "2026-11-24T02:30:05.12Z")
	expect(qi, dynamostore.AttrTTL, float64(q.ExpiresAt.Add(24*time.Hour).Unix())) // TTL a day after it expires
}

// TestPagesSpanSeveralResponses lists orders large enough that a page of
// 100 exceeds DynamoDB's 1 MB per response: the page must still be full and
// its cursor right.
func TestPagesSpanSeveralResponses(t *testing.T) {
	db := dynamotest.Client(t)
	s := dynamostore.New(db, dynamotest.Table(t, db))
	ctx := context.Background()
	base := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	for i := range 101 {
		o := storetest.Order(fmt.Sprintf("01KBIG000000000000000000%03d", i), "bulk", base.Add(time.Duration(i)*time.Second))
		line := o.Lines[0]
		line.Title = strings.Repeat("Bulk listing line with a long product title ", 5)
		o.Lines = nil
		for range 50 {
			o.Lines = append(o.Lines, line)
		}
		o.Total = money.New(line.LineTotal.Amount*50+o.Shipping.Amount, "EUR")
		done := storetest.Completed("customer:bulk", o.ID, o.ID, o.CreatedAt)
		if _, err := s.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, At: o.CreatedAt, To: o.Status}, done, o.CreatedAt); err != nil {
			t.Fatal(err)
		}
	}
	page, next, err := s.ListByCustomer(ctx, "bulk", 100, "")
	if err != nil || len(page) != 100 || next == "" || page[0].ID != "01KBIG000000000000000000100" || page[99].ID != "01KBIG000000000000000000001" {
		t.Fatalf("first page: %d orders, next %q, %v", len(page), next, err)
	}
	rest, next, err := s.ListByCustomer(ctx, "bulk", 100, next)
	if err != nil || len(rest) != 1 || rest[0].ID != "01KBIG000000000000000000000" || next != "" {
		t.Fatalf("second page: %d orders, next %q, %v", len(rest), next, err)
	}
}

// cancelled builds the error a cancelled transaction returns, with one
// reason per item.
func cancelled(item map[string]types.AttributeValue, codes ...string) error {
	var reasons []types.CancellationReason
	for i, c := range codes {
		r := types.CancellationReason{Code: aws.String(c)}
		if i == 0 && c == "ConditionalCheckFailed" {
			r.Item = item
		}
		reasons = append(reasons, r)
	}
	return fmt.Errorf("operation error DynamoDB: TransactWriteItems: %w", &types.TransactionCanceledException{CancellationReasons: reasons})
}

func TestCreateOrderErrors(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	rec := storetest.Completed("customer:a", "k", "01KOTHER", now)
	stored, err := attributevalue.MarshalMap(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		err     error
		want    error
		replays bool
	}{
		{"key taken", cancelled(stored, "ConditionalCheckFailed", "None", "None"), idempotency.ErrClaimed, true},
		{"key and id taken: the key decides", cancelled(stored, "ConditionalCheckFailed", "ConditionalCheckFailed", "None"), idempotency.ErrClaimed, true},
		{"key record vanished (TTL)", cancelled(nil, "ConditionalCheckFailed", "None", "None"), idempotency.ErrBusy, false},
		{"id taken", cancelled(nil, "None", "ConditionalCheckFailed", "None"), order.ErrExists, false},
		{"condition failed and conflict: the condition decides", cancelled(nil, "None", "ConditionalCheckFailed", "TransactionConflict"), order.ErrExists, false},
		{"conflict on the key", cancelled(nil, "TransactionConflict", "None", "None"), idempotency.ErrBusy, false},
		{"conflict outside a transaction", &types.TransactionConflictException{}, idempotency.ErrBusy, false},
	} {
		got, err := dynamostore.CreateOrderError("01KNEW", tc.err)
		if !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "dynamostore: create order 01KNEW: ") {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if tc.replays != (got.ResourceID == "01KOTHER" && string(got.Body) == string(rec.Body)) {
			t.Errorf("%s: record %+v", tc.name, got)
		}
	}
	throttled := cancelled(nil, "ThrottlingError", "None", "None")
	_, err = dynamostore.CreateOrderError("01KNEW", throttled)
	for _, sentinel := range []error{idempotency.ErrClaimed, idempotency.ErrBusy, order.ErrExists} {
		if errors.Is(err, sentinel) {
			t.Fatalf("throttling mapped to %v", sentinel)
		}
	}
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) || !strings.HasPrefix(err.Error(), "dynamostore: create order 01KNEW: ") {
		t.Fatalf("other errors must be wrapped with context: %v", err)
	}
}

func TestSaveTransitionErrors(t *testing.T) {
	old, _ := attributevalue.MarshalMap(map[string]any{"PK": "ORDER#01K", "version": 3})
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"order missing", cancelled(nil, "ConditionalCheckFailed", "None"), order.ErrNotFound},
		{"order at another version", cancelled(old, "ConditionalCheckFailed", "None"), order.ErrVersionConflict},
		{"persistent conflict", cancelled(nil, "TransactionConflict", "None"), order.ErrVersionConflict},
	} {
		if err := dynamostore.SaveTransitionError("01K", 5, tc.err); !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "dynamostore: save order 01K") {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	other := errors.New("connection reset")
	if err := dynamostore.SaveTransitionError("01K", 5, other); !errors.Is(err, other) || errors.Is(err, order.ErrVersionConflict) || errors.Is(err, order.ErrNotFound) {
		t.Fatalf("other errors: %v", err)
	}
}

func TestRetryConflicts(t *testing.T) {
	ctx := context.Background()
	conflict := cancelled(nil, "TransactionConflict", "None")
	calls := 0
	err := dynamostore.RetryConflicts(ctx, func() error {
		if calls++; calls < 3 {
			return conflict
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("two conflicts then success: %v after %d calls", err, calls)
	}
	calls = 0
	if err := dynamostore.RetryConflicts(ctx, func() error { calls++; return conflict }); !errors.Is(err, conflict) || calls != dynamostore.ConflictAttempts {
		t.Fatalf("persistent conflict: %v after %d calls, want %d", err, calls, dynamostore.ConflictAttempts)
	}
	calls = 0
	verdict := cancelled(nil, "ConditionalCheckFailed", "TransactionConflict")
	if err := dynamostore.RetryConflicts(ctx, func() error { calls++; return verdict }); !errors.Is(err, verdict) || calls != 1 {
		t.Fatalf("a failed condition is not retried: %d calls", calls)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	calls = 0
	if err := dynamostore.RetryConflicts(cctx, func() error { calls++; return conflict }); err == nil || calls != 1 {
		t.Fatalf("a cancelled context stops retrying: %v after %d calls", err, calls)
	}
}

// FuzzIdempotencyPK: two different (scope, key) pairs never share an item.
func FuzzIdempotencyPK(f *testing.F) {
	f.Add("a#b", "c", "a", "b#c")
	f.Add("3:abc", "d", "3", "abc#d")
	f.Add("", "1:#", "1:", "#")
	f.Add("customer:a", "k", "customer:a", "k")
	f.Fuzz(func(t *testing.T, s1, k1, s2, k2 string) {
		if (s1 != s2 || k1 != k2) && dynamostore.IdempotencyPK(s1, k1) == dynamostore.IdempotencyPK(s2, k2) {
			t.Fatalf("(%q, %q) and (%q, %q) share %q", s1, k1, s2, k2, dynamostore.IdempotencyPK(s1, k1))
		}
	})
}

// TestRecordsWithoutNanos: idempotency records written before the
// nanosecond attributes existed (a developer's persisted table) are judged
// by their epoch seconds rather than blocking their key until TTL.
func TestRecordsWithoutNanos(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	s := dynamostore.New(db, table)
	ctx := context.Background()
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	put := func(key string, rec idempotency.Record) {
		t.Helper()
		item, err := attributevalue.MarshalMap(rec)
		if err != nil {
			t.Fatal(err)
		}
		item["PK"] = &types.AttributeValueMemberS{Value: dynamostore.IdempotencyPK(rec.Scope, key)}
		item["SK"] = &types.AttributeValueMemberS{Value: "IDEMPOTENCY"}
		if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
			t.Fatal(err)
		}
	}
	claim := func(key string, at time.Time) error {
		_, err := s.ClaimKey(ctx, idempotency.Record{Scope: "customer:a", Key: key, Owner: "new", RequestHash: "h",
			LeaseUntil: at.Add(idempotency.Lease), CreatedAt: at, ExpiresAt: at.Add(idempotency.Retention)}, at)
		return err
	}
	put("lease", idempotency.Record{Scope: "customer:a", Key: "lease", State: idempotency.StateInFlight, Owner: "old",
		LeaseUntil: now.Add(idempotency.Lease), CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)})
	put("expiry", idempotency.Record{Scope: "customer:a", Key: "expiry", State: idempotency.StateCompleted,
		CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)})
	for _, tc := range []struct {
		key  string
		at   time.Time
		free bool
	}{
		{"lease", now.Add(idempotency.Lease - time.Second), false},
		{"lease", now.Add(idempotency.Lease), true},
		{"expiry", now.Add(idempotency.Retention - time.Second), false},
		{"expiry", now.Add(idempotency.Retention), true},
	} {
		err := claim(tc.key, tc.at)
		if tc.free != (err == nil) || (!tc.free && !errors.Is(err, idempotency.ErrClaimed)) {
			t.Errorf("%s at %v: %v, want free=%v", tc.key, tc.at, err, tc.free)
		}
	}
}
