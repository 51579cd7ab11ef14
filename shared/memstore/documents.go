package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/xborder/xborder/shared/order"
)

// documents are what the store keeps beside an order, as the DynamoDB
// store keeps them in items of their own: the customs documents and the
// callbacks to the partner.
type documents struct {
	declaration json.RawMessage
	messages    map[string]order.CustomsMessage // by type
	receipts    map[string]order.CustomsReceipt // by order.CustomsReceipt.Key
	delivered   int64
	attempts    map[string]order.CallbackAttempt // by version and time
}

// docsOf returns the documents of order id, creating them; the lock is held.
func (s *Store) docsOf(id string) *documents {
	d, ok := s.docs[id]
	if !ok {
		d = &documents{messages: map[string]order.CustomsMessage{}, receipts: map[string]order.CustomsReceipt{},
			attempts: map[string]order.CallbackAttempt{}}
		s.docs[id] = d
	}
	return d
}

// PutCustomsDocuments stores the declaration and the messages of order id,
// each once: one stored already is kept and comes back as stored.
func (s *Store) PutCustomsDocuments(_ context.Context, id string, in order.CustomsDocuments) (order.CustomsDocuments, error) {
	var stored order.CustomsDocuments
	if len(in.Receipts) > 0 {
		return stored, fmt.Errorf("memstore: customs documents of %s: receipts are recorded one by one (RecordReceipt)", id)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docsOf(id)
	if in.Declaration != nil {
		if d.declaration == nil {
			d.declaration = cloneBytes(in.Declaration)
		}
		stored.Declaration = cloneBytes(d.declaration)
	}
	for _, m := range in.Messages {
		if _, ok := d.messages[m.Type]; !ok {
			d.messages[m.Type] = m
		}
		stored.Messages = append(stored.Messages, d.messages[m.Type])
	}
	return stored, nil
}

// CustomsDocuments reads the customs documents of order id: the
// declaration, the messages by type, the receipts in the order they arrived.
func (s *Store) CustomsDocuments(_ context.Context, id string) (order.CustomsDocuments, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out order.CustomsDocuments
	d, ok := s.docs[id]
	if !ok {
		return out, nil
	}
	out.Declaration = cloneBytes(d.declaration)
	for _, m := range d.messages {
		out.Messages = append(out.Messages, m)
	}
	sort.Slice(out.Messages, func(i, j int) bool { return out.Messages[i].Type < out.Messages[j].Type })
	out.Receipts = d.receiptList()
	return out, nil
}

func (d *documents) receiptList() []order.CustomsReceipt {
	var rs []order.CustomsReceipt
	for _, r := range d.receipts {
		rs = append(rs, r)
	}
	order.SortReceipts(rs)
	return rs
}

// CustomsDeclaration reads the declaration of order id; order.ErrNotFound.
func (s *Store) CustomsDeclaration(_ context.Context, id string) (json.RawMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.docs[id]; ok && d.declaration != nil {
		return cloneBytes(d.declaration), nil
	}
	return nil, fmt.Errorf("memstore: declaration of %s: %w", id, order.ErrNotFound)
}

// CustomsMessage reads one message of order id; order.ErrNotFound.
func (s *Store) CustomsMessage(_ context.Context, id, msgType string) (order.CustomsMessage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.docs[id]; ok {
		if m, ok := d.messages[msgType]; ok {
			return m, nil
		}
	}
	return order.CustomsMessage{}, fmt.Errorf("memstore: %s message of %s: %w", msgType, id, order.ErrNotFound)
}

// CustomsReceipts reads the receipts of order id, in the order they arrived.
func (s *Store) CustomsReceipts(_ context.Context, id string) ([]order.CustomsReceipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d, ok := s.docs[id]; ok {
		return d.receiptList(), nil
	}
	return nil, nil
}

// RecordReceipt stores receipt r of order id with its history note, once:
// false for a receipt stored already. The order is not written.
func (s *Store) RecordReceipt(_ context.Context, id string, r order.CustomsReceipt, note order.Event) (bool, error) {
	if note.OrderID != id {
		return false, fmt.Errorf("memstore: receipt of %s given the note of %q", id, note.OrderID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docsOf(id)
	if _, ok := d.receipts[r.Key()]; ok {
		return false, nil
	}
	d.receipts[r.Key()] = r
	s.appendEntry(id, noteKey(note, "RECEIPT#"+r.Key()), note)
	return true, nil
}

// SettleReceipt stores receipt r and, with it, o at its new version with
// ev, all or nothing: false for a receipt stored already,
// order.ErrVersionConflict or order.ErrNotFound as SaveTransition.
func (s *Store) SettleReceipt(_ context.Context, o *order.Order, r order.CustomsReceipt, ev order.Event) (bool, error) {
	if err := checkEvent(o, ev); err != nil {
		return false, fmt.Errorf("memstore: settle receipt: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docsOf(o.ID)
	if _, ok := d.receipts[r.Key()]; ok {
		return false, nil
	}
	if err := s.save(o, ev); err != nil {
		return false, err
	}
	d.receipts[r.Key()] = r
	return true, nil
}

// RecordCallback stores attempt a with its history note; a delivered one
// moves the delivered version up to a.Version, and writes nothing (false)
// when it is there already. The order is not written.
func (s *Store) RecordCallback(_ context.Context, id string, a order.CallbackAttempt, note order.Event) (bool, error) {
	if note.OrderID != id {
		return false, fmt.Errorf("memstore: callback of %s given the note of %q", id, note.OrderID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.docsOf(id)
	k := attemptKey(a)
	if _, ok := d.attempts[k]; ok || (a.Delivered && a.Version <= d.delivered) {
		return false, nil
	}
	d.attempts[k] = a
	if a.Delivered {
		d.delivered = a.Version
	}
	s.appendEntry(id, noteKey(note, k), note)
	return true, nil
}

func attemptKey(a order.CallbackAttempt) string {
	return fmt.Sprintf("CALLBACK#%010d#%s", a.Version, a.At.UTC().Format(sortable))
}

// Callbacks reads what the partner was told of order id: the delivered
// version and every attempt, oldest first.
func (s *Store) Callbacks(_ context.Context, id string) (order.CallbackRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec order.CallbackRecord
	d, ok := s.docs[id]
	if !ok {
		return rec, nil
	}
	rec.DeliveredVersion = d.delivered
	for _, a := range d.attempts {
		rec.Attempts = append(rec.Attempts, a)
	}
	sort.Slice(rec.Attempts, func(i, j int) bool { return attemptKey(rec.Attempts[i]) < attemptKey(rec.Attempts[j]) })
	sort.SliceStable(rec.Attempts, func(i, j int) bool { return rec.Attempts[i].At.Before(rec.Attempts[j].At) })
	return rec, nil
}
