package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// chaosOrders is how many orders a chaos run places: CHAOS_ORDERS (make
// chaos sets 300), 48 by default (make test's short variant).
func chaosOrders(t *testing.T) int {
	if v := os.Getenv("CHAOS_ORDERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 8 {
			t.Fatalf("CHAOS_ORDERS=%q: a number of orders, 8 or more", v)
		}
		return n
	}
	return 48
}

// functionProcesses are the stack's function processes (their binaries
// are under dir): the execution environments behind the Lambda Runtime API.
func functionProcesses(stack int, dir string) map[int]string {
	out := map[int]string{}
	for _, pid := range descendants(stack) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err == nil && strings.HasPrefix(exe, dir+string(filepath.Separator)) {
			out[pid] = filepath.Base(exe)
		}
	}
	return out
}

// TestChaosFunctionProcessKillsLoseNothing kills function processes —
// SIGKILL, one at a time, at random moments — while shoppers place a burst
// of orders and keep retrying with their keys, as a Lambda execution
// environment can die mid-invocation (out of memory, a host gone). The
// engine retries the step (Runtime.ExitError), SQS redelivers what a
// worker or the starter held, the API's caller retries. Then, audited
// from outside: every accepted order dispatched within 60 s plus the
// longest visibility timeout of the last kill; one order per key; each
// status reached once; one execution per order, started once, no state
// entered twice; one authorization and one capture per order in the
// payment simulator's ledger.
func TestChaosFunctionProcessKillsLoseNothing(t *testing.T) {
	n := chaosOrders(t)
	bound := 60*time.Second + longestVisibility(t)
	names := []string{"mobile-b2c-de", "b2b-us", "c2c-gb", "m2b2c-au-overseas-warehouse", "b2c-cn-import"}
	if n/len(names)*20 > 1000 {
		// The stack seeds 1,000 of each SKU, and b2b-us takes 20 chargers
		// an order: past 250 orders it would run out, and the orders end
		// REJECTED out_of_stock, as they should — not what this test is for.
		names = slices.DeleteFunc(names, func(s string) bool { return s == "b2b-us" })
	}
	samples := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile("../../events/orders/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		samples[name] = b
	}
	s := newCrashStack(t)
	s.start()
	defer func() {
		if s.cmd != nil {
			s.stop()
		}
	}()
	dir := builtFunctions(t)
	run := fmt.Sprint(time.Now().UnixNano())
	shoppers := make([]*shopper, 8)
	for i := range shoppers {
		shoppers[i] = newShopper(fmt.Sprintf("chaos-%s-%d", run, i))
	}

	// The killer: one function process every 150–600 ms while the burst
	// lasts. make test's short run spares the SQS consumers (starter,
	// workers, callback-sender), whose messages come back only after their
	// queue's visibility timeout — minutes; make chaos kills any.
	spared := map[string]bool{"starter": true, "customs-worker": true, "warehouse-worker": true, "callback-sender": true}
	if os.Getenv("CHAOS_ORDERS") != "" {
		spared = map[string]bool{}
	}
	done := make(chan struct{})
	var kills atomic.Int32
	killed := map[string]int{}
	var mu sync.Mutex
	var lastKill atomic.Int64
	go func() {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 21))
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Duration(150+rng.IntN(450)) * time.Millisecond):
			}
			procs := functionProcesses(s.cmd.Process.Pid, dir)
			for pid, fn := range procs {
				if spared[fn] {
					delete(procs, pid)
				}
			}
			if len(procs) == 0 {
				continue
			}
			pids := make([]int, 0, len(procs))
			for pid := range procs {
				pids = append(pids, pid)
			}
			pid := pids[rng.IntN(len(pids))]
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				kills.Add(1)
				lastKill.Store(time.Now().UnixNano())
				mu.Lock()
				killed[procs[pid]]++
				mu.Unlock()
			}
		}
	}()
	var burst sync.WaitGroup
	for i, c := range shoppers {
		burst.Add(1)
		go func() {
			defer burst.Done()
			for j := range n / len(shoppers) {
				c.place(t, s.api, fmt.Sprintf("chaos-%d-%d", i, j), samples[names[(i+j)%len(names)]])
			}
		}()
	}
	burst.Wait()
	close(done)
	if t.Failed() {
		t.FailNow()
	}
	last := time.Unix(0, lastKill.Load())
	mu.Lock()
	t.Logf("%d orders accepted under %d kills of function processes: %v", n/len(shoppers)*len(shoppers), kills.Load(), killed)
	mu.Unlock()
	if kills.Load() < 3 {
		t.Fatalf("only %d kills: the burst ended before the chaos began", kills.Load())
	}
	waitDispatched(t, s, shoppers, last, bound)
	auditOrders(t, s, shoppers)
	auditExecutions(t, s, shoppers)
	auditLedger(t, s, shoppers)
}
