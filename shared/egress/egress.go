// Package egress decides which addresses an outbound connection may reach,
// at connect time: a net.Dialer's ControlContext sees the IP address the
// name resolved to — every address tried, redirects included — and refuses
// it before the connect system call, so not a packet leaves for it. A check
// of the URL alone is not enough: a public-looking name can resolve to
// 127.0.0.1 or to the cloud's metadata service, and resolve again
// differently by the time the connection is made.
//
// Refused whatever the policy: the unspecified addresses (0.0.0.0/8, ::),
// link-local (169.254.0.0/16, fe80::/10, which hold the cloud metadata
// services), the metadata addresses by name (169.254.169.254,
// fd00:ec2::254, which sits in unique-local space), multicast, broadcast and
// reserved space, and the IPv4-compatible form ::/96. IPv4-mapped
// (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) addresses are judged by the
// IPv4 address they carry. Loopback and private space (RFC 1918,
// unique-local fc00::/7, CGNAT 100.64.0.0/10, benchmarking 198.18.0.0/15,
// local-use NAT64 64:ff9b:1::/48) are refused unless the policy allows them.
package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrRefused is wrapped by every refusal; the error names the address and
// why.
var ErrRefused = errors.New("egress: destination refused")

// LocalSandbox is the sandbox name of the local stack (XBORDER_SANDBOX):
// the one deployment whose partners and simulators listen on loopback.
const LocalSandbox = "local"

// Policy says which non-public addresses a connection may reach besides
// public ones. The zero Policy allows public addresses only.
type Policy struct {
	// AllowLoopback lets connections reach 127.0.0.0/8 and ::1: the local
	// stack only (in Lambda, loopback is the runtime API).
	AllowLoopback bool
	// AllowPrivate lets connections reach private space (RFC 1918,
	// unique-local, CGNAT): partners behind a VPN or PrivateLink, which
	// operators configure; never a URL a partner chose.
	AllowPrivate bool
}

// ForSandbox is the policy for URLs partners choose (callbacks) in a
// deployment named sandbox (empty in production): public addresses only,
// and loopback too on the local stack.
func ForSandbox(sandbox string) Policy {
	return Policy{AllowLoopback: sandbox == LocalSandbox}
}

// String says what the policy allows, for the log line of a cold start.
func (p Policy) String() string {
	s := "public addresses"
	if p.AllowPrivate {
		s += ", private"
	}
	if p.AllowLoopback {
		s += ", loopback"
	}
	return s
}

type class int

const (
	public class = iota
	loopback
	private
	always // refused whatever the policy
)

type prefix struct {
	net   netip.Prefix
	class class
	why   string
}

// prefixes, the most specific first where they overlap (fd00:ec2::254 in
// fc00::/7).
var prefixes = func() []prefix {
	var out []prefix
	add := func(c class, why string, cidrs ...string) {
		for _, s := range cidrs {
			out = append(out, prefix{netip.MustParsePrefix(s), c, why})
		}
	}
	add(always, "cloud metadata service", "169.254.169.254/32", "fd00:ec2::254/128")
	add(always, "unspecified", "0.0.0.0/8", "::/128")
	add(loopback, "loopback", "127.0.0.0/8", "::1/128")
	add(always, "IPv4-compatible IPv6", "::/96")
	add(always, "link-local", "169.254.0.0/16", "fe80::/10")
	add(always, "multicast", "224.0.0.0/4", "ff00::/8")
	add(always, "reserved", "240.0.0.0/4", "192.0.0.0/24", "192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24",
		"100::/64", "2001:db8::/32")
	add(private, "private", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "64:ff9b:1::/48")
	add(private, "shared address space (CGNAT)", "100.64.0.0/10")
	add(private, "benchmarking", "198.18.0.0/15")
	return out
}()

var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Check returns nil when ip may be reached, or an error wrapping
// ErrRefused that says why not.
func (p Policy) Check(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: no address", ErrRefused)
	}
	addr := ip.Unmap().WithZone("")
	if nat64.Contains(addr) {
		// The well-known NAT64 prefix reaches the IPv4 address it carries.
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
	}
	for _, x := range prefixes {
		if !x.net.Contains(addr) {
			continue
		}
		if x.class == loopback && p.AllowLoopback || x.class == private && p.AllowPrivate {
			return nil
		}
		return fmt.Errorf("%w: %s is %s", ErrRefused, ip, x.why)
	}
	return nil
}

// control is the dialer's ControlContext: address is the IP and port about
// to be connected to, after name resolution.
func (p Policy) control(_ context.Context, network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not an IP address and port", ErrRefused, network, address)
	}
	return p.Check(ap.Addr())
}

// Dialer is a net.Dialer that refuses, before connecting, every address p
// does not allow. Its Resolver may be set (tests point it at a fake DNS).
func (p Policy) Dialer() *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second, ControlContext: p.control}
}

// Transport is an HTTP transport that dials with d and never through a
// proxy (a proxy from the environment would be the address checked, not
// the destination); otherwise http.DefaultTransport's settings.
func Transport(d *net.Dialer) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}
