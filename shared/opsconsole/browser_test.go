package opsconsole_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/opsconsole/browsertest"
)

const screenshots = "../../testdata/screenshots/"

// TestConsoleAgainstTheContract drives the page in chromium against a fake
// of the ops API: sign-in, counts, the self-updating list, the order view
// of a stalled, a rejected, a declined and a hostile order, redrive (done
// and refused), and the dead-letter panel. The same flow against the real
// pipeline is localstack/stack's TestOpsConsoleRedrivesAStalledOrder.
func TestConsoleAgainstTheContract(t *testing.T) {
	f := newFakeOps()
	srv := httptest.NewServer(f.serve())
	defer srv.Close()
	b := browsertest.Start(t, srv.URL)
	q := browsertest.Q

	// A customer's token is refused, and the page says why.
	b.SignInExpectingError(t, srv.URL, customerToken)
	msg := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="signin-error"]').textContent`)
	if !strings.Contains(msg, "ops group") {
		t.Errorf("sign-in error %q does not mention the ops group", msg)
	}

	b.SignIn(t, srv.URL, opsToken)
	if who := browsertest.Eval[string](t, b, `document.getElementById('whoami').textContent`); !strings.Contains(who, "olivia") {
		t.Errorf("whoami %q", who)
	}
	if n := b.Count(t, "STALLED"); n != 2 {
		t.Errorf("STALLED count %d, want 2", n)
	}
	if n := b.Count(t, "DELIVERED"); n != 40 {
		t.Errorf("DELIVERED count %d, want 40", n)
	}
	if cls := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="count-STALLED"]').className`); !strings.Contains(cls, "stalled") || !strings.Contains(cls, "nonzero") {
		t.Errorf("the STALLED card is not highlighted: %q", cls)
	}
	if cls := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="count-PAYMENT_DECLINED"]').className`); !strings.Contains(cls, "failure") {
		t.Errorf("PAYMENT_DECLINED is not shown as a failure: %q", cls)
	}
	// The list defaults to what needs attention and updates itself.
	if v := browsertest.Eval[string](t, b, `document.getElementById('status-filter').value`); v != "STALLED" {
		t.Errorf("filter %q, want STALLED", v)
	}
	b.Until(t, "both stalled orders are listed", `document.querySelectorAll('[data-testid="order-row"][data-status="STALLED"]').length === 2`)
	f.addStalled()
	b.Until(t, "the new stalled order appears by itself", `document.querySelector('[data-testid="order-row"][data-order-id=`+q(stalledNew)+`]') !== null`)
	if n := b.Count(t, "STALLED"); n != 3 {
		t.Errorf("STALLED count %d after a new stall, want 3", n)
	}

	// The stalled order: which step failed, and why.
	b.Click(t, `[data-testid="order-row"][data-order-id=`+q(stalled1)+`] td:nth-child(2)`)
	b.Until(t, "the order view shows the order", `document.getElementById('order-status').dataset.status === 'STALLED' && document.getElementById('order-id').textContent === `+q(stalled1))
	failed := `document.querySelector('[data-testid="step"][data-step="AuthorizePayment"][data-state="failed"]')`
	b.Until(t, "the timeline shows the failed step", failed+` !== null`)
	if e := browsertest.Eval[string](t, b, failed+`.querySelector('[data-testid="step-error"]').textContent`); !strings.Contains(e, "TransientError") {
		t.Errorf("failed step error %q", e)
	}
	if c := browsertest.Eval[string](t, b, failed+`.querySelector('[data-testid="step-cause"]').textContent`); !strings.Contains(c, "payment provider unavailable") {
		t.Errorf("failed step cause %q", c)
	}
	if e := browsertest.Eval[string](t, b, `document.getElementById('order-explain').textContent`); !strings.Contains(e, "AuthorizePayment failed with TransientError") {
		t.Errorf("explanation %q", e)
	}
	if loc := browsertest.Eval[string](t, b, `location.hash`); loc != "#/orders/"+stalled1 {
		t.Errorf("hash %q", loc)
	}

	// Redrive asks first; "Keep as is" sends nothing.
	b.Click(t, `[data-testid="action-redrive"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	if m := browsertest.Eval[string](t, b, `document.getElementById('confirm-message').textContent`); !strings.Contains(m, stalled1) || !strings.Contains(m, "Redrive") {
		t.Errorf("confirmation %q names neither the order nor the action", m)
	}
	b.Click(t, `[data-testid="confirm-no"]`)
	b.Until(t, "the confirmation closes", `!document.getElementById('confirm').open`)
	f.mu.Lock()
	n := f.redrives[stalled1]
	f.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d redrives after declining the confirmation", n)
	}
	b.Click(t, `[data-testid="action-redrive"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	b.Click(t, `[data-testid="confirm-ok"]`)
	b.Until(t, "the result shows", `document.getElementById('action-result').dataset.outcome === 'ok'`)
	b.Until(t, "the order is dispatched", `document.getElementById('order-status').dataset.status === 'DISPATCHED'`)
	b.Until(t, "no action is offered any more", `!document.getElementById('actions-none').hidden && document.getElementById('action-redrive').hidden`)
	if tr := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="tracking"]')?.textContent ?? ''`); tr != "TRK-0001" {
		t.Errorf("tracking %q", tr)
	}

	// A refused redrive shows the problem's detail.
	b.Do(t, "open by id", browsertest.OpenByID(stalled2)...)
	b.Until(t, "the second stalled order opens", `document.getElementById('order-id').textContent === `+q(stalled2)+` && !document.getElementById('action-redrive').hidden`)
	b.Click(t, `[data-testid="action-redrive"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	b.Click(t, `[data-testid="confirm-ok"]`)
	b.Until(t, "the refusal shows", `document.getElementById('action-result').dataset.outcome === 'error'`)
	if r := browsertest.Eval[string](t, b, `document.getElementById('action-result').textContent`); !strings.Contains(r, "not redrivable") || !strings.Contains(r, "409") {
		t.Errorf("refusal %q", r)
	}

	// Cancel, confirmed, on the same order.
	b.Click(t, `[data-testid="action-cancel"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	if m := browsertest.Eval[string](t, b, `document.getElementById('confirm-message').textContent`); !strings.Contains(m, stalled2) || !strings.Contains(m, "Cancel") {
		t.Errorf("cancel confirmation %q", m)
	}
	b.Click(t, `[data-testid="confirm-ok"]`)
	b.Until(t, "the cancellation is accepted", `document.getElementById('action-result').dataset.outcome === 'ok' && document.getElementById('action-result').textContent.startsWith('Cancellation requested')`)
	f.mu.Lock()
	n = f.cancels[stalled2]
	f.mu.Unlock()
	if n != 1 {
		t.Errorf("%d cancellations, want 1", n)
	}

	// A rejected order: the screening entry, and no redrive.
	b.Click(t, `[data-testid="count-REJECTED"]`)
	b.Until(t, "the rejected order is listed", `document.querySelector('[data-testid="order-row"][data-order-id=`+q(rejected)+`]') !== null`)
	b.Click(t, `[data-testid="order-row"][data-order-id=`+q(rejected)+`] a`)
	b.Until(t, "the screening entry shows", `document.querySelector('[data-testid="screening-entry"]')?.textContent === 'DPL-0042'`)
	if h := browsertest.Eval[bool](t, b, `document.getElementById('action-redrive').hidden && !document.getElementById('actions-none').hidden`); !h {
		t.Error("a rejected order offers an action")
	}
	if s := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="step"][data-step="Screen"]').dataset.state`); s != "caught" {
		t.Errorf("Screen step %q, want caught", s)
	}

	// A declined order: why.
	b.Do(t, "open by id", browsertest.OpenByID(declined)...)
	b.Until(t, "the decline reason shows", `(document.querySelector('[data-testid="decline-reason"]')?.textContent ?? '').includes('card_declined')`)

	// China's customs messages: the latest answer of each, customs' own
	// words, and the XML as declared (fetched once, shown as text).
	b.Do(t, "open by id", browsertest.OpenByID(china)...)
	b.Until(t, "the declarations show", `document.querySelector('[data-testid="declaration-CEB303-latest"]')?.textContent === 'cleared'`)
	if l := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="declaration-CEB603-latest"]').className`); !strings.Contains(l, "stalled") {
		t.Errorf("a hold is not drawn as a warning: %q", l)
	}
	if row := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="declaration-CEB303"]').textContent`); !strings.Contains(row, "120 → 399") || !strings.Contains(row, "海关审结") {
		t.Errorf("CEB303 row %q", row)
	}
	if row := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="declaration-CEB603"]').textContent`); !strings.Contains(row, hostileTxt) {
		t.Errorf("customs' words are not shown as text: %q", row)
	}
	b.Click(t, `[data-testid="declarations"] details[data-key="xml-CEB303"] summary`)
	b.Until(t, "the XML shows", `(document.querySelector('[data-testid="xml-CEB303"]')?.textContent ?? '').startsWith('<?xml')`)
	if x := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="xml-CEB303"]').textContent`); !strings.Contains(x, "<ceb:CEB303Message") {
		t.Errorf("XML %q", x)
	}
	if bad := browsertest.Eval[int](t, b, `(window.__xss ? 100 : 0) + document.querySelectorAll('main img').length`); bad != 0 {
		t.Errorf("the XML or a receipt became HTML (%d)", bad)
	}
	b.Click(t, `[data-testid="download-CEB303"]`) // the text is cached: no second fetch
	f.mu.Lock()
	reads := f.xmlReads
	f.mu.Unlock()
	if reads != 1 {
		t.Errorf("%d XML fetches, want 1", reads)
	}

	// Hostile strings stay text.
	b.Do(t, "open by id", browsertest.OpenByID(hostile)...)
	b.Until(t, "the hostile order opens", `document.getElementById('order-id').textContent === `+q(hostile)+` && document.getElementById('order-reason').dataset.reason !== undefined`)
	if r := browsertest.Eval[string](t, b, `document.getElementById('order-reason').dataset.reason`); r != hostileTxt {
		t.Errorf("reason %q, want the text as it is", r)
	}
	if bad := browsertest.Eval[int](t, b, `(window.__xss ? 100 : 0) + document.querySelectorAll('main img, main script, main b').length`); bad != 0 {
		t.Errorf("a hostile string became HTML (%d)", bad)
	}
	if x := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="no-execution"]')?.textContent ?? ''`); x == "" {
		t.Error("an order without execution does not say so")
	}

	// Dead letters: peek, replay after a confirmation.
	b.Click(t, `[data-testid="dlq-peek-customs-requests"]`)
	b.Until(t, "the dead letter shows", `document.querySelector('[data-testid="dlq-message"][data-message-id="m-1"]') !== null`)
	if body := browsertest.Eval[string](t, b, `document.querySelector('[data-testid="dlq-message"] [data-testid="dlq-body"]').textContent`); !strings.Contains(body, stalled1) {
		t.Errorf("dead letter body %q", body)
	}
	b.Click(t, `[data-testid="dlq-replay"]`)
	b.Until(t, "the confirmation opens", `document.getElementById('confirm').open`)
	if m := browsertest.Eval[string](t, b, `document.getElementById('confirm-message').textContent`); !strings.Contains(m, "m-1") || !strings.Contains(m, "customs-requests") {
		t.Errorf("replay confirmation %q", m)
	}
	b.Click(t, `[data-testid="confirm-ok"]`)
	b.Until(t, "the replay is confirmed", `(document.querySelector('[data-testid="dlq-replay-result"]')?.textContent ?? '').startsWith('Replayed')`)
	b.Until(t, "the depth drops", `document.querySelector('[data-testid="dlq-depth-customs-requests"]')?.textContent === '0'`)
	f.mu.Lock()
	replays := strings.Join(f.replays, ",")
	f.mu.Unlock()
	if replays != "customs-requests/m-1" {
		t.Errorf("replays %q", replays)
	}

	b.Do(t, "open by id", browsertest.OpenByID(stalled1)...)
	b.Until(t, "the redriven order opens", `document.getElementById('order-status').dataset.status === 'DISPATCHED'`)
	b.Screenshot(t, screenshots+"ops-console-contract.png")

	b.Click(t, `[data-testid="signout"]`)
	b.Until(t, "signed out", `!document.getElementById('signin').hidden && sessionStorage.getItem('xborder.ops.token') === null`)
	b.Check(t)
}
