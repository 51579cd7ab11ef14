package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/xborder/xborder/localstack/partnersim"
)

// servePartner serves one partner simulator (package partnersim) until ctx ends:
// how `make dev` and `make test` run them, each a process of its own.
func servePartner(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("partner", flag.ContinueOnError)
	role := fs.String("role", "", "customs-broker, warehouse, china-eport, payments or stripe-recorder")
	addr := fs.String("addr", "127.0.0.1:0", "address to listen on (loopback)")
	secret := fs.String("secret", "", "the secret both directions are signed with (or XBORDER_PARTNER_SECRET)")
	journal := fs.String("journal", "", "file the simulator keeps its state in (empty: memory)")
	delay := fs.Duration("delay", 0, "0: decide within the request; else answer pending and notify after the delay")
	target := fs.String("target", "", "stripe-mock's URL (stripe-recorder)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *secret == "" {
		*secret = os.Getenv("XBORDER_PARTNER_SECRET")
	}
	if *secret == "" && *role != partnersim.RoleStripe {
		return errors.New("partner: -secret is required")
	}
	log := slog.New(slog.NewJSONHandler(os.Stdout, nil)).With("partner", *role, "sandbox", "local")
	h, closeSim, err := partnersim.Handler(*role, partnersim.Config{Secret: *secret, Journal: *journal, Delay: *delay, Logger: log}, *target)
	if err != nil {
		return err
	}
	defer closeSim()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("partner simulator %s listening on http://%s\n", *role, ln.Addr())
	select {
	case <-ctx.Done():
	case err = <-served:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
