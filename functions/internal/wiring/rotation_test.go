package wiring

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/payment"
)

// TestAStripeKeyRotatesWithoutARedeploy: in front of stripe-mock, Stripe
// refuses a revoked key with 401. A warm provider that holds the revoked
// key reads the secret again on that refusal and makes the call once more
// with the new key — the payment goes through, one refused request and
// one accepted; with the secret unchanged it reads no more than every
// SecretRereadEvery and the refusal stands. Past SecretTTL it reads the
// secret again without being refused.
func TestAStripeKeyRotatesWithoutARedeploy(t *testing.T) {
	mock := os.Getenv("STRIPE_MOCK_URL")
	if mock == "" {
		t.Fatal("no stripe-mock: run the tests through `make test`")
	}
	up, _ := url.Parse(mock)
	proxy := httputil.NewSingleHostReverseProxy(up)
	var refused, accepted atomic.Int32
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Authorization"), "sk_test_revoked") {
			refused.Add(1)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"Expired API Key provided: sk_test_***oked"}}`))
			return
		}
		accepted.Add(1)
		proxy.ServeHTTP(w, r)
	}))
	defer stripe.Close()

	ctx := context.Background()
	secret := atomic.Value{}
	secret.Store("sk_test_revoked")
	var reads atomic.Int32
	read := func(context.Context) (string, error) { reads.Add(1); return secret.Load().(string), nil }
	r, err := newRotatingStripe(ctx, read, stripe.URL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.now = func() time.Time { return now }
	auth := func(n int) error {
		_, err := r.Authorize(ctx, payment.Authorization{Key: "rotation-order-" + string(rune('a'+n)) + ":authorize", OrderID: "rotation-order",
			Amount: money.Money{Amount: 1999, Currency: "EUR"}, Token: "tok_visa"})
		return err
	}
	// The secret still holds the revoked key: refused, and read again only
	// after SecretRereadEvery.
	now = now.Add(SecretRereadEvery)
	if err := auth(0); err == nil {
		t.Fatal("a revoked key was accepted")
	}
	if err := auth(1); err == nil || reads.Load() != 2 {
		t.Fatalf("reads %d (want the start and one re-read), err %v", reads.Load(), err)
	}
	// Rotated: the next refusal (past SecretRereadEvery) reads the new key
	// and the call goes through.
	secret.Store("sk_test_rotated")
	now = now.Add(SecretRereadEvery)
	before := refused.Load()
	if err := auth(2); err != nil {
		t.Fatalf("after the rotation: %v", err)
	}
	if refused.Load()-before != 1 || accepted.Load() < 1 {
		t.Errorf("refused %d, accepted %d: want one refusal, then the call with the new key", refused.Load()-before, accepted.Load())
	}
	// Past SecretTTL the key is read again without a refusal.
	n := reads.Load()
	now = now.Add(SecretTTL)
	if err := auth(3); err != nil || reads.Load() != n+1 {
		t.Errorf("past SecretTTL: reads %d → %d, err %v", n, reads.Load(), err)
	}
}
