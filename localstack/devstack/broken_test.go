package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xborder/xborder/localstack/stack"
)

// brokenAuthorization is the break: the authorization's idempotency key
// made new at each attempt, as a careless change would make it — the
// payment call is no longer keyed by order id and step.
const (
	keyedAuthorization  = `payment.Key(o.ID, "authorize")`
	brokenAuthorization = `payment.Key(o.ID, fmt.Sprint("authorize-", time.Now().UnixNano()))`
)

// TestChaosCatchesABrokenBuild builds the functions from a scratch copy of
// the code with the authorization step made non-idempotent, runs a chaos
// run of kills at the chosen points against it, and wants the auditor to
// fail it — an order authorized twice: proof that the audit can fail, and
// that the kills reach the window between a payment call and its record.
func TestChaosCatchesABrokenBuild(t *testing.T) {
	scratch := t.TempDir()
	for _, p := range []string{"go.mod", "go.sum", "functions", "shared"} {
		if out, err := exec.Command("cp", "-r", filepath.Join("../..", p), scratch).CombinedOutput(); err != nil {
			t.Fatalf("copy %s: %v\n%s", p, err, out)
		}
	}
	steps := filepath.Join(scratch, "shared", "steps", "steps.go")
	src, err := os.ReadFile(steps)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(src), keyedAuthorization) != 1 {
		t.Fatalf("steps.go no longer keys the authorization with %s: update the break", keyedAuthorization)
	}
	if err := os.WriteFile(steps, []byte(strings.Replace(string(src), keyedAuthorization, brokenAuthorization, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	bins := filepath.Join(scratch, "bin")
	if _, err := stack.BuildFunctions(context.Background(), scratch, bins); err != nil {
		t.Fatal(err)
	}
	r := newChaosRun(t, []string{"points"}, bins)
	// 45 orders and the payment points are enough, whatever CHAOS_ORDERS.
	r.n, r.long = 45, false
	r.burst()
	// The ledger is read whatever else the audit found.
	findings := r.audit()
	twice := 0
	for _, f := range auditLedger(t, r.s, r.clients) {
		if !strings.Contains(f, "holds 1 authorizations") {
			twice++
		}
	}
	t.Logf("the broken build: %d findings, %d orders whose ledger is wrong (authorized more than once); first: %s", len(findings), twice,
		strings.Join(findings[:min(3, len(findings))], "; "))
	if twice == 0 {
		t.Fatalf("the auditor passed a build whose authorization is not idempotent (%d kills: %v)", len(r.kills), r.kills)
	}
}
