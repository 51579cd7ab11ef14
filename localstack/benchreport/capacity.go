package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"

	"github.com/xborder/xborder/localstack/capacity"
)

// benchCapacity sends n orders of each sample path through the local stack
// behind the recording proxy (the services must be up: make capacity runs
// it through devstack with-services), writes docs/capacity.md and
// docs/capacity.json, and records the summary in path. With trace set it
// writes the DynamoDB write calls there instead, for a look at where the
// units go, and records nothing.
// routeSamples are the demo orders whose routes events/orders lacks.
var routeSamples = []string{filepath.Join("events", "demo", "fr-from-frankfurt.json"), filepath.Join("events", "demo", "ca-from-los-angeles.json")}

func benchCapacity(n int, path, trace string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prices, err := capacity.ReadPrices(filepath.Join("docs", "prices.json"))
	if err != nil {
		return err
	}
	samples, err := filepath.Glob(filepath.Join("events", "orders", "*.json"))
	if err != nil || len(samples) == 0 {
		return fmt.Errorf("no sample orders in events/orders (%v)", err)
	}
	// The routes the samples do not take: an intra-EU distance sale from
	// the Frankfurt warehouse, an import into Canada from Los Angeles.
	samples = append(samples, routeSamples...)
	o := capacity.Options{Repo: "."}
	if trace != "" {
		f, err := os.Create(trace)
		if err != nil {
			return err
		}
		defer f.Close()
		o.Trace = f
	}
	r, err := capacity.Run(ctx, o, samples, n, prices, os.Stderr)
	if err != nil {
		return err
	}
	if trace != "" {
		return nil
	}
	r.Machine = fmt.Sprintf("%s, %d cores, %s/%s, %s", cpuModel(), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	r.Revision = revision()
	r.Command = fmt.Sprintf("make capacity → go run ./localstack/benchreport -capacity %d", n)
	if err := r.Write("docs"); err != nil {
		return err
	}
	section := r.BenchSection()
	fmt.Print(section)
	return spliceMarked(path, section, "<!-- bench:capacity -->", "<!-- /bench:capacity -->")
}

// revision names the commit measured, and says when the tree differs
// from it.
func revision() string {
	head, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(head))
	if dirty, _ := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); len(dirty) > 0 {
		rev += " with uncommitted changes"
	}
	return rev
}
