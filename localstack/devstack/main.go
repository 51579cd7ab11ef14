// Command devstack runs xborder on a developer's machine with no AWS account
// and no Docker, and runs the tests against the same local services.
//
//	devstack up                     # make dev: DynamoDB Local + the API, until Ctrl-C
//	devstack token -sub alice       # a development bearer token
//	devstack stepfunctions          # the local Step Functions engine on 127.0.0.1:8083
//	devstack with-services -- CMD   # make test: services on free ports around CMD
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/xborder/xborder/localstack/hostedui"
	"github.com/xborder/xborder/shared/auth"
)

func main() {
	if len(os.Args) < 2 {
		usage(os.Stderr)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	code := 0
	switch os.Args[1] {
	case "up":
		err = up(ctx, os.Args[2:])
	case "token":
		err = token(os.Args[2:], os.Stdout)
	case "totp":
		err = totp(os.Args[2:], os.Stdout)
	case "demo":
		err = demo(ctx, os.Args[2:], os.Stdout)
	case "stepfunctions":
		err = stepFunctions(ctx, os.Args[2:])
	case "partner":
		err = servePartner(ctx, os.Args[2:])
	case "with-services":
		code, err = withServices(ctx, os.Args[2:])
	case "-h", "--help", "help":
		usage(os.Stdout)
	default:
		usage(os.Stderr)
		code = 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		if code == 0 {
			code = 1
		}
	}
	stop()
	os.Exit(code)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  devstack up [-tools DIR] [-data DIR]       run the local stack until Ctrl-C (make dev)
  devstack token -sub ID [-groups ops|ops-read] [-scope S] [-ttl 24h]
                                             print a development bearer token
  devstack totp [-user EMAIL]                print a local operator's current sign-in code
                                             (the authenticator app's, localstack/operators.json)
  devstack demo [-api URL]                   post the demo orders and follow them (make demo)
  devstack stepfunctions [-addr 127.0.0.1:8083] [-lambda URL] [-time-scale F]
                                             serve the local Step Functions engine
  devstack partner -role ROLE [-addr A] [-secret S] [-journal F] [-delay D] [-target URL]
                                             serve one partner simulator (customs-broker,
                                             warehouse, china-eport, payments, stripe-recorder)
  devstack with-services [-tools DIR] -- CMD ARGS...
                                             run CMD with the local services on free
                                             loopback ports (make test)
`)
}

// token prints a development token signed with LOCAL_JWT_SECRET.
func token(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	sub := fs.String("sub", "dev-customer", "subject (customer id)")
	groups := fs.String("groups", "", "comma-separated Cognito groups: ops (acting operators), ops-read (read-only)")
	scope := fs.String("scope", "", "space-separated scopes of a machine token, e.g. "+auth.ScopeReceipts+" (the E-Port receipt forwarder)")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var gs []string
	if *groups != "" {
		gs = strings.Split(*groups, ",")
	}
	tok, err := auth.MintLocalClaims(jwtSecret(), *sub, gs, strings.Fields(*scope), *ttl, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(out, tok)
	return nil
}

// totp prints the current TOTP code of a local operator (what their
// authenticator app would show) for the console's sign-in.
func totp(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("totp", flag.ContinueOnError)
	user := fs.String("user", "olga@ops.xborder.local", "the operator (localstack/operators.json)")
	file := fs.String("operators", filepath.Join("localstack", "operators.json"), "the local operators")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := hostedui.Load(*file)
	if err != nil {
		return err
	}
	for _, u := range cfg.Users {
		if strings.EqualFold(u.Username, *user) {
			code, err := hostedui.TOTP(u.TOTPSecret, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintln(out, code)
			return nil
		}
	}
	return fmt.Errorf("no operator %s in %s", *user, *file)
}

func jwtSecret() string {
	if s := os.Getenv("LOCAL_JWT_SECRET"); s != "" {
		return s
	}
	return auth.DevSecret
}

// withServices starts the local services on free ports, runs the command with
// their endpoints in its environment, and stops them however it ends.
func withServices(ctx context.Context, args []string) (int, error) {
	fs := flag.NewFlagSet("with-services", flag.ContinueOnError)
	tools := fs.String("tools", ".tools", "where `make tools` installed the services")
	if err := fs.Parse(args); err != nil {
		return 2, err
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return 2, errors.New("with-services needs a command after --")
	}
	env, stopAll, err := startTestServices(ctx, *tools)
	defer stopAll()
	if err != nil {
		return 1, err
	}
	cmd := exec.Command(rest[0], rest[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		return 1, fmt.Errorf("start %s: %w", rest[0], err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-ctx.Done():
		_ = cmd.Process.Signal(syscall.SIGINT)
		err = <-waited
	}
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	if err != nil {
		return 1, err
	}
	return 0, nil
}
