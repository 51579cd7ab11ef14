package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// StripeMock configures stripe-mock (github.com/stripe/stripe-mock, Stripe's
// own mock of its API, installed by `make tools` into the tools' bin/). It
// keeps no state: it checks every request against Stripe's OpenAPI
// specification and answers with fixtures. Its PaymentIntent fixture is set
// to the state a confirmed manual-capture intent is in (requires_capture),
// which is what a successful authorization answers; nothing else changes.
type StripeMock struct {
	ToolsDir string
	Port     int
	LogPath  string
}

// Start launches stripe-mock on loopback (HTTP and HTTPS both bound to
// 127.0.0.1) and waits until it answers.
func (m StripeMock) Start(ctx context.Context) (*Process, error) {
	bin := filepath.Join(m.ToolsDir, "bin", "stripe-mock")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("services: stripe-mock is not installed under %s: run `make tools`", m.ToolsDir)
	}
	fixtures, err := m.fixtures()
	if err != nil {
		return nil, err
	}
	port := m.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	tlsPort, err := FreePort()
	if err != nil {
		return nil, err
	}
	logPath := m.LogPath
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), fmt.Sprintf("xborder-stripe-mock-%d.log", port))
	}
	cmd := exec.Command(bin, "-http-addr", "127.0.0.1:"+strconv.Itoa(port), "-https-addr", "127.0.0.1:"+strconv.Itoa(tlsPort),
		"-fixtures", fixtures)
	p, err := start("stripe-mock", cmd, logPath)
	if err != nil {
		return nil, err
	}
	p.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	probe := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint+"/v1/payment_intents/pi_probe", nil)
		req.Header.Set("Authorization", "Bearer sk_test_probe")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return errors.New("status " + strconv.Itoa(resp.StatusCode))
		}
		return nil
	}
	if err := waitHTTP(wctx, p, logPath, probe); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// fixtures writes stripe-mock's bundled fixtures (copied next to it by
// `make tools`) with the PaymentIntent in the requires_capture state.
func (m StripeMock) fixtures() (string, error) {
	dir := filepath.Join(m.ToolsDir, "stripe-mock")
	raw, err := os.ReadFile(filepath.Join(dir, "fixtures3.json"))
	if err != nil {
		return "", fmt.Errorf("services: stripe-mock fixtures: %w (run `make tools`)", err)
	}
	var f struct {
		Resources map[string]map[string]any `json:"resources"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		return "", fmt.Errorf("services: stripe-mock fixtures: %w", err)
	}
	pi := f.Resources["payment_intent"]
	if pi == nil {
		return "", errors.New("services: stripe-mock fixtures have no payment_intent")
	}
	pi["status"], pi["last_payment_error"], pi["capture_method"] = "requires_capture", nil, "manual"
	pi["amount_capturable"] = pi["amount"]
	out, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "fixtures-requires-capture.json")
	return path, os.WriteFile(path, out, 0o644)
}
