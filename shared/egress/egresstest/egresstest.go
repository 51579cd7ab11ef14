// Package egresstest is a fake DNS for tests of egress: a net.Resolver
// that answers from a map, in process, so that a test can make a public-
// looking name resolve to a loopback or metadata address without touching
// the machine's resolver or the network.
package egresstest

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
)

// Resolver answers A and AAAA queries for the names in hosts (without the
// trailing dot, any case) with their address, and NXDOMAIN for any other
// name. Nothing is sent over the network: each query goes through an
// in-memory pipe.
func Resolver(hosts map[string]netip.Addr) *net.Resolver {
	byName := map[string]netip.Addr{}
	for n, a := range hosts {
		byName[strings.ToLower(strings.TrimSuffix(n, "."))] = a
	}
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		client, server := net.Pipe()
		go serve(server, byName)
		return client, nil
	}}
}

// serve answers the queries of one connection, framed as over TCP (a
// two-byte length before each message: the resolver frames so over any
// connection that is not a PacketConn).
func serve(c net.Conn, hosts map[string]netip.Addr) {
	defer c.Close()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		q := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, q); err != nil {
			return
		}
		a := answer(q, hosts)
		if a == nil {
			return
		}
		if _, err := c.Write(append(binary.BigEndian.AppendUint16(nil, uint16(len(a))), a...)); err != nil {
			return
		}
	}
}

const (
	typeA    = 1
	typeAAAA = 28
)

// answer builds the response to query q, or nil for a malformed query.
func answer(q []byte, hosts map[string]netip.Addr) []byte {
	if len(q) < 12 {
		return nil
	}
	// The question: labels up to the root, then type and class.
	i, labels := 12, []string{}
	for i < len(q) && q[i] != 0 {
		l := int(q[i])
		if l > 63 || i+1+l > len(q) {
			return nil
		}
		labels = append(labels, string(q[i+1:i+1+l]))
		i += 1 + l
	}
	if i+5 > len(q) {
		return nil
	}
	question := q[12 : i+5]
	qtype := binary.BigEndian.Uint16(q[i+1:])
	addr, known := hosts[strings.ToLower(strings.Join(labels, "."))]

	var rdata []byte
	switch {
	case known && qtype == typeA && addr.Is4():
		b := addr.As4()
		rdata = b[:]
	case known && qtype == typeAAAA && addr.Is6():
		b := addr.As16()
		rdata = b[:]
	}
	flags, count := uint16(0x8180), uint16(0) // a response, recursion desired and available, no error
	if !known {
		flags |= 3 // NXDOMAIN
	}
	if rdata != nil {
		count = 1
	}
	out := append([]byte{}, q[0], q[1])
	out = binary.BigEndian.AppendUint16(out, flags)
	out = binary.BigEndian.AppendUint16(out, 1)
	out = binary.BigEndian.AppendUint16(out, count)
	out = append(out, 0, 0, 0, 0)
	out = append(out, question...)
	if rdata != nil {
		out = append(out, 0xc0, 12) // the name: a pointer to the question's
		out = binary.BigEndian.AppendUint16(out, qtype)
		out = binary.BigEndian.AppendUint16(out, 1) // IN
		out = binary.BigEndian.AppendUint32(out, 60)
		out = binary.BigEndian.AppendUint16(out, uint16(len(rdata)))
		out = append(out, rdata...)
	}
	return out
}
