package partnersim

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// StripeRecorder sits in front of stripe-mock — which keeps no state — and
// records, per order, what reached Stripe and succeeded: the
// PaymentIntents created (by idempotency key: Stripe answers a repeated key
// with the first answer, so one key is one authorization) and the captures,
// voids and refunds. GET /__recorder/orders/{orderId} reads it. It keeps
// its record in memory: it is a test and audit instrument of the local
// stack, not a partner.
type StripeRecorder struct {
	proxy *httputil.ReverseProxy
	mu    sync.Mutex
	// keys by order id and operation: the distinct idempotency keys of
	// successful calls.
	byOrder map[string]map[string]map[string]bool
	sent    map[string]int // requests by order id, answered or not
}

// StripeLedger is what the recorder saw for one order.
type StripeLedger struct {
	Authorizations int `json:"authorizations"`
	Captures       int `json:"captures"`
	Voids          int `json:"voids"`
	Refunds        int `json:"refunds"`
	Requests       int `json:"requests"`
}

// RecorderPath starts the recorder's own routes.
const RecorderPath = "/__recorder/orders/"

// NewStripeRecorder proxies to stripe-mock at target.
func NewStripeRecorder(target string) (*StripeRecorder, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, err
	}
	return &StripeRecorder{proxy: httputil.NewSingleHostReverseProxy(u), byOrder: map[string]map[string]map[string]bool{}, sent: map[string]int{}}, nil
}

func (s *StripeRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, ok := strings.CutPrefix(r.URL.Path, RecorderPath); ok && r.Method == http.MethodGet {
		s.mu.Lock()
		ops := s.byOrder[id]
		l := StripeLedger{Authorizations: len(ops["authorize"]), Captures: len(ops["capture"]), Voids: len(ops["void"]), Refunds: len(ops["refund"]), Requests: s.sent[id]}
		s.mu.Unlock()
		answer(w, http.StatusOK, l)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes))
	r.Body = io.NopCloser(bytes.NewReader(body))
	form, _ := url.ParseQuery(string(body))
	key := r.Header.Get("Idempotency-Key")
	orderID, op := s.classify(r.Method, r.URL.Path, key, form)
	if orderID != "" {
		s.mu.Lock()
		s.sent[orderID]++
		s.mu.Unlock()
	}
	rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	s.proxy.ServeHTTP(rw, r)
	if orderID != "" && op != "" && rw.status < 300 {
		s.mu.Lock()
		if s.byOrder[orderID] == nil {
			s.byOrder[orderID] = map[string]map[string]bool{}
		}
		if s.byOrder[orderID][op] == nil {
			s.byOrder[orderID][op] = map[string]bool{}
		}
		s.byOrder[orderID][op][key] = true
		s.mu.Unlock()
	}
}

// classify names the order and operation of a Stripe call: a
// PaymentIntent's creation names its order in metadata; the other calls
// by their idempotency key (payment.Key: xborder:<orderId>:<step>).
func (s *StripeRecorder) classify(method, path, key string, form url.Values) (orderID, op string) {
	if method != http.MethodPost {
		return "", ""
	}
	if parts := strings.Split(key, ":"); len(parts) >= 3 && parts[0] == "xborder" {
		orderID = parts[1]
	}
	switch {
	case path == "/v1/payment_intents":
		if id := form.Get("metadata[order_id]"); id != "" {
			orderID = id
		}
		return orderID, "authorize"
	case strings.HasSuffix(path, "/capture"):
		return orderID, "capture"
	case strings.HasSuffix(path, "/cancel"):
		return orderID, "void"
	case path == "/v1/refunds":
		return orderID, "refund"
	}
	return orderID, ""
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}
