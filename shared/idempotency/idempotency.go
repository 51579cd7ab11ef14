// Package idempotency decides what a repeated write request gets, following
// the one rule every write endpoint shares (architecture.md): first use →
// processed; same key and body, completed → the first response replayed;
// same key, different body → 422; same key still in flight → 409.
//
// Two ways to honour a key, both kept by the store:
//
//   - One shot, when the work is one transaction (placing an order): the
//     completed record is written in the same transaction as the work, on
//     condition that the key is free. A duplicate that loses the race finds
//     the record and replays it; one that collides with the transaction
//     still running is told the first is in flight (ErrBusy).
//   - Claim, then complete, when the work spans several calls: the key is
//     claimed IN_FLIGHT with a short lease first and completed with the
//     work's last write, so a crash in between never strands it — the lease
//     runs out and a retry takes over.
package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"
)

// Retention is how long a key is remembered (≥ 24 h by contract).
const Retention = 48 * time.Hour

// Lease bounds how long a claimed key counts as in flight before a retry may
// take it over (API Gateway's integration timeout is 30 s).
const Lease = 30 * time.Second

// State of a key.
type State string

// States.
const (
	StateInFlight  State = "IN_FLIGHT"
	StateCompleted State = "COMPLETED"
)

// Record is what is kept for one key within one scope (a customer or a partner).
type Record struct {
	Scope       string `dynamodbav:"scope"`
	Key         string `dynamodbav:"key"`
	RequestHash string `dynamodbav:"requestHash"`
	State       State  `dynamodbav:"state"`
	// Owner identifies the request holding the claim; only it may complete it.
	Owner      string    `dynamodbav:"owner"`
	LeaseUntil time.Time `dynamodbav:"leaseUntil,unixtime"`
	// The first response, replayed for a completed key.
	StatusCode int       `dynamodbav:"statusCode,omitempty"`
	Location   string    `dynamodbav:"location,omitempty"`
	Body       []byte    `dynamodbav:"body,omitempty"`
	ResourceID string    `dynamodbav:"resourceId,omitempty"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	// ExpiresAt is when the store may forget the key (DynamoDB TTL).
	ExpiresAt time.Time `dynamodbav:"expiresAt,unixtime"`
}

// Errors a store returns.
var (
	// ErrClaimed: the key already has a record (returned with it).
	ErrClaimed = errors.New("idempotency: key already claimed")
	// ErrBusy: a concurrent request for the same key is being written at this
	// very moment; nothing was written. The caller answers 409.
	ErrBusy = errors.New("idempotency: a concurrent request holds the key")
)

// Outcome is what to do with a request whose key already has a record.
type Outcome int

// Outcomes.
const (
	// Replay the stored response with Idempotent-Replayed: true.
	Replay Outcome = iota + 1
	// Mismatch: the key was used with a different body → 422.
	Mismatch
	// InFlight: the first request is still running → 409.
	InFlight
	// TakeOver: the first request's lease ran out without completing; the
	// store's claim already allows taking it over, so this only shows up when
	// racing that take-over → treat as InFlight.
	TakeOver
)

// Decide says what a request with hash gets, given the key's existing record.
func Decide(existing Record, hash string, now time.Time) Outcome {
	if existing.RequestHash != hash {
		return Mismatch
	}
	if existing.State == StateCompleted {
		return Replay
	}
	if now.Before(existing.LeaseUntil) {
		return InFlight
	}
	return TakeOver
}

// Hash fingerprints a request body (callers pass a canonical form, e.g. compacted JSON).
func Hash(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}
