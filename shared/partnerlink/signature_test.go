package partnerlink

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestVerify: a message verifies with any active secret, within the
// tolerance, over its raw bytes and its id — and still after API Gateway's
// Lambda adapter has split its headers on commas.
func TestVerify(t *testing.T) {
	const old, current = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	now := time.Unix(1795514400, 0)
	body := []byte(`{"type":"ceb.receipt"}`)
	h := http.Header{}
	if err := Sign(h, "msg_1", now, body, old, current); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h.Get(HeaderSignature), "v1,") || strings.Count(h.Get(HeaderSignature), " ") != 1 {
		t.Fatalf("signature header %q", h.Get(HeaderSignature))
	}
	for _, secret := range []string{old, current} {
		if id, err := Verify(h, body, now.Add(time.Minute), 0, secret); err != nil || id != "msg_1" {
			t.Fatalf("secret %s: %q %v", secret, id, err)
		}
	}
	split := http.Header{}
	for k, vs := range h {
		for _, part := range strings.Split(vs[0], ",") {
			split.Add(k, strings.TrimSpace(part))
		}
	}
	if _, err := Verify(split, body, now, 0, current); err != nil {
		t.Fatalf("headers split on commas: %v", err)
	}
	refused := []struct {
		name   string
		h      http.Header
		body   []byte
		at     time.Time
		secret string
	}{
		{"another secret", h, body, now, "whsec_9Ml2cH4AUrQaZZUQJMrI5N9Jo6U2Dh8p"},
		{"another body", h, []byte(`{"type":"ceb.receipt" }`), now, current},
		{"stale", h, body, now.Add(6 * time.Minute), current},
		{"from the future", h, body, now.Add(-6 * time.Minute), current},
		{"another id", func() http.Header { c := h.Clone(); c.Set(HeaderID, "msg_2"); return c }(), body, now, current},
		{"no signature", func() http.Header { c := h.Clone(); c.Del(HeaderSignature); return c }(), body, now, current},
	}
	for _, tc := range refused {
		if _, err := Verify(tc.h, tc.body, tc.at, 0, tc.secret); !errors.Is(err, ErrSignature) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// TestEndpointCheck: https, or http on loopback only; a usable secret.
func TestEndpointCheck(t *testing.T) {
	ok := []Endpoint{{URL: "https://broker.example/x", Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, {URL: "http://127.0.0.1:9", Secret: "plain-secret"}}
	for _, e := range ok {
		if err := e.Check(); err != nil {
			t.Errorf("%+v: %v", e, err)
		}
	}
	bad := []Endpoint{{URL: "http://broker.example", Secret: "s"}, {URL: "broker.example", Secret: "s"}, {URL: "https://b.example"},
		{URL: "https://b.example", Secret: "whsec_short"}}
	for _, e := range bad {
		if err := e.Check(); err == nil {
			t.Errorf("%+v passed", e)
		}
	}
}
