package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
)

// standard posts body to a partner's webhook signed as Standard Webhooks:
// message id, time at, one signature per secret; extra headers are added
// (or, empty, removed).
func (h *webhookHarness) standard(partnerID, id string, body []byte, at time.Time, extra map[string]string, secrets ...string) response {
	h.t.Helper()
	signed := http.Header{}
	if err := partnerlink.Sign(signed, id, at, body, secrets...); err != nil {
		h.t.Fatal(err)
	}
	for k, v := range extra {
		if v == "" {
			signed.Del(k)
		} else {
			signed.Set(k, v)
		}
	}
	headers := map[string]string{}
	for k := range signed {
		headers[k] = signed.Get(k)
	}
	return h.do(http.MethodPost, "/v1/webhooks/"+partnerID, "", body, headers)
}

func orderID(t *testing.T, r response) string {
	t.Helper()
	id, _ := r.json(t)["orderId"].(string)
	if id == "" {
		t.Fatalf("no order id in %s", r.body)
	}
	return id
}

// Intake speaks Standard Webhooks: the delivery id is the signed webhook-id,
// so a captured delivery cannot be posted again under another id.
func TestPartnerWebhookStandardWebhooks(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			h := newWebhookHarness(t, b.store(t))

			t.Run("a signed delivery: accepted, its webhook-id the delivery id, no deprecation", func(t *testing.T) {
				body := nativeOrder(t, "STD-1")
				r := h.standard("market", "msg_std_1", body, h.now, nil, marketSecret)
				wantStatus(t, r, http.StatusAccepted)
				if r.json(t)["deliveryId"] != "msg_std_1" || r.header.Get("Deprecation") != "" || r.header.Get("Sunset") != "" {
					t.Fatalf("answer %s, headers %v", r.body, r.header)
				}
				again := h.standard("market", "msg_std_1", body, h.now.Add(time.Minute), nil, marketSecret)
				wantStatus(t, again, http.StatusAccepted)
				if again.header.Get("Idempotent-Replayed") != "true" || orderID(t, again) != orderID(t, r) {
					t.Fatalf("a retry of the message: %v %s", again.header, again.body)
				}
				// The same id signed the old way is the same delivery.
				legacy := h.deliver("market", "msg_std_1", body, h.now, marketSecret)
				if legacy.status != http.StatusAccepted || orderID(t, legacy) != orderID(t, r) {
					t.Fatalf("the same id, the old scheme: %d %s", legacy.status, legacy.body)
				}
			})
			t.Run("a whsec_ secret, and both secrets of a rotation", func(t *testing.T) {
				wantStatus(t, h.standard("cardshop", "msg_whsec", nativeOrder(t, "STD-WHSEC"), h.now, nil, cardShopSecret), http.StatusAccepted)
				wantStatus(t, h.standard("market", "msg_rotating", nativeOrder(t, "STD-ROT"), h.now, nil,
					"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", marketSecretNew), http.StatusAccepted)
			})
			t.Run("a captured delivery posted again under a new webhook-id", func(t *testing.T) {
				body := nativeOrder(t, "STD-CAPTURED")
				signed := http.Header{}
				if err := partnerlink.Sign(signed, "msg_captured", h.now, body, marketSecret); err != nil {
					t.Fatal(err)
				}
				wantStatus(t, h.do(http.MethodPost, "/v1/webhooks/market", "", body, map[string]string{
					partnerlink.HeaderID: "msg_captured", partnerlink.HeaderTimestamp: signed.Get(partnerlink.HeaderTimestamp),
					partnerlink.HeaderSignature: signed.Get(partnerlink.HeaderSignature)}), http.StatusAccepted)
				r := h.do(http.MethodPost, "/v1/webhooks/market", "", body, map[string]string{
					partnerlink.HeaderID: "msg_replayed", partnerlink.HeaderTimestamp: signed.Get(partnerlink.HeaderTimestamp),
					partnerlink.HeaderSignature: signed.Get(partnerlink.HeaderSignature)})
				wantProblem(t, r, http.StatusUnauthorized, "/problems/signature-not-accepted")
			})
			for _, tc := range []struct {
				name string
				send func() response
				want int
			}{
				{"tampered body", func() response {
					body := nativeOrder(t, "STD-T")
					signed := http.Header{}
					_ = partnerlink.Sign(signed, "msg_t", h.now, body, marketSecret)
					return h.do(http.MethodPost, "/v1/webhooks/market", "", bytes.Replace(body, []byte(`"quantity": 1`), []byte(`"quantity": 9`), 1),
						map[string]string{partnerlink.HeaderID: "msg_t", partnerlink.HeaderTimestamp: signed.Get(partnerlink.HeaderTimestamp),
							partnerlink.HeaderSignature: signed.Get(partnerlink.HeaderSignature)})
				}, http.StatusUnauthorized},
				{"another partner's secret", func() response {
					return h.standard("market", "msg_w", nativeOrder(t, "STD-W"), h.now, nil, shopSecret)
				}, http.StatusUnauthorized},
				{"timestamp 301 s old", func() response {
					return h.standard("market", "msg_old", nativeOrder(t, "STD-O"), h.now.Add(-301*time.Second), nil, marketSecret)
				}, http.StatusUnauthorized},
				{"timestamp 300 s ahead is still fine", func() response {
					return h.standard("market", "msg_ahead", nativeOrder(t, "STD-A"), h.now.Add(300*time.Second), nil, marketSecret)
				}, http.StatusAccepted},
				{"no webhook-signature", func() response {
					return h.standard("market", "msg_nosig", nativeOrder(t, "STD-N"), h.now,
						map[string]string{partnerlink.HeaderSignature: ""}, marketSecret)
				}, http.StatusUnauthorized},
				{"a valid Xborder-Signature does not rescue a failed webhook-signature", func() response {
					body := nativeOrder(t, "STD-DOWNGRADE")
					return h.standard("market", "msg_down", body, h.now, map[string]string{
						partnerlink.HeaderSignature: "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
						partner.SignatureHeader:     partner.Sign(body, h.now, marketSecret), partner.DeliveryHeader: "msg_down"}, marketSecret)
				}, http.StatusUnauthorized},
				{"an Xborder-Delivery-Id other than the signed webhook-id", func() response {
					return h.standard("market", "msg_ids", nativeOrder(t, "STD-IDS"), h.now,
						map[string]string{partner.DeliveryHeader: "another-id"}, marketSecret)
				}, http.StatusBadRequest},
				{"the same id in both headers", func() response {
					return h.standard("market", "msg_both", nativeOrder(t, "STD-BOTH"), h.now,
						map[string]string{partner.DeliveryHeader: "msg_both"}, marketSecret)
				}, http.StatusAccepted},
				{"a webhook-id with a space", func() response {
					return h.standard("market", "msg with space", nativeOrder(t, "STD-SP"), h.now, nil, marketSecret)
				}, http.StatusBadRequest},
			} {
				t.Run(tc.name, func(t *testing.T) {
					r := tc.send()
					wantStatus(t, r, tc.want)
					if tc.want == http.StatusUnauthorized && r.json(t)["detail"] != "The signature was not accepted." {
						t.Fatalf("a refused signature must say only that: %s", r.body)
					}
				})
			}
			t.Run("the old scheme is answered with its retirement date", func(t *testing.T) {
				r := h.deliver("market", "d-legacy", nativeOrder(t, "LEGACY-1"), h.now, marketSecret)
				wantStatus(t, r, http.StatusAccepted)
				if r.header.Get("Sunset") != "Wed, 30 Jun 2027 00:00:00 GMT" || r.header.Get("Deprecation") != "@1796515200" {
					t.Fatalf("Sunset %q, Deprecation %q", r.header.Get("Sunset"), r.header.Get("Deprecation"))
				}
				if bad := h.deliver("market", "d-legacy-bad", nativeOrder(t, "LEGACY-2"), h.now, shopSecret); bad.header.Get("Sunset") == "" {
					t.Fatal("a refused delivery signed the old way is not told of the retirement")
				}
			})
		})
	}
}

// One partner order reference makes at most one order of that partner,
// whatever delivery id carries it: the finding was a captured delivery,
// signed the old way (the delivery id unsigned), posted again under a new
// id within the 300 s — two 202s, two orders, one partnerOrderRef.
func TestPartnerOrderReferenceMakesOneOrder(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			store := b.store(t)
			h := newWebhookHarness(t, store)
			ctx := context.Background()
			count := func() int {
				l, _, err := store.ListByCustomer(ctx, "partner:market", 100, "")
				if err != nil {
					t.Fatal(err)
				}
				return len(l)
			}

			t.Run("a captured delivery replayed under a new delivery id: the first order", func(t *testing.T) {
				body := nativeOrder(t, "REF-CAPTURED")
				sig := partner.Sign(body, h.now, marketSecret)
				first := h.do(http.MethodPost, "/v1/webhooks/market", "", body,
					map[string]string{partner.DeliveryHeader: "d-original", partner.SignatureHeader: sig})
				wantStatus(t, first, http.StatusAccepted)
				before := count()
				replay := h.do(http.MethodPost, "/v1/webhooks/market", "", body,
					map[string]string{partner.DeliveryHeader: "d-attacker", partner.SignatureHeader: sig})
				wantStatus(t, replay, first.status)
				if orderID(t, replay) != orderID(t, first) || !bytes.Equal(replay.body, first.body) || replay.header.Get("Idempotent-Replayed") != "true" {
					t.Fatalf("the replay answered %s, the first %s", replay.body, first.body)
				}
				if count() != before {
					t.Fatal("the replay made an order")
				}
			})
			t.Run("a resend under a new id with the same body, by either scheme: the first order", func(t *testing.T) {
				body := nativeOrder(t, "REF-RESEND")
				first := h.deliver("market", "d-resend-1", body, h.now, marketSecret)
				wantStatus(t, first, http.StatusAccepted)
				before := count()
				// (After the first delivery id is forgotten too: the claim
				// has no expiry, storetest holds the stores to it.)
				resend := h.standard("market", "msg_resend_2", body, h.now.Add(time.Minute), nil, marketSecret)
				wantStatus(t, resend, http.StatusAccepted)
				if orderID(t, resend) != orderID(t, first) || count() != before {
					t.Fatalf("the resend made order %s, the first %s", orderID(t, resend), orderID(t, first))
				}
			})
			t.Run("the reference with another body: 409 naming the field", func(t *testing.T) {
				body := nativeOrder(t, "REF-CONFLICT")
				first := h.deliver("market", "d-conflict-1", body, h.now, marketSecret)
				wantStatus(t, first, http.StatusAccepted)
				other := bytes.Replace(body, []byte(`"line1": "18 rue des Martyrs", "city"`), []byte(`"line1": "20 rue des Martyrs", "city"`), 1)
				if bytes.Equal(other, body) {
					t.Fatal("the body did not change")
				}
				before := count()
				for _, r := range []response{
					h.deliver("market", "d-conflict-2", other, h.now, marketSecret),
					h.standard("market", "msg_conflict_3", other, h.now, nil, marketSecret),
				} {
					p := wantProblem(t, r, http.StatusConflict, "/problems/partner-order-ref-reused")
					errs := fieldErrors(t, p)
					if _, ok := errs["/partnerOrderRef"]; !ok || !strings.Contains(fmt.Sprint(p["detail"]), orderID(t, first)) {
						t.Fatalf("the conflict does not name the field and the order: %s", r.body)
					}
				}
				if count() != before {
					t.Fatal("a conflicting delivery made an order")
				}
			})
			t.Run("ten deliveries of one reference under ten ids at once: one order", func(t *testing.T) {
				body := nativeOrder(t, "REF-RACE")
				before := count()
				answers := make([]response, 10)
				var wg sync.WaitGroup
				for i := range answers {
					wg.Go(func() { answers[i] = h.deliver("market", fmt.Sprint("d-race-", i), body, h.now, marketSecret) })
				}
				wg.Wait()
				ids := map[string]bool{}
				for _, r := range answers {
					switch r.status {
					case http.StatusAccepted:
						ids[orderID(t, r)] = true
					case http.StatusConflict: // still being written: retry shortly
						wantProblem(t, r, http.StatusConflict, "/problems/conflict")
					default:
						t.Fatalf("status %d: %s", r.status, r.body)
					}
				}
				if len(ids) != 1 || count() != before+1 {
					t.Fatalf("%d order ids answered, %d orders made; want one", len(ids), count()-before)
				}
			})
			t.Run("two bodies of one reference at once: one order, one conflict", func(t *testing.T) {
				a := nativeOrder(t, "REF-RACE-2")
				b := bytes.Replace(a, []byte(`"line1": "18 rue des Martyrs", "city"`), []byte(`"line1": "22 rue des Martyrs", "city"`), 1)
				before := count()
				var ra, rb response
				var wg sync.WaitGroup
				wg.Go(func() { ra = h.deliver("market", "d-race-a", a, h.now, marketSecret) })
				wg.Go(func() { rb = h.standard("market", "msg_race_b", b, h.now, nil, marketSecret) })
				wg.Wait()
				if ra.status+rb.status != http.StatusAccepted+http.StatusConflict || count() != before+1 {
					t.Fatalf("answers %d and %d, %d orders made; want one 202, one 409, one order", ra.status, rb.status, count()-before)
				}
			})
		})
	}
}

// Card payments only from a partner whose directory entry allows them.
func TestPartnerCardPayments(t *testing.T) {
	h := newWebhookHarness(t, backends[0].store(t))
	card := func(ref string) []byte {
		b := nativeOrder(t, ref)
		const account = `"payment": { "method": "partner_account", "token": "" }`
		if !bytes.Contains(b, []byte(account)) {
			t.Fatalf("the native sample no longer holds %s", account)
		}
		return bytes.Replace(b, []byte(account), []byte(`"payment": { "method": "card", "token": "tok_visa" }`), 1)
	}
	r := h.deliver("market", "d-card", card("CARD-1"), h.now, marketSecret)
	wantProblem(t, r, http.StatusUnprocessableEntity, "/problems/validation-failed")
	if code := fieldErrors(t, r.json(t))["/payment/method"]; code != "not_allowed" || !strings.Contains(string(r.body), "not card") {
		t.Fatalf("no not_allowed error on /payment/method: %s", r.body)
	}
	wantStatus(t, h.standard("cardshop", "msg_card", card("CARD-2"), h.now, nil, cardShopSecret), http.StatusAccepted)
	wantStatus(t, h.standard("cardshop", "msg_account", nativeOrder(t, "CARD-3"), h.now, nil, cardShopSecret), http.StatusAccepted)
}

// Through API Gateway and the Lambda adapter, which splits every header on
// commas ("v1,<signature> v1,<signature>" arrives as three values): a
// Standard Webhooks delivery still verifies, under its signed id.
func TestPartnerWebhookStandardWebhooksThroughLambda(t *testing.T) {
	store := memstore.New()
	cat, err := partner.LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	api := httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: auth.APIGatewayClaims{}, Quoter: customs.Default(),
		Partners: testPartners(t), Catalogue: cat, Now: func() time.Time { return now }})
	invoke := lambda.NewHandler(httpadapter.NewV2(api).ProxyWithContext)
	body := nativeOrder(t, "LAMBDA-1")
	signed := http.Header{}
	if err := partnerlink.Sign(signed, "msg_lambda_1", now, body, marketSecret, marketSecretNew); err != nil {
		t.Fatal(err)
	}
	ev := events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "POST /v1/webhooks/{partner}", RawPath: "/v1/webhooks/market",
		Headers: map[string]string{"content-type": "application/json", "webhook-id": signed.Get(partnerlink.HeaderID),
			"webhook-timestamp": signed.Get(partnerlink.HeaderTimestamp), "webhook-signature": signed.Get(partnerlink.HeaderSignature)},
		Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "Kx1webhook=", Stage: "$default",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: "/v1/webhooks/market", Protocol: "HTTP/1.1"}}}
	raw, _ := json.Marshal(ev)
	out, err := invoke.Invoke(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || !strings.Contains(resp.Body, `"deliveryId":"msg_lambda_1"`) {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
}
