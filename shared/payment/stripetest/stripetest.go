// Package stripetest sits between the Stripe client and stripe-mock in
// tests: it records every request, and can answer one itself with what
// Stripe answers in a case stripe-mock cannot play (it keeps no state and
// never declines): a decline, a 500, an expired authorization, a dropped
// connection. Everything else goes to stripe-mock, which checks each request
// against Stripe's OpenAPI specification.
package stripetest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// EnvURL is where `make test` says stripe-mock listens, and EnvRecorderURL
// where its recording proxy does (localstack/partnersim's StripeRecorder):
// the requests a Recorder forwards go through the proxy when there is one.
const (
	EnvURL         = "STRIPE_MOCK_URL"
	EnvRecorderURL = "STRIPE_RECORDER_URL"
)

// Request is one request the client sent.
type Request struct {
	Method, Path string
	Header       http.Header
	Form         url.Values
}

// Key is the request's Idempotency-Key.
func (r Request) Key() string { return r.Header.Get("Idempotency-Key") }

// Fault answers matching requests instead of stripe-mock, Times times (0:
// always): Status with the JSON Body, or a dropped connection.
type Fault struct {
	Match  func(r Request) bool
	Status int
	Body   string
	Times  int
	Drop   bool
	used   int
}

// Recorder records requests and forwards them to stripe-mock.
type Recorder struct {
	URL    string // give it to the client as its API base
	mu     sync.Mutex
	sent   []Request
	faults []*Fault
	proxy  *httputil.ReverseProxy
}

// New starts a recorder in front of the stripe-mock of `make test`; the
// test fails when there is none.
func New(t testing.TB) *Recorder {
	t.Helper()
	base := os.Getenv(EnvRecorderURL)
	if base == "" {
		base = os.Getenv(EnvURL)
	}
	if base == "" {
		t.Fatal("no stripe-mock: run the tests through `make test`, which builds and starts it (" + EnvURL + ")")
	}
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	rec := &Recorder{proxy: httputil.NewSingleHostReverseProxy(target)}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	rec.URL = srv.URL
	return rec
}

// ServeHTTP records r and answers it.
func (rec *Recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	form, _ := url.ParseQuery(string(body))
	s := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Form: form}
	rec.mu.Lock()
	rec.sent = append(rec.sent, s)
	var f *Fault
	for _, x := range rec.faults {
		if (x.Times == 0 || x.used < x.Times) && x.Match(s) {
			x.used++
			f = x
			break
		}
	}
	rec.mu.Unlock()
	switch {
	case f != nil && f.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
	case f != nil:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Request-Id", "req_stripetest")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
	default:
		r.Body = io.NopCloser(strings.NewReader(string(body)))
		r.ContentLength = int64(len(body))
		rec.proxy.ServeHTTP(w, r)
	}
}

// Fail adds a fault.
func (rec *Recorder) Fail(f *Fault) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.faults = append(rec.faults, f)
}

// Requests returns what was sent so far.
func (rec *Recorder) Requests() []Request {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]Request(nil), rec.sent...)
}

// Reset forgets requests and faults.
func (rec *Recorder) Reset() {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.sent, rec.faults = nil, nil
}

// PaymentMethodIs matches a PaymentIntent created with payment method pm.
func PaymentMethodIs(pm string) func(Request) bool {
	return func(r Request) bool { return r.Path == "/v1/payment_intents" && r.Form.Get("payment_method") == pm }
}

// PathEnds matches requests whose path ends with suffix.
func PathEnds(suffix string) func(Request) bool {
	return func(r Request) bool { return strings.HasSuffix(r.Path, suffix) }
}

// KeyIs matches requests with this idempotency key.
func KeyIs(key string) func(Request) bool {
	return func(r Request) bool { return r.Key() == key }
}

// Stripe's answers, shaped as Stripe sends them.
const (
	DeclinedBody     = `{"error":{"type":"card_error","code":"card_declined","decline_code":"generic_decline","message":"Your card was declined."}}`
	InsufficientBody = `{"error":{"type":"card_error","code":"card_declined","decline_code":"insufficient_funds","message":"Your card has insufficient funds."}}`
	ServerErrorBody  = `{"error":{"type":"api_error","message":"An unknown error occurred"}}`
	RateLimitBody    = `{"error":{"type":"invalid_request_error","code":"rate_limit","message":"Too many requests"}}`
	InvalidBody      = `{"error":{"type":"invalid_request_error","code":"parameter_invalid_integer","param":"amount","message":"Invalid integer"}}`
	IdempotencyBody  = `{"error":{"type":"idempotency_error","message":"Keys for idempotent requests can only be used with the same parameters they were first used with."}}`
	RefundedBody     = `{"error":{"type":"invalid_request_error","code":"charge_already_refunded","message":"Charge has already been refunded."}}`
	ExpiredBody      = `{"error":{"type":"invalid_request_error","code":"charge_expired_for_capture","message":"The charge has expired."}}`
)

// UnexpectedState is Stripe's answer to an action a PaymentIntent's status
// forbids (status "canceled" with reason "automatic" is an expired hold).
func UnexpectedState(status, cancellationReason string) string {
	reason := "null"
	if cancellationReason != "" {
		reason = `"` + cancellationReason + `"`
	}
	return `{"error":{"type":"invalid_request_error","code":"payment_intent_unexpected_state","message":"This PaymentIntent's status does not allow it.",` +
		`"payment_intent":{"id":"pi_state","object":"payment_intent","status":"` + status + `","cancellation_reason":` + reason + `}}}`
}
