package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/workflow"
)

// hooks is the shared pipeline's partner "e2e-shop": its callback endpoint
// verifies each callback with the partner's secret and keeps them by order.
var hooks *partnerHooks

const hooksSecret = "e2e-partner-secret-0123456789abcdef"

type partnerHooks struct {
	*httptest.Server
	directory *partner.Directory
	// raw is the directory's JSON, for the functions run as processes.
	raw      []byte
	mu       sync.Mutex
	byOrder  map[string][]callbacks.Callback
	problems []string
}

func newPartnerHooks() *partnerHooks {
	h := &partnerHooks{byOrder: map[string][]callbacks.Callback{}}
	h.Server = httptest.NewServer(http.HandlerFunc(h.serve))
	h.raw = fmt.Appendf(nil, `{"partners": [{"id": "e2e-shop", "secrets": [%q], "format": "native",
		"callbackUrl": %q, "tradeModes": ["B2C"]}]}`, hooksSecret, h.URL+"/hooks/xborder")
	dir, err := partner.Parse(h.raw)
	if err != nil {
		panic(err)
	}
	h.directory = dir
	return h
}

func (h *partnerHooks) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := partner.Verify(r.Header.Get(partner.SignatureHeader), body, []string{hooksSecret}, time.Now(), 0); err != nil {
		h.problems = append(h.problems, err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var c callbacks.Callback
	if err := json.Unmarshal(body, &c); err != nil || r.Header.Get(partner.DeliveryHeader) != c.DeliveryID {
		h.problems = append(h.problems, fmt.Sprintf("body %s (%v), delivery id %q", body, err, r.Header.Get(partner.DeliveryHeader)))
	}
	if strings.Contains(string(body), "Lena") || strings.Contains(string(body), "example.de") {
		h.problems = append(h.problems, "personal data in "+string(body))
	}
	h.byOrder[c.OrderID] = append(h.byOrder[c.OrderID], c)
	w.WriteHeader(http.StatusAccepted)
}

// firstArrivals are an order's callbacks, repeats left out (a partner
// deduplicates by delivery id: delivery is at least once).
func (h *partnerHooks) firstArrivals(id string) (out []callbacks.Callback, repeats int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, c := range h.byOrder[id] {
		if seen[c.DeliveryID] {
			repeats++
			continue
		}
		seen[c.DeliveryID] = true
		out = append(out, c)
	}
	return out, repeats
}

// TestPartnerCallbacksEndToEnd follows a partner's order through the whole
// local pipeline: each status change the workflow publishes on order-events
// reaches the partner-callbacks queue, and the callback-sender, in-process
// behind its pollers, POSTs it to the partner — signed with the partner's
// secret, in status order.
func TestPartnerCallbacksEndToEnd(t *testing.T) {
	ctx := context.Background()
	tp := sharedPipeline(t)

	// The order as the partner webhook accepts it: written, then handed to
	// the workflow.
	raw, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	var d order.Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	d.Channel, d.PartnerOrderRef = order.ChannelPartner, "E2E-1001"
	now := time.Now().UTC()
	id := ulid.Make().String()
	o, first := order.Accept(d, id, "partner:e2e-shop", "partner:e2e-shop", now)
	o.PartnerID = "e2e-shop"
	done := idempotency.Record{Scope: "partner:e2e-shop", Key: "delivery-" + id, RequestHash: "h", State: idempotency.StateCompleted,
		StatusCode: 202, Body: []byte(`{"orderId":"` + id + `"}`), ResourceID: id, CreatedAt: now, ExpiresAt: now.Add(idempotency.Retention)}
	if _, err := tp.store.CreateOrder(ctx, o, first, done, now); err != nil {
		t.Fatal(err)
	}
	accepted := queue.Accepted{Sender: queue.Sender{Client: tp.clients.SQS, URL: tp.res.QueueURLs[workflow.QueueOrdersAccepted]}}
	if err := accepted.Enqueue(ctx, id); err != nil {
		t.Fatal(err)
	}

	want := []order.Status{order.StatusReceived, order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared,
		order.StatusPaymentCaptured, order.StatusDispatched}
	deadline := time.Now().Add(60 * time.Second)
	var got []callbacks.Callback
	var repeats int
	for {
		got, repeats = hooks.firstArrivals(id)
		if len(got) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var statuses []order.Status
	for _, c := range got {
		statuses = append(statuses, c.Status)
	}
	hooks.mu.Lock()
	problems := hooks.problems
	hooks.mu.Unlock()
	if len(problems) > 0 {
		t.Fatalf("the partner refused callbacks: %v", problems)
	}
	if !slices.Equal(statuses, want) {
		t.Fatalf("the partner heard %v, want %v", statuses, want)
	}
	t.Logf("%d callbacks, %d of them repeats (concurrent pollers)", len(got)+repeats, repeats)
	if c := got[len(got)-1]; c.TrackingNumber == "" || c.OrderID != id || c.PartnerOrderRef != "E2E-1001" {
		t.Errorf("DISPATCHED callback %+v", c)
	}
	queuesDrain(ctx, t, tp.clients, tp.res)
	told, err := tp.store.Callbacks(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if told.DeliveredVersion != got[len(got)-1].Version {
		t.Errorf("callbacks of the order: %+v", told)
	}
}
