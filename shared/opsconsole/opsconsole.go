// Package opsconsole is the operations console: a static web page, served
// by the API at /ops/, that shows operations staff the orders per status,
// the stalled and stuck ones, an order's business side next to its
// workflow execution drawn as a timeline of steps, and the dead-letter
// queues; and lets them redrive, cancel and replay, each after a
// confirmation. The page is plain HTML, CSS and JavaScript modules embedded
// in the binary (no build step, nothing fetched from elsewhere); its data
// comes from the ops API (/v1/ops/…) with the operator's bearer token, so
// the files themselves are public.
package opsconsole

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strings"
)

// Prefix is where the console is mounted: Handler serves Prefix and the
// files under it.
const Prefix = "/ops/"

// Where operators sign in: the operators' user pool's hosted UI (in AWS,
// https://<domain>.auth.<region>.amazoncognito.com; locally its stand-in),
// and the console's client there. The api Lambda reads them from its
// environment (SignInFromEnv).
const (
	EnvSignInURL = "OPS_SIGNIN_URL"
	EnvClientID  = "OPS_CLIENT_ID"
)

//go:embed static
var static embed.FS

// Headers every answer carries. The page loads nothing but its own files
// and talks only to its own origin.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'",
	"X-Content-Type-Options":  "nosniff",
	"X-Frame-Options":         "DENY",
	"Referrer-Policy":         "no-referrer",
}

// contentTypes are the types of the files the console ships; a file of
// another kind is not served.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".svg":  "image/svg+xml",
}

type asset struct {
	body        []byte
	contentType string
	etag        string
}

// Assets lists the served paths (under Prefix, "" being the page itself)
// and their content types.
func Assets() map[string]string {
	out := map[string]string{}
	for p, a := range load() {
		out[p] = a.contentType
	}
	return out
}

// Files returns the embedded files by name, for tests that inspect them.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	return sub
}

func load() map[string]asset {
	assets := map[string]asset{}
	err := fs.WalkDir(Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			return fmt.Errorf("opsconsole: %s: no content type for this kind of file", p)
		}
		b, err := fs.ReadFile(Files(), p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		assets[p] = asset{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		panic(err)
	}
	assets[""] = assets["index.html"]
	return assets
}

// SignIn is where the console sends operators to sign in: the hosted UI's
// base URL (its /oauth2/authorize and /oauth2/token) and the console's
// client id there. Empty: no sign-in is configured, and the console asks
// for a bearer token instead (a developer's fallback, said so on the page).
type SignIn struct {
	URL      string `json:"url"`
	ClientID string `json:"clientId"`
}

// SignInFromEnv reads SignIn from EnvSignInURL and EnvClientID.
func SignInFromEnv() SignIn {
	return SignIn{URL: strings.TrimRight(os.Getenv(EnvSignInURL), "/"), ClientID: os.Getenv(EnvClientID)}
}

// Handler is NewHandler(SignInFromEnv()).
func Handler() http.Handler { return NewHandler(SignInFromEnv()) }

// NewHandler serves the console under Prefix: the page at Prefix, its
// files below it, and config.json (where to sign in). Answers are
// revalidated on every use (no build step means no fingerprinted names),
// cheaply through ETags. Anything else is 404. The page may talk to its own
// origin and to the sign-in's (to exchange its code for a token).
func NewHandler(signIn SignIn) http.Handler {
	assets := load()
	config, _ := json.Marshal(map[string]any{"signIn": signIn})
	sum := sha256.Sum256(config)
	assets["config.json"] = asset{body: config, contentType: "application/json", etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	csp := securityHeaders["Content-Security-Policy"] + "; connect-src 'self'"
	if u, err := url.Parse(signIn.URL); err == nil && u.Host != "" && (u.Scheme == "https" || u.Scheme == "http") {
		csp += " " + u.Scheme + "://" + u.Host
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		h.Set("Content-Security-Policy", csp)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			problem(w, http.StatusMethodNotAllowed, "The console's files are read with GET.")
			return
		}
		if r.URL.Path == strings.TrimSuffix(Prefix, "/") {
			http.Redirect(w, r, Prefix, http.StatusMovedPermanently)
			return
		}
		name, ok := strings.CutPrefix(r.URL.Path, Prefix)
		a, found := assets[name]
		if !ok || !found {
			problem(w, http.StatusNotFound, "No such file in the console.")
			return
		}
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Length", fmt.Sprint(len(a.body)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(a.body)
	})
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// problem writes an RFC 9457 problem, as the API does.
func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"type":%q,"title":%q,"status":%d,"detail":%q}`, problemTypes[status], http.StatusText(status), status, detail)
}

// problemTypes are the API's problem types (see shared/httpapi).
var problemTypes = map[int]string{
	http.StatusNotFound:         "/problems/not-found",
	http.StatusMethodNotAllowed: "/problems/method-not-allowed",
}
