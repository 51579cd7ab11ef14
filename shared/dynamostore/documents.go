package dynamostore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/order"
)

// What grows with an order's life is kept beside it, each an item of its
// own under the order's partition, written once and never by a status
// change: the order item stays small, and a change of it writes little.
const (
	declarationSK  = "DOC#CUSTOMS#DECLARATION"
	messagePrefix  = "DOC#CEB#"
	documentPrefix = "DOC#"
	receiptPrefix  = "RECEIPT#"
	callbacksSK    = "CALLBACKS"
	attemptPrefix  = "CALLBACK#"
	// attrDelivered is the callbacks item's attribute its updates condition on.
	attrDelivered = "deliveredVersion"
)

func messageSK(typ string) string { return messagePrefix + typ }

func receiptSK(r order.CustomsReceipt) string { return receiptPrefix + r.Key() }

func attemptSK(a order.CallbackAttempt) string {
	return fmt.Sprintf("%s%010d#%s", attemptPrefix, a.Version, a.At.UTC().Format(sortable))
}

// noteSK is the key of a history note that changed nothing on the order:
// after the event of the version it follows, in the order of its time;
// what (the receipt's or the attempt's key) tells notes of one instant apart.
func noteSK(ev order.Event, what string) string {
	return eventSK(ev.Version) + "#" + ev.At.UTC().Format(sortable) + "#" + what
}

// declarationItem is the declaration the customs step filed, JSON
// deflated (declarationDeflated): a declaration of a few KB of text is a
// fifth of that deflated, and written in as many write units. Items written
// before hold the JSON text (declaration).
type declarationItem struct {
	PK          string `dynamodbav:"PK"`
	SK          string `dynamodbav:"SK"`
	Type        string `dynamodbav:"type"`
	OrderID     string `dynamodbav:"orderId"`
	Declaration string `dynamodbav:"declaration,omitempty"`
	Deflated    []byte `dynamodbav:"declarationDeflated,omitempty"`
}

// messageItem is one rendered CEB message, its XML deflated (xmlDeflated;
// xml, the text, in items written before).
type messageItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	OrderID     string    `dynamodbav:"orderId"`
	MessageType string    `dynamodbav:"messageType"`
	XML         string    `dynamodbav:"xml,omitempty"`
	Deflated    []byte    `dynamodbav:"xmlDeflated,omitempty"`
	At          time.Time `dynamodbav:"at"`
}

func newDeclarationItem(id string, declaration json.RawMessage) (declarationItem, error) {
	z, err := deflate(declaration)
	return declarationItem{PK: orderPK(id), SK: declarationSK, Type: "declaration", OrderID: id, Deflated: z}, err
}

// declaration is the item's JSON, "" for none.
func (it declarationItem) declaration() (json.RawMessage, error) {
	if it.Deflated == nil {
		return json.RawMessage(it.Declaration), nil
	}
	b, err := inflate(it.Deflated)
	return json.RawMessage(b), err
}

func newMessageItem(id string, m order.CustomsMessage) (messageItem, error) {
	z, err := deflate([]byte(m.XML))
	return messageItem{PK: orderPK(id), SK: messageSK(m.Type), Type: "message", OrderID: id, MessageType: m.Type,
		Deflated: z, At: m.At}, err
}

func (it messageItem) message() (order.CustomsMessage, error) {
	m := order.CustomsMessage{Type: it.MessageType, XML: it.XML, At: it.At}
	if it.Deflated != nil {
		b, err := inflate(it.Deflated)
		if err != nil {
			return m, fmt.Errorf("%s message: %w", it.MessageType, err)
		}
		m.XML = string(b)
	}
	return m, nil
}

// receiptItem is one of customs' receipts.
type receiptItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	OrderID     string    `dynamodbav:"orderId"`
	ReceiptType string    `dynamodbav:"receiptType"`
	Answers     string    `dynamodbav:"answers"`
	GUID        string    `dynamodbav:"guid"`
	Status      int       `dynamodbav:"returnStatus"`
	Meaning     string    `dynamodbav:"meaning"`
	Outcome     string    `dynamodbav:"outcome"`
	Info        string    `dynamodbav:"info,omitempty"`
	InvtNo      string    `dynamodbav:"invtNo,omitempty"`
	PreNo       string    `dynamodbav:"preNo,omitempty"`
	At          time.Time `dynamodbav:"at"`
	ReceivedAt  time.Time `dynamodbav:"receivedAt"`
	// Note is the receipt's history note (RecordReceipt), kept in the
	// receipt rather than in an item of its own; History reads it.
	Note *order.Event `dynamodbav:"note,omitempty"`
}

func newReceiptItem(id string, r order.CustomsReceipt) receiptItem {
	return receiptItem{PK: orderPK(id), SK: receiptSK(r), Type: "receipt", OrderID: id, ReceiptType: r.Type, Answers: r.Answers,
		GUID: r.GUID, Status: r.Status, Meaning: r.Meaning, Outcome: r.Outcome, Info: r.Info, InvtNo: r.InvtNo, PreNo: r.PreNo,
		At: r.At, ReceivedAt: r.ReceivedAt}
}

func (it receiptItem) receipt() order.CustomsReceipt {
	return order.CustomsReceipt{Type: it.ReceiptType, Answers: it.Answers, GUID: it.GUID, Status: it.Status, Meaning: it.Meaning,
		Outcome: it.Outcome, Info: it.Info, InvtNo: it.InvtNo, PreNo: it.PreNo, At: it.At, ReceivedAt: it.ReceivedAt}
}

// attemptItem is one callback to the partner.
type attemptItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	OrderID string `dynamodbav:"orderId"`
	order.CallbackAttempt
}

// callbacksItem is how far the partner was told of the order.
type callbacksItem struct {
	DeliveredVersion int64 `dynamodbav:"deliveredVersion"`
}

func newNoteItem(ev order.Event, what string) eventItem {
	return eventItem{PK: orderPK(ev.OrderID), SK: noteSK(ev, what), Type: "event", Event: ev}
}

// absent is the condition of an item written once.
var absent = aws.String("attribute_not_exists(PK)")

// PutCustomsDocuments stores the declaration and the messages of order id
// (d.Receipts must be empty: RecordReceipt records those), each an item of
// its own written once: a document stored already is kept as it is — the
// customs step filing again files the same — and comes back as stored. It
// returns the documents as they are stored. The order item is not written.
func (s *Store) PutCustomsDocuments(ctx context.Context, id string, d order.CustomsDocuments) (order.CustomsDocuments, error) {
	var stored order.CustomsDocuments
	if len(d.Receipts) > 0 {
		return stored, fmt.Errorf("dynamostore: customs documents of %s: receipts are recorded one by one (RecordReceipt)", id)
	}
	if d.Declaration != nil {
		var old declarationItem
		item, err := newDeclarationItem(id, d.Declaration)
		if err == nil {
			err = s.putOnce(ctx, item, &old)
		}
		if err == nil && old.SK != "" {
			stored.Declaration, err = old.declaration()
		}
		if err != nil {
			return stored, fmt.Errorf("dynamostore: declaration of %s: %w", id, err)
		}
		if old.SK == "" {
			stored.Declaration = d.Declaration
		}
	}
	for _, m := range d.Messages {
		var old messageItem
		item, err := newMessageItem(id, m)
		if err == nil {
			err = s.putOnce(ctx, item, &old)
		}
		if err == nil && old.SK != "" {
			m, err = old.message()
		}
		if err != nil {
			return stored, fmt.Errorf("dynamostore: %s message of %s: %w", m.Type, id, err)
		}
		stored.Messages = append(stored.Messages, m)
	}
	return stored, nil
}

// putOnce writes item unless its key is taken; then it decodes the item
// that holds the key into old and writes nothing.
func (s *Store) putOnce(ctx context.Context, item, old any) error {
	av, err := marshal(item)
	if err != nil {
		return err
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: av, ConditionExpression: absent,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return attributevalue.UnmarshalMap(failed.Item, old)
	}
	return err
}

// CustomsDocuments reads the customs documents of order id: the
// declaration, the messages by type and the receipts in the order they
// arrived (two queries of the order's partition). An order without any, or
// no order, has none.
func (s *Store) CustomsDocuments(ctx context.Context, id string) (order.CustomsDocuments, error) {
	var d order.CustomsDocuments
	err := s.query(ctx, id, documentPrefix, func(item map[string]types.AttributeValue) error {
		switch sk := stringOf(item[AttrSK]); {
		case sk == declarationSK:
			var it declarationItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			decl, err := it.declaration()
			if err != nil {
				return err
			}
			d.Declaration = decl
		case len(sk) > len(messagePrefix) && sk[:len(messagePrefix)] == messagePrefix:
			var it messageItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			m, err := it.message()
			if err != nil {
				return err
			}
			d.Messages = append(d.Messages, m)
		}
		return nil
	})
	if err != nil {
		return d, fmt.Errorf("dynamostore: customs documents of %s: %w", id, err)
	}
	if d.Receipts, err = s.CustomsReceipts(ctx, id); err != nil {
		return d, err
	}
	return d, nil
}

// CustomsDeclaration reads the declaration the customs step filed for
// order id; order.ErrNotFound when there is none.
func (s *Store) CustomsDeclaration(ctx context.Context, id string) (json.RawMessage, error) {
	var it declarationItem
	if err := s.get(ctx, orderPK(id), declarationSK, &it); err != nil {
		return nil, fmt.Errorf("dynamostore: declaration of %s: %w", id, err)
	}
	decl, err := it.declaration()
	if err != nil {
		return nil, fmt.Errorf("dynamostore: declaration of %s: %w", id, err)
	}
	return decl, nil
}

// CustomsMessage reads one rendered message of order id;
// order.ErrNotFound when the order has no message of that type.
func (s *Store) CustomsMessage(ctx context.Context, id, msgType string) (order.CustomsMessage, error) {
	key := orderPK(id) + "#" + messageSK(msgType)
	if m, ok := s.settled.get(key); ok {
		return m.(order.CustomsMessage), nil
	}
	var it messageItem
	if err := s.get(ctx, orderPK(id), messageSK(msgType), &it); err != nil {
		return order.CustomsMessage{}, fmt.Errorf("dynamostore: %s message of %s: %w", msgType, id, err)
	}
	m, err := it.message()
	if err != nil {
		return order.CustomsMessage{}, fmt.Errorf("dynamostore: %s message of %s: %w", msgType, id, err)
	}
	s.settled.put(key, m)
	return m, nil
}

// CustomsReceipts reads the receipts of order id, in the order they
// arrived (a query of the order's partition, SK begins_with RECEIPT#).
func (s *Store) CustomsReceipts(ctx context.Context, id string) ([]order.CustomsReceipt, error) {
	var rs []order.CustomsReceipt
	err := s.query(ctx, id, receiptPrefix, func(item map[string]types.AttributeValue) error {
		var it receiptItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		rs = append(rs, it.receipt())
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: receipts of %s: %w", id, err)
	}
	order.SortReceipts(rs)
	return rs, nil
}

// RecordReceipt stores receipt r of order id, an item of its own that
// carries its history note (an annotation: note.Version is the version it
// follows), once: a receipt stored already — the same type, guid, status
// and time — writes nothing and reports false. The order item is not
// written. Contention with a concurrent transaction that outlasts a few
// retries is order.ErrVersionConflict: try again.
func (s *Store) RecordReceipt(ctx context.Context, id string, r order.CustomsReceipt, note order.Event) (bool, error) {
	if note.OrderID != id {
		return false, fmt.Errorf("dynamostore: receipt of %s given the note of %q", id, note.OrderID)
	}
	it := newReceiptItem(id, r)
	it.Note = &note
	ri, err := marshal(it)
	if err != nil {
		return false, fmt.Errorf("dynamostore: receipt of %s: %w", id, err)
	}
	err = retryConflicts(ctx, func() error {
		_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: ri, ConditionExpression: absent})
		return err
	})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return false, nil // recorded before
	case isConflict(err):
		return false, fmt.Errorf("dynamostore: receipt %s of %s: concurrent writes: %w", r.Type, id, order.ErrVersionConflict)
	case err != nil:
		return false, fmt.Errorf("dynamostore: receipt %s of %s: %w", r.Type, id, err)
	}
	return true, nil
}

// SettleReceipt stores receipt r as RecordReceipt does and, in the same
// transaction, saves o — moved on by one version, ev its event, which is
// the receipt's history note — as SaveTransition does: the receipt that
// settles the order's wait for China's customs, and the order noting it.
// A receipt stored already writes nothing and reports false; an order
// changed meanwhile is order.ErrVersionConflict, and a missing one
// order.ErrNotFound.
func (s *Store) SettleReceipt(ctx context.Context, o *order.Order, r order.CustomsReceipt, ev order.Event) (bool, error) {
	if err := checkEvent(o, ev); err != nil {
		return false, fmt.Errorf("dynamostore: settle receipt: %w", err)
	}
	ri, err := marshal(newReceiptItem(o.ID, r))
	if err != nil {
		return false, fmt.Errorf("dynamostore: settle receipt of %s: %w", o.ID, err)
	}
	items, oi, err := s.settleItems(ctx, o, ev, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.table), Item: ri, ConditionExpression: absent}})
	if err != nil {
		return false, fmt.Errorf("dynamostore: settle receipt of %s at version %d: %w", o.ID, o.Version, err)
	}
	receipt := settleReceipt
	err = s.transact(ctx, items)
	var cancelled *types.TransactionCanceledException
	switch {
	case err == nil:
		s.images.keep(o.ID, o.Version, oi)
		return true, nil
	case errors.As(err, &cancelled) && len(cancelled.CancellationReasons) > receipt &&
		aws.ToString(cancelled.CancellationReasons[receipt].Code) == "ConditionalCheckFailed":
		return false, nil // recorded before
	}
	return false, saveTransitionError(o.ID, o.Version, err)
}

// RecordCallback stores attempt a of a callback of order id, an item of
// its own, with its history note (an annotation) in one transaction. A
// delivered attempt also moves the delivered version up to a.Version — and
// when the partner was told of that version already (another sender got
// there first) nothing is written and it reports false. The order item is
// not written. Contention with concurrent transactions that outlasts a few
// retries is order.ErrVersionConflict: try again.
func (s *Store) RecordCallback(ctx context.Context, id string, a order.CallbackAttempt, note order.Event) (bool, error) {
	if note.OrderID != id {
		return false, fmt.Errorf("dynamostore: callback of %s given the note of %q", id, note.OrderID)
	}
	ai, err := marshal(attemptItem{PK: orderPK(id), SK: attemptSK(a), Type: "callback", OrderID: id, CallbackAttempt: a})
	if err != nil {
		return false, fmt.Errorf("dynamostore: callback of %s: %w", id, err)
	}
	ni, err := marshal(newNoteItem(note, attemptSK(a)))
	if err != nil {
		return false, fmt.Errorf("dynamostore: callback of %s: %w", id, err)
	}
	items := []types.TransactWriteItem{
		{Put: &types.Put{TableName: aws.String(s.table), Item: ai, ConditionExpression: absent}},
		{Put: &types.Put{TableName: aws.String(s.table), Item: ni, ConditionExpression: absent}},
	}
	if a.Delivered {
		items = append(items, types.TransactWriteItem{Update: &types.Update{TableName: aws.String(s.table),
			Key:                       itemKey(orderPK(id), callbacksSK),
			UpdateExpression:          aws.String("SET #delivered = :version, #type = :type, orderId = :id"),
			ConditionExpression:       aws.String("attribute_not_exists(#delivered) OR #delivered < :version"),
			ExpressionAttributeNames:  map[string]string{"#delivered": attrDelivered, "#type": "type"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":version": num(a.Version), ":type": str("callbacks"), ":id": str(id)},
		}})
	}
	err = s.transact(ctx, items)
	switch {
	case failedItem(err) >= 0:
		return false, nil // told already, or this very attempt recorded before
	case isConflict(err):
		return false, fmt.Errorf("dynamostore: callback of %s v%d: concurrent writes: %w", id, a.Version, order.ErrVersionConflict)
	case err != nil:
		return false, fmt.Errorf("dynamostore: callback of %s v%d: %w", id, a.Version, err)
	}
	return true, nil
}

// Callbacks reads what the partner was told of order id: the delivered
// version and every attempt, oldest first (one query of the order's
// partition).
func (s *Store) Callbacks(ctx context.Context, id string) (order.CallbackRecord, error) {
	var rec order.CallbackRecord
	err := s.query(ctx, id, attemptPrefix[:len(attemptPrefix)-1], func(item map[string]types.AttributeValue) error {
		if stringOf(item[AttrSK]) == callbacksSK {
			var it callbacksItem
			if err := attributevalue.UnmarshalMap(item, &it); err != nil {
				return err
			}
			rec.DeliveredVersion = it.DeliveredVersion
			return nil
		}
		var it attemptItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return err
		}
		rec.Attempts = append(rec.Attempts, it.CallbackAttempt)
		return nil
	})
	if err != nil {
		return rec, fmt.Errorf("dynamostore: callbacks of %s: %w", id, err)
	}
	sort.SliceStable(rec.Attempts, func(i, j int) bool { return rec.Attempts[i].At.Before(rec.Attempts[j].At) })
	return rec, nil
}

// get reads one item, strongly consistent, into v; order.ErrNotFound when
// there is none.
func (s *Store) get(ctx context.Context, pk, sk string, v any) error {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: itemKey(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return err
	}
	if len(out.Item) == 0 {
		return order.ErrNotFound
	}
	return attributevalue.UnmarshalMap(out.Item, v)
}

// query reads the items of order id's partition whose sort key begins with
// prefix, strongly consistent, in sort key order.
func (s *Store) query(ctx context.Context, id, prefix string, each func(item map[string]types.AttributeValue) error) error {
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :prefix)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orderPK(id)), ":prefix": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, item := range page.Items {
			if err := each(item); err != nil {
				return err
			}
		}
	}
	return nil
}
