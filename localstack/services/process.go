// Package services starts and stops the local stand-ins for AWS services
// (DynamoDB Local today; the SQS/SNS emulator and the Step Functions engine
// join it later) on loopback ports, for `make dev` and for `make test`.
package services

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a service started by this package. Stop it when done: whoever
// starts a process stops it.
type Process struct {
	Name     string
	Endpoint string
	logPath  string
	// again builds the command anew, the same arguments on the same port
	// and state (Supervise); probe says when it serves.
	again func() *exec.Cmd
	probe func(context.Context) error

	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{} // closed when cmd has ended
	waitErr  error
	stopping bool
	// gone is closed when the service has ended for good: its process
	// ended and no restart follows.
	gone     chan struct{}
	goneOnce sync.Once
	restarts int
}

// Stop ends the process: SIGTERM to its process group, SIGKILL after grace.
// A supervised process is not started again.
func (p *Process) Stop(grace time.Duration) error {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	p.stopping = true
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	defer p.goneOnce.Do(func() { close(p.gone) })
	if cmd == nil || cmd.Process == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	return nil
}

// Exited is closed when the service has ended for good: its process
// ended, and — if supervised — it could not be started again.
func (p *Process) Exited() <-chan struct{} { return p.gone }

// Pid is the service's process now (0 when none runs).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return 0
	default:
	}
	return p.cmd.Process.Pid
}

// Restarts counts the times Supervise has started the service again.
func (p *Process) Restarts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.restarts
}

// Supervise starts the service again — same arguments, port and state —
// whenever its process ends before Stop, as a service manager would
// (systemd's Restart=on-failure): a local DynamoDB, queue emulator or
// partner simulator that crashes comes back with what it had persisted.
// Five failed attempts in a row end it for good (Exited). It logs each
// restart to log.
func (p *Process) Supervise(ctx context.Context, log *slog.Logger) {
	if p.again == nil {
		return
	}
	go func() {
		for {
			p.mu.Lock()
			done := p.done
			p.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
				return
			}
			failures := 0
			for {
				p.mu.Lock()
				if p.stopping {
					p.mu.Unlock()
					return
				}
				p.mu.Unlock()
				log.Warn("a local service ended; starting it again with its state", "service", p.Name, "endpoint", p.Endpoint,
					"error", fmt.Sprint(p.waitErr), "log", p.logPath)
				if err := p.restart(ctx); err == nil {
					log.Info("local service serving again", "service", p.Name, "endpoint", p.Endpoint)
					break
				} else if failures++; failures == 5 || ctx.Err() != nil {
					log.Error("a local service could not be started again", "service", p.Name, "error", err.Error())
					p.goneOnce.Do(func() { close(p.gone) })
					return
				}
				// A killed JVM's sockets outlive it for a moment.
				time.Sleep(time.Duration(failures) * time.Second)
			}
		}
	}()
}

// restart runs the service's command again and waits until it serves.
func (p *Process) restart(ctx context.Context) error {
	cmd := p.again()
	if err := p.run(cmd, os.O_APPEND); err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitHTTP(wctx, p, p.logPath, p.probe); err != nil {
		p.mu.Lock()
		cmd := p.cmd
		p.mu.Unlock()
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		return err
	}
	p.mu.Lock()
	p.restarts++
	p.mu.Unlock()
	return nil
}

// start runs cmd in its own process group, killed with the parent if the
// parent dies, and logs its output to logPath.
func start(name string, cmd *exec.Cmd, logPath string) (*Process, error) {
	if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
		return nil, fmt.Errorf("services: %s log dir: %w", name, err)
	}
	p := &Process{Name: name, logPath: logPath, gone: make(chan struct{})}
	if err := p.run(cmd, os.O_TRUNC); err != nil {
		return nil, err
	}
	return p, nil
}

// run starts cmd as the service's process, its log opened with mode
// (os.O_TRUNC, or os.O_APPEND for a restart).
func (p *Process) run(cmd *exec.Cmd, mode int) error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|mode, 0o644)
	if err != nil {
		return fmt.Errorf("services: %s log: %w", p.Name, err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("services: start %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.waitErr = err
		supervised := p.again != nil && !p.stopping
		p.mu.Unlock()
		close(done)
		if !supervised {
			p.goneOnce.Do(func() { close(p.gone) })
		}
	}()
	return nil
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
		case <-p.currentDone():
			return fmt.Errorf("services: %s exited before it was ready (%v); see %s:\n%s", p.Name, p.exitErr(), logPath, tail(logPath, 20))
		case <-ctx.Done():
			return fmt.Errorf("services: %s not ready: %w (last probe: %v); see %s", p.Name, ctx.Err(), err, logPath)
		case <-tick.C:
		}
	}
}

func (p *Process) currentDone() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

func (p *Process) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.waitErr
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
	again := func() *exec.Cmd {
		c := exec.Command(cmd.Path, cmd.Args[1:]...)
		c.Env, c.Dir = cmd.Env, cmd.Dir
		return c
	}
	p, err := start(name, cmd, logPath)
	if err != nil {
		return nil, err
	}
	p.Endpoint = "http://127.0.0.1:" + strconv.Itoa(port)
	p.again, p.probe = again, awsJSONProbe(p.Endpoint, target)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := waitHTTP(wctx, p, logPath, p.probe); err != nil {
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
