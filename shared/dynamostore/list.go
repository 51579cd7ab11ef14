package dynamostore

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/order"
)

// maxPageSize bounds a page; a limit outside 1..maxPageSize is brought into it.
const maxPageSize = 100

// maxCursorLen bounds what is worth decoding: a real cursor is ~150 bytes.
const maxCursorLen = 2048

// list is one index partition, optionally narrowed to sort keys in [lo, hi).
type list struct {
	index, pkAttr, skAttr string
	partition             string
	lo, hi                string // both empty: the whole partition
}

func customerList(customerID string) list {
	return list{index: IndexCustomer, pkAttr: AttrGSI1PK, skAttr: AttrGSI1SK, partition: customerPK(customerID)}
}

// statusList covers [since, until): a sort key "<t>#<id>" is ≥ "<since>" when
// t ≥ since, and < "<until>" when t < until.
func statusList(s order.Status, since, until time.Time) list {
	return list{index: IndexStatus, pkAttr: AttrGSI2PK, skAttr: AttrGSI2SK, partition: statusPK(s),
		lo: since.UTC().Format(sortable), hi: until.UTC().Format(sortable)}
}

func (l list) windowed() bool { return l.lo != "" || l.hi != "" }

// ListByCustomer returns a customer's orders, newest first, at most limit
// (brought into 1..100), and the cursor of the next page ("" after the last).
// A cursor that is malformed or was issued for another customer's list is
// order.ErrInvalidCursor.
func (s *Store) ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error) {
	return s.page(ctx, customerList(customerID), limit, cursor)
}

// ListByStatus returns the orders in status whose last change falls in
// [since, until), newest first, paged like ListByCustomer. A cursor is bound
// to its status; it may be used with another window only if its position
// lies inside that window.
func (s *Store) ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error) {
	return s.page(ctx, statusList(status, since, until), limit, cursor)
}

// CountByStatus counts the orders in status: a Query of the byStatus index
// with Select COUNT, paged (DynamoDB counts at most 1 MB of items per call).
// Like the lists, it reads an eventually consistent index.
func (s *Store) CountByStatus(ctx context.Context, status order.Status) (int, error) {
	return s.count(ctx, list{index: IndexStatus, pkAttr: AttrGSI2PK, skAttr: AttrGSI2SK, partition: statusPK(status)})
}

// CountByStatusBefore counts the orders in status whose last change was
// before t (the ones that have not moved since).
func (s *Store) CountByStatusBefore(ctx context.Context, status order.Status, t time.Time) (int, error) {
	return s.count(ctx, statusList(status, time.Time{}, t))
}

func (s *Store) count(ctx context.Context, l list) (int, error) {
	in := l.query(s.table)
	if l.windowed() && !l.narrow(in) {
		return 0, nil
	}
	in.Select = types.SelectCount
	n := 0
	for {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("dynamostore: count %s: %w", l.partition, err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// query is the Query of l's whole partition, newest first.
func (l list) query(table string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		IndexName:                 aws.String(l.index),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": l.pkAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(l.partition)},
		ScanIndexForward:          aws.Bool(false),
	}
}

// narrow limits in to l's window; false for an empty window (DynamoDB
// refuses BETWEEN with its bounds reversed).
func (l list) narrow(in *dynamodb.QueryInput) bool {
	if l.lo >= l.hi {
		return false
	}
	in.KeyConditionExpression = aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi")
	in.ExpressionAttributeNames["#sk"] = l.skAttr
	in.ExpressionAttributeValues[":lo"] = str(l.lo)
	in.ExpressionAttributeValues[":hi"] = str(l.hi) // no sort key equals it: they all end in #<id>
	return true
}

// page reads one page of l, newest first. It asks for one item more than the
// page holds, to know whether another page follows, and keeps reading while
// DynamoDB stops short (1 MB per response) before that.
func (s *Store) page(ctx context.Context, l list, limit int, cursor string) ([]order.Order, string, error) {
	limit = min(max(limit, 1), maxPageSize)
	in := l.query(s.table)
	if cursor != "" {
		after, id, err := decodeCursor(cursor, l)
		if err != nil {
			return nil, "", fmt.Errorf("dynamostore: list %s: %w", l.index, err)
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{
			AttrPK: str(orderPK(id)), AttrSK: str(orderSK), l.pkAttr: str(l.partition), l.skAttr: str(after),
		}
	}
	if l.windowed() && !l.narrow(in) {
		return nil, "", nil // an empty window
	}
	var items []orderItem
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("dynamostore: list %s: %w", l.index, err)
		}
		for _, raw := range out.Items {
			var it orderItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, "", fmt.Errorf("dynamostore: decode %s page: %w", l.index, err)
			}
			items = append(items, it)
		}
		if len(items) > limit || len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	next := ""
	if len(items) > limit {
		items = items[:limit]
		after := items[limit-1].GSI1SK
		if l.index == IndexStatus {
			after = items[limit-1].GSI2SK
		}
		next = encodeCursor(pageCursor{Partition: l.partition, After: after})
	}
	orders := make([]order.Order, len(items))
	for i := range items {
		orders[i] = items[i].Order
	}
	return orders, next, nil
}

// pageCursor is the last sort key of a page. It names its partition, so a
// cursor cannot be replayed against another customer's or status's list.
type pageCursor struct {
	Partition string `json:"p"`
	After     string `json:"a"`
}

func encodeCursor(c pageCursor) string {
	raw, _ := json.Marshal(c) // two strings: cannot fail
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor checks that cursor was issued for l and returns the sort key
// and order id to resume after. It refuses anything DynamoDB would refuse as
// a start key, so a bad cursor is order.ErrInvalidCursor rather than a
// validation error from the service.
func decodeCursor(cursor string, l list) (after, id string, err error) {
	if len(cursor) > maxCursorLen {
		return "", "", order.ErrInvalidCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	var c pageCursor
	if err != nil || json.Unmarshal(raw, &c) != nil || c.Partition != l.partition {
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
