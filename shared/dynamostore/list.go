package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// maxPageSize bounds a page; a limit outside 1..maxPageSize is brought into it.
const maxPageSize = 100

// maxCursorLen bounds what is worth decoding: a real cursor is ~150 bytes.
const maxCursorLen = 2048

// list is one list of an index: the partitions its key is written across
// (one, or one per shard), optionally narrowed to sort keys in [lo, hi),
// read newest first (or oldest first: asc).
type list struct {
	index, pkAttr, skAttr string
	// name is the key without its shard: what a cursor is bound to.
	name       string
	partitions []string
	lo, hi     string // both empty: the whole partitions
	asc        bool
}

func customerList(customerID string) list {
	return list{index: IndexCustomer, pkAttr: AttrGSI4PK, skAttr: AttrGSI4SK,
		name: customerBase(customerID), partitions: customerPartitions(customerID)}
}

// statusList covers [since, until): a sort key "<t>#<id>" is ≥ "<since>" when
// t ≥ since, and < "<until>" when t < until.
func statusList(s order.Status, since, until time.Time) list {
	return list{index: IndexStatus, pkAttr: AttrGSI5PK, skAttr: AttrGSI5SK,
		name: statusBase(s), partitions: shards(statusBase(s), StatusShards),
		lo: since.UTC().Format(sortable), hi: until.UTC().Format(sortable)}
}

func (l list) windowed() bool { return l.lo != "" || l.hi != "" }

// ListByCustomer returns a customer's orders, newest first, at most limit
// (brought into 1..100), and the cursor of the next page ("" after the last).
// A cursor that is malformed or was issued for another customer's list is
// order.ErrInvalidCursor. The index holds keys only: the orders are read
// after it, whole, with one BatchGetItem — eventually consistent, as the
// index is: an order may show a change a moment late, or be missing from
// the page for the moment after its intake.
func (s *Store) ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error) {
	l := customerList(customerID)
	items, next, err := s.page(ctx, l, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	keys := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		keys[i] = map[string]types.AttributeValue{AttrPK: it[AttrPK], AttrSK: it[AttrSK]}
	}
	found, err := s.batchGet(ctx, keys, false)
	if err != nil {
		return nil, "", fmt.Errorf("dynamostore: list %s: %w", l.index, err)
	}
	orders := make([]order.Order, 0, len(items))
	for _, k := range keys {
		raw, ok := found[keyString(k)]
		if !ok {
			continue // an index entry of an item gone meanwhile
		}
		it, err := unmarshalOrderItem(raw)
		if err != nil {
			return nil, "", fmt.Errorf("dynamostore: decode %s page: %w", l.index, err)
		}
		orders = append(orders, it.Order)
	}
	return orders, next, nil
}

// listedItem is what the status index keeps of an order
// (StatusListAttributes).
type listedItem struct {
	PK          string          `dynamodbav:"PK"`
	GSI4SK      string          `dynamodbav:"GSI4SK"`
	GSI5SK      string          `dynamodbav:"GSI5SK"`
	ID          string          `dynamodbav:"orderId"`
	Status      order.Status    `dynamodbav:"status"`
	Reason      string          `dynamodbav:"reason"`
	TradeMode   order.TradeMode `dynamodbav:"tradeMode"`
	Channel     order.Channel   `dynamodbav:"channel"`
	PartnerID   string          `dynamodbav:"partnerId"`
	Destination string          `dynamodbav:"destination"`
	Total       money.Money     `dynamodbav:"total"`
	CreatedAt   time.Time       `dynamodbav:"createdAt"`
	StatusSince time.Time       `dynamodbav:"statusSince"`
}

// order is the order as listed: those fields, and no other.
func (it listedItem) order() order.Order {
	it.ID = orDerived(it.ID, it.PK, orderKeyID)
	it.CreatedAt = orDerivedTime(it.CreatedAt, it.GSI4SK)
	it.StatusSince = orDerivedTime(it.StatusSince, it.GSI5SK)
	o := order.Order{ID: it.ID, Status: it.Status, Reason: it.Reason, CreatedAt: it.CreatedAt, StatusSince: it.StatusSince, PartnerID: it.PartnerID}
	o.TradeMode, o.Channel, o.Total = it.TradeMode, it.Channel, it.Total
	o.Consignee.Address.Country = it.Destination
	return o
}

// ListByStatus returns the orders in status that entered it in
// [since, until), newest first, paged like ListByCustomer. A cursor is bound
// to its status; it may be used with another window only if its position
// lies inside that window. The orders carry what the status index projects
// and nothing else: ID, Status, Reason, TradeMode, Channel, PartnerID, the
// destination (Consignee.Address.Country), Total, CreatedAt and StatusSince.
func (s *Store) ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error) {
	l := statusList(status, since, until)
	items, next, err := s.page(ctx, l, limit, cursor)
	if err != nil {
		return nil, "", err
	}
	orders := make([]order.Order, len(items))
	for i, raw := range items {
		var it listedItem
		if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
			return nil, "", fmt.Errorf("dynamostore: decode %s page: %w", l.index, err)
		}
		orders[i] = it.order()
	}
	return orders, next, nil
}

// CountByStatusBefore counts the orders in status that entered it
// before t (the ones that have not moved since): a Query with Select COUNT
// of each shard of the status, at once, each paged (DynamoDB counts at most
// 1 MB of index items per call; the index's items are small). Like the
// lists, it reads an eventually consistent index.
func (s *Store) CountByStatusBefore(ctx context.Context, status order.Status, t time.Time) (int, error) {
	l := statusList(status, time.Time{}, t)
	counts := make([]int, len(l.partitions))
	err := each(len(l.partitions), func(i int) error {
		in, ok := l.query(s.table, l.partitions[i], "")
		if !ok {
			return nil
		}
		in.Select = types.SelectCount
		for {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return err
			}
			counts[i] += int(out.Count)
			if len(out.LastEvaluatedKey) == 0 {
				return nil
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	})
	if err != nil {
		return 0, fmt.Errorf("dynamostore: count %s: %w", l.name, err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n, nil
}

// query is the Query of one of l's partitions, in l's order, for the sort
// keys after after ("": from the start) within l's window. ok is false for
// an empty window (DynamoDB refuses BETWEEN with its bounds reversed). The
// bound after is a real sort key and BETWEEN includes it: read skips it.
func (l list) query(table, partition, after string) (in *dynamodb.QueryInput, ok bool) {
	lo, hi := l.lo, l.hi
	if after != "" {
		if l.asc {
			lo = after
		} else {
			hi = after
		}
	}
	in = &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(l.index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": l.pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partition)},
		ScanIndexForward:          aws.Bool(l.asc),
	}
	switch {
	case lo != "" && hi != "":
		if lo >= hi {
			return nil, false
		}
		// No sort key equals a window's bound: they all end in #<id>.
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
		in.ExpressionAttributeValues[":lo"], in.ExpressionAttributeValues[":hi"] = str(lo), str(hi)
	case hi != "":
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk < :hi")
		in.ExpressionAttributeValues[":hi"] = str(hi)
	case lo != "":
		in.KeyConditionExpression = aws.String("#pk = :pk AND #sk > :lo")
		in.ExpressionAttributeValues[":lo"] = str(lo)
	default:
		return in, true
	}
	in.ExpressionAttributeNames["#sk"] = l.skAttr
	return in, true
}

// first reports whether sort key a comes before b in l's order.
func (l list) first(a, b string) bool {
	if l.asc {
		return a < b
	}
	return a > b
}

// page reads one page of l after cursor: its index items, and the cursor of
// the next page. It reads one item more than the page holds, to know whether
// another page follows.
func (s *Store) page(ctx context.Context, l list, limit int, cursor string) ([]map[string]types.AttributeValue, string, error) {
	limit = min(max(limit, 1), maxPageSize)
	after := ""
	if cursor != "" {
		var err error
		if after, _, err = decodeCursor(cursor, l); err != nil {
			return nil, "", fmt.Errorf("dynamostore: list %s: %w", l.index, err)
		}
	}
	items, err := s.merged(ctx, l, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("dynamostore: list %s: %w", l.index, err)
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		next = encodeCursor(pageCursor{Partition: l.name, After: sortKey(items[limit-1], l.skAttr)})
	}
	return items, next, nil
}

// shardReader is where the merge stands in one partition: the items read
// and not yet merged, and whether the partition has more.
type shardReader struct {
	in   *dynamodb.QueryInput
	buf  []map[string]types.AttributeValue
	done bool
}

// merged returns the next n items of l after the sort key after, in l's
// order, merged from all its partitions. Each partition is asked at first
// for its share of n (twice the even share, and two more: hashing spreads
// the orders evenly), all at once. When the merge runs out of a partition's
// items before it has n and the partition has more, every partition holding
// fewer than the items still wanted is read again, at once, for the rest:
// after that round none can run out, so a page takes two rounds at most
// unless DynamoDB stops a response short (1 MB).
func (s *Store) merged(ctx context.Context, l list, after string, n int) ([]map[string]types.AttributeValue, error) {
	shards := make([]*shardReader, len(l.partitions))
	for i, p := range l.partitions {
		in, ok := l.query(s.table, p, after)
		if !ok {
			return nil, nil // an empty window
		}
		shards[i] = &shardReader{in: in}
	}
	share := n
	if len(shards) > 1 {
		share = min(n, 2*((n+len(shards)-1)/len(shards))+2)
	}
	if err := s.read(ctx, l, shards, after, func(*shardReader) int { return share }); err != nil {
		return nil, err
	}
	var out []map[string]types.AttributeValue
	for len(out) < n {
		dry := false
		for _, sh := range shards {
			dry = dry || (len(sh.buf) == 0 && !sh.done)
		}
		if dry {
			wanted := n - len(out)
			if err := s.read(ctx, l, shards, after, func(sh *shardReader) int { return wanted - len(sh.buf) }); err != nil {
				return nil, err
			}
			continue
		}
		best := -1
		for i, sh := range shards {
			if len(sh.buf) > 0 && (best < 0 || l.first(sortKey(sh.buf[0], l.skAttr), sortKey(shards[best].buf[0], l.skAttr))) {
				best = i
			}
		}
		if best < 0 {
			break // every partition is read to its end
		}
		out = append(out, shards[best].buf[0])
		shards[best].buf = shards[best].buf[1:]
	}
	return out, nil
}

// read queries, at once, every partition that has more and for which want
// is positive, for that many items, and buffers them (without the item at
// after, which a BETWEEN includes).
func (s *Store) read(ctx context.Context, l list, shards []*shardReader, after string, want func(*shardReader) int) error {
	var todo []*shardReader
	for _, sh := range shards {
		if !sh.done && want(sh) > 0 {
			sh.in.Limit = aws.Int32(int32(want(sh)))
			todo = append(todo, sh)
		}
	}
	return each(len(todo), func(i int) error {
		sh := todo[i]
		out, err := s.db.Query(ctx, sh.in)
		if err != nil {
			return err
		}
		for _, it := range out.Items {
			if sortKey(it, l.skAttr) != after {
				sh.buf = append(sh.buf, it)
			}
		}
		sh.done = len(out.LastEvaluatedKey) == 0
		sh.in.ExclusiveStartKey = out.LastEvaluatedKey
		return nil
	})
}

// each runs f(0)…f(n-1) at once and returns their errors joined.
func each(n int, f func(i int) error) error {
	if n == 1 {
		return f(0)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = f(i) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// sortKey is an index item's sort key.
func sortKey(item map[string]types.AttributeValue, attr string) string {
	if v, ok := item[attr].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// batchGetAttempts bounds the rounds of BatchGetItem for keys DynamoDB
// leaves unprocessed (it does so under throttling).
const batchGetAttempts = 8

// batchGet reads the items of keys (100 at a time, as BatchGetItem takes),
// by their key (keyString); a key with no item is absent from the result.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) (map[string]map[string]types.AttributeValue, error) {
	found := make(map[string]map[string]types.AttributeValue, len(keys))
	for start := 0; start < len(keys); start += 100 {
		pending := map[string]types.KeysAndAttributes{s.table: {Keys: keys[start:min(start+100, len(keys))], ConsistentRead: aws.Bool(consistent)}}
		for attempt := 1; len(pending) > 0; attempt++ {
			if attempt > batchGetAttempts {
				return nil, fmt.Errorf("batch get: %d keys still unprocessed", len(pending[s.table].Keys))
			}
			if attempt > 1 {
				t := time.NewTimer(time.Duration(rand.Int64N(int64(25*time.Millisecond) << min(attempt-2, 5))))
				select {
				case <-ctx.Done():
					t.Stop()
					return nil, ctx.Err()
				case <-t.C:
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return nil, fmt.Errorf("batch get: %w", err)
			}
			for _, it := range out.Responses[s.table] {
				found[keyString(it)] = it
			}
			pending = out.UnprocessedKeys
		}
	}
	return found, nil
}

// keyString names an item by its table key.
func keyString(item map[string]types.AttributeValue) string {
	return sortKey(item, AttrPK) + "\x00" + sortKey(item, AttrSK)
}

// pageCursor is the last sort key of a page. It names its list (the key
// without its shard), so a cursor cannot be replayed against another
// customer's or status's list. One sort key is where every shard resumes:
// the merge took every item before it, in every shard, and none after.
type pageCursor struct {
	Partition string `json:"p"`
	After     string `json:"a"`
}

func encodeCursor(c pageCursor) string {
	raw, _ := json.Marshal(c) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor checks that cursor was issued for l and returns the sort key
// and order id to resume after. It refuses anything that is not a sort key
// of the list, so a bad cursor is order.ErrInvalidCursor rather than a
// validation error from the service.
func decodeCursor(cursor string, l list) (after, id string, err error) {
	if len(cursor) > maxCursorLen {
		return "", "", order.ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var c pageCursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Partition != l.name {
		return "", "", order.ErrInvalidCursor
	}
	id, ok := sortKeyID(c.After)
	if !ok || (l.windowed() && (c.After < l.lo || c.After >= l.hi)) {
		return "", "", order.ErrInvalidCursor
	}
	return c.After, id, nil
}

// sortKeyID splits a sort key "<fixed-width time>#<id>" and returns the id.
func sortKeyID(k string) (string, bool) {
	n := len(sortable)
	if len(k) <= n+1 || k[n] != '#' {
		return "", false
	}
	t, err := time.Parse(sortable, k[:n])
	if err != nil || t.UTC().Format(sortable) != k[:n] {
		return "", false
	}
	return k[n+1:], true
}
