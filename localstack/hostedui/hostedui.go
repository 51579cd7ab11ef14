// Package hostedui stands in, on the local stack, for the operators' user
// pool's hosted UI (Cognito's managed login): the OAuth 2.0 authorization
// code flow with PKCE (S256) that the ops console uses, at Cognito's paths
// (/oauth2/authorize, /login, /oauth2/token, /logout), a second factor
// (TOTP, RFC 6238) for every operator as the operators' pool requires,
// and the client-credentials grant of the E-Port receipt forwarder. Its
// tokens are the local stack's HS256 tokens (auth.MintLocalClaims), which
// the local API Gateway's authorizer accepts, with Cognito's claims
// (sub, cognito:groups, client_id, scope, token_use).
//
// Its operators and clients come from a file (localstack/operators.json):
// development accounts that protect nothing, documented in the README.
package hostedui

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/auth"
)

// User is an operator who may sign in.
type User struct {
	Username string `json:"username"`
	Password string `json:"password"`
	// TOTPSecret is the base32 secret of the operator's authenticator app.
	TOTPSecret string   `json:"totpSecret"`
	Sub        string   `json:"sub"`
	Groups     []string `json:"groups"`
}

// Client is an application of the pool.
type Client struct {
	ID string `json:"id"`
	// Secret is a confidential client's (client credentials); a public
	// client (the console) has none and must use PKCE.
	Secret string `json:"secret,omitempty"`
	// RedirectURIs are the registered callbacks. LoopbackRedirects also
	// allows http://127.0.0.1:<any port><path> and http://localhost:…
	// for each registered path, as RFC 8252 does for loopback
	// redirects: the local stack's API listens on a port chosen per run.
	RedirectURIs      []string `json:"redirectUris,omitempty"`
	LoopbackRedirects bool     `json:"loopbackRedirects,omitempty"`
	// Scopes a client-credentials token may carry.
	Scopes []string `json:"scopes,omitempty"`
}

// Config is the pool: its operators and clients.
type Config struct {
	Users   []User   `json:"users"`
	Clients []Client `json:"clients"`
}

// Load reads a Config from a JSON file.
func Load(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, fmt.Errorf("hostedui: %s: %w", path, err)
	}
	return c, nil
}

// TokenTTL is how long an access token lives (the operators' pool's
// setting); a code lives CodeTTL.
const (
	TokenTTL = time.Hour
	CodeTTL  = 5 * time.Minute
)

// Server is the stand-in.
type Server struct {
	cfg    Config
	secret string
	// Now is the clock (time.Now by default).
	Now func() time.Time

	mu       sync.Mutex
	codes    map[string]grant
	lastStep map[string]int64 // per user: the last TOTP step used (no replay)
}

// grant is an authorization code's promise.
type grant struct {
	client, redirect, challenge string
	user                        User
	expires                     time.Time
}

// New serves cfg, signing tokens with jwtSecret.
func New(cfg Config, jwtSecret string) *Server {
	return &Server{cfg: cfg, secret: jwtSecret, Now: time.Now, codes: map[string]grant{}, lastStep: map[string]int64{}}
}

// Handler serves Cognito's paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oauth2/authorize", s.authorize)
	mux.HandleFunc("GET /login", s.authorize)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /oauth2/token", s.token)
	mux.HandleFunc("OPTIONS /oauth2/token", s.token)
	mux.HandleFunc("GET /logout", s.logout)
	return mux
}

func (s *Server) client(id string) (Client, bool) {
	i := slices.IndexFunc(s.cfg.Clients, func(c Client) bool { return c.ID == id })
	if i < 0 {
		return Client{}, false
	}
	return s.cfg.Clients[i], true
}

// redirectAllowed reports whether uri is one of c's callbacks.
func (c Client) redirectAllowed(uri string) bool {
	if slices.Contains(c.RedirectURIs, uri) {
		return true
	}
	u, err := url.Parse(uri)
	if err != nil || !c.LoopbackRedirects || u.Scheme != "http" || (u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
		return false
	}
	for _, r := range c.RedirectURIs {
		if ru, err := url.Parse(r); err == nil && ru.Path == u.Path && u.RawQuery == "" && u.Fragment == "" {
			return true
		}
	}
	return false
}

// authParams are the authorization request's parameters, carried through
// the sign-in form.
type authParams struct {
	ClientID, RedirectURI, State, Challenge, Scope string
}

func paramsOf(v url.Values) authParams {
	return authParams{ClientID: v.Get("client_id"), RedirectURI: v.Get("redirect_uri"), State: v.Get("state"),
		Challenge: v.Get("code_challenge"), Scope: v.Get("scope")}
}

// check validates an authorization request. An unknown client or an
// unregistered callback gets an error page, never a redirect.
func (s *Server) check(w http.ResponseWriter, v url.Values) (authParams, bool) {
	p := paramsOf(v)
	c, ok := s.client(p.ClientID)
	switch {
	case !ok || !c.redirectAllowed(p.RedirectURI):
		page(w, http.StatusBadRequest, "Unknown application or callback URL.")
		return p, false
	case v.Get("response_type") != "code":
		page(w, http.StatusBadRequest, "Only the authorization code flow (response_type=code) is offered.")
		return p, false
	case c.Secret == "" && (p.Challenge == "" || v.Get("code_challenge_method") != "S256"):
		page(w, http.StatusBadRequest, "A public client must use PKCE (code_challenge with code_challenge_method=S256).")
		return p, false
	}
	return p, true
}

func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	p, ok := s.check(w, r.URL.Query())
	if !ok {
		return
	}
	form(w, http.StatusOK, p, "")
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		page(w, http.StatusBadRequest, "The sign-in form could not be read.")
		return
	}
	v := r.PostForm
	v.Set("response_type", "code")
	v.Set("code_challenge_method", "S256")
	p, ok := s.check(w, v)
	if !ok {
		return
	}
	u, ok := s.signIn(v.Get("username"), v.Get("password"), v.Get("totp"))
	if !ok {
		// The same answer whether the user exists or not.
		form(w, http.StatusUnauthorized, p, "Incorrect username, password or code.")
		return
	}
	code := random()
	s.mu.Lock()
	s.codes[code] = grant{client: p.ClientID, redirect: p.RedirectURI, challenge: p.Challenge, user: u, expires: s.Now().Add(CodeTTL)}
	s.mu.Unlock()
	back, _ := url.Parse(p.RedirectURI)
	q := back.Query()
	q.Set("code", code)
	if p.State != "" {
		q.Set("state", p.State)
	}
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// signIn checks an operator's password and current TOTP code (this step
// or the one either side, each step used once).
func (s *Server) signIn(username, password, code string) (User, bool) {
	i := slices.IndexFunc(s.cfg.Users, func(u User) bool { return strings.EqualFold(u.Username, username) })
	if i < 0 {
		return User{}, false
	}
	u := s.cfg.Users[i]
	if subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		return User{}, false
	}
	now := s.Now().Unix() / 30
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, step := range []int64{now, now - 1, now + 1} {
		want, err := totpAt(u.TOTPSecret, step)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > s.lastStep[u.Username] {
			s.lastStep[u.Username] = step
			return u, true
		}
	}
	return User{}, false
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	// Cognito's token endpoint answers browsers of any origin: the console
	// exchanges its code from its own page.
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Cache-Control", "no-store")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	v := r.PostForm
	now := s.Now()
	switch v.Get("grant_type") {
	case "authorization_code":
		s.mu.Lock()
		g, ok := s.codes[v.Get("code")]
		delete(s.codes, v.Get("code")) // used once, whatever the outcome
		s.mu.Unlock()
		sum := sha256.Sum256([]byte(v.Get("code_verifier")))
		switch {
		case !ok || now.After(g.expires) || g.client != v.Get("client_id") || g.redirect != v.Get("redirect_uri"):
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		case base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge:
			oauthError(w, http.StatusBadRequest, "invalid_grant")
			return
		}
		access, err := auth.MintLocalClaims(s.secret, g.user.Sub, g.user.Groups, []string{"openid", "email"}, TokenTTL, now,
			map[string]any{"client_id": g.client, "username": g.user.Username})
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error")
			return
		}
		id, _ := auth.MintLocalClaims(s.secret, g.user.Sub, g.user.Groups, nil, TokenTTL, now,
			map[string]any{"aud": g.client, "email": g.user.Username, "token_use": "id"})
		writeJSON(w, tokenResponse{AccessToken: access, IDToken: id, TokenType: "Bearer", ExpiresIn: int(TokenTTL.Seconds())})
	case "client_credentials":
		id, secret, ok := r.BasicAuth()
		c, known := s.client(id)
		if !ok || !known || c.Secret == "" || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
			oauthError(w, http.StatusUnauthorized, "invalid_client")
			return
		}
		scopes := strings.Fields(v.Get("scope"))
		if len(scopes) == 0 {
			scopes = c.Scopes
		}
		for _, sc := range scopes {
			if !slices.Contains(c.Scopes, sc) {
				oauthError(w, http.StatusBadRequest, "invalid_scope")
				return
			}
		}
		access, err := auth.MintLocalClaims(s.secret, c.ID, nil, scopes, TokenTTL, now, map[string]any{"client_id": c.ID})
		if err != nil {
			oauthError(w, http.StatusInternalServerError, "server_error")
			return
		}
		writeJSON(w, tokenResponse{AccessToken: access, TokenType: "Bearer", ExpiresIn: int(TokenTTL.Seconds())})
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// logout ends the hosted UI's session (it keeps none) and goes back to a
// registered logout URL.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	c, ok := s.client(q.Get("client_id"))
	if !ok || !c.redirectAllowed(q.Get("logout_uri")) {
		page(w, http.StatusBadRequest, "Unknown application or logout URL.")
		return
	}
	http.Redirect(w, r, q.Get("logout_uri"), http.StatusFound)
}

// TOTP is the current code of an authenticator app with the base32
// secret (RFC 6238: HMAC-SHA1, 30-second steps, six digits).
func TOTP(secret string, at time.Time) (string, error) { return totpAt(secret, at.Unix()/30) }

func totpAt(secret string, step int64) (string, error) {
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(strings.TrimRight(secret, "=")))
	if err != nil || len(key) == 0 {
		return "", fmt.Errorf("hostedui: a TOTP secret is base32: %v", err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	n := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", n%1_000_000), nil
}

func random() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

var pages = template.Must(template.New("form").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in · xborder operators (local)</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.4rem;font:inherit}button{margin-top:1rem;padding:.5rem 1rem;font:inherit}.error{color:#a00}.note{color:#555;font-size:.85rem}</style>
</head><body>
<h1>xborder operators</h1>
<p class="note">Local stand-in of the operators' hosted sign-in (authorization code with PKCE, a second factor always).</p>
{{if .Error}}<p class="error" role="alert" data-testid="signin-error">{{.Error}}</p>{{end}}
{{if .Params}}<form method="post" action="/login">
<input type="hidden" name="client_id" value="{{.Params.ClientID}}">
<input type="hidden" name="redirect_uri" value="{{.Params.RedirectURI}}">
<input type="hidden" name="state" value="{{.Params.State}}">
<input type="hidden" name="code_challenge" value="{{.Params.Challenge}}">
<input type="hidden" name="scope" value="{{.Params.Scope}}">
<label for="username">Email</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<label for="totp">Code from your authenticator app</label><input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
<button type="submit" id="signin">Sign in</button>
</form>{{end}}
</body></html>`))

// form is the sign-in form. Its answer redirects to the client's callback,
// which the page's form-action allows (browsers check redirects too).
func form(w http.ResponseWriter, status int, p authParams, msg string) {
	action := "'self'"
	if u, err := url.Parse(p.RedirectURI); err == nil && u.Host != "" {
		action += " " + u.Scheme + "://" + u.Host
	}
	render(w, status, action, map[string]any{"Params": p, "Error": msg})
}

func page(w http.ResponseWriter, status int, msg string) {
	render(w, status, "'none'", map[string]any{"Error": msg})
}

func render(w http.ResponseWriter, status int, formAction string, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action "+formAction+"; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = pages.Execute(w, data)
}
