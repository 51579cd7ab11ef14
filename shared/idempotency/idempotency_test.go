package idempotency

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	h := Hash([]byte(`{"a":1}`))
	for _, tc := range []struct {
		name string
		rec  Record
		hash string
		want Outcome
	}{
		{"completed, same body", Record{RequestHash: h, State: StateCompleted}, h, Replay},
		{"completed, other body", Record{RequestHash: h, State: StateCompleted}, Hash([]byte(`{"a":2}`)), Mismatch},
		{"in flight, same body", Record{RequestHash: h, State: StateInFlight, LeaseUntil: now.Add(time.Second)}, h, InFlight},
		{"in flight, other body", Record{RequestHash: h, State: StateInFlight, LeaseUntil: now.Add(time.Second)}, "x", Mismatch},
		{"lease ran out", Record{RequestHash: h, State: StateInFlight, LeaseUntil: now}, h, TakeOver},
	} {
		if got := Decide(tc.rec, tc.hash, now); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestRetentionCoversADay(t *testing.T) {
	if Retention < 24*time.Hour {
		t.Fatalf("keys must live at least 24 h, Retention is %v", Retention)
	}
	if Hash([]byte("a")) == Hash([]byte("b")) || len(Hash(nil)) != 64 {
		t.Fatal("Hash must be a SHA-256 hex digest")
	}
}
