package egress_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/egress/egresstest"
)

func TestCheck(t *testing.T) {
	public, local, vpn := egress.Policy{}, egress.Policy{AllowLoopback: true}, egress.Policy{AllowPrivate: true}
	for _, tc := range []struct {
		addr               string
		public, local, vpn bool // allowed by each policy
		why                string
	}{
		{"93.184.215.14", true, true, true, ""},
		{"2606:2800:21f:cb07:6820:80da:af6b:8b2c", true, true, true, ""},
		{"8.8.8.8", true, true, true, ""},
		{"127.0.0.1", false, true, false, "loopback"},
		{"127.8.9.10", false, true, false, "loopback"},
		{"::1", false, true, false, "loopback"},
		{"::ffff:127.0.0.1", false, true, false, "loopback"},
		{"169.254.169.254", false, false, false, "cloud metadata"},
		{"::ffff:169.254.169.254", false, false, false, "cloud metadata"},
		{"64:ff9b::a9fe:a9fe", false, false, false, "cloud metadata"}, // NAT64 of 169.254.169.254
		{"fd00:ec2::254", false, false, false, "cloud metadata"},
		{"169.254.170.2", false, false, false, "link-local"},
		{"fe80::1", false, false, false, "link-local"},
		{"fe80::1%eth0", false, false, false, "link-local"},
		{"10.1.2.3", false, false, true, "private"},
		{"172.16.0.1", false, false, true, "private"},
		{"172.31.255.255", false, false, true, "private"},
		{"172.32.0.1", true, true, true, ""},
		{"192.168.1.1", false, false, true, "private"},
		{"::ffff:10.0.0.1", false, false, true, "private"},
		{"64:ff9b::a00:1", false, false, true, "private"}, // NAT64 of 10.0.0.1
		{"fc00::1", false, false, true, "private"},
		{"fd12:3456::1", false, false, true, "private"},
		{"100.64.0.1", false, false, true, "CGNAT"},
		{"100.127.255.254", false, false, true, "CGNAT"},
		{"100.128.0.1", true, true, true, ""},
		{"0.0.0.0", false, false, false, "unspecified"},
		{"0.1.2.3", false, false, false, "unspecified"},
		{"::", false, false, false, "unspecified"},
		{"::a9fe:a9fe", false, false, false, "IPv4-compatible"},
		{"224.0.0.1", false, false, false, "multicast"},
		{"ff02::1", false, false, false, "multicast"},
		{"255.255.255.255", false, false, false, "reserved"},
		{"192.0.2.1", false, false, false, "reserved"},
	} {
		ip := netip.MustParseAddr(tc.addr)
		for _, p := range []struct {
			name    string
			policy  egress.Policy
			allowed bool
		}{{"public", public, tc.public}, {"local", local, tc.local}, {"vpn", vpn, tc.vpn}} {
			err := p.policy.Check(ip)
			switch {
			case p.allowed && err != nil:
				t.Errorf("%s under %s: %v, want allowed", tc.addr, p.name, err)
			case !p.allowed && !errors.Is(err, egress.ErrRefused):
				t.Errorf("%s under %s: %v, want ErrRefused", tc.addr, p.name, err)
			case !p.allowed && !strings.Contains(err.Error(), tc.why):
				t.Errorf("%s under %s: %q does not say %q", tc.addr, p.name, err, tc.why)
			}
		}
	}
}

func TestForSandbox(t *testing.T) {
	for sandbox, want := range map[string]egress.Policy{"": {}, "staging-eu": {}, "local": {AllowLoopback: true}} {
		if got := egress.ForSandbox(sandbox); got != want {
			t.Errorf("ForSandbox(%q) = %+v, want %+v", sandbox, got, want)
		}
	}
}

// listener counts the connections a loopback listener accepts.
func listener(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	accepted = &atomic.Int32{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	return ln.Addr().String(), accepted
}

func TestDialerRefusesBeforeConnecting(t *testing.T) {
	addr, accepted := listener(t)
	ctx := context.Background()
	_, err := egress.Policy{}.Dialer().DialContext(ctx, "tcp", addr)
	if !errors.Is(err, egress.ErrRefused) {
		t.Fatalf("dial %s under the public policy: %v, want ErrRefused", addr, err)
	}
	c, err := egress.Policy{AllowLoopback: true}.Dialer().DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("dial %s with loopback allowed: %v", addr, err)
	}
	c.Close()
	// The allowed dial was accepted; the refused one never reached the
	// listener (the control function runs before connect).
	deadline := time.Now().Add(2 * time.Second)
	for accepted.Load() < 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := accepted.Load(); n != 1 {
		t.Fatalf("the listener accepted %d connections, want only the allowed one", n)
	}
}

func TestDialerRefusesMetadataAtOnce(t *testing.T) {
	for _, addr := range []string{"169.254.169.254:80", "[fd00:ec2::254]:80", "[::ffff:169.254.169.254]:80"} {
		for _, p := range []egress.Policy{{}, {AllowLoopback: true, AllowPrivate: true}} {
			start := time.Now()
			_, err := p.Dialer().DialContext(context.Background(), "tcp", addr)
			if !errors.Is(err, egress.ErrRefused) {
				t.Fatalf("dial %s under %+v: %v, want ErrRefused", addr, p, err)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("dial %s took %s: refused before connecting, it must not wait", addr, d)
			}
		}
	}
}

// A name is judged by the address it resolves to, not by how it looks.
func TestNameResolvingToLoopback(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	url := fmt.Sprintf("http://partner.example:%s/hook", port)
	resolver := egresstest.Resolver(map[string]netip.Addr{"partner.example": netip.MustParseAddr("127.0.0.1")})
	get := func(p egress.Policy) error {
		d := p.Dialer()
		d.Resolver = resolver
		c := &http.Client{Transport: egress.Transport(d), Timeout: 5 * time.Second}
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(egress.Policy{}); !errors.Is(err, egress.ErrRefused) || !strings.Contains(err.Error(), "127.0.0.1 is loopback") {
		t.Fatalf("GET %s (resolving to 127.0.0.1) under the public policy: %v, want ErrRefused", url, err)
	}
	if hits.Load() != 0 {
		t.Fatal("the refused request reached the server")
	}
	// The same name, loopback allowed: the fake DNS did resolve it.
	if err := get(egress.Policy{AllowLoopback: true}); err != nil || hits.Load() != 1 {
		t.Fatalf("GET %s with loopback allowed: %v (%d hits)", url, err, hits.Load())
	}
}

func TestTransportIgnoresProxyEnvironment(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	if egress.Transport(egress.Policy{}.Dialer()).Proxy != nil {
		t.Fatal("a proxy would be the address checked, not the destination")
	}
}
