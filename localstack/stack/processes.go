package stack

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xborder/xborder/localstack/iam"
	"github.com/xborder/xborder/localstack/lambdart"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/shared/opsconsole"
	"github.com/xborder/xborder/shared/workflow"
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

// Pool is the pool of function name (nil if none, or no Processes).
func (p *Processes) Pool(name string) *lambdart.Pool {
	if p == nil {
		return nil
	}
	return p.pools[name]
}

// Close stops every process.
func (p *Processes) Close() {
	for _, pool := range p.pools {
		pool.Close()
	}
}

// Launch describes the functions of a local stack run as processes of
// their own mains: where the binaries are, and what their environment
// points at besides what the template gives them.
type Launch struct {
	// Template and Resources resolve the template's environments.
	Template  *Template
	Resources *Resources
	// Bins are the built mains (BuildFunctions), by function.
	Bins map[string]string
	// AWS are the local services' endpoints by SDK service id (DYNAMODB,
	// SQS, SNS, SFN).
	AWS map[string]string
	// Repo holds localstack/ (the partner directory, the catalogue and
	// China's declarant of the local stack).
	Repo string
	// PartnersFile, when set, replaces localstack/partners.json.
	PartnersFile string
	// Endpoints is the partner simulators' endpoints file; APIURL the API
	// they post to.
	Endpoints, APIURL string
	// SignInURL is where operators sign in: the stand-in of the operators'
	// hosted UI (package hostedui), for the console the api serves.
	SignInURL string
	// Only, when set, names the functions to run (all otherwise).
	Only []string
	// Concurrency bounds each function's environments.
	Concurrency int
	// Logs gives each function's output a place (discarded when nil).
	Logs func(name string) io.Writer
}

// LocalConsoleClient is the ops console's client at the local sign-in
// stand-in (localstack/operators.json).
const LocalConsoleClient = "local-ops-console"

// LaunchFunctions prepares the processes of l: each function with the
// environment the template gives it, pointed at the local services, in the
// sandbox "local" (its partners the simulators, the payment simulator).
func LaunchFunctions(l Launch) (*Processes, error) {
	local := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "",
		"AWS_EC2_METADATA_DISABLED": "true",
		"PARTNERS_SOURCE":           "file:" + cmp.Or(l.PartnersFile, filepath.Join(l.Repo, "localstack", "partners.json")),
		"CATALOGUE_SOURCE":          "file:" + filepath.Join(l.Repo, "localstack", "catalogue.json"),
		"PARTNER_ENDPOINTS_SOURCE":  "file:" + l.Endpoints, "XBORDER_SANDBOX": "local", "PAYMENT_PROVIDER": "simulator", "API_URL": l.APIURL,
		"CHINA_DECLARANT_SOURCE": "file:" + filepath.Join(l.Repo, "localstack", "china-declarant.json"),
		opsconsole.EnvSignInURL:  l.SignInURL, opsconsole.EnvClientID: LocalConsoleClient,
	}
	for id, url := range l.AWS {
		local["AWS_ENDPOINT_URL_"+id] = url
	}
	envs, err := Environments(l.Template, l.Resources, "arn:aws:states:us-east-1:000000000000:stateMachine:"+workflow.StateMachineName, local)
	if err != nil {
		return nil, err
	}
	// Each function signs its AWS calls with credentials of its own, an
	// access key id that names it: the IAM-checking proxies (package iam)
	// know the caller by it.
	for fn, env := range envs {
		for i, kv := range env {
			if strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") {
				env[i] = "AWS_ACCESS_KEY_ID=" + iam.KeyFor(fn)
			}
		}
	}
	if len(l.Only) > 0 {
		chosen := map[string][]string{}
		for _, n := range l.Only {
			chosen[n] = envs[n]
		}
		envs = chosen
	}
	return StartProcesses(l.Bins, envs, cmp.Or(l.Concurrency, 10), l.Logs)
}

// SQSAs gives each function's event source mapping an SQS client at
// endpoint that signs with the function's own credentials (iam.KeyFor), as
// Lambda polls with the function's role (Options.MappingSQS).
func SQSAs(endpoint string) func(function string) *sqs.Client {
	return func(function string) *sqs.Client {
		cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(iam.KeyFor(function), "local", "")}
		return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	}
}
