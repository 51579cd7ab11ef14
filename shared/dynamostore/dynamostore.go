// Package dynamostore keeps orders, their history and documents,
// idempotency records and issued quotes in one DynamoDB table (single-table
// design), through aws-sdk-go-v2.
//
// Items (attribute and index names are the constants below):
//
//	order        PK=ORDER#<id>  SK=ORDER
//	             byCustomerShard: GSI4PK=CUSTOMER#<customerId>[#<shard>]  GSI4SK=<createdAt>#<id>
//	             byStatusShard:   GSI5PK=STATUS#<status>#<shard>          GSI5SK=<updatedAt>#<id>
//	             (the indexes, their shards and projections: indexes.go)
//	due          PK=ORDER#<id>  SK=DUE, while the order waits on a long step
//	             byDue: GSI3PK=DUE#<shard>  GSI3SK=<dueAt>#<id>  (due.go)
//	counter      PK=COUNTER#STATUS#<shard>  SK=COUNTER: orders per status (counters.go)
//	history      PK=ORDER#<id>  SK=EVENT#<version, zero-padded to 10 digits>
//	             a change of the order, written with it
//	note         PK=ORDER#<id>  SK=EVENT#<version>#<at>#<document's SK>
//	             history that changed nothing on the order (a receipt, a
//	             callback), written with its document and sorted after
//	             the event of the version it follows
//	declaration  PK=ORDER#<id>  SK=DOC#CUSTOMS#DECLARATION  (JSON text in declaration)
//	CEB message  PK=ORDER#<id>  SK=DOC#CEB#<message type>   (XML text in xml)
//	receipt      PK=ORDER#<id>  SK=RECEIPT#<receipt type>#<guid>#<returnStatus>#<returnTime>
//	callbacks    PK=ORDER#<id>  SK=CALLBACKS  (deliveredVersion: the partner was told up to it)
//	callback     PK=ORDER#<id>  SK=CALLBACK#<version, 10 digits>#<at>  (one attempt)
//	idempotency  PK=IDEMPOTENCY#<len(scope)>:<scope>#<key>  SK=IDEMPOTENCY
//	             TTL attribute expiresAt (epoch seconds)
//	quote        PK=QUOTE#<id>  SK=QUOTE  (the quote as JSON text in quote,
//	             customerId, cartHash, createdAt, validUntil)
//	             TTL attribute expiresAt = validUntil + quotes.Retention (a day)
//	reference    PK=REF#<reference>  SK=REF  (orderId)
//	stock        see Stock
//
// The order item is small and bounded: what grows with an order's life —
// the customs declaration, China's CEB messages and their receipts, the
// callbacks to its partner and the notes they bring — is kept in items of
// its own under the order's partition, each written once (a conditional
// put) and never by a status change. Only CreateOrder and SaveTransition
// (and SettleReceipt, a receipt with the change it brings) write the order
// item, each moving its version on; SaveTransition writes only the
// attributes that changed, in one transaction with the history event.
//
// Times in sort keys are UTC, fixed width to the nanosecond
// (2006-01-02T15:04:05.000000000Z), so they sort as text. The scope of an
// idempotency key is length-prefixed, so no two (scope, key) pairs share an
// item whatever '#' they contain.
//
// GetOrder, History, the documents, GetQuote, LookupKey and every
// conditional write are strongly consistent. The two lists read global
// secondary indexes, which DynamoDB keeps eventually consistent: a
// just-written order can take a moment to appear in a list or to move from
// one status list to the next.
//
// Errors are the sentinels of packages order, idempotency and quotes,
// wrapped with what was being done; test them with errors.Is.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

// Table contract. The CDK stack in infra/ must define the table with exactly
// these key attributes, index names and TTL attribute (its tests assert it);
// CreateTable builds the same table for the local stack and tests.
const (
	AttrPK = "PK"
	AttrSK = "SK"
	// AttrTTL is the TTL attribute, epoch seconds.
	AttrTTL = "expiresAt"
	// The indexes' key attributes and names are in indexes.go.
)

// sortable is a fixed-width UTC time layout that sorts as text.
const sortable = "2006-01-02T15:04:05.000000000Z"

// Store is the DynamoDB order store. It is safe for concurrent use.
type Store struct {
	db    *dynamodb.Client
	table string
	// images are the order items it last read or wrote, by version: a
	// change of an order writes only what changed (SaveTransition).
	images *images
	// settled are facts of the table that never change (settled.go).
	settled *settled
}

// New returns a store over table.
func New(db *dynamodb.Client, table string) *Store {
	return &Store{db: db, table: table, images: newImages(), settled: newSettled()}
}

// Item keys.

const (
	orderSK       = "ORDER"
	idempotencySK = "IDEMPOTENCY"
	// Attributes the store conditions on.
	attrState        = "state"
	attrOwner        = "owner"
	attrVersion      = "version"
	attrStatus       = "status"
	attrLeaseSeconds = "leaseUntil"
	attrLeaseNanos   = "leaseUntilNanos"
	attrExpiresNanos = "expiresAtNanos"
)

func orderPK(id string) string { return "ORDER#" + id }

func eventSK(version int64) string { return fmt.Sprintf("EVENT#%010d", version) }

func timeKey(t time.Time, id string) string { return t.UTC().Format(sortable) + "#" + id }

// idempotencyPK length-prefixes the scope so that no (scope, key) pair can
// spell the same item key as another: ("a#b", "c") and ("a", "b#c") differ.
func idempotencyPK(scope, key string) string {
	return "IDEMPOTENCY#" + strconv.Itoa(len(scope)) + ":" + scope + "#" + key
}

// scopeAndKey reads idempotencyPK back.
func scopeAndKey(pk string) (scope, key string, ok bool) {
	rest, found := strings.CutPrefix(pk, "IDEMPOTENCY#")
	if !found {
		return "", "", false
	}
	n, rest, found := strings.Cut(rest, ":")
	size, err := strconv.Atoi(n)
	if !found || err != nil || size < 0 || len(rest) < size+1 || rest[size] != '#' {
		return "", "", false
	}
	return rest[:size], rest[size+1:], true
}

func itemKey(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk), AttrSK: str(sk)}
}

func str(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

// Items as stored.

type orderItem struct {
	PK     string `dynamodbav:"PK"`
	SK     string `dynamodbav:"SK"`
	GSI4PK string `dynamodbav:"GSI4PK"`
	GSI4SK string `dynamodbav:"GSI4SK"`
	GSI5PK string `dynamodbav:"GSI5PK"`
	GSI5SK string `dynamodbav:"GSI5SK"`
	Type   string `dynamodbav:"type"`
	// Destination is the order's, for the status index (indexes.go).
	Destination string `dynamodbav:"destination,omitempty"`
	// LastEvent is the order's latest history event (transition.go).
	LastEvent *order.Event `dynamodbav:"lastEvent,omitempty"`
	// Intake is set when the order's first history event is the one
	// firstEvent tells from the order: the store keeps no item of it.
	Intake bool `dynamodbav:"intake,omitempty"`
	order.Order
}

// newOrderItem derives the index keys from the order itself, so every write
// of the order keeps both indexes in step with it: the customer index's
// from its customer (sharded for a partner's) and creation, the status
// index's from its status, sharded by its id, and its last change.
func newOrderItem(o *order.Order, last *order.Event) orderItem {
	return orderItem{
		PK: orderPK(o.ID), SK: orderSK, Type: "order",
		GSI4PK: customerPK(o.CustomerID, o.ID), GSI4SK: timeKey(o.CreatedAt, o.ID),
		GSI5PK: statusPK(o.Status, o.ID), GSI5SK: timeKey(o.Since(), o.ID),
		Destination: o.Destination(),
		LastEvent:   last,
		Order:       *o,
	}
}

type eventItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	order.Event
}

func newEventItem(ev order.Event) eventItem {
	return eventItem{PK: orderPK(ev.OrderID), SK: eventSK(ev.Version), Type: "event", Event: ev}
}

// keyItem is an idempotency record. The record's own lease and expiry are
// epoch seconds (TTL needs expiresAt so); the two Nanos attributes carry them
// to the nanosecond, and the conditions compare those, so a lease ends
// exactly when the record says and not up to a second early.
type keyItem struct {
	PK   string `dynamodbav:"PK"`
	SK   string `dynamodbav:"SK"`
	Type string `dynamodbav:"type"`
	idempotency.Record
	LeaseUntilNanos *int64 `dynamodbav:"leaseUntilNanos"`
	ExpiresAtNanos  *int64 `dynamodbav:"expiresAtNanos"`
	// BodyDeflated is the response body, deflated, in place of body: the
	// record is written in the order's intake transaction (two write units
	// per KB), and a response compresses to about half.
	BodyDeflated []byte `dynamodbav:"bodyDeflated,omitempty"`
}

func newKeyItem(rec idempotency.Record) (keyItem, error) {
	lease, expires := nanos(rec.LeaseUntil), nanos(rec.ExpiresAt)
	it := keyItem{PK: idempotencyPK(rec.Scope, rec.Key), SK: idempotencySK, Type: "idempotency", Record: rec,
		LeaseUntilNanos: &lease, ExpiresAtNanos: &expires}
	// The key spells the scope and the key: the item keeps no copy
	// (scopeAndKey reads them back).
	it.Scope, it.Key = "", ""
	if len(rec.Body) > 0 {
		z, err := deflate(rec.Body)
		if err != nil {
			return keyItem{}, fmt.Errorf("deflate response body: %w", err)
		}
		it.Body, it.BodyDeflated = nil, z
	}
	return it, nil
}

// decodeRecord reads a stored idempotency record; ok is false for no item.
func decodeRecord(item map[string]types.AttributeValue) (rec idempotency.Record, ok bool, err error) {
	if len(item) == 0 {
		return idempotency.Record{}, false, nil
	}
	var it keyItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return idempotency.Record{}, false, fmt.Errorf("decode idempotency record: %w", err)
	}
	if it.LeaseUntilNanos != nil {
		it.LeaseUntil = fromNanos(*it.LeaseUntilNanos)
	}
	if it.ExpiresAtNanos != nil {
		it.ExpiresAt = fromNanos(*it.ExpiresAtNanos)
	}
	if scope, key, spelled := scopeAndKey(it.PK); spelled && it.Scope == "" && it.Key == "" {
		it.Scope, it.Key = scope, key
	}
	if it.BodyDeflated != nil {
		if it.Body, err = inflate(it.BodyDeflated); err != nil {
			return idempotency.Record{}, false, fmt.Errorf("decode idempotency record: response body: %w", err)
		}
	}
	return it.Record, true, nil
}

// nanos is t in Unix nanoseconds, saturating outside the years 1678–2262;
// the zero time is the smallest value, so a zero lease or expiry has passed.
func nanos(t time.Time) int64 {
	switch {
	case t.IsZero() || t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func fromNanos(n int64) time.Time {
	if n == math.MinInt64 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func marshal(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMap(v)
	if err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	return item, nil
}

// condition is a condition expression with its names and values.
type condition struct {
	expr   string
	names  map[string]string
	values map[string]types.AttributeValue
}

// keyFree holds when an idempotency key may be taken at now: it has no
// record, its record is past its expiry (TTL deletes lazily), or it is an
// in-flight claim whose lease has run out. With an owner, that owner's own
// in-flight claim may be taken too (claim first, then complete). Records
// written before the Nanos attributes existed are judged by their epoch
// seconds.
func keyFree(now time.Time, owner string) condition {
	expired := "#expires <= :now OR (attribute_not_exists(#expires) AND #ttl <= :nowSeconds)"
	leaseOver := "#lease <= :now OR (attribute_not_exists(#lease) AND #leaseSeconds <= :nowSeconds)"
	c := condition{
		names: map[string]string{"#pk": AttrPK, "#expires": attrExpiresNanos, "#ttl": AttrTTL, "#state": attrState,
			"#lease": attrLeaseNanos, "#leaseSeconds": attrLeaseSeconds},
		values: map[string]types.AttributeValue{":now": num(nanos(now)), ":nowSeconds": num(now.Unix()),
			":inflight": str(string(idempotency.StateInFlight))},
	}
	if owner != "" {
		leaseOver += " OR #owner = :owner"
		c.names["#owner"] = attrOwner
		c.values[":owner"] = str(owner)
	}
	c.expr = "attribute_not_exists(#pk) OR " + expired + " OR (#state = :inflight AND (" + leaseOver + "))"
	return c
}

// ClaimKey claims an idempotency key for work that spans several calls: it
// stores rec as an IN_FLIGHT claim (whatever rec.State says; rec.Body is not
// kept) unless the key has a record that is completed, or in flight with a
// lease still running at now. Then it writes nothing and returns that record
// with idempotency.ErrClaimed. A record past its ExpiresAt counts as gone.
// If a concurrent transaction on the key outlasts a few retries it returns
// idempotency.ErrBusy.
func (s *Store) ClaimKey(ctx context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error) {
	rec.State, rec.Body = idempotency.StateInFlight, nil
	kit, err := newKeyItem(rec)
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", err)
	}
	item, err := marshal(kit)
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", err)
	}
	free := keyFree(now, "")
	in := &dynamodb.PutItemInput{
		TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String(free.expr), ExpressionAttributeNames: free.names, ExpressionAttributeValues: free.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	err = retryConflicts(ctx, func() error {
		_, err := s.db.PutItem(ctx, in)
		return err
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		return rec, nil
	case errors.As(err, &failed):
		holder, ok, err := decodeRecord(failed.Item)
		if err != nil {
			return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", err)
		}
		if !ok {
			return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", idempotency.ErrBusy)
		}
		return holder, idempotency.ErrClaimed
	case isConflict(err):
		return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", idempotency.ErrBusy)
	}
	return idempotency.Record{}, fmt.Errorf("dynamostore: claim idempotency key: %w", err)
}

// ReleaseKey deletes an in-flight claim held by owner, when the work failed
// before anything was committed. A key that is not claimed by owner (any
// more) is left alone, without error.
func (s *Store) ReleaseKey(ctx context.Context, scope, key, owner string) error {
	in := &dynamodb.DeleteItemInput{
		TableName:                aws.String(s.table),
		Key:                      itemKey(idempotencyPK(scope, key), idempotencySK),
		ConditionExpression:      aws.String("#state = :inflight AND #owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#state": attrState, "#owner": attrOwner},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":inflight": str(string(idempotency.StateInFlight)), ":owner": str(owner),
		},
	}
	err := retryConflicts(ctx, func() error {
		_, err := s.db.DeleteItem(ctx, in)
		return err
	})
	var failed *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &failed) {
		return fmt.Errorf("dynamostore: release idempotency key: %w", err)
	}
	return nil
}

// Positions of the items in CreateOrder's and SaveTransition's transactions,
// which is how a cancellation reason names the item that failed. A status
// change adds, last, its update of the status counters (counters.go),
// which has no condition.
const (
	createKey = iota
	createOrder
	// createRef is a partner order's claim of its reference (references.go),
	// absent from an order that claims none.
	createRef
)

// createItems builds CreateOrder's transaction, in the positions above.
func createItems(table string, o *order.Order, first order.Event, done idempotency.Record, free condition) ([]types.TransactWriteItem, error) {
	kit, err := newKeyItem(done)
	if err != nil {
		return nil, err
	}
	ki, err := marshal(kit)
	if err != nil {
		return nil, err
	}
	it := newOrderItem(o, &first)
	it.Intake = sameEvent(first, firstEvent(o))
	oi, err := marshalOrderItem(it)
	if err != nil {
		return nil, err
	}
	absent := aws.String("attribute_not_exists(PK)")
	items := []types.TransactWriteItem{
		createKey: {Put: &types.Put{TableName: aws.String(table), Item: ki,
			ConditionExpression: aws.String(free.expr), ExpressionAttributeNames: free.names, ExpressionAttributeValues: free.values,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}},
		createOrder: {Put: &types.Put{TableName: aws.String(table), Item: oi, ConditionExpression: absent}},
	}
	ref, err := partnerRefPut(table, o, done)
	if err != nil {
		return nil, err
	}
	if ref != nil {
		items = append(items, types.TransactWriteItem{Put: ref})
	}
	return items, nil
}

// CreateOrder writes the order, its first history event and the completed
// idempotency record done (State set to COMPLETED) in one transaction, on
// condition that done's key is free at now and that the order is new; a
// partner's order with a partnerOrderRef also claims that reference for
// the partner, for good, on condition that it is not claimed (one more
// item in the transaction). Nothing is written if a condition fails:
//
//   - the key is taken (completed, in flight under a running lease, not
//     expired) → that record and idempotency.ErrClaimed. The caller decides
//     with idempotency.Decide: replay, 422 or 409. When done.Owner is set,
//     the key may be that owner's own in-flight claim, whatever its lease
//     (claim first, then complete); if someone else took the claim over, it
//     is their record that comes back with ErrClaimed — the claim was lost.
//   - the order id (or its first event) exists → order.ErrExists.
//   - the partner's reference is claimed → the record of the delivery that
//     claimed it (its key, body hash and answer; ResourceID the order it
//     made; no scope, no expiry) and order.ErrReferenceTaken. The caller decides with
//     idempotency.Decide: the same body is that answer again, another a
//     conflict. The key is checked first: a retry of the delivery that
//     made the order is ErrClaimed, as any retry.
//   - a concurrent transaction on the same items outlasts a few retries →
//     idempotency.ErrBusy: nothing was written and retrying the request
//     soon is safe (HTTP 409 with Retry-After). A retry that got through
//     would have returned the winner's record with ErrClaimed instead.
func (s *Store) CreateOrder(ctx context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error) {
	if err := checkEvent(o, first); err != nil {
		return idempotency.Record{}, fmt.Errorf("dynamostore: create order: %w", err)
	}
	done.State = idempotency.StateCompleted
	items, err := createItems(s.table, o, first, done, keyFree(now, done.Owner))
	if err != nil {
		return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", o.ID, err)
	}
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	err = retryConflicts(ctx, func() error {
		_, err := s.db.TransactWriteItems(ctx, in)
		return err
	})
	if err != nil {
		return createOrderError(o.ID, err)
	}
	s.images.keep(o.ID, o.Version, items[createOrder].Put.Item)
	// Counted after the order is in, as a change is (transition.go): the
	// transaction holds only what must be all or nothing.
	s.count(ctx, o.ID, o.Version, "", o.Status)
	return done, nil
}

// createOrderError maps CreateOrder's failure to the contract's errors.
func createOrderError(id string, err error) (idempotency.Record, error) {
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		// The key is checked first: a retry of a request that did create the
		// order gets its record back (a replay), not ErrExists.
		switch failedCondition(cancelled) {
		case createKey:
			holder, ok, derr := decodeRecord(cancelled.CancellationReasons[createKey].Item)
			if derr != nil {
				return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, derr)
			}
			if !ok {
				// The record vanished between the check and the read (TTL):
				// the key is contended, not taken.
				return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, idempotency.ErrBusy)
			}
			return holder, fmt.Errorf("dynamostore: create order %s: %w", id, idempotency.ErrClaimed)
		case createOrder:
			return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, order.ErrExists)
		case createRef:
			holder, ok, derr := decodePartnerRef(cancelled.CancellationReasons[createRef].Item)
			if derr != nil {
				return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, derr)
			}
			if !ok {
				return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, idempotency.ErrBusy)
			}
			return holder, fmt.Errorf("dynamostore: create order %s: partner order reference: %w", id, order.ErrReferenceTaken)
		}
	}
	if isConflict(err) {
		return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, idempotency.ErrBusy)
	}
	return idempotency.Record{}, fmt.Errorf("dynamostore: create order %s: %w", id, err)
}

// checkEvent refuses a history event that does not belong to o as it is
// being written: it would land in another order's history.
func checkEvent(o *order.Order, ev order.Event) error {
	switch {
	case o == nil || o.ID == "":
		return errors.New("order without an id")
	case ev.OrderID != o.ID || ev.Version != o.Version:
		return fmt.Errorf("order %s at version %d given the history event of %q at version %d", o.ID, o.Version, ev.OrderID, ev.Version)
	}
	return nil
}

// failedCondition returns the position of the first item whose condition
// failed in a cancelled transaction, or -1.
func failedCondition(cancelled *types.TransactionCanceledException) int {
	for i, r := range cancelled.CancellationReasons {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return i
		}
	}
	return -1
}

// failedItem returns the position of the item whose condition failed in a
// cancelled transaction, or -1 for any other error (used by Stock too).
func failedItem(err error) int {
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		return -1
	}
	return failedCondition(cancelled)
}

// cancelledFor reports whether err is a cancelled transaction with a
// cancellation reason of code (used by Stock).
func cancelledFor(err error, code string) bool {
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		return false
	}
	for _, r := range cancelled.CancellationReasons {
		if aws.ToString(r.Code) == code {
			return true
		}
	}
	return false
}

// isConflict reports a write refused only because a concurrent transaction
// was working on the same item; sending the same conditional write again is
// safe. A failed condition is a verdict, not a conflict.
func isConflict(err error) bool {
	var conflict *types.TransactionConflictException
	if errors.As(err, &conflict) {
		return true
	}
	var cancelled *types.TransactionCanceledException
	if !errors.As(err, &cancelled) {
		return false
	}
	conflicted := false
	for _, r := range cancelled.CancellationReasons {
		switch aws.ToString(r.Code) {
		case "ConditionalCheckFailed":
			return false
		case "TransactionConflict":
			conflicted = true
		}
	}
	return conflicted
}

// conflictAttempts bounds how often a conditional write that collided with a
// concurrent transaction is sent (the SDK does not retry those).
const conflictAttempts = 4

// retryConflicts runs write until it gets through, fails for another
// reason, or conflicts conflictAttempts times, backing off with jitter
// (up to 10, 20, 40 ms) in between.
func retryConflicts(ctx context.Context, write func() error) error {
	for attempt := 1; ; attempt++ {
		err := write()
		if err == nil || attempt == conflictAttempts || !isConflict(err) {
			return err
		}
		t := time.NewTimer(time.Duration(rand.Int64N(int64(10*time.Millisecond) << (attempt - 1))))
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// GetOrder reads one order, strongly consistent; order.ErrNotFound if there
// is none.
func (s *Store) GetOrder(ctx context.Context, id string) (*order.Order, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(orderPK(id), orderSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: get order %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("dynamostore: get order %s: %w", id, order.ErrNotFound)
	}
	it, err := unmarshalOrderItem(out.Item)
	if err != nil {
		return nil, fmt.Errorf("dynamostore: decode order %s: %w", id, err)
	}
	s.images.keep(id, it.Version, out.Item)
	return &it.Order, nil
}

// History returns an order's events, oldest first, strongly consistent; an
// unknown order has none. The latest event is in the order item
// (transition.go), the earlier ones and the notes in items of their own,
// the receipts' notes in the receipts (RecordReceipt). The order is read
// first: a change after that read has put the event the order carried into
// its item before moving the order on, so the events read after it hold it
// (once more, which counts once).
func (s *Store) History(ctx context.Context, id string) ([]order.Event, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(id), orderSK),
		ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: history of %s: %w", id, err)
	}
	byKey := map[string]order.Event{}
	var first *order.Event
	if len(out.Item) > 0 {
		it, err := unmarshalOrderItem(out.Item)
		if err != nil {
			return nil, fmt.Errorf("dynamostore: history of %s: %w", id, err)
		}
		if last := it.LastEvent; last != nil {
			byKey[eventSK(last.Version)] = *last
			// The intake's event, when the order moved past it without an
			// item of it (stored.pendingEvent).
			if it.Intake {
				ev := firstEvent(&it.Order)
				first = &ev
			}
		}
	}
	err = s.query(ctx, id, "EVENT#", func(item map[string]types.AttributeValue) error {
		var it eventItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		byKey[it.SK] = it.Event
		return nil
	})
	if err == nil {
		err = s.query(ctx, id, receiptPrefix, func(item map[string]types.AttributeValue) error {
			var it receiptItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			if it.Note != nil {
				byKey[noteSK(*it.Note, it.SK)] = *it.Note
			}
			return nil
		})
	}
	if err != nil {
		return nil, fmt.Errorf("dynamostore: history of %s: %w", id, err)
	}
	if _, ok := byKey[eventSK(1)]; !ok && first != nil {
		byKey[eventSK(1)] = *first
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	events := make([]order.Event, len(keys))
	for i, k := range keys {
		events[i] = byKey[k]
	}
	return events, nil
}

// transact writes items in one transaction, retrying a few times a
// transaction refused for a concurrent one.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) error {
	in := &dynamodb.TransactWriteItemsInput{TransactItems: items}
	return retryConflicts(ctx, func() error {
		_, err := s.db.TransactWriteItems(ctx, in)
		return err
	})
}

// saveTransitionError maps SaveTransition's failure to the contract's errors.
func saveTransitionError(id string, version int64, err error) error {
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) {
		if failedCondition(cancelled) == settleOrder {
			if len(cancelled.CancellationReasons[settleOrder].Item) == 0 {
				return fmt.Errorf("dynamostore: save order %s: %w", id, order.ErrNotFound)
			}
			return fmt.Errorf("dynamostore: save order %s at version %d: %w", id, version, order.ErrVersionConflict)
		}
	}
	if isConflict(err) {
		return fmt.Errorf("dynamostore: save order %s at version %d: concurrent writes: %w", id, version, order.ErrVersionConflict)
	}
	return fmt.Errorf("dynamostore: save order %s: %w", id, err)
}
