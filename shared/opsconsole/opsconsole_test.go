package opsconsole_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/opsconsole"
)

func get(t *testing.T, h http.Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestEveryAssetIsServedWithItsTypeAndHeaders(t *testing.T) {
	h := opsconsole.Handler()
	want := map[string]string{
		"":            "text/html; charset=utf-8",
		"index.html":  "text/html; charset=utf-8",
		"console.css": "text/css; charset=utf-8",
		"app.js":      "text/javascript; charset=utf-8",
		"api.js":      "text/javascript; charset=utf-8",
		"format.js":   "text/javascript; charset=utf-8",
		"favicon.svg": "image/svg+xml",
	}
	assets := opsconsole.Assets()
	for name := range assets {
		if _, ok := want[name]; !ok {
			t.Errorf("asset %q is served but not checked here", name)
		}
	}
	for name, ct := range want {
		if assets[name] != ct {
			t.Errorf("Assets()[%q] = %q, want %q", name, assets[name], ct)
		}
		w := get(t, h, http.MethodGet, opsconsole.Prefix+name)
		if w.Code != http.StatusOK {
			t.Errorf("GET %s: %d", opsconsole.Prefix+name, w.Code)
			continue
		}
		hd := w.Header()
		if got := hd.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ct)
		}
		if csp := hd.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'self'") ||
			!strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe") {
			t.Errorf("%s: Content-Security-Policy %q", name, csp)
		}
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Cache-Control") != "no-cache" ||
			hd.Get("Referrer-Policy") != "no-referrer" || hd.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", name, hd)
		}
		if w.Body.Len() == 0 || hd.Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
			t.Errorf("%s: %d bytes, Content-Length %q", name, w.Body.Len(), hd.Get("Content-Length"))
		}
		// Revalidation is cheap: the same ETag gives 304 and no body.
		etag := hd.Get("ETag")
		if etag == "" {
			t.Errorf("%s: no ETag", name)
			continue
		}
		if w := get(t, h, http.MethodGet, opsconsole.Prefix+name, "If-None-Match", etag); w.Code != http.StatusNotModified || w.Body.Len() != 0 {
			t.Errorf("%s: If-None-Match %s → %d with %d bytes", name, etag, w.Code, w.Body.Len())
		}
		if w := get(t, h, http.MethodHead, opsconsole.Prefix+name); w.Code != http.StatusOK || w.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d with %d bytes", name, w.Code, w.Body.Len())
		}
	}
}

func TestUnknownPathsAndMethods(t *testing.T) {
	h := opsconsole.Handler()
	for _, p := range []string{"/ops/nope.js", "/ops/static/app.js", "/ops/../go.mod", "/ops/app.js/", "/elsewhere", "/ops/.hidden"} {
		w := get(t, h, http.MethodGet, p)
		if w.Code != http.StatusNotFound || w.Header().Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s", p, w.Code, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Content-Security-Policy") == "" || w.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: 404 without the security headers", p)
		}
	}
	if w := get(t, h, http.MethodPost, "/ops/"); w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /ops/: %d Allow %q", w.Code, w.Header().Get("Allow"))
	}
	if w := get(t, h, http.MethodGet, "/ops"); w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/ops/" {
		t.Errorf("GET /ops: %d → %q", w.Code, w.Header().Get("Location"))
	}
}

// TestNothingLeavesTheMachine: the files load nothing from elsewhere — no
// URL with a scheme, no protocol-relative reference, no @import or font.
func TestNothingLeavesTheMachine(t *testing.T) {
	// The SVG namespace is a name, never fetched; httpStatus is a field of
	// the API's answers; object URLs name a Blob in the page (a download).
	allowed := strings.NewReplacer(`xmlns="http://www.w3.org/2000/svg"`, "", "httpStatus", "",
		"URL.createObjectURL(", "", "URL.revokeObjectURL(", "")
	external := regexp.MustCompile(`(?i)(https?:|wss?:|ftp:|//[a-z0-9.-]+\.[a-z]{2,}|@import|@font-face|url\()`)
	walk(t, func(name string, body string) {
		for i, line := range strings.Split(allowed.Replace(body), "\n") {
			if strings.Contains(strings.ToLower(line), "http") {
				t.Errorf("%s:%d mentions http: %s", name, i+1, strings.TrimSpace(line))
			}
			if m := external.FindString(line); m != "" {
				t.Errorf("%s:%d refers outside: %q in %s", name, i+1, m, strings.TrimSpace(line))
			}
		}
	})
}

// TestUntrustedTextIsNeverHTML: the scripts build the page with
// textContent and attributes only, and run no strings as code.
func TestUntrustedTextIsNeverHTML(t *testing.T) {
	banned := regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function|setTimeout\(\s*['"\x60]|DOMParser|createContextualFragment|srcdoc`)
	walk(t, func(name, body string) {
		if !strings.HasSuffix(name, ".js") {
			return
		}
		for i, line := range strings.Split(body, "\n") {
			if m := banned.FindString(line); m != "" {
				t.Errorf("%s:%d uses %s", name, i+1, m)
			}
		}
	})
	// No inline script or style, which the policy would block anyway.
	index := read(t, "index.html")
	for _, bad := range []string{"<script>", " style=", " onclick=", " onload=", " onsubmit=", "javascript:"} {
		if strings.Contains(index, bad) {
			t.Errorf("index.html has %q", bad)
		}
	}
}

// TestReferencesResolve: every file the page or a module refers to is
// served, and every element id the scripts look up is in the page.
func TestReferencesResolve(t *testing.T) {
	assets := opsconsole.Assets()
	index := read(t, "index.html")
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"#]+)"`).FindAllStringSubmatch(index, -1) {
		if _, ok := assets[m[1]]; !ok {
			t.Errorf("index.html refers to %q, which is not served", m[1])
		}
	}
	ids := map[string]bool{}
	for _, m := range regexp.MustCompile(`\sid="([^"]+)"`).FindAllStringSubmatch(index, -1) {
		if ids[m[1]] {
			t.Errorf("index.html: id %q twice", m[1])
		}
		ids[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`\s(?:for|aria-labelledby|aria-describedby)="([^"]+)"`).FindAllStringSubmatch(index, -1) {
		for _, id := range strings.Fields(m[1]) {
			if !ids[id] {
				t.Errorf("index.html refers to id %q, which it lacks", id)
			}
		}
	}
	walk(t, func(name, body string) {
		if !strings.HasSuffix(name, ".js") {
			return
		}
		for _, m := range regexp.MustCompile(`from '\./([^']+)'`).FindAllStringSubmatch(body, -1) {
			if _, ok := assets[m[1]]; !ok {
				t.Errorf("%s imports %q, which is not served", name, m[1])
			}
		}
		for _, m := range regexp.MustCompile(`\$\('([^']+)'\)`).FindAllStringSubmatch(body, -1) {
			if !ids[m[1]] {
				t.Errorf("%s looks up #%s, which index.html lacks", name, m[1])
			}
		}
	})
	// Every form control has a label.
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)\s[^>]*?\sid="([^"]+)"`).FindAllStringSubmatch(index, -1) {
		if !strings.Contains(index, `for="`+m[1]+`"`) {
			t.Errorf("control #%s has no label", m[1])
		}
	}
}

func walk(t *testing.T, f func(name, body string)) {
	t.Helper()
	n := 0
	err := fs.WalkDir(opsconsole.Files(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		f(p, read(t, p))
		return nil
	})
	if err != nil || n < 5 {
		t.Fatalf("walked %d files: %v", n, err)
	}
}

func read(t *testing.T, name string) string {
	t.Helper()
	f, err := opsconsole.Files().Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTheAPIServesTheConsole: the API mounts the console at /ops/ without
// asking for a token, while its ops API still does.
func TestTheAPIServesTheConsole(t *testing.T) {
	authn, err := auth.NewLocalHS256(auth.DevSecret)
	if err != nil {
		t.Fatal(err)
	}
	api := httpapi.New(httpapi.Config{Store: memstore.New(), Auth: authn})
	w := get(t, api, http.MethodGet, "/ops/")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<script type="module" src="app.js">`) ||
		!strings.HasPrefix(w.Header().Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("GET /ops/: %d %v", w.Code, w.Header())
	}
	if w := get(t, api, http.MethodGet, "/ops/app.js"); w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/javascript; charset=utf-8" {
		t.Errorf("GET /ops/app.js: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	if w := get(t, api, http.MethodGet, "/ops"); w.Code/100 != 3 || w.Header().Get("Location") != "/ops/" {
		t.Errorf("GET /ops: %d → %q", w.Code, w.Header().Get("Location"))
	}
	if w := get(t, api, http.MethodGet, "/ops/nope"); w.Code != http.StatusNotFound {
		t.Errorf("GET /ops/nope: %d", w.Code)
	}
	if w := get(t, api, http.MethodGet, "/v1/ops/summary"); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/ops/summary without a token: %d", w.Code)
	}
}
