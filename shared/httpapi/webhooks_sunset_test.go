package httpapi_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/partner"
)

// TestTheRetiredSchemeIsRefusedFromItsSunset: until partner.LegacySunset
// intake takes Xborder-Signature (saying it is deprecated); from then on a
// delivery so signed is a 401 that says the scheme was retired, and
// Standard Webhooks still works.
func TestTheRetiredSchemeIsRefusedFromItsSunset(t *testing.T) {
	store := memstore.New()
	authn, _ := auth.NewLocalHS256(secret)
	cat, err := partner.LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	now := partner.LegacySunset.Add(-time.Minute)
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: authn, Workflow: &enqueueRecorder{},
		Quoter: customs.Default(), Partners: testPartners(t), Catalogue: cat, Now: func() time.Time { return now }}))
	defer srv.Close()
	h := &webhookHarness{harness: &harness{t: t, srv: srv}, now: now}

	r := h.deliver("market", "sunset-1", nativeOrder(t, "SUNSET-1"), now, marketSecret)
	if r.status != http.StatusAccepted || r.header.Get("Sunset") == "" || r.header.Get("Deprecation") == "" {
		t.Fatalf("before the sunset: %d, Sunset %q, Deprecation %q", r.status, r.header.Get("Sunset"), r.header.Get("Deprecation"))
	}
	now = partner.LegacySunset
	r = h.deliver("market", "sunset-2", nativeOrder(t, "SUNSET-2"), now, marketSecret)
	if r.status != http.StatusUnauthorized || !strings.Contains(string(r.body), "retired") {
		t.Fatalf("at the sunset: %d %s", r.status, r.body)
	}
	if r := h.standard("market", "msg_sunset-3", nativeOrder(t, "SUNSET-3"), now, nil, marketSecret); r.status != http.StatusAccepted {
		t.Fatalf("Standard Webhooks at the sunset: %d %s", r.status, r.body)
	}
}
