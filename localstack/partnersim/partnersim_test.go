package partnersim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/workers"
)

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// inbox is the API's notification route as a partner sees it: it checks
// each signature and keeps what it took.
type inbox struct {
	mu     sync.Mutex
	got    []partnerlink.Notification
	ids    []string
	refuse bool
	srv    *httptest.Server
}

func newInbox(t *testing.T) *inbox {
	in := &inbox{}
	in.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id, err := partnerlink.Verify(r.Header, body, time.Now(), 0, secret)
		if err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		in.mu.Lock()
		defer in.mu.Unlock()
		if in.refuse {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var n partnerlink.Notification
		_ = json.Unmarshal(body, &n)
		in.got, in.ids = append(in.got, n), append(in.ids, id)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(in.srv.Close)
	return in
}

func (in *inbox) wait(t *testing.T, n int) []partnerlink.Notification {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		in.mu.Lock()
		got := append([]partnerlink.Notification(nil), in.got...)
		in.mu.Unlock()
		if len(got) >= n {
			return got
		}
	}
	t.Fatalf("%d notifications, want %d", len(in.got), n)
	return nil
}

func serve(t *testing.T, h http.Handler) partnerlink.Endpoint {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return partnerlink.Endpoint{URL: srv.URL, Secret: secret}
}

// declaration is a complete one-line declaration (customs.Declaration.Check).
func declaration(id, sku, hs string) *customs.Declaration {
	eur := func(n int64) money.Money { return money.New(n, "EUR") }
	return &customs.Declaration{OrderID: id, Consignee: customs.DeclaredParty{Name: "Lena Fischer", Country: "DE"},
		Lines: []customs.DeclaredLine{{Item: 1, SKU: sku, HSCode: hs, OriginCountry: "CN", CustomsValue: eur(1000), Duty: eur(0), Tax: eur(190)}},
		Assessment: customs.Assessment{Currency: "EUR", CustomsValue: eur(1000), Duty: eur(0), Tax: eur(190),
			Lines: []customs.AssessedLine{{SKU: sku, HSCode: hs}}}}
}

// TestBrokerAnswersLaterAndRemembers: a declaration answered pending is
// decided, notified once to the request's callbackUrl, and answered with
// its decision to the same request after — across a restart, from the
// journal; a notification not delivered before the stop is delivered after.
func TestBrokerAnswersLaterAndRemembers(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "broker.jsonl")
	in := newInbox(t)
	b, err := NewBroker(Config{Secret: secret, Journal: journal, Delay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	link := partnerhttp.Broker{Endpoint: serve(t, b), CallbackURL: in.srv.URL}
	ctx := context.Background()
	if _, err := link.Clear(ctx, declaration("ORDER-1", "SKU-1", "610910")); !errors.Is(err, workers.ErrPending) {
		t.Fatalf("first answer: %v, want pending", err)
	}
	got := in.wait(t, 1)
	if got[0].Type != partnerlink.NotifyDeclaration || got[0].OrderID != "ORDER-1" || got[0].Status != partnerlink.StatusCleared {
		t.Fatalf("notification %+v", got[0])
	}
	ref, err := link.Clear(ctx, declaration("ORDER-1", "SKU-1", "610910"))
	if err != nil || ref != "CD-ORDER-1" {
		t.Fatalf("asked again: %q %v", ref, err)
	}
	// A refusal, answered later; the inbox is down when it is decided.
	in.mu.Lock()
	in.refuse = true
	in.mu.Unlock()
	if _, err := link.Clear(ctx, declaration("ORDER-2", "SKU-2", "300490")); !errors.Is(err, workers.ErrPending) {
		t.Fatalf("ORDER-2: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	b.Close()

	in.mu.Lock()
	in.refuse = false
	in.mu.Unlock()
	b2, err := NewBroker(Config{Secret: secret, Journal: journal, Delay: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	link.Endpoint = serve(t, b2)
	got = in.wait(t, 2)
	if got[1].OrderID != "ORDER-2" || got[1].Status != partnerlink.StatusRefused || len(got) != 2 {
		t.Fatalf("after the restart: %+v", got)
	}
	var refused *workers.Refused
	if _, err := link.Clear(ctx, declaration("ORDER-2", "SKU-2", "300490")); !errors.As(err, &refused) || refused.Reason != "licence_required" {
		t.Fatalf("ORDER-2 after the restart: %v", err)
	}
	if ref, err := link.Clear(ctx, declaration("ORDER-1", "SKU-1", "610910")); err != nil || ref != "CD-ORDER-1" {
		t.Fatalf("ORDER-1 after the restart: %q %v", ref, err)
	}
	// Not signed with its secret: refused, nothing decided.
	bad := link
	bad.Endpoint.Secret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
	var se *partnerlink.StatusError
	if _, err := bad.Clear(ctx, declaration("ORDER-3", "SKU-3", "610910")); !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("a wrong secret: %v", err)
	}
}

// TestWarehouseOutageThenShips: SIM-WAREHOUSE-FAIL-<n> is unavailable n
// times (503: try again, the same id), then ships, once.
func TestWarehouseOutageThenShips(t *testing.T) {
	w, err := NewWarehouse(Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ep := serve(t, w)
	req := partnerlink.ShipmentRequest{OrderID: "ORDER-9", Waybill: "XB123", Lines: []partnerlink.ShipmentLine{{SKU: "SIM-WAREHOUSE-FAIL-2", Quantity: 1}}}
	for i := range 2 {
		if err := ep.Post(context.Background(), partnerlink.PathShipments, "xborder:ORDER-9:shipment", req, nil); !errors.Is(err, partnerlink.ErrUnavailable) {
			t.Fatalf("attempt %d: %v", i+1, err)
		}
	}
	var a partnerlink.ShipmentAnswer
	if err := ep.Post(context.Background(), partnerlink.PathShipments, "xborder:ORDER-9:shipment", req, &a); err != nil || a.Status != partnerlink.StatusShipped || a.Parcels[0].TrackingNumber != "XB123" {
		t.Fatalf("third attempt: %+v %v", a, err)
	}
}

// TestPaymentsLedgerSurvivesRestart: the ledger counts what took effect —
// a repeated key is not a second authorization — and a restart replays it.
func TestPaymentsLedgerSurvivesRestart(t *testing.T) {
	journal := filepath.Join(t.TempDir(), "payments.jsonl")
	p, err := NewPayments(Config{Secret: secret, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	link := partnerhttp.PaymentLink{Endpoint: serve(t, p)}
	ctx := context.Background()
	auth := payment.Authorization{Key: payment.Key("ORDER-5", "authorize"), OrderID: "ORDER-5", Amount: money.New(4200, "EUR"), Token: "tok_transient_1"}
	if _, err := link.Authorize(ctx, auth); !errors.Is(err, payment.ErrTransient) {
		t.Fatalf("tok_transient_1: %v", err)
	}
	id, err := link.Authorize(ctx, auth)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := link.Authorize(ctx, auth); err != nil || again != id {
		t.Fatalf("the same key: %q %v", again, err)
	}
	if err := link.Capture(ctx, payment.Key("ORDER-5", "capture"), id, money.New(4200, "EUR")); err != nil {
		t.Fatal(err)
	}
	if err := link.Void(ctx, payment.Key("ORDER-5", "void"), id); !errors.Is(err, payment.ErrAlreadyCaptured) {
		t.Fatalf("void after capture: %v", err)
	}
	declined := payment.Authorization{Key: payment.Key("ORDER-6", "authorize"), OrderID: "ORDER-6", Amount: money.New(100, "EUR"), Token: "tok_chargeDeclined"}
	var d *payment.Declined
	if _, err := link.Authorize(ctx, declined); !errors.As(err, &d) || d.Reason != "card_declined" {
		t.Fatalf("a declined card: %v", err)
	}
	p.Close()

	p2, err := NewPayments(Config{Secret: secret, Journal: journal})
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	link.Endpoint = serve(t, p2)
	l, err := link.Ledger(ctx, "ORDER-5")
	if err != nil || l.Authorizations != 1 || l.Captures != 1 || l.Voids != 0 || l.Captured.Amount != 4200 || l.ChargeID != id {
		t.Fatalf("ledger after the restart: %+v %v", l, err)
	}
	if again, err := link.Authorize(ctx, auth); err != nil || again != id {
		t.Fatalf("the same key after the restart: %q %v", again, err)
	}
	var se *partnerlink.StatusError
	if _, err := link.Ledger(ctx, "ORDER-6"); !errors.As(err, &se) || se.Status != http.StatusNotFound {
		t.Fatalf("no charge: %v", err)
	}
}

// TestEPortReceiptsReadOffTheMessage: the receipts name what the message
// names, parse as CEB receipts, and a goods name that is not Chinese is
// rejected (100).
func TestEPortReceiptsReadOffTheMessage(t *testing.T) {
	msg := partnerlink.CEBMessage{Type: "CEB603", GUID: "G-1", XML: `<ceb:CEB603Message><ceb:orderNo>ORD1</ceb:orderNo><ceb:ebpCode>EBP1234567</ceb:ebpCode>` +
		`<ceb:copNo>COP1</ceb:copNo><ceb:agentCode>AGT1234567</ceb:agentCode><ceb:ebcCode>EBC1234567</ceb:ebcCode><ceb:customsCode>9999</ceb:customsCode>` +
		`<ceb:itemName>耳机</ceb:itemName></ceb:CEB603Message>`}
	xs, err := decideReceipts("ORD1", msg, time.Now())
	if err != nil || len(xs) != 3 {
		t.Fatalf("%d receipts, %v", len(xs), err)
	}
	for i, want := range []int{120, 399, 800} {
		r, err := ceb.ParseReceipt([]byte(xs[i]))
		if err != nil {
			t.Fatal(err)
		}
		if r.Type != "CEB604" || r.Returns[0].Status != want || r.Returns[0].OrderNo != "ORD1" || r.Returns[0].CopNo != "COP1" {
			t.Fatalf("receipt %d: %+v", i, r)
		}
	}
	msg.XML = strings.Replace(msg.XML, "耳机", "Earbuds", 1)
	xs, err = decideReceipts("ORD1", msg, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r, err := ceb.ParseReceipt([]byte(xs[len(xs)-1])); err != nil || len(xs) != 2 || r.Returns[0].Status != 100 {
		t.Fatalf("an English goods name: %d receipts, %v", len(xs), err)
	}
}
