// Package partner is who may post orders by webhook and hear back: each
// partner's secrets (up to two active, for rotation), payload format,
// callback URL, allowed trade modes and payment methods; the signature
// scheme being retired (Xborder-Signature; intake and callbacks also speak
// Standard Webhooks, shared/partnerlink); and the mapping of each partner
// format into an order draft.
package partner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"sort"
	"strings"

	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partnerlink"
)

// Format is the payload shape a partner posts.
type Format string

// Formats.
const (
	FormatNative  Format = "native"
	FormatShopify Format = "shopify"
)

// Partner is one partner's configuration.
type Partner struct {
	ID string `json:"id"`
	// Secrets are the active signing secrets (one, or two while rotating).
	Secrets     []string          `json:"secrets"`
	Format      Format            `json:"format"`
	CallbackURL string            `json:"callbackUrl"`
	TradeModes  []order.TradeMode `json:"tradeModes"`
	// PaymentMethods are how the partner's orders may be paid; none listed
	// is partner_account alone. "card" must be listed to be allowed: a
	// partner posting card tokens could otherwise test stolen cards
	// through us, reading each decline off its callbacks.
	PaymentMethods []string `json:"paymentMethods,omitempty"`
}

// PaymentCard is the payment method of a card token.
const PaymentCard = "card"

// Allows reports whether the partner may post orders of trade mode tm.
func (p *Partner) Allows(tm order.TradeMode) bool {
	for _, m := range p.TradeModes {
		if m == tm {
			return true
		}
	}
	return false
}

// AllowsPayment reports whether the partner may post orders paid by method.
func (p *Partner) AllowsPayment(method string) bool {
	if len(p.PaymentMethods) == 0 {
		return method == order.PaymentPartnerAccount
	}
	for _, m := range p.PaymentMethods {
		if m == method {
			return true
		}
	}
	return false
}

// Directory holds every partner.
type Directory struct {
	byID map[string]*Partner
}

// Get finds a partner by id.
func (d *Directory) Get(id string) (*Partner, bool) {
	p, ok := d.byID[id]
	return p, ok
}

// IDs lists the partners.
func (d *Directory) IDs() []string {
	ids := make([]string, 0, len(d.byID))
	for id := range d.byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// validID: a-z or 0-9, then up to 62 of a-z, 0-9 and '-' (a loop, as
// validSKU).
func validID(s string) bool {
	if len(s) < 1 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return false
		}
	}
	return true
}

// MinSecretLength is the shortest secret accepted (32 bytes of entropy as
// hex or base64 is longer).
const MinSecretLength = 24

// Parse reads a directory shaped {"partners": [{"id", "secrets", "format",
// "callbackUrl", "tradeModes", "paymentMethods"}]} and checks every entry,
// reporting every problem at once (never a secret's value): id 1 to 63 of
// a-z, 0-9 and '-', each id once; one or two secrets of at least
// MinSecretLength characters, a "whsec_" one being base64 of 16 bytes or
// more (Standard Webhooks decodes it; any other is used as its bytes by
// both schemes); a format in Formats(); callbackUrl empty (no callbacks)
// or https (http only to a loopback host), and not an IP address outside
// public space but loopback (the callback client refuses those anyway, and
// any name that resolves there); at least one known trade mode; payment
// methods, if listed, among partner_account and card, each once. Unknown
// fields and data after the JSON object are refused.
func Parse(raw []byte) (*Directory, error) {
	var f struct {
		Partners []*Partner `json:"partners"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("partner: directory: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("partner: directory: data after the JSON object")
	}
	d := &Directory{byID: map[string]*Partner{}}
	var errs []error
	for i, p := range f.Partners {
		if p == nil {
			errs = append(errs, fmt.Errorf("partners[%d]: null", i))
			continue
		}
		// The id is quoted only when it is a well-formed id: whatever else
		// it holds (a secret pasted in the wrong field) stays out of errors.
		label := fmt.Sprintf("partners[%d]", i)
		if validID(p.ID) {
			label += " (" + p.ID + ")"
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("%s: %s", label, fmt.Sprintf(format, args...)))
		}
		if !validID(p.ID) {
			bad("id must be 1 to 63 of a-z, 0-9 and '-'")
		} else if d.byID[p.ID] != nil {
			bad("id used twice")
		}
		switch {
		case len(p.Secrets) == 0 || len(p.Secrets) > 2:
			bad("one or two active secrets, not %d", len(p.Secrets))
		default:
			for j, s := range p.Secrets {
				switch {
				case len(s) < MinSecretLength:
					bad("secrets[%d] is shorter than %d characters", j, MinSecretLength)
				case partnerlink.CheckSecret(s) != nil:
					bad("secrets[%d] starts with %s but is not base64 of at least 16 bytes after it", j, partnerlink.SecretPrefix)
				}
			}
		}
		if _, ok := mappers[p.Format]; !ok {
			bad("format %q is not one of %s", clip(string(p.Format)), formatList())
		}
		if u, err := url.Parse(p.CallbackURL); p.CallbackURL != "" && (err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())))) {
			bad("callbackUrl must be an https URL (http only to a loopback host, for local runs)")
		} else if ip, err := netip.ParseAddr(strings.Trim(u.Hostname(), "[]")); p.CallbackURL != "" && err == nil {
			if err := (egress.Policy{AllowLoopback: true}).Check(ip); err != nil {
				bad("callbackUrl names an address that is not public: %v", err)
			}
		}
		if len(p.TradeModes) == 0 {
			bad("tradeModes lists none")
		}
		for _, m := range p.TradeModes {
			switch m {
			case order.TradeB2B, order.TradeB2C, order.TradeC2C, order.TradeM2B2C:
			default:
				bad("trade mode %q is unknown", clip(string(m)))
			}
		}
		seen := map[string]bool{}
		for _, m := range p.PaymentMethods {
			switch {
			case m != order.PaymentPartnerAccount && m != PaymentCard:
				bad("payment method %q is not %s or %s", clip(m), order.PaymentPartnerAccount, PaymentCard)
			case seen[m]:
				bad("payment method %s listed twice", m)
			}
			seen[m] = true
		}
		if d.byID[p.ID] == nil {
			d.byID[p.ID] = p
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("partner: directory: %w", errors.Join(errs...))
	}
	return d, nil
}

func loopback(host string) bool { return host == "127.0.0.1" || host == "localhost" || host == "::1" }
