package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/localstack/lambdart"
	"github.com/xborder/xborder/localstack/sfn"
)

// BuildFunctions builds the mains under repo/functions for this machine as
// `make build` builds them for Lambda (-tags lambda.norpc, -trimpath) into
// dir, and returns each binary's path by function name (its folder).
func BuildFunctions(ctx context.Context, repo, dir string) (map[string]string, error) {
	mains, err := filepath.Glob(filepath.Join(repo, "functions", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		return nil, fmt.Errorf("stack: no function mains under %s/functions (%v)", repo, err)
	}
	bins := map[string]string{}
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-o", dir + string(filepath.Separator)}
	for _, m := range mains {
		name := filepath.Base(filepath.Dir(m))
		args = append(args, "./functions/"+name)
		bins[name] = filepath.Join(dir, name)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("stack: go build the functions: %v\n%s", err, out)
	}
	return bins, nil
}

// Processes run functions as processes of their own binaries behind the
// Lambda Runtime API (package lambdart), one pool of execution
// environments per function. They serve the engine's Lambda tasks
// (sfn.Invoker) and the SQS pollers (Handler).
type Processes struct {
	pools map[string]*lambdart.Pool
}

// StartProcesses prepares a pool for each function in envs whose binary is
// in bins; no process starts before its first invocation.
func StartProcesses(bins map[string]string, envs map[string][]string, concurrency int, logs func(name string) io.Writer) (*Processes, error) {
	p := &Processes{pools: map[string]*lambdart.Pool{}}
	for name, env := range envs {
		bin, ok := bins[name]
		if !ok {
			return nil, fmt.Errorf("stack: function %s has no built main", name)
		}
		var w io.Writer
		if logs != nil {
			w = logs(name)
		}
		p.pools[name] = lambdart.NewPool(lambdart.Function{Name: name, Binary: bin, Env: env, Concurrency: concurrency, Logs: w})
	}
	return p, nil
}

// Invoke runs a Lambda task of the engine on the function its ARN names.
func (p *Processes) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, error) {
	name := functionARN[strings.LastIndex(functionARN, ":")+1:]
	pool, ok := p.pools[name]
	if !ok {
		return nil, fmt.Errorf("stack: no function %s", name)
	}
	out, err := pool.Invoke(ctx, payload)
	var fe *lambdart.FunctionError
	if errors.As(err, &fe) {
		return nil, &sfn.FunctionError{Type: fe.Type, Message: fe.Message}
	}
	return out, err
}

// Handler is function name as an SQS poller invokes it.
func (p *Processes) Handler(name string) (lambda.Handler, bool) {
	pool, ok := p.pools[name]
	return pool, ok
}

// Pool is the pool of function name (nil if none).
func (p *Processes) Pool(name string) *lambdart.Pool { return p.pools[name] }

// Close stops every process.
func (p *Processes) Close() {
	for _, pool := range p.pools {
		pool.Close()
	}
}

// processesFirst invokes a function's process when there is one, the
// in-process function otherwise.
type processesFirst struct {
	processes *Processes
	inProcess sfn.Invoker
}

func (p processesFirst) Invoke(ctx context.Context, functionARN string, payload []byte) ([]byte, error) {
	if p.processes.Pool(functionARN[strings.LastIndex(functionARN, ":")+1:]) != nil {
		return p.processes.Invoke(ctx, functionARN, payload)
	}
	return p.inProcess.Invoke(ctx, functionARN, payload)
}
