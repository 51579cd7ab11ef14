package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
)

// jsonRoute is a route that reads a JSON body, posted to as its callers
// post: with a token and a fresh Idempotency-Key, or signed by a partner
// with a fresh delivery id.
type jsonRoute struct {
	op    string // as the OpenAPI document names it: "POST /v1/orders"
	name  string
	valid []byte // a body the route accepts…
	want  int    // …with this status
	lines string // the key of the body's lines ("": not an order)
	send  func(body []byte, contentType string) response
}

// jsonRoutes lists every route that reads a JSON body, the webhook once
// per partner format.
func jsonRoutes(t *testing.T, h *webhookHarness) []jsonRoute {
	var n atomic.Int64
	fresh := func() string { return fmt.Sprintf("body-%d", n.Add(1)) }
	customer := func(path string) func([]byte, string) response {
		return func(body []byte, ct string) response {
			return h.do(http.MethodPost, path, "alice", body, map[string]string{"Idempotency-Key": fresh(), "Content-Type": ct})
		}
	}
	signed := func(partnerID, secret string) func([]byte, string) response {
		return func(body []byte, ct string) response {
			return h.do(http.MethodPost, "/v1/webhooks/"+partnerID, "", body, map[string]string{"Content-Type": ct,
				partner.DeliveryHeader: fresh(), partner.SignatureHeader: partner.Sign(body, h.now, secret)})
		}
	}
	return []jsonRoute{
		{"POST /v1/orders", "orders", sample(t, "mobile-b2c-de.json"), http.StatusAccepted, "lines", customer("/v1/orders")},
		{"POST /v1/quotes", "quotes", quoteSample(t, "cart-de.json"), http.StatusCreated, "lines", customer("/v1/quotes")},
		{"POST /v1/webhooks/{partner}", "webhook native", partnerSample(t, "native-order.json"), http.StatusAccepted, "lines",
			signed("market", marketSecret)},
		{"POST /v1/webhooks/{partner}", "webhook shopify", partnerSample(t, "shopify-orders-create.json"), http.StatusAccepted, "line_items",
			signed("shop", shopSecret)},
		// A notification within the rules names an order this store does
		// not hold: 404, after the body was read.
		{"POST /v1/partners/{partner}/notifications", "partner notification",
			[]byte(`{"type": "declaration.updated", "orderId": "01KB0S2H7M9N4P6Q8R1T3V5W7X", "status": "cleared"}`), http.StatusNotFound, "",
			func(body []byte, ct string) response {
				hdr := http.Header{}
				if err := partnerlink.Sign(hdr, fresh(), h.now, body, brokerSecret); err != nil {
					t.Fatal(err)
				}
				return h.do(http.MethodPost, "/v1/partners/customs-broker/notifications", "", body, map[string]string{"Content-Type": ct,
					partnerlink.HeaderID: hdr.Get(partnerlink.HeaderID), partnerlink.HeaderTimestamp: hdr.Get(partnerlink.HeaderTimestamp),
					partnerlink.HeaderSignature: hdr.Get(partnerlink.HeaderSignature)})
			}},
	}
}

// withFirstKey is body with a member put before its first.
func withFirstKey(body []byte, member string) []byte {
	rest := bytes.TrimLeft(body, " \t\r\n")
	return append([]byte("{"+member+", "), rest[1:]...)
}

// withSecondSKU is body with the second line's "sku" given twice.
func withSecondSKU(t *testing.T, body []byte) []byte {
	t.Helper()
	first := bytes.Index(body, []byte(`"sku":`))
	second := bytes.Index(body[first+1:], []byte(`"sku":`))
	if first < 0 || second < 0 {
		t.Fatal("the body has no second sku")
	}
	at := first + 1 + second
	return append(append(body[:at:at], `"sku": "OTHER-SKU", `...), body[at:]...)
}

// TestJSONBodies holds every route that reads JSON to the same rules: UTF-8
// (a charset other than utf-8 is 415), one object (anything else the same
// 400), no key twice at any depth (400 naming the key and its pointer).
func TestJSONBodies(t *testing.T) {
	h := newWebhookHarness(t, memstore.New())
	notObject := "the body must be a JSON object"
	for _, rt := range jsonRoutes(t, h) {
		t.Run(rt.name, func(t *testing.T) {
			type bodyCase struct {
				name, contentType string
				body              []byte
				status            int
				detail            string // what the problem's detail says
			}
			var ordered []bodyCase
			if rt.lines != "" {
				ordered = []bodyCase{
					{"a duplicate key at the top", "application/json", withFirstKey(rt.valid, `"currency": "USD"`),
						http.StatusBadRequest, `duplicate key "currency" at /currency: each key may appear once in an object`},
					{"a duplicate key in a line", "application/json", withSecondSKU(t, rt.valid),
						http.StatusBadRequest, `duplicate key "sku" at /` + rt.lines + `/1/sku`},
					{"a duplicate key in another case", "application/json", withFirstKey(rt.valid, `"Currency": "USD"`),
						http.StatusBadRequest, `duplicate key "currency" at /currency: the object has "Currency" already`},
					{"invalid UTF-8", "application/json", bytes.Replace(rt.valid, []byte(`"EUR"`), []byte("\"EU\xd2\""), 1),
						http.StatusBadRequest, "the body is not valid UTF-8"},
				}
			} else {
				ordered = []bodyCase{
					{"a duplicate key at the top", "application/json", withFirstKey(rt.valid, `"type": "x"`),
						http.StatusBadRequest, `duplicate key "type" at /type: each key may appear once in an object`},
					{"a duplicate key in another case", "application/json", withFirstKey(rt.valid, `"Type": "x"`),
						http.StatusBadRequest, `duplicate key "type" at /type: the object has "Type" already`},
					{"invalid UTF-8", "application/json", bytes.Replace(rt.valid, []byte(`"cleared"`), []byte("\"clea\xd2\""), 1),
						http.StatusBadRequest, "the body is not valid UTF-8"},
				}
			}
			for _, tc := range append(ordered, []bodyCase{
				{"a valid body", "application/json", rt.valid, rt.want, ""},
				{"charset=UTF-8", "application/json; charset=UTF-8", rt.valid, rt.want, ""},
				{"charset=utf8", "application/json;charset=utf8", rt.valid, rt.want, ""},
				{"charset=utf-16", "application/json; charset=utf-16", rt.valid, http.StatusUnsupportedMediaType, "in UTF-8"},
				{"charset=ISO-8859-1", "application/json; charset=ISO-8859-1", rt.valid, http.StatusUnsupportedMediaType, "in UTF-8"},

				{"nesting 40 deep", "application/json", withFirstKey(rt.valid, `"x": `+strings.Repeat("[", 40)+strings.Repeat("]", 40)),
					http.StatusBadRequest, "more than 32 deep (at /x/0/"},

				{"null", "application/json", []byte(`null`), http.StatusBadRequest, notObject},
				{"an array", "application/json", []byte(`[]`), http.StatusBadRequest, notObject},
				{"an array of the body", "application/json", append(append([]byte(`[`), rt.valid...), ']'), http.StatusBadRequest, notObject},
				{"a string", "application/json", []byte(`"x"`), http.StatusBadRequest, notObject},
				{"a number", "application/json", []byte(`1`), http.StatusBadRequest, notObject},
				{"true", "application/json", []byte(`true`), http.StatusBadRequest, notObject},
			}...) {
				t.Run(tc.name, func(t *testing.T) {
					r := rt.send(tc.body, tc.contentType)
					switch tc.status {
					case http.StatusBadRequest:
						p := wantProblem(t, r, tc.status, "/problems/bad-request")
						detail, _ := p["detail"].(string)
						if tc.detail == notObject && detail != notObject || !strings.Contains(detail, tc.detail) {
							t.Fatalf("detail %q, want %q", detail, tc.detail)
						}
					case http.StatusUnsupportedMediaType:
						p := wantProblem(t, r, tc.status, "/problems/unsupported-media-type")
						if detail, _ := p["detail"].(string); !strings.Contains(detail, tc.detail) {
							t.Fatalf("detail %q, want %q", detail, tc.detail)
						}
					default:
						wantStatus(t, r, tc.status)
					}
				})
			}
		})
	}

	// A webhook's signature is checked on the raw bytes first: a body with
	// a duplicate key signed with no active secret is a 401 that says no more.
	dup := withFirstKey(partnerSample(t, "native-order.json"), `"currency": "USD"`)
	r := h.do(http.MethodPost, "/v1/webhooks/market", "", dup, map[string]string{
		partner.DeliveryHeader: "d-dup-unsigned", partner.SignatureHeader: partner.Sign(dup, h.now, shopSecret)})
	if p := wantProblem(t, r, http.StatusUnauthorized, "/problems/signature-not-accepted"); p["detail"] != "The signature was not accepted." {
		t.Fatalf("a refused signature must say only that: %s", r.body)
	}
}

// TestJSONBodyRoutesDocumented keeps TestJSONBodies and the OpenAPI
// document in step: every operation documented with a JSON body is tested
// there, and documents the answers the body rules give.
func TestJSONBodyRoutesDocumented(t *testing.T) {
	doc := loadOpenAPI(t)
	tested := map[string]bool{}
	for _, rt := range jsonRoutes(t, newWebhookHarness(t, memstore.New())) {
		tested[rt.op] = true
	}
	var documented []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if _, ok := op.RequestBody.Content["application/json"]; !ok {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			documented = append(documented, name)
			if !tested[name] {
				t.Errorf("%s takes JSON but TestJSONBodies does not post to it: add it to jsonRoutes", name)
			}
			for _, code := range []string{"400", "413", "415"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s takes JSON but does not document %s", name, code)
				}
			}
		}
	}
	for op := range tested {
		if !slices.Contains(documented, op) {
			t.Errorf("jsonRoutes posts JSON to %s, which the OpenAPI document does not say takes JSON", op)
		}
	}
}
