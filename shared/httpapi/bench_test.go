package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
)

// BenchmarkIntakePostOrder is POST /v1/orders end to end — HTTP, JWT,
// decoding, validation, idempotency claim and the order transaction —
// against DynamoDB Local. Compare it with dynamostore's
// BenchmarkRawTransactWriteItems from the same `make bench` run.
func BenchmarkIntakePostOrder(b *testing.B) {
	c := dynamotest.Client(b)
	authn, _ := auth.NewLocalHS256(secret)
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: dynamostore.New(c, dynamotest.Table(b, c)), Auth: authn}))
	defer srv.Close()
	body, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := auth.MintLocal(secret, "bench", nil, time.Hour, time.Now())
	client := srv.Client()
	b.ResetTimer()
	for i := range b.N {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i))
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkPostQuote10Lines is POST /v1/quotes in process — JWT, decoding,
// cart validation, screening, the landed cost, encoding and storing the
// quote (memstore) — for a ten-line cart. Compare it with customs'
// BenchmarkQuote10Lines from the same run: the rest is the API's share.
func BenchmarkPostQuote10Lines(b *testing.B) {
	authn, _ := auth.NewLocalHS256(secret)
	store := memstore.New()
	api := httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: authn})
	var req httpapi.QuoteRequest
	raw, err := os.ReadFile("../../events/quotes/cart-de.json")
	if err != nil {
		b.Fatal(err)
	}
	if err := json.Unmarshal(raw, &req); err != nil {
		b.Fatal(err)
	}
	for len(req.Lines) < 10 {
		l := req.Lines[len(req.Lines)%2]
		l.SKU = fmt.Sprintf("SKU-%d", len(req.Lines))
		req.Lines = append(req.Lines, l)
	}
	body, _ := json.Marshal(req)
	tok, _ := auth.MintLocal(secret, "bench", nil, time.Hour, time.Now())
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/quotes", bytes.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		if w.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
