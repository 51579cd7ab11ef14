package stack

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/localstack/hostedui"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/opsconsole/browsertest"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// TestOpsConsoleRedrivesAStalledOrder is an operator's session in the ops
// console, in Debian's chromium, against the shared local pipeline: an
// order whose payment fails transiently more often than the workflow
// retries stalls; from the page alone the operator sees it counted, opens
// it, sees which step failed and why, redrives it after confirming, and
// watches it reach DISPATCHED with China's customs messages answered; then
// sees why a declined and a rejected
// order ended, with nothing to redrive. The screenshot goes to
// testdata/screenshots/ops-console.png (git-ignored).
func TestOpsConsoleRedrivesAStalledOrder(t *testing.T) {
	tp := sharedPipeline(t)
	api := tp.api
	customer, _ := auth.MintLocal(auth.DevSecret, "console-customer", nil, time.Hour, time.Now())
	operator, _ := auth.MintLocal(auth.DevSecret, "console-operator", []string{auth.GroupOps}, time.Hour, time.Now())

	call := func(method, path, token string, body []byte, key string) map[string]any {
		t.Helper()
		return apiCall(t, api.URL, token, method, path, body, key)
	}
	raw, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	run := time.Now().UnixNano()
	place := func(name string, change func(string) string) string {
		t.Helper()
		return call(http.MethodPost, "/v1/orders", customer, []byte(change(string(raw))), fmt.Sprintf("console-%s-%d", name, run))["orderId"].(string)
	}
	// tok_transient_7 fails seven times: the first attempt and the six
	// retries AuthorizePayment allows (about 45 s of backoff, 90 s at
	// most). The execution fails, and mark-stalled (the engine's
	// status-change hook here, EventBridge in AWS) marks the order STALLED.
	transient := fmt.Sprint("tok_transient_", 1+workflow.RetryMaxAttempts)
	stalled := place("stalled", func(s string) string { return strings.Replace(s, "tok_visa", transient, 1) })
	declined := place("declined", func(s string) string { return strings.Replace(s, "tok_visa", "tok_chargeDeclined", 1) })
	rejected := place("rejected", func(s string) string { return strings.Replace(s, `"hsCode": "851830"`, `"hsCode": "930320"`, 1) })
	waitFor := func(id string, within time.Duration, done func(order.Status) bool) order.Status {
		t.Helper()
		deadline := time.Now().Add(within)
		for {
			st := order.Status(call(http.MethodGet, "/v1/orders/"+id, customer, nil, "")["status"].(string))
			if done(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("order %s still %s after %s", id, st, within)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	for _, id := range []string{declined, rejected} {
		waitFor(id, browsertest.Wait, order.Status.Terminal)
	}
	if st := waitFor(stalled, 2*time.Minute, func(s order.Status) bool {
		return s == order.StatusStalled || s.Terminal() || s == order.StatusDispatched
	}); st != order.StatusStalled {
		t.Fatalf("the order with %s ended %s, want STALLED", transient, st)
	}
	// The status-change rule invokes mark-stalled, as its own main, for the
	// failed execution (the in-process reconciler may have marked the order
	// first: the rule's invocation still comes).
	pool := tp.processes.Pool("mark-stalled")
	for deadline := time.Now().Add(15 * time.Second); pool != nil && len(pool.Inits()) == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if pool == nil || len(pool.Inits()) == 0 {
		t.Fatal("mark-stalled did not run as a process")
	}

	b := browsertest.Start(t, api.URL)
	q := browsertest.Q
	// The operator signs in as operators do: the hosted sign-in page (its
	// local stand-in), password and authenticator code, the code flow with
	// PKCE back to the console.
	b.SignInHosted(t, api.URL, tp.signIn, "olga@ops.xborder.local", "Local-operator-1!", func() string {
		code, err := hostedui.TOTP("JBSWY3DPEHPK3PXP", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return code
	})
	if n := b.Count(t, "STALLED"); n < 1 {
		t.Fatalf("the page counts %d STALLED orders", n)
	}
	for _, s := range []string{"PAYMENT_DECLINED", "REJECTED"} {
		if n := b.Count(t, s); n < 1 {
			t.Errorf("the page counts %d %s orders", n, s)
		}
	}

	// The list shows what needs attention by default: the stalled order.
	row := `[data-testid="order-row"][data-order-id=` + q(stalled) + `]`
	b.Until(t, "the stalled order is listed", `document.querySelector('`+row+`') !== null`)
	b.Click(t, row+` td:nth-child(2)`)
	b.Until(t, "the order view opens", `document.getElementById('order-id').textContent === `+q(stalled)+
		` && document.getElementById('order-status').dataset.status === 'STALLED'`)
	failed := `document.querySelector('[data-testid="step"][data-step="AuthorizePayment"][data-state="failed"]')`
	b.Until(t, "the timeline shows AuthorizePayment failed", failed+` !== null`)
	if e := browsertest.Eval[string](t, b, failed+`.querySelector('[data-testid="step-error"]')?.textContent ?? ''`); !strings.Contains(e, "TransientError") {
		t.Errorf("the failed step says %q, want TransientError", e)
	}
	if steps := browsertest.Eval[string](t, b, `[...document.querySelectorAll('[data-testid="step"]')].map(s => s.dataset.step + ':' + s.dataset.state).join(' ')`); !strings.HasPrefix(steps, "Screen:succeeded ReserveStock:succeeded AuthorizePayment:failed") {
		t.Errorf("timeline %s", steps)
	}

	// Redrive, confirmed.
	b.Until(t, "redrive is offered", `!document.getElementById('action-redrive').hidden`)
	b.Click(t, `[data-testid="action-redrive"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	if m := browsertest.Eval[string](t, b, `document.getElementById('confirm-message').textContent`); !strings.Contains(m, stalled) {
		t.Errorf("the confirmation %q does not name the order", m)
	}
	b.Click(t, `[data-testid="confirm-ok"]`)
	b.Until(t, "the redrive is accepted", `document.getElementById('action-result').dataset.outcome !== undefined`)
	if r := browsertest.Eval[string](t, b, `document.getElementById('action-result').dataset.outcome + ': ' + document.getElementById('action-result').textContent`); !strings.HasPrefix(r, "ok:") {
		t.Fatalf("redrive: %s", r)
	}
	b.Until(t, "the page shows the order DISPATCHED", `document.getElementById('order-status').dataset.status === 'DISPATCHED'`)
	b.Until(t, "the timeline shows the redriven steps", `document.querySelector('[data-testid="step"][data-step="AuthorizePayment"][data-state="succeeded"]') !== null`)
	if tr := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="tracking"]')?.textContent ?? ''`); tr == "" {
		t.Error("the dispatched order shows no tracking number")
	}
	// Shipped from China: its CEB messages, answered by the simulated
	// E-Port, the inventory list released.
	b.Until(t, "the China declarations show the release", `document.querySelector('[data-testid="declaration-CEB603-latest"]')?.textContent === 'released'`)
	b.Click(t, `[data-testid="declarations"] details[data-key="xml-CEB603"] summary`)
	b.Until(t, "the inventory list's XML shows", `(document.querySelector('[data-testid="xml-CEB603"]')?.textContent ?? '').includes('<ceb:CEB603Message')`)
	b.Screenshot(t, "../../testdata/screenshots/ops-console.png")

	// The redrive is on the order, by the operator who signed in: the
	// operators' view names her; the customer's says "ops".
	for _, v := range []struct {
		path, token, actor string
		history            func(map[string]any) []any
	}{
		{"/v1/ops/orders/" + stalled, operator, "ops:olga", func(m map[string]any) []any { return m["history"].([]any) }},
		{"/v1/orders/" + stalled, customer, "ops", func(m map[string]any) []any { return m["history"].([]any) }},
	} {
		hist := v.history(call(http.MethodGet, v.path, v.token, nil, ""))
		var byOps bool
		for _, h := range hist {
			if h.(map[string]any)["actor"] == v.actor {
				byOps = true
			}
		}
		if !byOps {
			t.Errorf("%s: no history entry by %s: %v", v.path, v.actor, hist)
		}
	}

	// Why the declined and the rejected orders ended; nothing to redrive.
	b.Do(t, "open the declined order", browsertest.OpenByID(declined)...)
	b.Until(t, "the decline reason shows", `(document.querySelector('[data-testid="decline-reason"]')?.textContent ?? '').includes('card_declined')`)
	b.Until(t, "no action is offered for the declined order", `!document.getElementById('actions-none').hidden && document.getElementById('action-redrive').hidden && document.getElementById('action-cancel').hidden`)
	b.Do(t, "open the rejected order", browsertest.OpenByID(rejected)...)
	b.Until(t, "the screening entry shows", `document.getElementById('order-status').dataset.status === 'REJECTED' && (document.querySelector('[data-testid="screening-entry"]')?.textContent ?? '') !== ''`)
	if r := browsertest.Eval[string](t, b, `document.getElementById('order-reason').dataset.reason`); r != "restricted_goods" {
		t.Errorf("rejected order reason %q", r)
	}
	b.Check(t)
}
