// Package services starts and stops the local stand-ins for AWS services
// (DynamoDB Local today; the SQS/SNS emulator and the Step Functions engine
// join it later) on loopback ports, for `make dev` and for `make test`.
package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Process is a service started by this package. Stop it when done: whoever
// starts a process stops it.
type Process struct {
	Name     string
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
}

// Stop ends the process: SIGTERM to its process group, SIGKILL after grace.
func (p *Process) Stop(grace time.Duration) error {
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
	return nil
}

// Exited is closed when the process ends.
func (p *Process) Exited() <-chan struct{} { return p.done }

// start runs cmd in its own process group, killed with the parent if the
// parent dies, and logs its output to logPath.
func start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("services: %s log dir: %w", name, err)
	}
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("services: %s log: %w", name, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("services: start %s: %w", name, err)
	}
	p := &Process{Name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// FreePort asks the kernel for a free loopback TCP port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("services: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls until probe succeeds, the process exits, or ctx ends.
func waitHTTP(ctx context.Context, p *Process, logPath string, probe func(context.Context) error) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err := probe(pctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("services: %s exited before it was ready (%v); see %s:\n%s", p.Name, p.waitErr, logPath, tail(logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("services: %s not ready: %w (last probe: %v); see %s", p.Name, ctx.Err(), err, logPath)
		case <-tick.C:
		}
	}
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// awsJSONProbe posts an AWS JSON 1.0 request and wants a 200 back.
func awsJSONProbe(endpoint, target string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-amz-json-1.0")
		req.Header.Set("X-Amz-Target", target)
		// DynamoDB Local wants a SigV4-shaped header; it does not check it.
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return errors.New("status " + strconv.Itoa(resp.StatusCode))
		}
		return nil
	}
}

// launch starts cmd as the service name on port, logging to logPath (or a
// file in the temporary folder), and waits until an AWS JSON probe of
// target answers.
func launch(ctx context.Context, name, slug string, cmd *exec.Cmd, port int, logPath, target string) (*Process, error) {
	if logPath == "" {
		logPath = filepath.Join(os.TempDir(), fmt.Sprintf("xborder-%s-%d.log", slug, port))
	}
	p, err := start(name, cmd, logPath)
	if err != nil {
		return nil, err
	}
	p.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitHTTP(wctx, p, logPath, awsJSONProbe(p.Endpoint, target)); err != nil {
		_ = p.Stop(5 * time.Second)
		return nil, err
	}
	return p, nil
}

// absDir makes dir absolute and creates it.
func absDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	return abs, os.MkdirAll(abs, 0o755)
}

// LockQueues takes, for the caller's process, the queues of the SQS
// emulator at endpoint: a local pipeline provisions its queues under the
// template's names, so two pipelines on one emulator (the test packages
// `make test` runs in parallel) would take each other's messages. It
// blocks until no other process holds them; unlock releases them (so does
// the process's end).
func LockQueues(endpoint string) (unlock func(), err error) {
	name := strings.NewReplacer(":", "-", "/", "-").Replace(strings.TrimPrefix(strings.TrimPrefix(endpoint, "http://"), "https://"))
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "xborder-queues-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("services: lock the queues of %s: %w", endpoint, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("services: lock the queues of %s: %w", endpoint, err)
	}
	return func() { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN); f.Close() }, nil
}
