package sfn

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestLambdaHTTPInvoker(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.HasPrefix(r.URL.Path, "/2015-03-31/functions/") || !strings.HasSuffix(r.URL.Path, "/invocations") {
			http.NotFound(w, r)
			return
		}
		if strings.Contains(string(body), "fail") {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_, _ = w.Write([]byte(`{"errorMessage":"card_declined","errorType":"PaymentDeclined"}`))
			return
		}
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	inv := LambdaHTTP{Endpoint: srv.URL}
	out, err := inv.Invoke(context.Background(), "arn:aws:lambda:us-east-1:000000000000:function:echo", []byte(`{"a":1}`))
	if err != nil || string(out) != `{"a":1}` {
		t.Fatalf("%s %v", out, err)
	}
	_, err = inv.Invoke(context.Background(), "fn", []byte(`"fail"`))
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "PaymentDeclined" || fe.Message != "card_declined" {
		t.Fatalf("function error: %v", err)
	}
}
