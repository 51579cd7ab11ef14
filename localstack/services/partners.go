package services

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/xborder/xborder/localstack/partnersim"
	"github.com/xborder/xborder/shared/partnerlink"
)

// What `devstack with-services` tells the tests about the partners.
const (
	// EnvPartnerEndpoints is the file of the running simulators' endpoints
	// (partnerlink.Config, marked sandbox).
	EnvPartnerEndpoints = "LOCAL_PARTNER_ENDPOINTS"
	// EnvStripeRecorder is the recording proxy in front of stripe-mock.
	EnvStripeRecorder = "STRIPE_RECORDER_URL"
	// EnvDevstack is the devstack binary, for tests that start simulators
	// of their own.
	EnvDevstack = "DEVSTACK_BIN"
)

// LoadEndpoints reads an endpoints file.
func LoadEndpoints(path string) (partnerlink.Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return partnerlink.Config{}, fmt.Errorf("services: partner endpoints: %w", err)
	}
	return partnerlink.ParseConfig(raw)
}

// Partners configures the partner simulators (package partnersim), each a
// process of its own — `devstack partner -role …` of Binary — on a free
// loopback port, as stripe-mock is.
type Partners struct {
	// Binary is the devstack binary.
	Binary string
	// StateDir keeps their journals (state survives a restart) and the
	// endpoints file; empty: a temporary folder, removed by Stop.
	StateDir string
	// Delay: how long the broker and the warehouse take to decide
	// (0: within the request), and the E-Port to answer (500 ms when 0).
	Delay, EPortDelay time.Duration
	// StripeMock is stripe-mock's URL, for the recording proxy (none when
	// empty).
	StripeMock string
	// LogDir holds each one's log (the temporary folder when empty).
	LogDir string
}

// PartnerSet is the running simulators.
type PartnerSet struct {
	Processes []*Process
	// Config is their endpoints, marked sandbox, as a function reads them.
	Config partnerlink.Config
	// File holds Config (PARTNER_ENDPOINTS_SOURCE=file:<File>).
	File string
	// StripeRecorder is the recording proxy's URL ("" without stripe-mock).
	StripeRecorder string
	tmp            string
}

// Start launches the simulators and writes their endpoints file.
func (p Partners) Start(ctx context.Context) (*PartnerSet, error) {
	set := &PartnerSet{Config: partnerlink.Config{Endpoints: map[string]partnerlink.Endpoint{}}}
	dir := p.StateDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "xborder-partners-")
		if err != nil {
			return nil, err
		}
		dir, set.tmp = tmp, tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	secret := partnerlink.SecretPrefix + base64.StdEncoding.EncodeToString(key)
	for _, role := range partnersim.Roles {
		if role == partnersim.RoleStripe && p.StripeMock == "" {
			continue
		}
		port, err := FreePort()
		if err != nil {
			set.Stop()
			return nil, err
		}
		args := []string{"partner", "-role", role, "-addr", "127.0.0.1:" + strconv.Itoa(port)}
		switch role {
		case partnersim.RoleStripe:
			args = append(args, "-target", p.StripeMock)
		case partnersim.RoleEPort:
			args = append(args, "-journal", filepath.Join(dir, role+".jsonl"), "-delay", p.EPortDelay.String())
		default:
			args = append(args, "-journal", filepath.Join(dir, role+".jsonl"), "-delay", p.Delay.String())
		}
		cmd := exec.Command(p.Binary, args...)
		cmd.Env = append(os.Environ(), "XBORDER_PARTNER_SECRET="+secret)
		logDir := p.LogDir
		if logDir == "" {
			logDir = os.TempDir()
		}
		logPath := filepath.Join(logDir, fmt.Sprintf("xborder-partner-%s-%d.log", role, port))
		proc, err := start("partner "+role, cmd, logPath)
		if err != nil {
			set.Stop()
			return nil, err
		}
		set.Processes = append(set.Processes, proc)
		proc.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
		// Started again (Supervise) on the same port with its journal.
		proc.again = func() *exec.Cmd {
			c := exec.Command(p.Binary, args...)
			c.Env = cmd.Env
			return c
		}
		proc.probe = func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, proc.Endpoint+partnersim.HealthPath, nil)
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
		wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err = waitHTTP(wctx, proc, logPath, proc.probe)
		cancel()
		if err != nil {
			set.Stop()
			return nil, err
		}
		if role == partnersim.RoleStripe {
			set.StripeRecorder = proc.Endpoint
			continue
		}
		set.Config.Endpoints[role] = partnerlink.Endpoint{URL: proc.Endpoint, Secret: secret, Sandbox: true}
	}
	raw, err := json.MarshalIndent(set.Config.Endpoints, "", "  ")
	if err == nil {
		set.File = filepath.Join(dir, "endpoints.json")
		err = os.WriteFile(set.File, raw, 0o600)
	}
	if err != nil {
		set.Stop()
		return nil, fmt.Errorf("services: partner endpoints file: %w", err)
	}
	return set, nil
}

// Supervise starts each simulator again, on its port with its journal,
// whenever it crashes (Process.Supervise).
func (s *PartnerSet) Supervise(ctx context.Context, log *slog.Logger) {
	for _, p := range s.Processes {
		p.Supervise(ctx, log)
	}
}

// Stop ends the simulators (their journals stay in StateDir).
func (s *PartnerSet) Stop() {
	for _, p := range s.Processes {
		_ = p.Stop(5 * time.Second)
	}
	if s.tmp != "" {
		os.RemoveAll(s.tmp)
	}
}
