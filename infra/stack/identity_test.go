package stack

import (
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/httpapi"
)

// TestOperatorsSignInAsOperatorsExpect: operators have a pool of their own
// with a second factor always (TOTP, never SMS) and no self-service
// recovery; no client of either pool uses the implicit grant, keeps CDK's
// example.com callback or tells whether a user exists; the console is a
// public client of the code flow (PKCE), the E-Port forwarder a
// confidential one with one scope; and each route is behind its pool's
// authorizer.
func TestOperatorsSignInAsOperatorsExpect(t *testing.T) {
	pools := resources("AWS::Cognito::UserPool")
	if len(pools) != 2 {
		t.Fatalf("%d user pools, want the shoppers' and the operators'", len(pools))
	}
	var opsPool string
	for id, p := range pools {
		if p["UserPoolName"] == "xborder-operators" {
			opsPool = id
			if p["MfaConfiguration"] != "ON" || js(p["EnabledMfas"]) != `["SOFTWARE_TOKEN_MFA"]` {
				t.Errorf("operators' MFA: %v %v, want ON with TOTP only", p["MfaConfiguration"], p["EnabledMfas"])
			}
			if !strings.Contains(js(p["AccountRecoverySetting"]), "admin_only") {
				t.Errorf("operators' recovery: %s, want an administrator's only", js(p["AccountRecoverySetting"]))
			}
			if pw := p["Policies"].(map[string]any)["PasswordPolicy"].(map[string]any); pw["MinimumLength"].(float64) < 14 {
				t.Errorf("operators' passwords: %v", pw)
			}
		} else if p["MfaConfiguration"] == "ON" {
			t.Errorf("the shoppers' pool requires MFA: the apps do not ask for it")
		}
	}
	if opsPool == "" {
		t.Fatal("no operators' pool")
	}
	clients := resources("AWS::Cognito::UserPoolClient")
	if len(clients) != 3 {
		t.Fatalf("%d clients, want the app's, the console's and the forwarder's", len(clients))
	}
	var console, forwarder bool
	for id, c := range clients {
		if c["PreventUserExistenceErrors"] != "ENABLED" {
			t.Errorf("%s tells whether a user exists", id)
		}
		flows := js(c["AllowedOAuthFlows"])
		if strings.Contains(flows, "implicit") || strings.Contains(js(c["CallbackURLs"]), "example.com") {
			t.Errorf("%s: flows %s, callbacks %s", id, flows, js(c["CallbackURLs"]))
		}
		onOps := strings.Contains(js(c["UserPoolId"]), opsPool)
		switch {
		case onOps && flows == `["code"]`:
			console = true
			if c["GenerateSecret"] == true || !strings.Contains(js(c["CallbackURLs"]), "/ops/") {
				t.Errorf("the console's client: secret %v, callbacks %s", c["GenerateSecret"], js(c["CallbackURLs"]))
			}
		case onOps && flows == `["client_credentials"]`:
			forwarder = true
			// The scope is the resource server's identifier (a Ref) and its name.
			_, name, _ := strings.Cut(auth.ScopeReceipts, "/")
			if scopes := js(c["AllowedOAuthScopes"]); c["GenerateSecret"] != true || strings.Count(scopes, "Fn::Join") != 1 || !strings.Contains(scopes, `"/`+name+`"`) {
				t.Errorf("the forwarder's client: secret %v, scopes %s", c["GenerateSecret"], js(c["AllowedOAuthScopes"]))
			}
		case onOps:
			t.Errorf("an operators' client of flows %s", flows)
		}
	}
	if !console || !forwarder {
		t.Errorf("console client %v, forwarder client %v", console, forwarder)
	}
	groups := map[string]bool{}
	for _, g := range resources("AWS::Cognito::UserPoolGroup") {
		if strings.Contains(js(g["UserPoolId"]), opsPool) {
			groups[g["GroupName"].(string)] = true
		}
	}
	if !groups[auth.GroupOps] || !groups[auth.GroupOpsRead] {
		t.Errorf("operators' groups %v", groups)
	}
	// Each authorizer trusts one pool; the ops routes are behind the
	// operators', the others (but the signed ones) behind the shoppers'.
	byPool := map[string]string{}
	for id, a := range resources("AWS::ApiGatewayV2::Authorizer") {
		if strings.Contains(js(a["JwtConfiguration"]), opsPool) {
			byPool[id] = "operators"
		} else {
			byPool[id] = "shoppers"
		}
	}
	for _, r := range resources("AWS::ApiGatewayV2::Route") {
		key := r["RouteKey"].(string)
		if r["AuthorizationType"] != "JWT" {
			continue
		}
		want := "shoppers"
		if httpapi.OpsRoute(key) {
			want = "operators"
		}
		ref, _ := r["AuthorizerId"].(map[string]any)["Ref"].(string)
		if byPool[ref] != want {
			t.Errorf("%s is behind the %q authorizer, want the %s'", key, byPool[ref], want)
		}
	}
}
