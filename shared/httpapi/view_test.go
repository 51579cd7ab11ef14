package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// TestTheOwnersViewShowsNoInternals: what is the merchant's or the
// operators' business never reaches the customer's token — the merchant's
// customs cost, the filing's internals, the broker's reference, the
// screening entry, which operator acted — while the operators' view of
// the same order keeps them.
func TestTheOwnersViewShowsNoInternals(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	h := newHarness(t, store)
	r := h.post("wang", "internals-1", sample(t, "mobile-b2c-de.json"))
	wantStatus(t, r, http.StatusAccepted)
	id := r.json(t)["orderId"].(string)

	// The workflow's record of the order: assessed customs with a cost the
	// merchant bears, China's filing, the broker's reference, a list entry.
	o, err := store.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	eur := func(minor int64) money.Money { return money.Money{Amount: minor, Currency: "EUR"} }
	cost := eur(412)
	o.Customs = &order.CustomsRecord{Assessed: &order.LandedCharges{Duty: eur(120), Tax: eur(1900), Fees: eur(0), Collection: "IOSS"},
		MerchantCost: &cost, SupervisionMode: "9610", Resubmits: 2, DeclaredAt: time.Now()}
	o.CustomsDeclaration, o.Screening = "BRK-INTERNAL-7", &order.ScreeningHit{Reason: "denied_party", EntryID: "entry-1", Matched: "acme"}
	o.Version++
	if err := store.SaveTransition(ctx, o, order.Event{OrderID: id, Version: o.Version, At: time.Now(), From: o.Status, To: o.Status, Actor: "workflow"}); err != nil {
		t.Fatal(err)
	}
	// An operator acts on it.
	ops := map[string]string{"Authorization": "Bearer " + opsToken(t, "olga")}
	wantStatus(t, h.do(http.MethodPost, "/v1/ops/orders/"+id+"/cancel", "", []byte(`{}`), ops), http.StatusAccepted)

	got := h.do(http.MethodGet, "/v1/orders/"+id, "wang", nil, nil)
	wantStatus(t, got, http.StatusOK)
	for _, internal := range []string{"merchantCost", "supervisionMode", "resubmits", "declaredAt", "declaration", "BRK-INTERNAL-7",
		"screening", "denied_party", "entry-1", "ops:olga", "olga", "taskToken"} {
		if strings.Contains(string(got.body), internal) {
			t.Errorf("the owner's view shows %q:\n%s", internal, got.body)
		}
	}
	view := got.json(t)
	if c, _ := view["customs"].(map[string]any); c == nil || c["assessed"] == nil {
		t.Errorf("the owner's view lost the assessed charges: %v", view["customs"])
	}
	var byOps bool
	for _, e := range view["history"].([]any) {
		byOps = byOps || e.(map[string]any)["actor"] == "ops"
	}
	if !byOps {
		t.Errorf("the owner's history does not say an operator acted: %v", view["history"])
	}

	detail := h.do(http.MethodGet, "/v1/ops/orders/"+id, "", nil, ops)
	wantStatus(t, detail, http.StatusOK)
	var d struct {
		Order struct {
			Customs            order.CustomsRecord `json:"customs"`
			CustomsDeclaration string              `json:"customsDeclaration"`
		} `json:"order"`
	}
	if err := json.Unmarshal(detail.body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Order.Customs.MerchantCost == nil || d.Order.Customs.SupervisionMode != "9610" || d.Order.CustomsDeclaration != "BRK-INTERNAL-7" ||
		!strings.Contains(string(detail.body), "ops:olga") {
		t.Errorf("the operators' view lost internals:\n%s", detail.body)
	}
}
