package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/partner"
)

// TestAPartnersSecretRotatesWithoutARedeploy: the directory's source (a
// file here, Secrets Manager in AWS) changes under a warm API. A delivery
// signed with the partner's new secret, before the API read it, is
// accepted at once — the failed signature reads the directory again — and
// the revoked secret is refused within partner.DirectoryTTL. Reads happen
// no more often than partner.DirectoryRereadEvery, however many bad
// signatures come.
func TestAPartnersSecretRotatesWithoutARedeploy(t *testing.T) {
	const oldSecret, newSecret = "market-secret-before-the-rotation-0001", "market-secret-after-the-rotation-00001"
	file := filepath.Join(t.TempDir(), "partners.json")
	write := func(secret string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(`{"partners": [{"id": "market", "secrets": ["`+secret+`"], "format": "native",
		  "callbackUrl": "https://market.example/callbacks", "tradeModes": ["B2C", "M2B2C"]}]}`), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(oldSecret)
	dir, err := partner.NewRefreshing(context.Background(), "file:"+file, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	dir.Now = func() time.Time { return now }
	store := memstore.New()
	authn, _ := auth.NewLocalHS256(secret)
	cat, err := partner.LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Quotes: store, Auth: authn, Workflow: &enqueueRecorder{},
		Quoter: customs.Default(), Partners: dir, Catalogue: cat, Now: func() time.Time { return now }}))
	defer srv.Close()
	h := &webhookHarness{harness: &harness{t: t, srv: srv}, now: now}

	if r := h.deliver("market", "rot-1", nativeOrder(t, "ROT-1"), now, oldSecret); r.status != http.StatusAccepted {
		t.Fatalf("the secret held: %d %s", r.status, r.body)
	}
	// The partner moves to its new secret; the API has not read it yet.
	write(newSecret)
	now = now.Add(partner.DirectoryRereadEvery)
	if r := h.deliver("market", "rot-2", nativeOrder(t, "ROT-2"), now, newSecret); r.status != http.StatusAccepted {
		t.Fatalf("the new secret, on its first use: %d %s", r.status, r.body)
	}
	// A forger's attempt right after reads the directory no more: had it
	// done so, it would hold the source's next secret, not the new one.
	write("a-later-secret-of-the-market-000000001")
	if r := h.deliver("market", "rot-3", nativeOrder(t, "ROT-3"), now, "a-forged-secret-of-forty-characters-0000"); r.status != http.StatusUnauthorized {
		t.Fatalf("a forged signature: %d", r.status)
	}
	if r := h.deliver("market", "rot-3b", nativeOrder(t, "ROT-3B"), now, newSecret); r.status != http.StatusAccepted {
		t.Fatalf("the directory was read again within %s: %d", partner.DirectoryRereadEvery, r.status)
	}
	write(newSecret)
	// The old secret, revoked, is refused once the directory is read again.
	now = now.Add(partner.DirectoryTTL)
	if r := h.deliver("market", "rot-4", nativeOrder(t, "ROT-4"), now, oldSecret); r.status != http.StatusUnauthorized {
		t.Fatalf("the revoked secret after %s: %d %s", partner.DirectoryTTL, r.status, r.body)
	}
}
