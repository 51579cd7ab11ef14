package stack

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
)

// TestWorkflowStepsRunAsTheirOwnMains: on the shared pipeline the starter
// and the workflow's screen, reserve-stock and mark-dispatched steps are
// the built mains of functions/, each a process of its own behind the
// Lambda Runtime API with the template's environment, and an order goes
// through them.
func TestWorkflowStepsRunAsTheirOwnMains(t *testing.T) {
	tp := sharedPipeline(t)
	tok, _ := auth.MintLocal(auth.DevSecret, "process-customer", nil, time.Hour, time.Now())
	body, err := os.ReadFile("../../events/orders/c2c-gb.json")
	if err != nil {
		t.Fatal(err)
	}
	created := apiCall(t, tp.api.URL, tok, "POST", "/v1/orders", body, fmt.Sprintf("processes-%d", time.Now().UnixNano()))
	id, _ := created["orderId"].(string)
	var status string
	for deadline := time.Now().Add(60 * time.Second); status != "DISPATCHED" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		status, _ = apiCall(t, tp.api.URL, tok, "GET", "/v1/orders/"+id, nil, "")["status"].(string)
	}
	if status != "DISPATCHED" {
		t.Fatalf("order %s: %s, want DISPATCHED", id, status)
	}
	for _, name := range processSteps {
		if name == "mark-stalled" || name == "compensate" || name == "callback-sender" {
			continue // only a failed execution invokes them (TestOpsConsoleRedrivesAStalledOrder, TestPipelineEndToEnd)
		}
		pool := tp.processes.Pool(name)
		if pool == nil {
			t.Fatalf("no process pool for %s", name)
		}
		pids := pool.Processes()
		if len(pids) == 0 || len(pool.Inits()) == 0 {
			t.Fatalf("%s: processes %v, cold starts %v: the step did not run as a process", name, pids, pool.Inits())
		}
		for _, pid := range pids {
			exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
			if err != nil || pid == os.Getpid() || filepath.Base(exe) != name {
				t.Errorf("%s: process %d runs %q (%v), want the built main %s", name, pid, exe, err, name)
			}
		}
	}
}

// TestProductionMainsRefuseWithoutPartners: a function that reaches a
// partner does not start — its init fails, saying what is missing — when
// its partners are not configured, or are sandboxes in a deployment that
// names no sandbox; nothing falls back to a simulator.
func TestProductionMainsRefuseWithoutPartners(t *testing.T) {
	dir := t.TempDir()
	bins, err := BuildFunctions(t.Context(), "../..", dir)
	if err != nil {
		t.Fatal(err)
	}
	endpoints := filepath.Join(dir, "endpoints.json")
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	if err := os.WriteFile(endpoints, []byte(`{"customs-broker": {"url": "http://127.0.0.1:9", "secret": "`+secret+`", "sandbox": true},
		"payments": {"url": "http://127.0.0.1:9", "secret": "`+secret+`", "sandbox": true}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL=http://127.0.0.1:9", "TABLE_NAME=t", "ORDER_EVENTS_TOPIC_ARN=arn:aws:sns:us-east-1:000000000000:t", "QUEUE_URL=http://127.0.0.1:9/q",
		"API_URL=http://127.0.0.1:9", "CUSTOMS_QUEUE_URL=http://127.0.0.1:9/c", "WAREHOUSE_QUEUE_URL=http://127.0.0.1:9/w",
		"CHINA_DECLARANT_SOURCE=file:../../localstack/china-declarant.json"}
	cases := []struct {
		fn   string
		env  []string
		want string
	}{
		{"customs-worker", nil, "PARTNER_ENDPOINTS_SOURCE is not set"},
		{"warehouse-worker", nil, "PARTNER_ENDPOINTS_SOURCE is not set"},
		{"api", nil, "PARTNER_ENDPOINTS_SOURCE is not set"},
		{"authorize-payment", nil, "PAYMENT_PROVIDER is not set"},
		{"capture-payment", []string{"PAYMENT_PROVIDER=simulator"}, "allowed only in a deployment that names a sandbox"},
		{"compensate", []string{"PAYMENT_PROVIDER=simulator", "XBORDER_SANDBOX=ci", "PARTNER_ENDPOINTS_SOURCE=file:" + filepath.Join(dir, "none.json")}, "no such file"},
		{"customs-worker", []string{"PARTNER_ENDPOINTS_SOURCE=file:" + endpoints}, "is a sandbox, and this deployment names no sandbox"},
		{"customs-worker", []string{"PARTNER_ENDPOINTS_SOURCE=file:" + endpoints, "XBORDER_SANDBOX=ci"}, "no endpoint configured for china-eport"},
		{"warehouse-worker", []string{"PARTNER_ENDPOINTS_SOURCE=file:" + endpoints, "XBORDER_SANDBOX=ci"}, "no endpoint configured for warehouse"},
	}
	// Nor is a simulator compiled into any function: the local stack's
	// partners are servers of their own.
	for fn, bin := range bins {
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", fn, err)
		}
		for _, sim := range []string{"workers.(*BrokerSimulator)", "workers.(*WarehouseSimulator)", "workers.(*EPortSimulator)", "payment.(*Simulator)", "partnersim."} {
			if strings.Contains(string(out), sim) {
				t.Errorf("%s links %s", fn, sim)
			}
		}
	}
	for _, tc := range cases {
		cmd := exec.Command(bins[tc.fn])
		// No Runtime API: a main that got past its init would fail to
		// reach it, with another message.
		cmd.Env = append(append([]string{"AWS_LAMBDA_RUNTIME_API=127.0.0.1:9"}, base...), tc.env...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), "cold start") {
			t.Errorf("%s %v: exit %v, output %s; want an init error saying %q", tc.fn, tc.env, err, out, tc.want)
		}
	}
}
