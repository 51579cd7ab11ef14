package hostedui

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
)

// TestTOTPMatchesRFC6238: the RFC's SHA-1 test vectors (its 20-byte ASCII
// key "12345678901234567890", base32), last six digits.
func TestTOTPMatchesRFC6238(t *testing.T) {
	secret := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for unix, want := range map[int64]string{59: "287082", 1111111109: "081804", 1234567890: "005924", 2000000000: "279037"} {
		if got, err := TOTP(secret, time.Unix(unix, 0)); err != nil || got != want {
			t.Errorf("TOTP at %d = %s, %v; want %s", unix, got, err, want)
		}
	}
}

// TestCodeFlowWithPKCE: an operator signs in with password and TOTP code,
// the console exchanges the code with its verifier for a token the local
// authorizer accepts, with the operator's groups; a wrong verifier, a
// reused code, a reused TOTP code, an unregistered callback and a wrong
// password each fail, the last as an unknown user would.
func TestCodeFlowWithPKCE(t *testing.T) {
	cfg, err := Load("../operators.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := New(cfg, auth.DevSecret)
	s.Now = func() time.Time { return now }
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	verifier := "a-verifier-of-more-than-forty-three-characters-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	callback := "http://127.0.0.1:45678/ops/" // any loopback port
	authorize := srv.URL + "/oauth2/authorize?" + url.Values{"response_type": {"code"}, "client_id": {"local-ops-console"},
		"redirect_uri": {callback}, "state": {"s-1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}.Encode()
	if r, _ := http.Get(authorize); r.StatusCode != http.StatusOK {
		t.Fatalf("authorize: %d", r.StatusCode)
	}
	if r, _ := http.Get(strings.Replace(authorize, url.QueryEscape(callback), url.QueryEscape("https://evil.example/ops/"), 1)); r.StatusCode != http.StatusBadRequest {
		t.Errorf("an unregistered callback: %d, want 400 (no redirect)", r.StatusCode)
	}
	login := func(user, password, code string) *http.Response {
		r, err := noRedirect.PostForm(srv.URL+"/login", url.Values{"client_id": {"local-ops-console"}, "redirect_uri": {callback},
			"state": {"s-1"}, "code_challenge": {challenge}, "username": {user}, "password": {password}, "totp": {code}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	code, _ := TOTP("JBSWY3DPEHPK3PXP", now)
	bad, _ := io.ReadAll(login("olga@ops.xborder.local", "wrong", code).Body)
	unknown, _ := io.ReadAll(login("nobody@ops.xborder.local", "wrong", code).Body)
	if !strings.Contains(string(bad), "Incorrect username, password or code.") || string(bad) != string(unknown) {
		t.Errorf("a wrong password and an unknown user are told apart")
	}
	r := login("olga@ops.xborder.local", "Local-operator-1!", code)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), callback) || loc.Query().Get("state") != "s-1" || loc.Query().Get("code") == "" {
		t.Fatalf("sign-in: %d %s", r.StatusCode, loc)
	}
	if again := login("olga@ops.xborder.local", "Local-operator-1!", code); again.StatusCode != http.StatusUnauthorized {
		t.Errorf("the same TOTP code twice: %d, want 401", again.StatusCode)
	}
	exchange := func(code, verifier string) (int, tokenResponse) {
		r, err := http.PostForm(srv.URL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"local-ops-console"},
			"code": {code}, "redirect_uri": {callback}, "code_verifier": {verifier}})
		if err != nil {
			t.Fatal(err)
		}
		var tr tokenResponse
		_ = json.NewDecoder(r.Body).Decode(&tr)
		return r.StatusCode, tr
	}
	if st, _ := exchange(loc.Query().Get("code"), verifier+"x"); st != http.StatusBadRequest {
		t.Errorf("a wrong verifier: %d, want 400", st)
	}
	// The failed exchange used the code up, as Cognito does: sign in again.
	now = now.Add(30 * time.Second)
	code, _ = TOTP("JBSWY3DPEHPK3PXP", now)
	loc, _ = url.Parse(login("olga@ops.xborder.local", "Local-operator-1!", code).Header.Get("Location"))
	st, tr := exchange(loc.Query().Get("code"), verifier)
	if st != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("exchange: %d", st)
	}
	if st, _ := exchange(loc.Query().Get("code"), verifier); st != http.StatusBadRequest {
		t.Errorf("a code used twice: %d", st)
	}
	local, _ := auth.NewLocalHS256(auth.DevSecret)
	req := httptest.NewRequest(http.MethodGet, "/v1/ops/summary", nil)
	req.Header.Set("Authorization", "Bearer "+tr.AccessToken)
	if id, err := local.Authenticate(req); err != nil || id.Subject != "olga" || !id.InGroup(auth.GroupOps) || id.Machine() {
		t.Errorf("the console's token: %+v %v", id, err)
	}
}

// TestClientCredentials: the forwarder gets a token with its scope only.
func TestClientCredentials(t *testing.T) {
	cfg, err := Load("../operators.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(New(cfg, auth.DevSecret).Handler())
	defer srv.Close()
	get := func(id, secret, scope string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/oauth2/token", strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var tr tokenResponse
		_ = json.NewDecoder(r.Body).Decode(&tr)
		return r.StatusCode, tr.AccessToken
	}
	st, tok := get("local-eport-forwarder", "local-forwarder-secret", auth.ScopeReceipts)
	local, _ := auth.NewLocalHS256(auth.DevSecret)
	req := httptest.NewRequest(http.MethodPost, "/v1/ops/customs/receipts", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	id, err := local.Authenticate(req)
	if st != http.StatusOK || err != nil || !id.HasScope(auth.ScopeReceipts) || !id.Machine() || len(id.Groups) != 0 {
		t.Fatalf("forwarder token: %d %+v %v", st, id, err)
	}
	if st, _ := get("local-eport-forwarder", "wrong", ""); st != http.StatusUnauthorized {
		t.Errorf("a wrong secret: %d", st)
	}
	if st, _ := get("local-eport-forwarder", "local-forwarder-secret", "xborder-ops/everything"); st != http.StatusBadRequest {
		t.Errorf("a scope not granted: %d", st)
	}
	if st, _ := get("local-ops-console", "", ""); st != http.StatusUnauthorized {
		t.Errorf("the public console client: %d", st)
	}
}
