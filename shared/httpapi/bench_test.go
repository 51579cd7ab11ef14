package httpapi_test

import (
	"bytes"
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
