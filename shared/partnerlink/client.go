package partnerlink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/egress"
)

// DefaultTimeout bounds one request to a partner: a step retries a request
// that timed out with the same webhook-id, which the partner answers with
// what the first one did.
const DefaultTimeout = 10 * time.Second

// maxAnswerBytes bounds a partner's answer.
const maxAnswerBytes = 1 << 20

// Endpoint is one partner's side of the protocol: its base URL and the
// secret both directions are signed with.
type Endpoint struct {
	// URL is the base URL (https, or http on a loopback address).
	URL    string `json:"url"`
	Secret string `json:"secret"`
	// Sandbox marks a partner's test environment or a simulator: allowed
	// only in a deployment that names itself a sandbox (Config.Check).
	Sandbox bool `json:"sandbox,omitempty"`

	// HTTP is the client (when nil, a DefaultTimeout one that never
	// connects to link-local or metadata addresses).
	HTTP *http.Client `json:"-"`
	// Now is the clock for signing (time.Now when nil).
	Now func() time.Time `json:"-"`
}

// ErrUnavailable wraps a failure worth retrying with the same id: a
// network error, a timeout, a 408, 409 (the same request still in flight),
// 429 or 5xx answer.
var ErrUnavailable = errors.New("partnerlink: partner unavailable")

// StatusError is an answer retrying will not change (a 4xx other than
// 408, 409 and 429): Problem says why, when the partner said.
type StatusError struct {
	Path    string
	Status  int
	Problem Problem
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("partnerlink: %s answered %d %s %s", e.Path, e.Status, e.Problem.Code, e.Problem.Detail)
}

func (e Endpoint) now() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// defaultClient reaches what operators configure, not partners: private
// space (a partner behind a VPN or PrivateLink) and loopback (the
// simulators of a sandbox; Check allows plain http there only) are
// allowed, link-local space and the cloud metadata service never — not by
// a name that resolves there, nor by a redirect (package egress).
var defaultClient = &http.Client{Timeout: DefaultTimeout,
	Transport: egress.Transport(egress.Policy{AllowLoopback: true, AllowPrivate: true}.Dialer())}

func (e Endpoint) client() *http.Client {
	if e.HTTP != nil {
		return e.HTTP
	}
	return defaultClient
}

// Check reports a problem with the endpoint's configuration.
func (e Endpoint) Check() error {
	u, err := url.Parse(e.URL)
	switch {
	case e.URL == "" || err != nil || u.Host == "":
		return fmt.Errorf("url %q is not an absolute URL", e.URL)
	case u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())):
		return fmt.Errorf("url %q must be https (http only on a loopback address)", e.URL)
	}
	if _, err := secretKey(e.Secret); err != nil {
		return err
	}
	return nil
}

func loopback(host string) bool { return host == "127.0.0.1" || host == "localhost" || host == "::1" }

// Post sends in as JSON to path, signed as message id, and decodes a 2xx
// answer into out (when not nil).
func (e Endpoint) Post(ctx context.Context, path, id string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("partnerlink: encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(e.URL, "/")+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("partnerlink: %s: %w", path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if err := Sign(req.Header, id, e.now(), body, e.Secret); err != nil {
		return err
	}
	return e.do(req, path, out)
}

// Get reads path (the ledger of a simulator), signed as Post is, with a
// fresh message id.
func (e Endpoint) Get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(e.URL, "/")+path, nil)
	if err != nil {
		return fmt.Errorf("partnerlink: %s: %w", path, err)
	}
	req.Header.Set("Accept", "application/json")
	now := e.now()
	if err := Sign(req.Header, fmt.Sprintf("get:%d", now.UnixNano()), now, nil, e.Secret); err != nil {
		return err
	}
	return e.do(req, path, out)
}

func (e Endpoint) do(req *http.Request, path string, out any) error {
	resp, err := e.client().Do(req)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrUnavailable, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
	if err != nil {
		return fmt.Errorf("%w: %s: read the answer: %w", ErrUnavailable, path, err)
	}
	switch s := resp.StatusCode; {
	case s >= 200 && s < 300:
		if out == nil {
			return nil
		}
		if err := json.Unmarshal(raw, out); err != nil {
			// A partner that answers 2xx with something else is broken, not
			// busy; but what it did is unknown: ask again.
			return fmt.Errorf("%w: %s: answer is not the protocol's JSON: %w", ErrUnavailable, path, err)
		}
		return nil
	case s == http.StatusRequestTimeout || s == http.StatusConflict || s == http.StatusTooManyRequests || s >= 500:
		return fmt.Errorf("%w: %s answered %d", ErrUnavailable, path, s)
	default:
		se := &StatusError{Path: path, Status: s}
		_ = json.Unmarshal(raw, &se.Problem)
		return se
	}
}
