package apigw

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/auth"
)

// echo is a function that answers with what it was invoked with.
type echo struct {
	got events.APIGatewayV2HTTPRequest
}

func (e *echo) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	if err := json.Unmarshal(payload, &e.got); err != nil {
		return nil, err
	}
	if e.got.RawPath == "/v1/fail" {
		return nil, errors.New("Runtime.ExitError")
	}
	return json.Marshal(events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json"},
		Body: `{"ok":true}`})
}

// TestGatewayAsAPIGateway: routes from the template, the JWT authorizer on
// those that have it (401 before the function), claims flattened as API
// Gateway does, payload format 2.0, API Gateway's own 404 and 500.
func TestGatewayAsAPIGateway(t *testing.T) {
	authn, err := auth.NewLocalHS256(auth.DevSecret)
	if err != nil {
		t.Fatal(err)
	}
	fn := &echo{}
	g := &Gateway{Function: fn, Auth: authn, Routes: []Route{{Key: "POST /v1/orders"}, {Key: "GET /v1/orders/{id}"},
		{Key: "POST /v1/webhooks/{partner}", Open: true}, {Key: "GET /ops/{proxy+}", Open: true}, {Key: "GET /v1/fail"}}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	tok, _ := auth.MintLocal(auth.DevSecret, "alice", []string{"ops", "support"}, time.Hour, time.Now())
	do := func(method, path, token, body string) (int, string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Idempotency-Key", "k-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if s, b := do("POST", "/v1/orders?x=1", tok, `{"a":1}`); s != 201 || b != `{"ok":true}` {
		t.Fatalf("POST /v1/orders: %d %s", s, b)
	}
	e := fn.got
	if e.Version != "2.0" || e.RawPath != "/v1/orders" || e.RawQueryString != "x=1" || e.Body != `{"a":1}` || e.Headers["idempotency-key"] != "k-1" ||
		e.RequestContext.HTTP.Method != "POST" || e.RequestContext.Authorizer == nil ||
		e.RequestContext.Authorizer.JWT.Claims["sub"] != "alice" || e.RequestContext.Authorizer.JWT.Claims["cognito:groups"] != "[ops support]" {
		t.Fatalf("event %+v", e)
	}
	// The authorizer: no token, a bad one — 401, the function not invoked.
	fn.got = events.APIGatewayV2HTTPRequest{}
	for _, token := range []string{"", tok + "x"} {
		if s, b := do("GET", "/v1/orders/01X", token, ""); s != 401 || b != `{"message":"Unauthorized"}` || fn.got.Version != "" {
			t.Fatalf("token %q: %d %s", token, s, b)
		}
	}
	// Open routes: no authorizer, no claims.
	if s, _ := do("POST", "/v1/webhooks/shop", "", `{}`); s != 201 || fn.got.RequestContext.Authorizer != nil {
		t.Fatalf("webhook: %d %+v", s, fn.got.RequestContext.Authorizer)
	}
	if s, _ := do("GET", "/ops/app.js", "", ""); s != 201 || fn.got.RawPath != "/ops/app.js" {
		t.Fatalf("console: %d %s", s, fn.got.RawPath)
	}
	// No route: API Gateway's 404; a failed function: its 500.
	if s, b := do("DELETE", "/v1/orders", tok, ""); s != 404 || b != `{"message":"Not Found"}` {
		t.Fatalf("no route: %d %s", s, b)
	}
	if s, b := do("GET", "/v1/fail", tok, ""); s != 500 || b != `{"message":"Internal Server Error"}` {
		t.Fatalf("failed integration: %d %s", s, b)
	}
}
