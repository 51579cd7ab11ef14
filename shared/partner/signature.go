package partner

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The Xborder-Signature scheme is being retired: it signs the body and a
// time, not the delivery id, so a captured delivery could be posted again
// under a new id within the tolerance. Standard Webhooks (webhook-id,
// webhook-timestamp, webhook-signature; shared/partnerlink) signs the id
// too. Intake accepts either scheme until LegacySunset, answering a
// delivery signed the old way with Deprecation and Sunset headers (RFC
// 9745, RFC 8594); callbacks carry both signatures until then.
var (
	// LegacyDeprecated is when the scheme was deprecated.
	LegacyDeprecated = time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	// LegacySunset is when intake stops accepting it and callbacks stop
	// carrying it.
	LegacySunset = time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)
)

// Headers of the partner webhooks, both ways (being retired: see
// LegacySunset).
const (
	// SignatureHeader is "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">";
	// several v1= values are allowed (one per active secret).
	SignatureHeader = "Xborder-Signature"
	// DeliveryHeader names one delivery; a repeat carries the same id.
	DeliveryHeader = "Xborder-Delivery-Id"
	// DefaultTolerance is how far a signature's time may be from now.
	DefaultTolerance = 300 * time.Second
)

// ErrSignature is the one error a caller is told: the signature was not
// accepted. Why (for the logs) is in the wrapped error.
var ErrSignature = errors.New("partner: signature not accepted")

// Signature is a parsed signature header.
type Signature struct {
	Timestamp int64
	V1        [][]byte
}

// maxSignatures bounds the v1 values read from one header.
const maxSignatures = 8

// ParseSignature reads "t=…,v1=…[,v1=…]". Unknown keys (future schemes) are
// ignored; a missing or malformed t (it must be positive unix seconds in
// decimal, as Sign writes it and as the signed "<t>.<body>" holds it: no sign,
// no leading zero), no v1, or a v1 that is not 64 hex digits is an error.
// At most 8 v1 values are kept. It never panics, whatever the input.
func ParseSignature(h string) (Signature, error) {
	var s Signature
	seenT := false
	switch {
	case strings.TrimSpace(h) == "":
		return s, errors.New("no signature header")
	case len(h) > 4096:
		return s, errors.New("signature header too long")
	}
	for _, part := range strings.Split(h, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return Signature{}, fmt.Errorf("signature element %q is not key=value", clip(part))
		}
		switch k {
		case "t":
			if seenT {
				return Signature{}, errors.New("signature has two timestamps")
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 || v[0] == '0' || v[0] == '+' {
				return Signature{}, errors.New("signature timestamp is not positive unix seconds")
			}
			s.Timestamp, seenT = n, true
		case "v1":
			if len(v) != sha256.Size*2 {
				return Signature{}, errors.New("v1 is not 64 hex digits")
			}
			b, err := hex.DecodeString(v)
			if err != nil {
				return Signature{}, errors.New("v1 is not hex")
			}
			if len(s.V1) < maxSignatures {
				s.V1 = append(s.V1, b)
			}
		}
	}
	switch {
	case !seenT:
		return Signature{}, errors.New("signature has no timestamp")
	case len(s.V1) == 0:
		return Signature{}, errors.New("signature has no v1")
	}
	return s, nil
}

func clip(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// mac is HMAC-SHA256 of "<t>.<body>".
func mac(secret string, t int64, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(t, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Sign returns the signature header for body at time t, with one v1 per
// secret.
func Sign(body []byte, t time.Time, secrets ...string) string {
	ts := t.Unix()
	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(strconv.FormatInt(ts, 10))
	for _, s := range secrets {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(s, ts, body)))
	}
	return b.String()
}

// Verify checks a signature header over the raw body against any of the
// secrets, in constant time per comparison, and that its time is within
// tolerance of now (either way). Every failure is ErrSignature, wrapping why.
func Verify(header string, body []byte, secrets []string, now time.Time, tolerance time.Duration) error {
	sig, err := ParseSignature(header)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	age := now.Sub(time.Unix(sig.Timestamp, 0))
	if age > tolerance || age < -tolerance {
		return fmt.Errorf("%w: timestamp %d is %s from now, beyond %s", ErrSignature, sig.Timestamp, age.Round(time.Second), tolerance)
	}
	match := false
	for _, secret := range secrets {
		want := mac(secret, sig.Timestamp, body)
		for _, got := range sig.V1 {
			if hmac.Equal(got, want) {
				match = true // keep comparing: the time taken does not say which matched
			}
		}
	}
	if !match {
		return fmt.Errorf("%w: no v1 matches an active secret", ErrSignature)
	}
	return nil
}
