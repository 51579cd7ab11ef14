package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
)

// TestEachRouteChecksItsRole: the E-Port forwarder's machine token gets 403
// on every route but the receipts route (a shopper's included); a
// read-only operator reads the ops API and acts on nothing; a shopper
// reaches no ops route. Each refusal comes before the handler runs, so
// nothing is read or written for it.
func TestEachRouteChecksItsRole(t *testing.T) {
	h := newHarness(t, memstore.New())
	mint := func(sub string, groups, scopes []string) map[string]string {
		tok, err := auth.MintLocalClaims(secret, sub, groups, scopes, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return map[string]string{"Authorization": "Bearer " + tok, "Content-Type": "application/json", "Idempotency-Key": "roles-" + sub}
	}
	forwarder := mint("eport-forwarder-client", nil, []string{auth.ScopeReceipts})
	reader := mint("rita", []string{auth.GroupOpsRead}, nil)
	actor := mint("olga", []string{auth.GroupOps}, nil)
	shopper := mint("wang", nil, nil)
	path := func(p string) string {
		r := strings.NewReplacer("{id}", "01M0000000000000000000000", "{messageType}", "CEB303", "{queue}", "customs", "{messageId}", "m-1", "{partner}", "p")
		return r.Replace(p)
	}
	for _, rt := range httpapi.Routes {
		key := rt.Method + " " + rt.Path
		if httpapi.SignedRoutes[key] {
			continue
		}
		role := httpapi.RoleOf(key)
		for _, c := range []struct {
			who     string
			headers map[string]string
			allowed bool
		}{
			{"the forwarder", forwarder, role == httpapi.RoleReceipts},
			{"a read-only operator", reader, role == httpapi.RoleOpsRead || role == httpapi.RoleShopper},
			{"an acting operator", actor, true},
			{"a shopper", shopper, role == httpapi.RoleShopper},
		} {
			r := h.do(rt.Method, path(rt.Path), "", []byte(`{}`), c.headers)
			if forbidden := r.status == http.StatusForbidden; forbidden == c.allowed {
				t.Errorf("%s, %s: %d %s (allowed: %v)", key, c.who, r.status, r.body, c.allowed)
			}
		}
	}
}
