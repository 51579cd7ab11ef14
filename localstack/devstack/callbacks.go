package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/partner"
)

// callbackReceiver plays the demo partners' side of the status callbacks
// for `make dev`: it verifies each one with the partners' secrets and logs
// it, so that a developer sees them arrive, in order.
func callbackReceiver(addr string, partners *partner.Directory, log *slog.Logger) (stop func(), err error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /callbacks", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
		sig := r.Header.Get(partner.SignatureHeader)
		by := ""
		for _, id := range partners.IDs() {
			p, _ := partners.Get(id)
			if strings.HasSuffix(p.CallbackURL, "//"+addr+"/callbacks") && partner.Verify(sig, body, p.Secrets, time.Now(), partner.DefaultTolerance) == nil {
				by = id
				break
			}
		}
		if by == "" {
			log.Warn("callback refused: the signature verifies with no demo partner's secret")
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var cb struct{ OrderID, Status, PreviousStatus, Reason, DeliveryID string }
		_ = json.Unmarshal(body, &cb)
		log.Info("partner callback received", "partner", by, "deliveryId", r.Header.Get(partner.DeliveryHeader),
			"orderId", cb.OrderID, "status", cb.Status, "previousStatus", cb.PreviousStatus, "reason", cb.Reason)
		w.WriteHeader(http.StatusNoContent)
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("callback receiver", "error", err.Error())
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
