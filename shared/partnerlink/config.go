package partnerlink

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Config is a deployment's partner endpoints, read from a file or a
// Secrets Manager secret (it holds the partners' secrets):
//
//	{"customs-broker": {"url": "https://…", "secret": "whsec_…"},
//	 "warehouse":      {"url": "https://…", "secret": "whsec_…"},
//	 "china-eport":    {"url": "https://…", "secret": "whsec_…"},
//	 "payments":       {"url": "http://127.0.0.1:…", "secret": "whsec_…", "sandbox": true}}
//
// "payments" is the payment simulator, for sandbox deployments only; a
// production deployment pays through Stripe.
type Config struct {
	Endpoints map[string]Endpoint
}

// ParseConfig reads and checks a configuration: known partners only, each
// endpoint usable (Endpoint.Check).
func ParseConfig(raw []byte) (Config, error) {
	var eps map[string]Endpoint
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&eps); err != nil {
		return Config{}, fmt.Errorf("partnerlink: endpoints: %w", err)
	}
	for name, ep := range eps {
		switch name {
		case CustomsBroker, Warehouse, ChinaEPort, Payments:
		default:
			return Config{}, fmt.Errorf("partnerlink: endpoints: unknown partner %q (%s, %s, %s or %s)", name, CustomsBroker, Warehouse, ChinaEPort, Payments)
		}
		if err := ep.Check(); err != nil {
			return Config{}, fmt.Errorf("partnerlink: endpoints: %s: %w", name, err)
		}
	}
	return Config{Endpoints: eps}, nil
}

// Require returns the endpoints of the partners a function needs, in the
// order asked, or an error naming every one missing — or marked sandbox in
// a deployment that is not one (sandbox is the deployment's sandbox name,
// empty in production).
func (c Config) Require(sandbox string, names ...string) ([]Endpoint, error) {
	var out []Endpoint
	var missing, sandboxed []string
	for _, n := range names {
		ep, ok := c.Endpoints[n]
		switch {
		case !ok:
			missing = append(missing, n)
		case ep.Sandbox && sandbox == "":
			sandboxed = append(sandboxed, n)
		}
		out = append(out, ep)
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, "no endpoint configured for "+strings.Join(missing, ", "))
	}
	if len(sandboxed) > 0 {
		problems = append(problems, "the endpoint of "+strings.Join(sandboxed, ", ")+
			" is a sandbox, and this deployment names no sandbox (XBORDER_SANDBOX)")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("partnerlink: %s", strings.Join(problems, "; "))
	}
	return out, nil
}

// Secrets returns each configured partner's secret, by partner, for
// verifying their notifications.
func (c Config) Secrets() map[string]string {
	out := map[string]string{}
	for n, ep := range c.Endpoints {
		out[n] = ep.Secret
	}
	return out
}

// CallbackURL is the route of the API at base where partner posts its
// notifications.
func CallbackURL(base, partner string) string {
	return strings.TrimSuffix(base, "/") + "/v1/partners/" + partner + "/notifications"
}
