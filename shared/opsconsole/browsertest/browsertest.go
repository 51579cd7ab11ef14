// Package browsertest drives the ops console in Debian's chromium, headless,
// for the tests of the console and of the local stack. It is imported by
// tests only.
package browsertest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// Chromium is the browser the tests drive: Debian's package, which
// `make tools` installs.
const Chromium = "/usr/bin/chromium"

// Wait bounds every wait of a test.
const Wait = 60 * time.Second

// Browser is one headless chromium with one tab.
type Browser struct {
	ctx    context.Context
	origin string
	// also are other origins the tab may load (the sign-in page's).
	also []string

	mu       sync.Mutex
	problems []string
}

// Start launches chromium with a fresh profile under t.TempDir() and stops
// it when the test ends. The tab may load only origin (scheme://host:port):
// a request anywhere else is a problem Check reports, and host names other
// than loopback do not even resolve. A missing chromium fails the test.
func Start(t testing.TB, origin string) *Browser {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		t.Fatalf("%s is missing: run `make tools`, which installs Debian's chromium (as root: apt-get install -y chromium)", Chromium)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("no-proxy-server", true),
		// Nothing leaves the machine: only loopback resolves.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1"),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1440, 1000),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc, chromedp.WithLogf(t.Logf))
	// Cleanups run last-in first-out: the browser stops before its profile
	// directory is removed.
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, without a deadline
		t.Fatalf("start %s: %v", Chromium, err)
	}
	b := &Browser{ctx: ctx, origin: strings.TrimSuffix(origin, "/")}
	messages := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// A refused request (a 409 the page reports, say) is the
			// network's message, not the page's fault.
			if m.IsException() || (m.Type == chromedp.ConsoleError && m.Source != "network") {
				b.problem(fmt.Sprintf("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			}
		}
	}()
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			if ev.Request != nil && !b.allowed(ev.Request.URL) {
				b.problem("request outside the test server: " + ev.Request.URL)
			}
		}
	}()
	return b
}

func (b *Browser) allowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	switch u.Scheme {
	case "data", "about", "blob":
		return true
	}
	o := u.Scheme + "://" + u.Host
	b.mu.Lock()
	defer b.mu.Unlock()
	return o == b.origin || slices.Contains(b.also, o)
}

// Allow lets the tab load origin too (the operators' sign-in page).
func (b *Browser) Allow(origin string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.also = append(b.also, strings.TrimSuffix(origin, "/"))
}

func (b *Browser) problem(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.problems = append(b.problems, s)
}

// Check fails the test for every uncaught exception, console error (a
// Content-Security-Policy violation among them) and request to another
// origin seen so far.
func (b *Browser) Check(t testing.TB) {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the event readers catch up
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range b.problems {
		t.Error(p)
	}
}

// Action is a step in the tab.
type Action = chromedp.Action[chromedp.Void]

// OpenByID opens an order through the page's "Order id" form.
func OpenByID(id string) []Action {
	return []Action{
		chromedp.SetValue(chromedp.CSS(`[data-testid="open-id"]`), id),
		chromedp.Click(chromedp.CSS(`[data-testid="open-form"] button`), chromedp.NodeVisible),
	}
}

// Do runs the actions within Wait, failing the test with what as context.
func (b *Browser) Do(t testing.TB, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Wait)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fail(t, what, err)
	}
}

// fail reports err and, for the person reading the failure, the visible
// text of the page and a screenshot next to the test's others.
func (b *Browser) fail(t testing.TB, what string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	if len(text) > 4000 {
		text = text[:4000] + "…"
	}
	t.Fatalf("%s: %v\n--- the page said:\n%s", what, err, text)
}

// Eval evaluates a JavaScript expression within Wait.
func Eval[T any](t testing.TB, b *Browser, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Wait)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.fail(t, "evaluate "+expr, err)
	}
	return v
}

// Until waits, at most Wait, until the JavaScript expression is truthy.
func (b *Browser) Until(t testing.TB, what, expr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Wait+5*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(Wait)))
	if err != nil {
		b.fail(t, "waiting until "+what, err)
	}
}

// Click clicks the first visible element the CSS selector finds.
func (b *Browser) Click(t testing.TB, sel string) {
	t.Helper()
	b.Do(t, "click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// SignInExpectingError loads the console, submits token and waits for the
// form to refuse it.
func (b *Browser) SignInExpectingError(t testing.TB, base, token string) {
	t.Helper()
	b.load(t, base, token)
	b.Until(t, "the sign-in is refused", `!document.getElementById('signin-error').hidden && document.getElementById('console').hidden`)
}

func (b *Browser) load(t testing.TB, base, token string) {
	t.Helper()
	b.Do(t, "load the console and submit the token", chromedp.Navigate(strings.TrimSuffix(base, "/")+"/ops/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="token-input"]`)),
		chromedp.SetValue(chromedp.CSS(`[data-testid="token-input"]`), token),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-button"]`), chromedp.NodeVisible))
}

// SignIn loads the console at base (the API's URL), pastes token into the
// sign-in form and waits for the counts.
func (b *Browser) SignIn(t testing.TB, base, token string) {
	t.Helper()
	b.load(t, base, token)
	b.Until(t, "the counts show", `document.querySelector('[data-testid="count-STALLED"]')?.dataset.count !== undefined && !document.getElementById('console').hidden`)
}

// SignInHosted loads the console at base (the API's URL) and signs in as
// an operator would: the console's Sign in button, the hosted sign-in
// page (at signIn, which the tab is allowed to load) with the username,
// password and the authenticator's current code, back to the console with
// its code exchanged for a token; it waits for the counts.
func (b *Browser) SignInHosted(t testing.TB, base, signIn, username, password string, code func() string) {
	t.Helper()
	b.Allow(signIn)
	b.Do(t, "load the console and go to the sign-in page", chromedp.Navigate(strings.TrimSuffix(base, "/")+"/ops/"),
		chromedp.Click(chromedp.CSS(`[data-testid="signin-start"]`), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#username")))
	b.Do(t, "sign in with a password and a TOTP code",
		chromedp.SetValue(chromedp.CSS("#username"), username),
		chromedp.SetValue(chromedp.CSS("#password"), password),
		chromedp.SetValue(chromedp.CSS("#totp"), code()),
		chromedp.Click(chromedp.CSS("#signin"), chromedp.NodeVisible),
		// Back on the console (a navigation): its page, signed in.
		chromedp.WaitVisible(chromedp.CSS(`[data-testid="count-STALLED"]`)))
	b.Until(t, "the counts show", `document.querySelector('[data-testid="count-STALLED"]')?.dataset.count !== undefined && !document.getElementById('console').hidden`)
	if loc := Eval[string](t, b, `location.search`); loc != "" {
		t.Errorf("the code stays in the address bar: %s", loc)
	}
}

// Count is the number the page shows on a status's card.
func (b *Browser) Count(t testing.TB, status string) int {
	t.Helper()
	s := Eval[string](t, b, fmt.Sprintf(`document.querySelector('[data-testid="count-%s"]')?.dataset.count ?? ''`, status))
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("count of %s: %q", status, s)
	}
	return n
}

// Screenshot saves a PNG of the whole page to path, creating its folder.
func (b *Browser) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Wait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

// Q quotes s as a JavaScript string literal.
func Q(s string) string { return strconv.Quote(s) }
