package partnersim

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/xborder/xborder/shared/partnerlink"
)

// Roles a simulator process plays.
const (
	RoleBroker    = "customs-broker"
	RoleWarehouse = "warehouse"
	RoleEPort     = "china-eport"
	RolePayments  = "payments"
	RoleStripe    = "stripe-recorder"
)

// Roles are the partner roles, in the order the local stack starts them.
var Roles = []string{RoleBroker, RoleWarehouse, RoleEPort, RolePayments, RoleStripe}

// HealthPath answers 200 once a simulator serves.
const HealthPath = "/healthz"

// Handler builds the simulator of role; target is stripe-mock's URL for
// the recorder. Close it when done.
func Handler(role string, c Config, target string) (http.Handler, func(), error) {
	var h http.Handler
	closer := func() {}
	switch role {
	case RoleBroker:
		b, err := NewBroker(c)
		if err != nil {
			return nil, nil, err
		}
		h, closer = b, b.Close
	case RoleWarehouse:
		wh, err := NewWarehouse(c)
		if err != nil {
			return nil, nil, err
		}
		h, closer = wh, wh.Close
	case RoleEPort:
		e, err := NewEPort(c)
		if err != nil {
			return nil, nil, err
		}
		h, closer = e, e.Close
	case RolePayments:
		p, err := NewPayments(c)
		if err != nil {
			return nil, nil, err
		}
		h, closer = p, p.Close
	case RoleStripe:
		s, err := NewStripeRecorder(target)
		if err != nil {
			return nil, nil, err
		}
		h = s
	default:
		return nil, nil, fmt.Errorf("partnersim: unknown role %q", role)
	}
	log := c.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.Handle("/", logged(h, log, role))
	return mux, closer, nil
}

func logged(h http.Handler, log *slog.Logger, role string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		defer func() {
			// A request the simulator cannot handle is its bug: a 500, logged, never a dropped connection.
			if v := recover(); v != nil {
				log.Error("panic", "role", role, "path", r.URL.Path, "panic", fmt.Sprint(v))
				problem(w, http.StatusInternalServerError, "internal", "the simulator failed")
			}
		}()
		h.ServeHTTP(sw, r)
		// The webhook-id is the request's idempotency key (order id and
		// step): no personal data.
		log.Info("request", "role", role, "method", r.Method, "path", r.URL.Path, "id", r.Header.Get(partnerlink.HeaderID),
			"status", sw.status, "ms", time.Since(start).Milliseconds())
	})
}
