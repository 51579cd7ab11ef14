package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/xborder/xborder/localstack/lambdart"
	"github.com/xborder/xborder/localstack/stack"
)

// initRuns is how many cold starts of each function are timed.
const initRuns = 7

// benchInit times each function's cold start as AWS runs it — its own
// binary, started behind the Lambda Runtime API (package lambdart) — beside
// a hello-world Go function started the same way in the same run: process
// start to its first call of next (init), and to its answer of a first
// invocation. The functions get the environment the synthesized template
// gives them, with every reference pointed at a local address nothing
// listens on (no init may call a service) and the Secrets Manager sources
// swapped for the repository's files (the local stack has no Secrets
// Manager).
func benchInit(path string) error {
	dir, err := os.MkdirTemp("", "xborder-init-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	envs, err := templateEnvs(filepath.Join("testdata", "cdk", "template.json"))
	if err != nil {
		return err
	}
	names := []string{"hello-world"}
	bins := map[string]string{"hello-world": "./localstack/lambdart/testdata/hello"}
	fns, err := filepath.Glob(filepath.Join("functions", "*", "main.go"))
	if err != nil {
		return err
	}
	for _, m := range fns {
		name := filepath.Base(filepath.Dir(m))
		names = append(names, name)
		bins[name] = "./" + filepath.ToSlash(filepath.Dir(m))
	}
	for _, name := range names {
		out, err := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", filepath.Join(dir, name), bins[name]).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go build %s: %v\n%s", bins[name], err, out)
		}
	}
	type figures struct{ ready, answer time.Duration }
	med := map[string]figures{}
	// Interleaved rounds: each function's runs spread over the whole
	// measurement, so the machine's noise falls on all alike.
	samples := map[string][]lambdart.Init{}
	for range initRuns {
		for _, name := range names {
			in, err := coldStart(name, filepath.Join(dir, name), envs[name])
			if err != nil {
				return err
			}
			samples[name] = append(samples[name], in)
		}
	}
	for name, s := range samples {
		med[name] = figures{median(s, func(i lambdart.Init) time.Duration { return i.Ready }),
			median(s, func(i lambdart.Init) time.Duration { return i.FirstAnswer })}
	}
	hello := med["hello-world"]
	var b strings.Builder
	fmt.Fprintf(&b, "<!-- bench:init -->\n## Lambda cold starts: each function's own binary behind the Runtime API\n\n- date: %s\n- machine: %s, %d cores, %s/%s, %s\n- command: `make bench` → `go run ./localstack/benchreport -init`\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	fmt.Fprintf(&b, "- what: each function built from its own main for this machine as `make build` builds it for Lambda (`-trimpath -tags lambda.norpc -ldflags=-s -w`), started %d times as a fresh process behind the Lambda Runtime API (package `localstack/lambdart`) with the environment the synthesized template gives it (resolved by `stack.Environments` against stand-ins at a local address nothing listens on; the Secrets Manager sources swapped for the repository's files); median of the runs, interleaved with a hello-world Go function started the same way. *init*: process start to the first `next`; *first answer*: to the answer of a first invocation (`{}`: most answer it with an error, which is an answer)\n\n", initRuns)
	b.WriteString("| function | init | first answer | init − hello-world | within 10 ms of hello-world |\n|---|---:|---:|---:|---|\n")
	for _, name := range names {
		f := med[name]
		over := f.ready - hello.ready
		fmt.Fprintf(&b, "| %s | %.1f ms | %.1f ms | %+.1f ms | %s |\n", name, ms(f.ready), ms(f.answer), ms(over), yesNo(name == "hello-world" || over <= 10*time.Millisecond))
	}
	b.WriteString("<!-- /bench:init -->\n")
	fmt.Print(b.String())
	return spliceMarked(path, b.String(), "<!-- bench:init -->", "<!-- /bench:init -->")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(s []lambdart.Init, f func(lambdart.Init) time.Duration) time.Duration {
	v := make([]time.Duration, len(s))
	for i, x := range s {
		v[i] = f(x)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// coldStart starts one environment of the function and answers one
// invocation on it.
func coldStart(name, bin string, env []string) (lambdart.Init, error) {
	var logs strings.Builder
	p := lambdart.NewPool(lambdart.Function{Name: name, Binary: bin, Env: env, Timeout: 30 * time.Second, Logs: &logs})
	defer p.Close()
	_, err := p.Invoke(context.Background(), []byte(`{}`))
	if _, failed := err.(*lambdart.FunctionError); err != nil && !failed {
		return lambdart.Init{}, fmt.Errorf("%s: %w", name, err)
	}
	inits := p.Inits()
	if len(inits) != 1 {
		return lambdart.Init{}, fmt.Errorf("%s did not start (%v): %s", name, err, logs.String())
	}
	return inits[0], nil
}

// templateEnvs is each function's environment as the template gives it
// (stack.Environments), resolved against stand-in resources at a local
// address nothing listens on: no function's init may call a service.
func templateEnvs(path string) (map[string][]string, error) {
	tmpl, err := stack.ReadTemplate(path)
	if err != nil {
		return nil, err
	}
	const nowhere = "http://127.0.0.1:9"
	res := &stack.Resources{Table: "xborder-orders", TopicARN: "arn:aws:sns:us-east-1:000000000000:order-events", QueueURLs: map[string]string{}}
	for _, name := range stack.QueueNames(tmpl) {
		res.QueueURLs[name] = nowhere + "/000000000000/" + name
	}
	repo, _ := os.Getwd()
	// The partners' endpoints as a file of stand-ins at the same address.
	endpoints := filepath.Join(os.TempDir(), "xborder-init-endpoints.json")
	stand := `{"url": "` + nowhere + `", "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}`
	if err := os.WriteFile(endpoints, []byte(`{"customs-broker": `+stand+`, "warehouse": `+stand+`, "china-eport": `+stand+`}`), 0o600); err != nil {
		return nil, err
	}
	return stack.Environments(tmpl, res, "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow", map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_ENDPOINT_URL": nowhere, "AWS_EC2_METADATA_DISABLED": "true", "PATH": os.Getenv("PATH"),
		"PARTNERS_SOURCE":   "file:" + filepath.Join(repo, "localstack", "partners.json"),
		"CATALOGUE_SOURCE":  "file:" + filepath.Join(repo, "localstack", "catalogue.json"),
		"STRIPE_SECRET_KEY": "sk_test_local", "STRIPE_API_URL": nowhere,
		"PARTNER_ENDPOINTS_SOURCE": "file:" + endpoints, "API_URL": nowhere,
		"CHINA_DECLARANT_SOURCE": "file:" + filepath.Join(repo, "localstack", "china-declarant.json"),
	})
}
