// Package quotes is the record of an issued landed-cost quote (POST
// /v1/quotes) as a quote store keeps it: the API writes it, reads it back
// for GET /v1/quotes/{id}, and checks an order that accepts it against it.
// The stores (memstore, dynamostore) implement the API's QuoteStore with
// this record; it depends on nothing but the standard library, so a store
// does not pull in the HTTP layer.
package quotes

import (
	"encoding/json"
	"errors"
	"time"
)

// Record is one issued quote.
type Record struct {
	// ID is the quote's id (a ULID), the quoteId an order accepts it by.
	ID string
	// CustomerID is who asked for it: only they may read or accept it.
	CustomerID string
	// CartHash fingerprints the quoted cart and its day
	// (customs.CartHash): an order accepting the quote must match it.
	CartHash string
	// Quote is the quote as the API answered it (JSON), returned as is.
	Quote json.RawMessage
	// CreatedAt is when it was issued; ExpiresAt when it stops being
	// accepted. A store may forget it a day after ExpiresAt.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Retention is how long past its expiry a store keeps a quote, so that a
// shopper who asks about an expired quote is told it expired rather than
// that it never existed.
const Retention = 24 * time.Hour

// Errors a quote store returns.
var (
	// ErrNotFound: no quote has that id (or the store has forgotten it).
	ErrNotFound = errors.New("quotes: not found")
	// ErrExists: a quote with that id is already stored; it is not replaced.
	ErrExists = errors.New("quotes: already exists")
)
