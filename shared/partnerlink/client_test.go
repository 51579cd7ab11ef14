package partnerlink

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/xborder/xborder/shared/egress"
)

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// The default client never reaches the metadata service: not by the
// configured URL, nor by a redirect; a loopback simulator it does reach.
func TestDefaultClientRefusesTheMetadataService(t *testing.T) {
	ctx := context.Background()
	err := Endpoint{URL: "https://169.254.169.254", Secret: testSecret}.Post(ctx, PathDeclarations, "xborder:o:customs-declaration", map[string]string{}, nil)
	if !errors.Is(err, egress.ErrRefused) || !errors.Is(err, ErrUnavailable) {
		t.Fatalf("post to 169.254.169.254: %v, want egress.ErrRefused (as ErrUnavailable)", err)
	}

	var answered int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved"+PathDeclarations {
			http.Redirect(w, r, "http://[fd00:ec2::254]/latest/meta-data/", http.StatusFound)
			return
		}
		answered++
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"pending"}`))
	}))
	t.Cleanup(srv.Close)
	var out DeclarationAnswer
	if err := (Endpoint{URL: srv.URL, Secret: testSecret}).Post(ctx, PathDeclarations, "xborder:o:customs-declaration", map[string]string{}, &out); err != nil || out.Status != StatusPending || answered != 1 {
		t.Fatalf("a loopback simulator: %+v %v (%d answers)", out, err, answered)
	}
	err = Endpoint{URL: srv.URL + "/moved", Secret: testSecret}.Post(ctx, PathDeclarations, "xborder:o:customs-declaration", map[string]string{}, nil)
	if !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("a redirect to fd00:ec2::254: %v, want egress.ErrRefused", err)
	}
}

func TestCheckSecret(t *testing.T) {
	for secret, ok := range map[string]bool{
		testSecret:                     true,
		"a-plain-secret-used-as-bytes": true,
		"":                             false,
		"whsec_not base64!":            false,
		"whsec_c2hvcnQ=":               false, // 5 bytes
	} {
		if err := CheckSecret(secret); (err == nil) != ok {
			t.Errorf("CheckSecret(%q) = %v, want ok %v", secret, err, ok)
		}
	}
}
