package partnerlink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks (standardwebhooks.com) headers, both ways: the id names
// one message — a retry carries the same id, and the receiver keys its
// idempotency on it — the timestamp is unix seconds, and the signature is
// "v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">", several separated
// by spaces while a secret rotates. The id is signed: a captured message
// cannot be replayed under another.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
	// DefaultTolerance is how far a message's timestamp may be from now.
	DefaultTolerance = 5 * time.Minute
	// SecretPrefix starts a secret in its text form: "whsec_" and the key
	// in base64.
	SecretPrefix = "whsec_"
)

// ErrSignature is what a caller is told when a message's signature is not
// accepted; why (for the logs) is in the wrapping error.
var ErrSignature = errors.New("partnerlink: signature not accepted")

// secretKey decodes "whsec_<base64>"; a secret without the prefix is used
// as its bytes.
func secretKey(secret string) ([]byte, error) {
	b64, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		if secret == "" {
			return nil, errors.New("partnerlink: empty secret")
		}
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(key) < 16 {
		return nil, errors.New("partnerlink: secret is not whsec_ and at least 16 bytes of base64")
	}
	return key, nil
}

// CheckSecret reports a secret Sign and Verify cannot use: empty, or
// "whsec_" without at least 16 bytes of base64 after it.
func CheckSecret(secret string) error {
	_, err := secretKey(secret)
	return err
}

func mac(key []byte, id string, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte{'.'})
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Header is a header's value as its sender wrote it, commas included: API
// Gateway's payload format 2.0 joins a repeated header with commas, and
// the Lambda adapter (aws-lambda-go-api-proxy) splits every header on them
// again, so that "v1,<signature>" arrives as two values, "v1" and the
// signature — Header.Get would read only the first.
func Header(h http.Header, name string) string { return strings.Join(h.Values(name), ",") }

// Sign sets the three headers of message id with body at time t, one v1
// signature per secret.
func Sign(h http.Header, id string, t time.Time, body []byte, secrets ...string) error {
	if id == "" || len(secrets) == 0 {
		return errors.New("partnerlink: sign needs a message id and a secret")
	}
	ts := t.Unix()
	sigs := make([]string, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return err
		}
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac(key, id, ts, body)))
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
	return nil
}

// Verify checks a message's headers over its raw body against any of the
// secrets, and that its timestamp is within tolerance of now; it returns
// the message id. Every error wraps ErrSignature.
func Verify(h http.Header, body []byte, now time.Time, tolerance time.Duration, secrets ...string) (string, error) {
	id, tsText, sigs := Header(h, HeaderID), h.Get(HeaderTimestamp), Header(h, HeaderSignature)
	switch {
	case id == "" || tsText == "" || sigs == "":
		return "", fmt.Errorf("%w: webhook-id, webhook-timestamp and webhook-signature are required", ErrSignature)
	case len(id) > 256 || len(sigs) > 4096:
		return "", fmt.Errorf("%w: header too long", ErrSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || ts <= 0 {
		return "", fmt.Errorf("%w: webhook-timestamp is not unix seconds", ErrSignature)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return "", fmt.Errorf("%w: timestamp %s is outside the %s tolerance", ErrSignature, time.Unix(ts, 0).UTC().Format(time.RFC3339), tolerance)
	}
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			continue
		}
		want := mac(key, id, ts, body)
		for _, sig := range strings.Fields(sigs) {
			v, b64, ok := strings.Cut(sig, ",")
			if !ok || v != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(b64)
			if err == nil && hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("%w: no v1 signature matches", ErrSignature)
}
