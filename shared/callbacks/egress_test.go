package callbacks_test

import (
	"net"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/egress/egresstest"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
)

// directory is a partner directory as it could be if a callback URL got
// past partner.Parse: the dialer is the last word.
type directory map[string]*partner.Partner

func (d directory) Get(id string) (*partner.Partner, bool) { p, ok := d[id]; return p, ok }

func shopAt(callbackURL string) directory {
	return directory{"shop": {ID: "shop", Secrets: []string{newSecret, oldSecret}, Format: partner.FormatNative,
		CallbackURL: callbackURL, TradeModes: []order.TradeMode{order.TradeB2C}}}
}

// A callback URL naming the metadata service is refused when connecting —
// by the default client, by production's, and by the local stack's — and
// the refusal is recorded as the failed attempt, with why.
func TestCallbackToTheMetadataServiceIsRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		client func() *callbacks.Sender
	}{
		{"default client", func() *callbacks.Sender { return &callbacks.Sender{} }},
		{"production", func() *callbacks.Sender {
			return &callbacks.Sender{HTTP: callbacks.NewHTTPClient(callbacks.DefaultTimeout, egress.ForSandbox("").Dialer())}
		}},
		{"local stack", func() *callbacks.Sender {
			return &callbacks.Sender{HTTP: callbacks.NewHTTPClient(callbacks.DefaultTimeout, egress.ForSandbox(egress.LocalSandbox).Dialer())}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, "https://partner.example/hooks")
			f.sender.HTTP = tc.client().HTTP
			f.sender.Partners = shopAt("http://169.254.169.254/latest/meta-data/iam/security-credentials/")
			id, msgs, _ := f.order(order.ChannelPartner, "shop")
			start := time.Now()
			if failed := f.handle(record(msgs[0], 1)); len(failed) != 1 {
				t.Fatalf("failed %v, want the message back", failed)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("refusing took %s: the dialer must refuse before connecting, not time out", d)
			}
			c := f.told(id)
			if len(c.Attempts) != 1 || c.Attempts[0].Delivered || c.Attempts[0].HTTPStatus != 0 ||
				!strings.Contains(c.Attempts[0].Error, "169.254.169.254 is cloud metadata service") || c.DeliveredVersion != 0 {
				t.Fatalf("attempts %+v, delivered %d", c.Attempts, c.DeliveredVersion)
			}
			if !strings.Contains(f.logs.String(), "callback destination refused") {
				t.Fatalf("the refusal was not logged: %s", f.logs)
			}
		})
	}
}

// A public-looking name that resolves to 127.0.0.1 is refused outside the
// local stack, and reaches the partner on it.
func TestCallbackToANameResolvingToLoopback(t *testing.T) {
	r := newReceiver(t, nil)
	u, _ := url.Parse(r.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	hook := "https://partner.example:" + port + "/hook"
	dns := egresstest.Resolver(map[string]netip.Addr{"partner.example": netip.MustParseAddr("127.0.0.1")})
	client := func(sandbox string) *callbacks.Sender {
		d := egress.ForSandbox(sandbox).Dialer()
		d.Resolver = dns
		return &callbacks.Sender{HTTP: callbacks.NewHTTPClient(callbacks.DefaultTimeout, d)}
	}

	f := newFixture(t, r.URL)
	f.sender.HTTP = client("").HTTP
	f.sender.Partners = shopAt(hook)
	id, msgs, _ := f.order(order.ChannelPartner, "shop")
	if failed := f.handle(record(msgs[0], 1)); len(failed) != 1 {
		t.Fatalf("failed %v, want the message back", failed)
	}
	if r.requests() != 0 {
		t.Fatalf("%d requests reached the loopback receiver", r.requests())
	}
	if c := f.told(id); len(c.Attempts) != 1 || !strings.Contains(c.Attempts[0].Error, "127.0.0.1 is loopback") {
		t.Fatalf("attempts %+v", c.Attempts)
	}

	// On the local stack the same name is reached (plain http there, the
	// receiver speaks no TLS): the refusal above was the policy's.
	f.sender.HTTP = client(egress.LocalSandbox).HTTP
	f.sender.Partners = shopAt(strings.Replace(hook, "https:", "http:", 1))
	if failed := f.handle(record(msgs[0], 2)); len(failed) != 0 || r.requests() != 2 {
		t.Fatalf("on the local stack: failed %v, %d requests", failed, r.requests())
	}
}
