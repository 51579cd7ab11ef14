package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/storetest"
)

const (
	marketSecret    = "test-marketplace-secret-0123456789abcdef"
	marketSecretNew = "test-marketplace-secret-rotated-9876543210"
	shopSecret      = "test-shopify-secret-0123456789abcdefghij"
	// cardShopSecret is a Standard Webhooks secret: whsec_ and base64.
	cardShopSecret = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD"
)

// testPartners: a marketplace posting native orders (rotating its secret),
// a Shopify store, and a native shop allowed to post card payments.
func testPartners(t *testing.T) *partner.Directory {
	t.Helper()
	d, err := partner.Parse([]byte(`{"partners": [
	  {"id": "market", "secrets": ["` + marketSecret + `", "` + marketSecretNew + `"], "format": "native",
	   "callbackUrl": "https://market.example/callbacks", "tradeModes": ["B2C", "M2B2C"]},
	  {"id": "shop", "secrets": ["` + shopSecret + `"], "format": "shopify",
	   "callbackUrl": "https://shop.example/callbacks", "tradeModes": ["B2C"]},
	  {"id": "cardshop", "secrets": ["` + cardShopSecret + `"], "format": "native",
	   "tradeModes": ["B2C"], "paymentMethods": ["partner_account", "card"]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type webhookHarness struct {
	*harness
	now time.Time
}

func newWebhookHarness(t *testing.T, store storetest.Store) *webhookHarness {
	t.Helper()
	authn, _ := auth.NewLocalHS256(secret)
	cat, err := partner.LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	queue := &enqueueRecorder{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: authn, Workflow: queue,
		Quoter: customs.Default(), Partners: testPartners(t), Catalogue: cat, Now: func() time.Time { return now },
		PartnerLinks: httpapi.PartnerLinks{Secrets: map[string]string{"customs-broker": brokerSecret}}}))
	t.Cleanup(srv.Close)
	return &webhookHarness{harness: &harness{t: t, srv: srv, queue: queue}, now: now}
}

// deliver posts body to a partner's webhook, signed at time at with secrets.
func (h *webhookHarness) deliver(partnerID, delivery string, body []byte, at time.Time, secrets ...string) response {
	h.t.Helper()
	headers := map[string]string{partner.DeliveryHeader: delivery}
	if len(secrets) > 0 {
		headers[partner.SignatureHeader] = partner.Sign(body, at, secrets...)
	}
	return h.do(http.MethodPost, "/v1/webhooks/"+partnerID, "", body, headers)
}

func partnerSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/partners/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleRef is the partnerOrderRef of events/partners/native-order.json.
const sampleRef = `"partnerOrderRef": "MKT-2026-000123"`

// nativeOrder is the native sample with partnerOrderRef ref: an order of
// its own (one reference makes one order).
func nativeOrder(t *testing.T, ref string) []byte {
	t.Helper()
	b := partnerSample(t, "native-order.json")
	if !bytes.Contains(b, []byte(sampleRef)) {
		t.Fatalf("the native sample no longer holds %s", sampleRef)
	}
	return bytes.Replace(b, []byte(sampleRef), []byte(`"partnerOrderRef": "`+ref+`"`), 1)
}

func TestPartnerWebhooks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.store(t)
			h := newWebhookHarness(t, store)
			native := partnerSample(t, "native-order.json")
			ctx := context.Background()

			t.Run("a signed delivery creates the partner's order", func(t *testing.T) {
				r := h.deliver("market", "d-valid", native, h.now, marketSecret)
				wantStatus(t, r, http.StatusAccepted)
				id, _ := r.json(t)["orderId"].(string)
				o, err := store.GetOrder(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				if o.PartnerID != "market" || o.Channel != order.ChannelPartner || o.CustomerID != "partner:market" ||
					o.Payment.Method != order.PaymentPartnerAccount || o.Status != order.StatusReceived {
					t.Fatalf("order %+v", o)
				}
				if h.queue.count(id) != 1 {
					t.Fatal("the order was not handed to the workflow")
				}
			})
			for _, tc := range []struct {
				name  string
				send  func() response
				want  int
				field string
			}{
				{"tampered body", func() response {
					sig := partner.Sign(native, h.now, marketSecret)
					tampered := []byte(strings.Replace(string(native), `"quantity": 1`, `"quantity": 9`, 1))
					return h.do(http.MethodPost, "/v1/webhooks/market", "", tampered,
						map[string]string{partner.DeliveryHeader: "d-tampered", partner.SignatureHeader: sig})
				}, http.StatusUnauthorized, ""},
				{"wrong secret", func() response { return h.deliver("market", "d-wrong", native, h.now, shopSecret) }, http.StatusUnauthorized, ""},
				{"no signature", func() response { return h.deliver("market", "d-none", native, h.now) }, http.StatusUnauthorized, ""},
				{"timestamp 301 s old", func() response {
					return h.deliver("market", "d-old", native, h.now.Add(-301*time.Second), marketSecret)
				}, http.StatusUnauthorized, ""},
				{"timestamp 301 s ahead", func() response {
					return h.deliver("market", "d-ahead", native, h.now.Add(301*time.Second), marketSecret)
				}, http.StatusUnauthorized, ""},
				{"timestamp 300 s old is still fine", func() response {
					return h.deliver("market", "d-300", nativeOrder(t, "REF-300"), h.now.Add(-300*time.Second), marketSecret)
				}, http.StatusAccepted, ""},
				{"the rotated secret", func() response {
					return h.deliver("market", "d-rotated", nativeOrder(t, "REF-ROTATED"), h.now, marketSecretNew)
				}, http.StatusAccepted, ""},
				{"unknown partner", func() response { return h.deliver("nobody", "d-x", native, h.now, marketSecret) }, http.StatusNotFound, ""},
				{"no delivery id", func() response { return h.deliver("market", "", native, h.now, marketSecret) }, http.StatusBadRequest, ""},
				{"not JSON", func() response {
					return h.do(http.MethodPost, "/v1/webhooks/market", "", native, map[string]string{"Content-Type": "text/plain",
						partner.DeliveryHeader: "d-text", partner.SignatureHeader: partner.Sign(native, h.now, marketSecret)})
				}, http.StatusUnsupportedMediaType, ""},
				{"too large", func() response {
					big := []byte(`{"x":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`)
					return h.deliver("market", "d-big", big, h.now, marketSecret)
				}, http.StatusRequestEntityTooLarge, ""},
				{"a trade mode the partner may not post", func() response {
					b2b := []byte(strings.Replace(string(native), `"tradeMode": "B2C"`, `"tradeMode": "C2C"`, 1))
					return h.deliver("market", "d-c2c", b2b, h.now, marketSecret)
				}, http.StatusUnprocessableEntity, "/tradeMode"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.send()
					wantStatus(t, r, tc.want)
					if tc.want == http.StatusUnauthorized {
						p := r.json(t)
						if p["detail"] != "The signature was not accepted." || r.header.Get("Content-Type") != "application/problem+json" {
							t.Fatalf("a refused signature must say only that: %s", r.body)
						}
					}
					if tc.field != "" {
						if _, ok := fieldErrors(t, r.json(t))[tc.field]; !ok {
							t.Fatalf("no error on %s: %s", tc.field, r.body)
						}
					}
				})
			}

			t.Run("ten concurrent copies of a delivery make one order", func(t *testing.T) {
				native := nativeOrder(t, "REF-CONCURRENT")
				before, _, _ := store.ListByCustomer(ctx, "partner:market", 100, "")
				var wg sync.WaitGroup
				answers := make([]response, 10)
				for i := range answers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						answers[i] = h.deliver("market", "d-concurrent", native, h.now, marketSecret)
					}()
				}
				wg.Wait()
				ids, replayed := map[string]bool{}, 0
				for _, r := range answers {
					wantStatus(t, r, http.StatusAccepted)
					ids[fmt.Sprint(r.json(t)["orderId"])] = true
					if r.header.Get("Idempotent-Replayed") == "true" {
						replayed++
					}
				}
				after, _, _ := store.ListByCustomer(ctx, "partner:market", 100, "")
				if len(ids) != 1 || replayed != 9 || len(after) != len(before)+1 {
					t.Fatalf("%d order ids, %d replayed, %d orders created", len(ids), replayed, len(after)-len(before))
				}
				// And again later: the same answer, nothing new.
				r := h.deliver("market", "d-concurrent", native, h.now.Add(time.Minute), marketSecret)
				wantStatus(t, r, http.StatusAccepted)
				if r.header.Get("Idempotent-Replayed") != "true" || !ids[fmt.Sprint(r.json(t)["orderId"])] {
					t.Fatalf("repeat: %s %s", r.header, r.body)
				}
			})
			t.Run("the same delivery id with another body", func(t *testing.T) {
				native := nativeOrder(t, "REF-REUSED")
				wantStatus(t, h.deliver("market", "d-reused", native, h.now, marketSecret), http.StatusAccepted)
				other := []byte(strings.Replace(string(native), `"quantity": 1`, `"quantity": 2`, 1))
				other = []byte(strings.Replace(string(other), `"lineTotal": { "amount": 1999`, `"lineTotal": { "amount": 3998`, 1))
				r := h.deliver("market", "d-reused", other, h.now, marketSecret)
				wantProblem(t, r, http.StatusUnprocessableEntity, "/problems/idempotency-key-reused")
			})
			t.Run("a Shopify orders/create payload", func(t *testing.T) {
				r := h.deliver("shop", "shopify-webhook-1", partnerSample(t, "shopify-orders-create.json"), h.now, shopSecret)
				wantStatus(t, r, http.StatusAccepted)
				o, err := store.GetOrder(ctx, r.json(t)["orderId"].(string))
				if err != nil {
					t.Fatal(err)
				}
				if o.PartnerID != "shop" || o.Destination() != "DE" || o.Currency != "EUR" || len(o.Lines) != 2 || o.PartnerOrderRef == "" {
					t.Fatalf("order %+v", o)
				}
				for _, l := range o.Lines {
					if len(l.HSCode) < 6 || l.OriginCountry == "" {
						t.Fatalf("line %+v lacks its HS code or origin", l)
					}
				}
			})
			t.Run("a Shopify line without an HS code is named", func(t *testing.T) {
				var m map[string]any
				_ = json.Unmarshal(partnerSample(t, "shopify-orders-create.json"), &m)
				line := m["line_items"].([]any)[1].(map[string]any)
				line["sku"], line["properties"] = "NOT-IN-CATALOGUE", []any{}
				body, _ := json.Marshal(m)
				r := h.deliver("shop", "shopify-webhook-2", body, h.now, shopSecret)
				wantStatus(t, r, http.StatusUnprocessableEntity)
				if _, ok := fieldErrors(t, r.json(t))["/line_items/1/hs_code"]; !ok {
					t.Fatalf("want an error on /line_items/1/hs_code: %s", r.body)
				}
			})
		})
	}
}
