package httpapi_test

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
)

var update = flag.Bool("update", false, "rewrite the API Gateway envelopes in events/apigw from events/orders and events/quotes")

// envelope builds the HTTP API (payload 2.0) event API Gateway sends the
// Lambda after its JWT authorizer accepted a Cognito token.
func envelope(method, path, sub, key, body string) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{
		"host":          "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
		"user-agent":    "xborder-ios/3.2.0",
		"authorization": "Bearer eyJraWQiOi...redacted",
	}
	if body != "" {
		headers["content-type"] = "application/json"
	}
	if key != "" {
		headers["idempotency-key"] = key
	}
	route := method + " " + path
	for _, collection := range []string{"/v1/orders/", "/v1/quotes/"} {
		if strings.HasPrefix(path, collection) {
			route = method + " " + collection + "{id}"
		}
	}
	return events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, Headers: headers, Body: body,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "000000000000", APIID: "a1b2c3d4e5", DomainName: "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com",
			DomainPrefix: "a1b2c3d4e5", RequestID: "Kx1abcdefghIJK=", RouteKey: route, Stage: "$default",
			Time: "24/Nov/2026:09:00:00 +0000", TimeEpoch: 1795510800000,
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1",
				SourceIP: "203.0.113.10", UserAgent: "xborder-ios/3.2.0"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{
				Claims: map[string]string{
					"sub": sub, "cognito:groups": "[customers]", "token_use": "access", "client_id": "4example0clientid",
					"iss": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE", "exp": "1795514400", "iat": "1795510800",
				},
			}},
		},
	}
}

// TestLambdaEnvelopes feeds the checked-in API Gateway events through the
// same adapter the api Lambda uses, with the claims-reading authenticator.
func TestLambdaEnvelopes(t *testing.T) {
	orders, _ := filepath.Glob("../../events/orders/*.json")
	if len(orders) < 4 {
		t.Fatalf("want the four sample orders, found %d", len(orders))
	}
	carts, _ := filepath.Glob("../../events/quotes/*.json")
	if len(carts) < 1 {
		t.Fatal("want the sample quote requests in events/quotes")
	}
	if *update {
		for _, f := range orders {
			body, _ := os.ReadFile(f)
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			writeEnvelope(t, "post-order-"+name+".json", envelope("POST", "/v1/orders", "7d3f0c2e-customer-"+name, "ios-"+name+"-0001", string(body)))
		}
		writeEnvelope(t, "list-orders.json", envelope("GET", "/v1/orders", "7d3f0c2e-customer-mobile-b2c-de", "", ""))
		for _, f := range carts {
			body, _ := os.ReadFile(f)
			name := strings.TrimSuffix(filepath.Base(f), ".json")
			writeEnvelope(t, "post-quote-"+name+".json", envelope("POST", "/v1/quotes", "7d3f0c2e-customer-mobile-b2c-de", "", string(body)))
		}
	}
	store := memstore.New()
	api := httpapi.New(httpapi.Config{Store: store, Auth: auth.APIGatewayClaims{}, Quoter: customs.Default(), Quotes: store})
	invoke := lambda.NewHandler(httpadapter.NewV2(api).ProxyWithContext)
	for _, f := range orders {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile("../../events/apigw/post-order-" + name + ".json")
			if err != nil {
				t.Fatalf("%v (regenerate with go test ./shared/httpapi -run TestLambdaEnvelopes -update)", err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			want, _ := os.ReadFile(f)
			if ev.Body != string(want) {
				t.Fatalf("envelope body is stale; regenerate with -update")
			}
			out, err := invoke.Invoke(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusAccepted || !strings.HasPrefix(resp.Headers["Location"], "/v1/orders/") ||
				resp.Headers["X-Request-Id"] != "Kx1abcdefghIJK=" {
				t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			// Lambda retries the same event: the order is not created twice.
			again, _ := invoke.Invoke(context.Background(), raw)
			var resp2 events.APIGatewayV2HTTPResponse
			_ = json.Unmarshal(again, &resp2)
			if resp2.Body != resp.Body || resp2.Headers["Idempotent-Replayed"] != "true" {
				t.Fatalf("retried event was not replayed: %d %v", resp2.StatusCode, resp2.Headers)
			}
		})
	}
	for _, f := range carts {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run("quote "+name, func(t *testing.T) {
			raw, err := os.ReadFile("../../events/apigw/post-quote-" + name + ".json")
			if err != nil {
				t.Fatalf("%v (regenerate with go test ./shared/httpapi -run TestLambdaEnvelopes -update)", err)
			}
			var ev events.APIGatewayV2HTTPRequest
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Fatal(err)
			}
			if want, _ := os.ReadFile(f); ev.Body != string(want) {
				t.Fatalf("envelope body is stale; regenerate with -update")
			}
			out, err := invoke.Invoke(context.Background(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var resp events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(out, &resp); err != nil {
				t.Fatal(err)
			}
			var q struct {
				QuoteID string `json:"quoteId"`
			}
			_ = json.Unmarshal([]byte(resp.Body), &q)
			if resp.StatusCode != http.StatusCreated || q.QuoteID == "" || resp.Headers["Location"] != "/v1/quotes/"+q.QuoteID {
				t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
			}
			// The quote is the caller's: the same claims read it back.
			get := envelope("GET", "/v1/quotes/"+q.QuoteID, ev.RequestContext.Authorizer.JWT.Claims["sub"], "", "")
			rawGet, _ := json.Marshal(get)
			out, _ = invoke.Invoke(context.Background(), rawGet)
			var got events.APIGatewayV2HTTPResponse
			_ = json.Unmarshal(out, &got)
			if got.StatusCode != http.StatusOK || got.Body != resp.Body {
				t.Fatalf("GET the quote: %d %s", got.StatusCode, got.Body)
			}
		})
	}
	t.Run("list", func(t *testing.T) {
		raw, err := os.ReadFile("../../events/apigw/list-orders.json")
		if err != nil {
			t.Fatal(err)
		}
		out, err := invoke.Invoke(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.APIGatewayV2HTTPResponse
		_ = json.Unmarshal(out, &resp)
		var page struct{ Orders []map[string]any }
		_ = json.Unmarshal([]byte(resp.Body), &page)
		if resp.StatusCode != http.StatusOK || len(page.Orders) != 1 {
			t.Fatalf("list: %d %s", resp.StatusCode, resp.Body)
		}
	})
	t.Run("no authorizer context", func(t *testing.T) {
		ev := envelope("GET", "/v1/orders", "x", "", "")
		ev.RequestContext.Authorizer = nil
		raw, _ := json.Marshal(ev)
		out, _ := invoke.Invoke(context.Background(), raw)
		var resp events.APIGatewayV2HTTPResponse
		_ = json.Unmarshal(out, &resp)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("without authorizer claims: %d, want 401", resp.StatusCode)
		}
	})
}

func writeEnvelope(t *testing.T, name string, ev events.APIGatewayV2HTTPRequest) {
	t.Helper()
	b, err := json.MarshalIndent(ev, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("../../events/apigw/"+name, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}
