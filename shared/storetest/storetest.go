// Package storetest is the contract every order store passes: one suite, run
// against the in-memory store (memstore) and against DynamoDB Local
// (dynamostore). A behaviour the HTTP API or the workflow relies on belongs
// here, so both stores are held to it.
package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/quotes"
)

// Store is the full method set of an order store. Its consumers declare the
// subsets they call.
type Store interface {
	// ClaimKey stores rec as an IN_FLIGHT claim unless the key (scope, key)
	// has a record that is completed, or in flight with a lease running at
	// now; then it returns that record and idempotency.ErrClaimed. A record
	// past its ExpiresAt counts as gone.
	ClaimKey(ctx context.Context, rec idempotency.Record, now time.Time) (idempotency.Record, error)
	// ReleaseKey deletes an IN_FLIGHT claim held by owner; otherwise no-op.
	ReleaseKey(ctx context.Context, scope, key, owner string) error
	// CreateOrder writes o, its first event and done (as COMPLETED) all or
	// nothing, if done's key is free (or is done.Owner's own in-flight
	// claim) and o is new: else the key's record and idempotency.ErrClaimed,
	// or order.ErrExists; idempotency.ErrBusy under persistent contention.
	// An order of a partner (PartnerID) with a PartnerOrderRef also claims
	// that reference for the partner, for good: if another order claimed
	// it, the record of the delivery that did (ResourceID that order; no
	// scope, no expiry) and order.ErrReferenceTaken.
	CreateOrder(ctx context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error)
	// GetOrder reads one order, strongly consistent; order.ErrNotFound.
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	// History returns an order's events, oldest first.
	History(ctx context.Context, id string) ([]order.Event, error)
	// ListByCustomer pages a customer's orders, newest first; limit is
	// brought into 1..100; a foreign or malformed cursor is
	// order.ErrInvalidCursor.
	ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error)
	// ListByStatus pages the orders in a status whose last change falls in
	// [since, until), newest first, showing of each what the ops lists read
	// (Listed) and nothing else.
	ListByStatus(ctx context.Context, status order.Status, since, until time.Time, limit int, cursor string) ([]order.Order, string, error)
	// StatusCounts counts the orders in every status (0 for none).
	StatusCounts(ctx context.Context) (map[order.Status]int, error)
	// CountByStatus counts the orders in a status.
	CountByStatus(ctx context.Context, status order.Status) (int, error)
	// CountByStatusBefore counts the orders in a status whose last change
	// was before t (the ones that have not moved since).
	CountByStatusBefore(ctx context.Context, status order.Status, t time.Time) (int, error)
	// SaveTransition writes o and ev if the stored version is o.Version-1:
	// else order.ErrVersionConflict, or order.ErrNotFound.
	SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error
	// LookupKey reads the record of (scope, key), strongly consistent;
	// found is false when there is none or it is past its ExpiresAt at now.
	LookupKey(ctx context.Context, scope, key string, now time.Time) (rec idempotency.Record, found bool, err error)
	// PutQuote stores a new quote; an id already stored is quotes.ErrExists.
	PutQuote(ctx context.Context, q quotes.Record) error
	// GetQuote reads one quote, strongly consistent; quotes.ErrNotFound.
	GetQuote(ctx context.Context, id string) (*quotes.Record, error)
	// PutReferences records that each reference names order id; one that
	// names another order is kept and reported (order.ErrReferenceTaken).
	PutReferences(ctx context.Context, id string, refs []string) error
	// OrderByReference is the id of the order ref names; order.ErrNotFound.
	OrderByReference(ctx context.Context, ref string) (string, error)
	// SetDue records that the step order id waits in is next due at at,
	// replacing the due time it had.
	SetDue(ctx context.Context, id string, at time.Time) error
	// ClearDue removes order id's due time, if any.
	ClearDue(ctx context.Context, id string) error
	// ClearDueAt removes order id's due time if it is still at.
	ClearDueAt(ctx context.Context, id string, at time.Time) error
	// EachDue calls f with each wait due at or before now, the most overdue
	// first; f may set and clear due times.
	EachDue(ctx context.Context, now time.Time, f func(id string, at time.Time)) error

	// What is kept beside an order, never in it: none of these writes the
	// order (but SettleReceipt, which saves it as SaveTransition does).

	// PutCustomsDocuments stores the declaration and the messages of an
	// order, each once (one stored already is kept), and returns them as
	// stored; receipts are refused (RecordReceipt).
	PutCustomsDocuments(ctx context.Context, id string, d order.CustomsDocuments) (order.CustomsDocuments, error)
	// CustomsDocuments reads the declaration, the messages by type and the
	// receipts in the order they arrived.
	CustomsDocuments(ctx context.Context, id string) (order.CustomsDocuments, error)
	// CustomsDeclaration reads the declaration; order.ErrNotFound.
	CustomsDeclaration(ctx context.Context, id string) (json.RawMessage, error)
	// CustomsMessage reads one message by type; order.ErrNotFound.
	CustomsMessage(ctx context.Context, id, msgType string) (order.CustomsMessage, error)
	// CustomsReceipts reads the receipts in the order they arrived.
	CustomsReceipts(ctx context.Context, id string) ([]order.CustomsReceipt, error)
	// RecordReceipt stores a receipt with its history note (an
	// annotation), once: false for a receipt stored already.
	RecordReceipt(ctx context.Context, id string, r order.CustomsReceipt, note order.Event) (bool, error)
	// SettleReceipt stores a receipt and saves o with ev, its note, as
	// SaveTransition does, all or nothing: false for a receipt stored
	// already; order.ErrVersionConflict, order.ErrNotFound.
	SettleReceipt(ctx context.Context, o *order.Order, r order.CustomsReceipt, ev order.Event) (bool, error)
	// RecordCallback stores a callback attempt with its history note; a
	// delivered one moves the delivered version up to its own, and writes
	// nothing (false) when it is there already.
	RecordCallback(ctx context.Context, id string, a order.CallbackAttempt, note order.Event) (bool, error)
	// Callbacks reads the delivered version and the attempts, oldest first.
	Callbacks(ctx context.Context, id string) (order.CallbackRecord, error)
}

// Run runs the contract suite; newStore returns an empty store for each test.
func Run(t *testing.T, newStore func(t *testing.T) Store) {
	t.Run("keys", func(t *testing.T) { runKeys(t, newStore) })
	t.Run("create", func(t *testing.T) { runCreate(t, newStore) })
	t.Run("read", func(t *testing.T) { runRead(t, newStore) })
	t.Run("transitions", func(t *testing.T) { runTransitions(t, newStore) })
	t.Run("lists", func(t *testing.T) { runLists(t, newStore) })
	t.Run("counts", func(t *testing.T) { runCounts(t, newStore) })
	t.Run("sharded lists", func(t *testing.T) { runShardedLists(t, newStore) })
	t.Run("counters", func(t *testing.T) { runCounters(t, newStore) })
	t.Run("due", func(t *testing.T) { runDue(t, newStore) })
	t.Run("concurrency", func(t *testing.T) { runConcurrency(t, newStore) })
	t.Run("quotes", func(t *testing.T) { runQuotes(t, newStore) })
	t.Run("references", func(t *testing.T) { runReferences(t, newStore) })
	t.Run("partner order references", func(t *testing.T) { runPartnerRefs(t, newStore) })
	t.Run("documents", func(t *testing.T) { runDocuments(t, newStore) })
	t.Run("receipts", func(t *testing.T) { runReceipts(t, newStore) })
	t.Run("callbacks", func(t *testing.T) { runCallbacks(t, newStore) })
}

// base is the suite's clock. It has nanoseconds, which every store keeps.
var base = time.Date(2026, 11, 24, 9, 30, 0, 123456789, time.UTC)

// Order builds a realistic RECEIVED order (version 1), as intake accepts it.
func Order(id, customer string, at time.Time) *order.Order {
	ship := money.New(499, "EUR")
	d := order.Draft{
		Channel: order.ChannelMobile, TradeMode: order.TradeB2C, Fulfilment: order.FulfilDirectMail, Incoterm: order.IncotermDDP,
		Currency: "EUR",
		Buyer: order.Party{Name: "Test Buyer", Email: "buyer@example.de", Phone: "+4915100000000",
			Address: order.Address{Line1: "Hauptstraße 1", City: "Berlin", PostalCode: "10115", Country: "DE"}, VATNumber: "DE123456789"},
		Consignee: order.Party{Name: "Test Buyer", Phone: "+4915100000000",
			Address: order.Address{Line1: "Hauptstraße 1", Line2: "Hinterhaus", City: "Berlin", Region: "BE", PostalCode: "10115", Country: "DE"}},
		Lines: []order.Line{
			{SKU: "SKU-1", Title: "Cotton T-shirt", HSCode: "610910", Quantity: 2, UnitPrice: money.New(1999, "EUR"),
				LineTotal: money.New(3998, "EUR"), WeightGrams: 200, OriginCountry: "CN"},
			{SKU: "SKU-2", Title: "Wireless earbuds — 降噪", HSCode: "8518300000", Quantity: 1, UnitPrice: money.New(4999, "EUR"),
				LineTotal: money.New(4999, "EUR"), WeightGrams: 120, OriginCountry: "CN"},
		},
		Shipping: &ship, Total: money.New(9496, "EUR"), Payment: order.Payment{Method: "card", Token: "tok_visa"},
	}
	o, _ := order.Accept(d, id, customer, "customer:"+customer, at)
	return o
}

// fullOrder is an order with every field set (everyFieldSet checks it), as
// far as the workflow takes one: B2B through a bonded warehouse, paid,
// cleared, dispatched, with a cancellation asked for too late.
func fullOrder(id, customer string, at time.Time) *order.Order {
	o := Order(id, customer, at)
	o.TradeMode, o.Fulfilment, o.Channel = order.TradeB2B, order.FulfilBondedWarehouse, order.ChannelPartner
	o.PartnerOrderRef = "PO-2026-0042"
	o.Buyer = order.Party{Name: "Müller Handels GmbH", Email: "einkauf@mueller.example", Phone: "+49301234567",
		Address:   order.Address{Line1: "Industriestraße 5", Line2: "Halle 3", City: "Köln", Region: "NW", PostalCode: "50667", Country: "DE"},
		VATNumber: "DE811907980", IOSSNumber: "IM2760000001", BusinessRegistration: "HRB 12345"}
	o.Buyer.Identity = &order.Identity{Type: order.IDTypeResidentCard, Number: "110101199003070038"}
	o.Consignee = o.Buyer
	o.Consignee.Name = "Müller Lager"
	o.Consignee.Identity = &order.Identity{Type: order.IDTypeResidentCard, Number: "11010119900307002X"}
	o.Lines[0].Quantity = 1_000_000 // large integers survive
	o.Lines[0].LineTotal = money.New(1999_000_000, "EUR")
	o.Total = money.New(1999_000_000+4999+499, "EUR")
	o.Status, o.Reason, o.Version = order.StatusDispatched, "shipped_partial", 7
	o.UpdatedAt = at.Add(36*time.Hour + 987654321)
	o.Warehouse, o.ShipFrom, o.StockReserved = "DE-FRA-1", "DE", true
	o.Carrier = order.CarrierPost
	captured, refunded := o.Total, money.New(4999, "EUR")
	o.Charge = &order.Charge{ID: "ch_3PzX", Status: order.ChargeCaptured, Amount: o.Total, Captured: &captured, Refunded: &refunded,
		FX: &order.FXRate{From: "EUR", To: "EUR", Rate: "1", Date: "2026-11-23", Source: "ECB"}}
	o.CustomsDeclaration, o.TrackingNumber = "9610-2026-000123", "JD0002251234567890"
	o.CancelRequested, o.CancelledBy, o.TaskToken = true, "ops:bob", "AQCEAAAAKgAAAAMAAAAAAAAAAc5w"
	insurance := money.New(150, "EUR")
	o.Insurance = &insurance
	o.Total.Amount += insurance.Amount
	o.Gift, o.QuoteID = true, "01KQUOTE00000000000000001"
	o.FX = &order.FXRate{From: "EUR", To: "EUR", Rate: "1", Date: "2026-11-23", Source: "ECB euro foreign exchange reference rates"}
	quoted := &order.LandedCharges{Duty: money.New(11, "EUR"), Tax: money.New(1805, "EUR"), Fees: money.New(600, "EUR"),
		Collection: "AT_BORDER", Regime: "IMPORT", AtCheckout: money.New(2416, "EUR"), OnDelivery: money.New(1, "EUR"),
		LandedTotal: money.New(o.Total.Amount+2416, "EUR"), Estimate: true, Rules: []string{"eu.valuation.cif", "eu.vat.de"}, At: at}
	assessed := *quoted
	assessed.Tax, assessed.Rules, assessed.At = money.New(1806, "EUR"), []string{"eu.vat.de"}, o.UpdatedAt
	merchantCost := money.New(1, "EUR")
	o.Customs = &order.CustomsRecord{QuoteID: o.QuoteID, Quoted: quoted, Assessed: &assessed, MerchantCost: &merchantCost,
		SupervisionMode: "9710", DeclarationForm: true, AwaitingChina: true, SubmittedAt: at.Add(2 * time.Second),
		Resubmits: 2, ResubmittedAt: at.Add(3 * time.Minute), NoAnswerAt: at.Add(9 * time.Minute), DeclaredAt: at.Add(time.Second), ReceiptCount: 9,
		Decision: &order.ChinaDecision{Outcome: "released", Answers: "CEB603", Status: 800, At: at.Add(5 * time.Minute)}}
	o.PartnerID = "demo-marketplace"
	o.Screening = &order.ScreeningHit{Reason: "restricted_goods", EntryID: "eu.goods.0001", List: "restricted-goods",
		Matched: "8518300000", Field: "/lines/1/hsCode", Source: "Council Regulation (EC) No 1186/2009"}
	return o
}

// Completed is the completed idempotency record intake stores when it
// creates order id under (scope, key).
func Completed(scope, key, id string, now time.Time) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, RequestHash: "hash-" + key, State: idempotency.StateCompleted,
		StatusCode: 202, Location: "/v1/orders/" + id, Body: []byte(`{"orderId":"` + id + `"}`), ResourceID: id,
		CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
}

// claim is an in-flight claim of (scope, key) by owner at now.
func claim(scope, key, owner string, now time.Time) idempotency.Record {
	return idempotency.Record{Scope: scope, Key: key, RequestHash: "hash-" + key, State: idempotency.StateInFlight, Owner: owner,
		LeaseUntil: now.Add(idempotency.Lease), CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
}

func firstEvent(o *order.Order) order.Event {
	return order.Event{OrderID: o.ID, Version: o.Version, At: o.CreatedAt, To: o.Status, Actor: "customer:" + o.CustomerID}
}

// create creates o under a key of its own.
func create(t *testing.T, s Store, o *order.Order) {
	t.Helper()
	done := Completed("customer:"+o.CustomerID, "create-"+o.ID, o.ID, o.CreatedAt)
	if _, err := s.CreateOrder(context.Background(), o, firstEvent(o), done, o.CreatedAt); err != nil {
		t.Fatalf("create %s: %v", o.ID, err)
	}
}

// sameRecord fails unless got is want, field by field (times compared as
// instants; an empty body equals none).
func sameRecord(t *testing.T, what string, got, want idempotency.Record) {
	t.Helper()
	if got.Scope != want.Scope || got.Key != want.Key || got.RequestHash != want.RequestHash || got.State != want.State ||
		got.Owner != want.Owner || !got.LeaseUntil.Equal(want.LeaseUntil) || got.StatusCode != want.StatusCode ||
		got.Location != want.Location || !bytes.Equal(got.Body, want.Body) || got.ResourceID != want.ResourceID ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("%s:\n got  %+v\n want %+v", what, got, want)
	}
}

// mustNotExist fails if the store holds the order or any history for it.
func mustNotExist(t *testing.T, s Store, id, what string) {
	t.Helper()
	ctx := context.Background()
	if o, err := s.GetOrder(ctx, id); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("%s: order %s is stored (%v, %v)", what, id, o, err)
	}
	if h, err := s.History(ctx, id); err != nil || len(h) != 0 {
		t.Fatalf("%s: history of %s holds %v (%v)", what, id, h, err)
	}
}

func runReferences(t *testing.T, newStore func(t *testing.T) Store) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.OrderByReference(ctx, "logisticsNo:NONE"); !errors.Is(err, order.ErrNotFound) {
		t.Fatalf("unknown reference: %v, want order.ErrNotFound", err)
	}
	refs := []string{"logisticsNo:XB0000000001DE", "payNo:pi_3Abc", "copNo:01KORDER"}
	if err := s.PutReferences(ctx, "01KORDERA", refs); err != nil {
		t.Fatal(err)
	}
	if err := s.PutReferences(ctx, "01KORDERA", refs); err != nil {
		t.Fatalf("recording the same references again: %v", err)
	}
	for _, ref := range refs {
		id, err := s.OrderByReference(ctx, ref)
		if err != nil || id != "01KORDERA" {
			t.Errorf("OrderByReference(%s) = %q, %v", ref, id, err)
		}
	}
	err := s.PutReferences(ctx, "01KORDERB", []string{"payNo:pi_3Abc", "logisticsNo:XB0000000002DE"})
	if !errors.Is(err, order.ErrReferenceTaken) || !strings.Contains(err.Error(), "payNo:pi_3Abc") {
		t.Fatalf("a taken reference: %v, want order.ErrReferenceTaken naming it", err)
	}
	if id, _ := s.OrderByReference(ctx, "payNo:pi_3Abc"); id != "01KORDERA" {
		t.Errorf("a taken reference moved to %q", id)
	}
	if id, _ := s.OrderByReference(ctx, "logisticsNo:XB0000000002DE"); id != "01KORDERB" {
		t.Errorf("the free reference beside a taken one was not recorded: %q", id)
	}
}
