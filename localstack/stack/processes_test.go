package stack

import (
	"fmt"
	"os"
	"path/filepath"
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
		if name == "mark-stalled" {
			continue // only a failed execution invokes it (TestOpsConsoleRedrivesAStalledOrder)
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
