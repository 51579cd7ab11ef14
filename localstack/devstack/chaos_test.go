package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
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
	// Bad input, replayed throughout the burst: each a 4xx, nothing written.
	vandal := newShopper("chaos-vandal-" + run)
	vandalDone := make(chan struct{})
	go func() {
		defer close(vandalDone)
		replayBadInput(t, s.api, vandal, samples["mobile-b2c-de"], done)
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
	<-vandalDone
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
	if ids := listOrders(t, s.api, vandal); len(ids) != 0 {
		t.Errorf("bad input made orders: %v", ids)
	}
}

// badInput is the corpus replayed during the bursts: each must be refused
// with a 4xx and write nothing.
func badInput(sample []byte) map[string]struct {
	body        []byte
	contentType string
	token       func(string) string
} {
	valid := func(tok string) string { return tok }
	tampered := func(tok string) string { return tok[:len(tok)-4] + "AAAA" }
	json := "application/json"
	replace := func(old, new string) []byte { return bytes.Replace(sample, []byte(old), []byte(new), 1) }
	return map[string]struct {
		body        []byte
		contentType string
		token       func(string) string
	}{
		"invalid JSON":        {sample[:len(sample)/2], json, valid},
		"deep nesting":        {[]byte(`{"lines":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`), json, valid},
		"oversize body":       {[]byte(`{"note":"` + strings.Repeat("x", 300<<10) + `"}`), json, valid},
		"invalid UTF-8":       {replace(`"Lena Fischer"`, "\"Lena \xff\xfe Fischer\""), json, valid},
		"a NUL byte":          {replace(`"Lena Fischer"`, "\"Lena \x00 Fischer\""), json, valid},
		"an escaped NUL":      {replace(`"Lena Fischer"`, `"Lena \u0000 Fischer"`), json, valid},
		"duplicate keys":      {replace(`"currency": "EUR",`, `"currency": "EUR", "currency": "USD",`), json, valid},
		"wrong content type":  {sample, "text/plain", valid},
		"a bad JWT":           {sample, json, tampered},
		"a currency exponent": {replace(`"amount": 1999`, `"amount": 19.99`), json, valid},
	}
}

// replayBadInput posts the corpus again and again until stop, each under
// a fresh key: a 4xx is the answer, a 5xx (a process killed under it) is
// tried again, a 2xx fails the test. It fails unless each item was refused
// at least once.
func replayBadInput(t *testing.T, api string, c *shopper, sample []byte, stop <-chan struct{}) {
	refused := map[string]int{}
	corpus := badInput(sample)
	for round := 0; ; round++ {
		for name, in := range corpus {
			select {
			case <-stop:
				for name := range corpus {
					if refused[name] == 0 {
						t.Errorf("bad input %q was never answered with a 4xx", name)
					}
				}
				return
			default:
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/orders", bytes.NewReader(in.body))
			req.Header.Set("Authorization", "Bearer "+in.token(c.token))
			req.Header.Set("Content-Type", in.contentType)
			req.Header.Set("Idempotency-Key", fmt.Sprintf("bad-%d-%s", round, strings.ReplaceAll(name, " ", "-")))
			resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
			if err != nil {
				continue
			}
			resp.Body.Close()
			switch {
			case resp.StatusCode >= 200 && resp.StatusCode < 300:
				t.Errorf("bad input %q was accepted: %d", name, resp.StatusCode)
			case resp.StatusCode >= 400 && resp.StatusCode < 500:
				refused[name]++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
}
