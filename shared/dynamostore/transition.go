package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/order"
)

// A change of an order without a transaction
//
// DynamoDB bills every item of a transaction twice. A status change used
// to write the order, its history event and a status counter in one
// transaction: six units for three small items, eight once the order
// passed 1 KB. Now the order item carries its latest history event
// (lastEvent, inside doc), and a change is plain writes, in this order:
//
//  1. the previous change's event, copied from the order as stored at the
//     previous version into its own history item (EVENT#<version>), an
//     unconditional put of what is already decided: written again by a
//     retry or by a concurrent writer, it is the same item;
//  2. the order, in one conditional update on its version (and status),
//     with the new change as its lastEvent: the only write that decides;
//  3. the status counter (counters.go), when the status moved.
//
// A writer that dies between 1 and 2 has written an event the order still
// holds; between 2 and 3 a count misses one change (the counts are an
// operator's overview, not a ledger: Recount, `backfill -backfill=false`,
// sets them again from the orders). No event is ever lost: the latest is
// in the order, each earlier one in its own item before the order moves
// past it, and History merges the two.

// firstEvent is the history event of o's intake as o itself tells it: by
// its customer (a shopper) or its partner, when it was created. CreateOrder
// is given the same (order.Accept), and the store then keeps no item of it.
func firstEvent(o *order.Order) order.Event {
	actor := "customer:" + o.CustomerID
	if partnerScoped(o.CustomerID) {
		actor = o.CustomerID
	}
	return order.Event{OrderID: o.ID, Version: 1, At: o.CreatedAt, To: order.StatusReceived, Actor: actor}
}

// sameEvent compares two events, their times as instants.
func sameEvent(a, b order.Event) bool {
	return a.OrderID == b.OrderID && a.Version == b.Version && a.At.Equal(b.At) && a.From == b.From && a.To == b.To &&
		a.Reason == b.Reason && a.Actor == b.Actor
}

// stored is the order item at the version a change starts from: as stored
// (the image the change's update is computed against) and decoded, once.
type stored struct {
	raw  map[string]types.AttributeValue
	item orderItem
}

// pendingEvent is the event the order carries that has no item of its own
// yet — nil for none, and for the order's intake as the order itself tells
// it (firstEvent), which History reads off the order.
func (p stored) pendingEvent() *order.Event {
	pe := p.item.LastEvent
	if pe == nil || pe.Version == 1 && p.item.Intake && sameEvent(*pe, firstEvent(&p.item.Order)) {
		return nil
	}
	return pe
}

// previous returns the order item as stored at version: the image this
// store kept, or a consistent read. A missing order is order.ErrNotFound,
// one at another version order.ErrVersionConflict.
func (s *Store) previous(ctx context.Context, id string, version int64) (stored, error) {
	raw := s.images.image(id, version)
	if raw == nil {
		out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(orderPK(id), orderSK),
			ConsistentRead: aws.Bool(true)})
		if err != nil {
			return stored{}, err
		}
		if len(out.Item) == 0 {
			return stored{}, order.ErrNotFound
		}
		raw = out.Item
	}
	it, err := unmarshalOrderItem(raw)
	if err != nil {
		return stored{}, err
	}
	s.images.keep(id, it.Version, raw)
	if it.Version != version {
		return stored{}, fmt.Errorf("stored at version %d: %w", it.Version, order.ErrVersionConflict)
	}
	return stored{raw, it}, nil
}

// eventPut is the put of a history event into its own item: unconditional,
// as the event of a version is decided once the order has moved to it.
func (s *Store) eventPut(ev order.Event) (*types.Put, error) {
	item, err := marshal(newEventItem(ev))
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: aws.String(s.table), Item: item}, nil
}

// SaveTransition writes o (already moved on, so o.Version is the new
// version) with its history event ev, on condition that the stored order
// is at o.Version-1 (and, for a status change, in ev.From). Of the order
// item it writes only the attributes that changed since that version (see
// the note above for the three writes). A missing order is
// order.ErrNotFound; any other version or status is
// order.ErrVersionConflict, as is contention with a concurrent transaction
// that outlasts a few retries: the remedy is the same — read the order
// again and decide again.
func (s *Store) SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error {
	if err := checkEvent(o, ev); err != nil {
		return fmt.Errorf("dynamostore: save order: %w", err)
	}
	prev, err := s.previous(ctx, o.ID, o.Version-1)
	if err != nil {
		return fmt.Errorf("dynamostore: save order %s at version %d: %w", o.ID, o.Version, err)
	}
	w, oi, err := s.orderChange(o, ev, prev)
	if err != nil {
		return fmt.Errorf("dynamostore: save order %s: %w", o.ID, err)
	}
	if err := s.putPreviousEvent(ctx, prev); err != nil {
		return fmt.Errorf("dynamostore: save order %s: history: %w", o.ID, err)
	}
	u := w.Update
	err = retryConflicts(ctx, func() error {
		_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: u.TableName, Key: u.Key,
			UpdateExpression: u.UpdateExpression, ConditionExpression: u.ConditionExpression,
			ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
		return err
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed) && len(failed.Item) == 0:
		return fmt.Errorf("dynamostore: save order %s: %w", o.ID, order.ErrNotFound)
	case errors.As(err, &failed):
		return fmt.Errorf("dynamostore: save order %s at version %d: %w", o.ID, o.Version, order.ErrVersionConflict)
	case err != nil:
		return saveTransitionError(o.ID, o.Version, err)
	}
	s.images.keep(o.ID, o.Version, oi)
	s.count(ctx, o.ID, o.Version, ev.From, o.Status)
	return nil
}

// count moves the status counters for order id's change to version, from
// status from ("" at intake) to status to. The order has moved already: a
// count that cannot be written now is a count missed, not a change to
// undo (see the note above).
func (s *Store) count(ctx context.Context, id string, version int64, from, to order.Status) {
	if count, ok := statusCountDelta(s.table, id, version, from, to); ok {
		c := count.Update
		_, _ = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: c.TableName, Key: c.Key,
			UpdateExpression: c.UpdateExpression, ExpressionAttributeNames: c.ExpressionAttributeNames,
			ExpressionAttributeValues: c.ExpressionAttributeValues})
	}
}

// putPreviousEvent writes the event the order carries at prev into its
// own item, before the order moves past it.
func (s *Store) putPreviousEvent(ctx context.Context, prev stored) error {
	pe := prev.pendingEvent()
	if pe == nil {
		return nil
	}
	put, err := s.eventPut(*pe)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: put.TableName, Item: put.Item})
	return err
}

// orderChange is the update of the order item from prev to o with its
// latest event ev, conditional on prev's version (and ev.From, for a
// status change), and the item as it will be stored.
func (s *Store) orderChange(o *order.Order, ev order.Event, prev stored) (types.TransactWriteItem, map[string]types.AttributeValue, error) {
	it := newOrderItem(o, &ev)
	it.Intake = prev.item.Intake
	oi, err := marshalOrderItem(it)
	if err != nil {
		return types.TransactWriteItem{}, nil, err
	}
	return holdStatus(orderWrite(s.table, o.Version-1, prev.raw, oi), ev.From), oi, nil
}

// settleItems is SettleReceipt's transaction, in the positions below: the
// order's change, the receipt, the previous event, the status count.
func (s *Store) settleItems(ctx context.Context, o *order.Order, ev order.Event, receipt types.TransactWriteItem) ([]types.TransactWriteItem, map[string]types.AttributeValue, error) {
	prev, err := s.previous(ctx, o.ID, o.Version-1)
	if err != nil {
		return nil, nil, err
	}
	w, oi, err := s.orderChange(o, ev, prev)
	if err != nil {
		return nil, nil, err
	}
	items := []types.TransactWriteItem{settleOrder: w, settleReceipt: receipt}
	if pe := prev.pendingEvent(); pe != nil {
		put, err := s.eventPut(*pe)
		if err != nil {
			return nil, nil, err
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	if count, ok := statusCountDelta(s.table, o.ID, o.Version, ev.From, o.Status); ok {
		items = append(items, count)
	}
	return items, oi, nil
}

// Positions in SettleReceipt's transaction.
const (
	settleOrder = iota
	settleReceipt
)
