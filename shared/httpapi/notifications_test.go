package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
)

const (
	brokerSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	warehouseSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// wakes records the steps a notification woke.
type wakes struct {
	mu    *sync.Mutex
	queue string
	got   *[]string
}

func (w wakes) Wake(_ context.Context, orderID, token string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	*w.got = append(*w.got, w.queue+":"+orderID+":"+token)
	return nil
}

type notifyHarness struct {
	*opsHarness
	mu    sync.Mutex
	woken []string
}

func newNotifyHarness(t *testing.T) *notifyHarness {
	t.Helper()
	authn, _ := auth.NewLocalHS256(secret)
	store := memstore.New()
	h := &notifyHarness{opsHarness: &opsHarness{harness: &harness{t: t, store: store, clock: &clock{}}}}
	links := httpapi.PartnerLinks{Secrets: map[string]string{partnerlink.CustomsBroker: brokerSecret, partnerlink.Warehouse: warehouseSecret},
		Customs: wakes{mu: &h.mu, queue: "customs", got: &h.woken}, Warehouse: wakes{mu: &h.mu, queue: "warehouse", got: &h.woken}}
	h.srv = httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: authn, Quoter: customs.Default(),
		Now: h.clock.Now, PartnerLinks: links}))
	t.Cleanup(h.srv.Close)
	return h
}

// notify posts n to partner's route, signed with secret at now+skew.
func (h *notifyHarness) notify(partner, id, secret string, n any, skew time.Duration) response {
	h.t.Helper()
	body, _ := json.Marshal(n)
	req := http.Header{}
	if err := partnerlink.Sign(req, id, h.clock.Now().Add(skew), body, secret); err != nil {
		h.t.Fatal(err)
	}
	headers := map[string]string{"Content-Type": "application/json"}
	for k := range req {
		headers[k] = req.Get(k)
	}
	return h.do(http.MethodPost, "/v1/partners/"+partner+"/notifications", "", body, headers)
}

// TestPartnerNotifications: a partner's notification, verified as Standard
// Webhooks over the raw body with that partner's secret, wakes the step
// waiting on that partner — only while the order is in the step's status,
// with the token the order holds — and decides nothing itself.
func TestPartnerNotifications(t *testing.T) {
	h := newNotifyHarness(t)
	at := h.clock.Now()
	waiting := h.place(t, at, order.StatusPaymentAuthorized, "")
	waiting.TaskToken = "token-customs-1"
	if err := h.store.SaveTransition(context.Background(), waiting, waiting.Note("awaiting_customs", "workflow", at)); err != nil {
		t.Fatal(err)
	}
	shipping := h.place(t, at, order.StatusPaymentCaptured, "")
	shipping.TaskToken = "token-dispatch-1"
	if err := h.store.SaveTransition(context.Background(), shipping, shipping.Note("awaiting_warehouse", "workflow", at)); err != nil {
		t.Fatal(err)
	}
	decl := partnerlink.Notification{Type: partnerlink.NotifyDeclaration, OrderID: waiting.ID, Status: partnerlink.StatusCleared}
	ship := partnerlink.Notification{Type: partnerlink.NotifyShipment, OrderID: shipping.ID, Status: partnerlink.StatusShipped}

	r := h.notify(partnerlink.CustomsBroker, "n-1", brokerSecret, decl, 0)
	wantStatus(t, r, http.StatusAccepted)
	if got := r.json(t); got["woken"] != true {
		t.Fatalf("a declaration's notification: %s", r.body)
	}
	wantStatus(t, h.notify(partnerlink.Warehouse, "n-2", warehouseSecret, ship, 0), http.StatusAccepted)
	// The broker's notification of an order that waits on the warehouse
	// wakes nothing: the token it holds is the dispatch step's.
	r = h.notify(partnerlink.CustomsBroker, "n-3", brokerSecret, partnerlink.Notification{Type: partnerlink.NotifyDeclaration, OrderID: shipping.ID}, 0)
	if wantStatus(t, r, http.StatusAccepted); r.json(t)["woken"] != false {
		t.Fatalf("a late broker notification woke the dispatch step: %s", r.body)
	}
	want := []string{"customs:" + waiting.ID + ":token-customs-1", "warehouse:" + shipping.ID + ":token-dispatch-1"}
	if len(h.woken) != 2 || h.woken[0] != want[0] || h.woken[1] != want[1] {
		t.Fatalf("woken %v, want %v", h.woken, want)
	}

	// Refused, waking nothing: another partner's secret, a stale or future
	// timestamp, a partner without a secret, a type the partner does not
	// send, an unknown field, no order, an unknown order.
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-4", warehouseSecret, decl, 0), http.StatusUnauthorized, "/problems/signature-not-accepted")
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-5", brokerSecret, decl, -6*time.Minute), http.StatusUnauthorized, "/problems/signature-not-accepted")
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-6", brokerSecret, decl, 6*time.Minute), http.StatusUnauthorized, "/problems/signature-not-accepted")
	wantProblem(t, h.notify(partnerlink.ChinaEPort, "n-7", brokerSecret, decl, 0), http.StatusNotFound, "/problems/not-found")
	wantProblem(t, h.notify(partnerlink.Payments, "n-8", brokerSecret, decl, 0), http.StatusNotFound, "/problems/not-found")
	wantProblem(t, h.notify(partnerlink.Warehouse, "n-9", warehouseSecret, decl, 0), http.StatusUnprocessableEntity, "/problems/validation-failed")
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-10", brokerSecret, map[string]string{"type": partnerlink.NotifyDeclaration, "orderId": waiting.ID, "decision": "cleared"}, 0),
		http.StatusBadRequest, "/problems/bad-request")
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-11", brokerSecret, partnerlink.Notification{Type: partnerlink.NotifyDeclaration}, 0),
		http.StatusUnprocessableEntity, "/problems/validation-failed")
	wantProblem(t, h.notify(partnerlink.CustomsBroker, "n-12", brokerSecret, partnerlink.Notification{Type: partnerlink.NotifyDeclaration, OrderID: ulid.Make().String()}, 0),
		http.StatusNotFound, "/problems/not-found")
	// The id is signed: the same body replayed under another id does not verify.
	body, _ := json.Marshal(decl)
	hdr := http.Header{}
	_ = partnerlink.Sign(hdr, "n-1", h.clock.Now(), body, brokerSecret)
	r = h.do(http.MethodPost, "/v1/partners/customs-broker/notifications", "", body, map[string]string{"Content-Type": "application/json",
		partnerlink.HeaderID: "n-1-replayed", partnerlink.HeaderTimestamp: hdr.Get(partnerlink.HeaderTimestamp), partnerlink.HeaderSignature: hdr.Get(partnerlink.HeaderSignature)})
	wantProblem(t, r, http.StatusUnauthorized, "/problems/signature-not-accepted")
	if len(h.woken) != 2 {
		t.Fatalf("a refused notification woke a step: %v", h.woken)
	}
}
