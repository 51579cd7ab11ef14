package lambdart

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// build compiles the test function at testdata/<name> for this machine.
func build(t testing.TB, name string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/"+name).CombinedOutput()
	if err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

func invokeJSON(t *testing.T, p *Pool, in any) (map[string]any, error) {
	t.Helper()
	payload, _ := json.Marshal(in)
	out, err := p.Invoke(context.Background(), payload)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("answer %q: %v", out, err)
	}
	return m, nil
}

// TestAFunctionRunsAsItsOwnProcess: the built main answers through the
// Runtime API, in a process of its own that stays warm, with its
// environment, its name, its ARN and its deadline; its errors come back as
// Lambda reports them.
func TestAFunctionRunsAsItsOwnProcess(t *testing.T) {
	var logs bytes.Buffer
	p := NewPool(Function{Name: "echo", Binary: build(t, "echo"), Env: []string{"GREETING=hello"}, Timeout: 5 * time.Second, Logs: &logs})
	defer p.Close()
	first, err := invokeJSON(t, p, map[string]any{"echo": "one", "env": "GREETING"})
	if err != nil {
		t.Fatal(err)
	}
	if first["echo"] != "one" || first["env"] != "hello" || first["function"] != "echo" ||
		first["arn"] != "arn:aws:lambda:us-east-1:000000000000:function:echo" || first["requestId"] == "" {
		t.Fatalf("answer %v", first)
	}
	if d := first["deadlineIn"].(float64); d <= 3 || d > 5 {
		t.Errorf("the function sees %v s to its deadline, want about 5", d)
	}
	pid := int(first["pid"].(float64))
	if pid == os.Getpid() || !contains(p.Processes(), pid) {
		t.Fatalf("the function ran in pid %d; the pool's processes are %v (the test is %d)", pid, p.Processes(), os.Getpid())
	}
	second, _ := invokeJSON(t, p, map[string]any{"echo": "two"})
	if int(second["pid"].(float64)) != pid || second["requestId"] == first["requestId"] {
		t.Errorf("second invocation %v: want the warm process %d with a new request id", second, pid)
	}
	_, err = invokeJSON(t, p, map[string]any{"fail": "no stock"})
	var fe *FunctionError
	if !errors.As(err, &fe) || fe.Type != "errorString" || fe.Message != "no stock" {
		t.Fatalf("a failing invocation: %v", err)
	}
	if again, err := invokeJSON(t, p, map[string]any{"echo": 3}); err != nil || int(again["pid"].(float64)) != pid {
		t.Fatalf("after an error the environment is reused: %v %v", again, err)
	}
	inits := p.Inits()
	if len(inits) != 1 || inits[0].Ready <= 0 || inits[0].FirstAnswer < inits[0].Ready {
		t.Fatalf("inits %+v", inits)
	}
}

// TestTimeoutsAndCrashesCostTheEnvironment: an invocation past its timeout
// is Sandbox.Timedout and one whose process exits Runtime.ExitError; either
// way the process is gone and the next invocation starts a fresh one.
func TestTimeoutsAndCrashesCostTheEnvironment(t *testing.T) {
	p := NewPool(Function{Name: "echo", Binary: build(t, "echo"), Timeout: time.Second})
	defer p.Close()
	warm, err := invokeJSON(t, p, map[string]any{"echo": 1})
	if err != nil {
		t.Fatal(err)
	}
	pid := int(warm["pid"].(float64))
	var fe *FunctionError
	if _, err := invokeJSON(t, p, map[string]any{"sleepMs": 3000}); !errors.As(err, &fe) || fe.Type != "Sandbox.Timedout" {
		t.Fatalf("a slow invocation: %v", err)
	}
	if alive(pid) {
		t.Errorf("the timed-out process %d still runs", pid)
	}
	fresh, err := invokeJSON(t, p, map[string]any{"echo": 2})
	if err != nil || int(fresh["pid"].(float64)) == pid {
		t.Fatalf("after a timeout: %v %v, want a new process", fresh, err)
	}
	if _, err := invokeJSON(t, p, map[string]any{"exit": true}); !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Fatalf("an exiting function: %v", err)
	}
	if _, err := invokeJSON(t, p, map[string]any{"echo": 3}); err != nil {
		t.Fatalf("after an exit: %v", err)
	}
	if n := len(p.Inits()); n != 3 {
		t.Errorf("%d cold starts, want 3", n)
	}
	// A function that fails its init never answers: its invocation fails.
	bad := NewPool(Function{Name: "echo", Binary: build(t, "echo"), Env: []string{"ECHO_INIT_FAIL=1"}, Timeout: 5 * time.Second})
	defer bad.Close()
	if _, err := invokeJSON(t, bad, map[string]any{"echo": 1}); !errors.As(err, &fe) || fe.Type != "Runtime.ExitError" {
		t.Fatalf("a function whose init panics: %v", err)
	}
}

// TestConcurrencyStartsEnvironmentsUpToItsLimit: concurrent invocations get
// environments of their own, never more than Concurrency; Close stops them.
func TestConcurrencyStartsEnvironmentsUpToItsLimit(t *testing.T) {
	p := NewPool(Function{Name: "echo", Binary: build(t, "echo"), Concurrency: 3, Timeout: 10 * time.Second})
	var mu sync.Mutex
	pids := map[int]bool{}
	var wg sync.WaitGroup
	for range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := invokeJSON(t, p, map[string]any{"sleepMs": 200})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			pids[int(m["pid"].(float64))] = true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(pids) < 2 || len(pids) > 3 {
		t.Errorf("%d processes served 9 concurrent invocations, want 2 or 3 (the limit is 3)", len(pids))
	}
	p.Close()
	for pid := range pids {
		if alive(pid) {
			t.Errorf("process %d still runs after Close", pid)
		}
	}
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// alive reports whether a process runs (and is not a zombie).
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); err != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + itoa(pid) + "/stat")
	return err == nil && !bytes.Contains(stat, []byte(") Z "))
}

func itoa(n int) string { return strconv.Itoa(n) }
