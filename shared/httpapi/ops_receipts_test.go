package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
)

// receiptFor writes the receipt message typ with one return.
func receiptFor(t *testing.T, typ string, r ceb.Return) []byte {
	t.Helper()
	if r.GUID == "" {
		r.GUID = ceb.GUID(r.OrderNo+r.LogisticsNo, typ, "return-test")
	}
	if r.Time.IsZero() {
		r.Time = time.Date(2026, 11, 24, 10, 0, 5, 250e6, time.UTC)
	}
	x, err := ceb.RenderReceipt(typ, []ceb.Return{r})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// testOpsCustomsReceipts: receipts are matched to their order by order
// number or by the references the customs step recorded, recorded once,
// listed with the declarations they answer and noted in the history;
// what cannot be read or matched is refused whole.
func testOpsCustomsReceipts(t *testing.T, h *opsHarness) {
	ctx := context.Background()
	o := h.place(t, time.Now(), order.StatusCustomsCleared, "")
	var msgs []order.CustomsMessage
	for _, typ := range []string{"CEB303", "CEB403", "CEB505", "CEB603"} {
		msgs = append(msgs, order.CustomsMessage{Type: typ, XML: "<x/>", At: time.Now().UTC()})
	}
	if _, err := h.store.PutCustomsDocuments(ctx, o.ID, order.CustomsDocuments{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
	waybill := "XB" + o.ID[len(o.ID)-10:] + "DE"
	if err := h.store.PutReferences(ctx, o.ID, []string{ceb.RefLogisticsNo + waybill}); err != nil {
		t.Fatal(err)
	}
	post := func(body []byte) response {
		t.Helper()
		return h.do(http.MethodPost, "/v1/ops/customs/receipts", "", body, map[string]string{
			"Authorization": "Bearer " + opsToken(t, "olga"), "Content-Type": "application/xml"})
	}
	stored := receiptFor(t, "CEB304", ceb.Return{EbpCode: "DEMOEBP001", EbcCode: "DEMO00000000EBC001", OrderNo: o.ID, Status: 120})
	r := post(stored)
	wantStatus(t, r, http.StatusOK)
	res := h.conforms(r, http.MethodPost, "/v1/ops/customs/receipts")["results"].([]any)[0].(map[string]any)
	if res["orderId"] != o.ID || res["recorded"] != true || res["outcome"] != "pending" || res["ref"] != "orderNo:"+o.ID {
		t.Fatalf("result %v", res)
	}
	before := len(h.history(t, o.ID))
	if !hasEvent(h.history(t, o.ID), "customs_receipt:CEB304:120:pending", "china-eport") {
		t.Fatalf("no history note: %v", h.history(t, o.ID))
	}
	// The E-Port resends: recorded once.
	r = post(stored)
	wantStatus(t, r, http.StatusOK)
	if res := r.json(t)["results"].([]any)[0].(map[string]any); res["recorded"] != false {
		t.Fatalf("a resent receipt: %v", res)
	}
	if n := len(h.history(t, o.ID)); n != before {
		t.Fatalf("a resent receipt added %d history events", n-before)
	}
	// A waybill receipt names only the waybill number.
	r = post(receiptFor(t, "CEB506", ceb.Return{LogisticsCode: "DEMO00000000LOG001", LogisticsNo: waybill, Status: 399}))
	wantStatus(t, r, http.StatusOK)
	if res := r.json(t)["results"].([]any)[0].(map[string]any); res["orderId"] != o.ID || res["outcome"] != "cleared" {
		t.Fatalf("waybill receipt: %v", res)
	}
	released := receiptFor(t, "CEB604", ceb.Return{AgentCode: "DEMO00000000AGT001", CopNo: o.ID, PreNo: "I20261124000000001",
		InvtNo: "51412026E000000001", EbcCode: "DEMO00000000EBC001", EbpCode: "DEMOEBP001", OrderNo: o.ID, StatisticsFlag: "A",
		Status: 800, Info: "放行"})
	wantStatus(t, post(released), http.StatusOK)

	r = h.ops(http.MethodGet, "/v1/ops/orders/"+o.ID+"/declarations")
	latest := map[string]any{}
	for _, d := range h.conforms(r, http.MethodGet, "/v1/ops/orders/{id}/declarations")["declarations"].([]any) {
		d := d.(map[string]any)
		latest[d["type"].(string)] = d["latest"]
	}
	want := map[string]any{"CEB303": "pending", "CEB403": "awaiting", "CEB505": "cleared", "CEB603": "released"}
	for typ, w := range want {
		if latest[typ] != w {
			t.Errorf("%s latest %v, want %v (%s)", typ, latest[typ], w, r.body)
		}
	}
	if !strings.Contains(string(r.body), "51412026E000000001") {
		t.Errorf("the inventory's customs number is not shown: %s", r.body)
	}

	// Refused whole, nothing recorded.
	count := len(h.history(t, o.ID))
	for name, tc := range map[string]struct {
		body []byte
		code string
	}{
		"unknown waybill": {receiptFor(t, "CEB506", ceb.Return{LogisticsCode: "L", LogisticsNo: "XB-NOT-OURS", Status: 399}), "unknown_document"},
		"unknown order":   {receiptFor(t, "CEB304", ceb.Return{EbpCode: "E", EbcCode: "C", OrderNo: "01KNOTANORDER", Status: 399}), "unknown_document"},
		"undeclared message": {receiptFor(t, "CEB312", ceb.Return{EbpCode: "E", EbcCode: "C", OrderNo: o.ID, Status: 399}),
			"unknown_document"},
		"not a receipt": {[]byte(`<?xml version="1.0"?><ceb:CEB303Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0"/>`), "invalid_receipt"},
		"bad time":      {[]byte(strings.Replace(string(stored), "20261124180005250", "2026112418000525", 1)), "invalid_receipt"},
	} {
		p := wantProblem(t, post(tc.body), http.StatusUnprocessableEntity, "/problems/validation-failed")
		errs, _ := p["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["code"] != tc.code || errs[0].(map[string]any)["field"] == "" {
			t.Errorf("%s: %v", name, p)
		}
	}
	if n := len(h.history(t, o.ID)); n != count {
		t.Fatalf("refused receipts added %d history events", n-count)
	}
	r = h.do(http.MethodPost, "/v1/ops/customs/receipts", "", stored, map[string]string{
		"Authorization": "Bearer " + opsToken(t, "olga"), "Content-Type": "application/json"})
	wantProblem(t, r, http.StatusUnsupportedMediaType, "/problems/unsupported-media-type")
	// The customer sees the history notes, not customs' answers.
	if body := string(h.do(http.MethodGet, "/v1/orders/"+o.ID, o.CustomerID, nil, nil).body); strings.Contains(body, "returnStatus") || strings.Contains(body, "放行") {
		t.Fatalf("the order view carries the receipts: %s", body)
	}
}
