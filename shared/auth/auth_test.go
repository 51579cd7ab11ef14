package auth

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

func TestParseGroups(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want []string
	}{
		{"[ops]", []string{"ops"}},
		{"[ops admin]", []string{"ops", "admin"}},
		{"ops,admin", []string{"ops", "admin"}},
		{[]any{"ops", 3, ""}, []string{"ops"}},
		{"", []string{}},
		{nil, nil},
	} {
		got := parseGroups(tc.in)
		if len(got) != len(tc.want) || (len(got) > 0 && !slices.Equal(got, tc.want)) {
			t.Errorf("parseGroups(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestLocalHS256RoundTrip(t *testing.T) {
	l, err := NewLocalHS256("0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	tok, err := MintLocal("0123456789abcdef", "alice", []string{"ops"}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "bearer "+tok)
	id, err := l.Authenticate(r)
	if err != nil || id.Subject != "alice" || !id.InGroup(GroupOps) || id.InGroup("admin") {
		t.Fatalf("got %+v, %v", id, err)
	}
	if _, err := NewLocalHS256("short"); err == nil {
		t.Fatal("a short secret must be refused")
	}
	if _, err := MintLocal("0123456789abcdef", "", nil, time.Hour, time.Now()); err == nil {
		t.Fatal("a token without subject must be refused")
	}
}

func TestAPIGatewayClaims(t *testing.T) {
	for _, tc := range []struct {
		name   string
		claims map[string]string
		sub    string
		groups []string
		err    bool
	}{
		{"cognito groups", map[string]string{"sub": "u1", "cognito:groups": "[ops customers]"}, "u1", []string{"ops", "customers"}, false},
		{"groups alias", map[string]string{"sub": "u2", "groups": "[ops]"}, "u2", []string{"ops"}, false},
		{"no sub", map[string]string{"cognito:groups": "[ops]"}, "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := events.APIGatewayV2HTTPRequest{RequestContext: events.APIGatewayV2HTTPRequestContext{
				Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
					JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tc.claims}}}}
			req, err := (&core.RequestAccessorV2{}).EventToRequestWithContext(context.Background(), rc)
			if err != nil {
				t.Fatal(err)
			}
			id, err := APIGatewayClaims{}.Authenticate(req)
			if tc.err {
				if !errors.Is(err, ErrUnauthenticated) {
					t.Fatalf("err %v, want ErrUnauthenticated", err)
				}
				return
			}
			if err != nil || id.Subject != tc.sub || !slices.Equal(id.Groups, tc.groups) {
				t.Fatalf("got %+v %v", id, err)
			}
		})
	}
	if _, err := (APIGatewayClaims{}).Authenticate(httptest.NewRequest("GET", "/", nil)); !errors.Is(err, ErrUnauthenticated) {
		t.Fatal("a request without authorizer context must be unauthenticated")
	}
}
