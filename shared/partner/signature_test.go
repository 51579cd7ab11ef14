package partner

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	testSecret    = "test-secret-0123456789abcdefghijklmnop"
	testSecretNew = "test-secret-rotated-9876543210zyxwvuts"
)

var (
	testBody = []byte(`{"id":1001,"total_price":"45.70"}`)
	testNow  = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
)

func TestSignVerifyRoundTrip(t *testing.T) {
	h := Sign(testBody, testNow, testSecret)
	if !strings.HasPrefix(h, "t="+strconv.FormatInt(testNow.Unix(), 10)+",v1=") || strings.Count(h, "v1=") != 1 {
		t.Fatalf("header %q", h)
	}
	if err := Verify(h, testBody, []string{testSecret}, testNow, DefaultTolerance); err != nil {
		t.Fatal(err)
	}
	// One v1 per secret, each verifying alone.
	two := Sign(testBody, testNow, testSecret, testSecretNew)
	if strings.Count(two, "v1=") != 2 {
		t.Fatalf("header %q", two)
	}
	for _, s := range []string{testSecret, testSecretNew} {
		if err := Verify(two, testBody, []string{s}, testNow, DefaultTolerance); err != nil {
			t.Fatalf("secret %d: %v", len(s), err)
		}
	}
	// The signed string is "<t>.<body>", as a partner computes it with openssl.
	sig, _ := ParseSignature(h)
	if want := mac(testSecret, testNow.Unix(), testBody); !bytes.Equal(sig.V1[0], want) {
		t.Fatal("v1 is not HMAC-SHA256 of <t>.<body>")
	}
}

func TestVerifyRefuses(t *testing.T) {
	good := Sign(testBody, testNow, testSecret)
	for _, tc := range []struct {
		name    string
		header  string
		body    []byte
		secrets []string
		now     time.Time
	}{
		{"tampered body", good, []byte(`{"id":1001,"total_price":"4.57"}`), []string{testSecret}, testNow},
		{"a byte appended", good, append(append([]byte{}, testBody...), ' '), []string{testSecret}, testNow},
		{"wrong secret", good, testBody, []string{testSecretNew}, testNow},
		{"no secrets", good, testBody, nil, testNow},
		{"timestamp too old", good, testBody, []string{testSecret}, testNow.Add(DefaultTolerance + time.Second)},
		{"timestamp too far in the future", good, testBody, []string{testSecret}, testNow.Add(-DefaultTolerance - time.Second)},
		{"timestamp changed", strings.Replace(good, "t="+strconv.FormatInt(testNow.Unix(), 10), "t="+strconv.FormatInt(testNow.Unix()+1, 10), 1),
			testBody, []string{testSecret}, testNow},
		{"empty header", "", testBody, []string{testSecret}, testNow},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(tc.header, tc.body, tc.secrets, tc.now, DefaultTolerance)
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("want ErrSignature, got %v", err)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testSecretNew) {
				t.Fatal("the error holds a secret")
			}
		})
	}
}

func TestVerifyTolerance(t *testing.T) {
	h := Sign(testBody, testNow, testSecret)
	for _, tc := range []struct {
		name      string
		now       time.Time
		tolerance time.Duration
		ok        bool
	}{
		{"exactly the tolerance old", testNow.Add(DefaultTolerance), DefaultTolerance, true},
		{"one second beyond, old", testNow.Add(DefaultTolerance + time.Second), DefaultTolerance, false},
		{"exactly the tolerance ahead", testNow.Add(-DefaultTolerance), DefaultTolerance, true},
		{"one second beyond, ahead", testNow.Add(-DefaultTolerance - time.Second), DefaultTolerance, false},
		{"zero tolerance is the default", testNow.Add(DefaultTolerance), 0, true},
		{"zero tolerance is the default, beyond", testNow.Add(DefaultTolerance + time.Second), 0, false},
		{"a configured tolerance", testNow.Add(61 * time.Second), time.Minute, false},
		{"a configured tolerance, within", testNow.Add(60 * time.Second), time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Verify(h, testBody, []string{testSecret}, tc.now, tc.tolerance)
			if (err == nil) != tc.ok {
				t.Fatalf("ok %v, got %v", tc.ok, err)
			}
		})
	}
}

func TestVerifyRotatedSecrets(t *testing.T) {
	active := []string{testSecret, testSecretNew}
	t.Run("signed with the new secret", func(t *testing.T) {
		if err := Verify(Sign(testBody, testNow, testSecretNew), testBody, active, testNow, DefaultTolerance); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("signed with the old secret", func(t *testing.T) {
		if err := Verify(Sign(testBody, testNow, testSecret), testBody, active, testNow, DefaultTolerance); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("two v1 values, only the second matches", func(t *testing.T) {
		retired := "a-secret-that-was-retired-0123456789"
		h := Sign(testBody, testNow, retired, testSecretNew)
		if err := Verify(h, testBody, []string{testSecretNew}, testNow, DefaultTolerance); err != nil {
			t.Fatal(err)
		}
		if err := Verify(Sign(testBody, testNow, retired), testBody, active, testNow, DefaultTolerance); !errors.Is(err, ErrSignature) {
			t.Fatalf("a retired secret verified: %v", err)
		}
	})
	t.Run("an unknown key before v1 is ignored", func(t *testing.T) {
		h := Sign(testBody, testNow, testSecretNew)
		h = strings.Replace(h, ",v1=", ",v2=abc,v1=", 1)
		if err := Verify(h, testBody, active, testNow, DefaultTolerance); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParseSignatureMalformed(t *testing.T) {
	v1 := strings.Repeat("ab", 32)
	for _, tc := range []struct{ name, header, want string }{
		{"empty", "", "no signature header"},
		{"blank", "   ", "no signature header"},
		{"no t", "v1=" + v1, "no timestamp"},
		{"no v1", "t=1764000000", "no v1"},
		{"v1 not hex", "t=1764000000,v1=" + strings.Repeat("zz", 32), "not hex"},
		{"v1 too short", "t=1764000000,v1=" + v1[:62], "64 hex digits"},
		{"v1 too long", "t=1764000000,v1=" + v1 + "ab", "64 hex digits"},
		{"v1 empty", "t=1764000000,v1=", "64 hex digits"},
		{"t not a number", "t=yesterday,v1=" + v1, "timestamp"},
		{"t empty", "t=,v1=" + v1, "timestamp"},
		{"t zero", "t=0,v1=" + v1, "timestamp"},
		{"t negative", "t=-1764000000,v1=" + v1, "timestamp"},
		{"t with a sign", "t=+1764000000,v1=" + v1, "timestamp"},
		{"t with a leading zero", "t=01764000000,v1=" + v1, "timestamp"},
		{"t in milliseconds beyond int64", "t=99999999999999999999,v1=" + v1, "timestamp"},
		{"two t", "t=1764000000,t=1764000001,v1=" + v1, "two timestamps"},
		{"not key=value", "t=1764000000,v1", "not key=value"},
		{"trailing comma", "t=1764000000,v1=" + v1 + ",", "not key=value"},
		{"too long", "t=1764000000" + strings.Repeat(",x=y", 1200), "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParseSignature(tc.header)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
			if s.Timestamp != 0 || s.V1 != nil {
				t.Fatalf("a failed parse returned %+v", s)
			}
			if err := Verify(tc.header, testBody, []string{testSecret}, testNow, DefaultTolerance); !errors.Is(err, ErrSignature) {
				t.Fatalf("Verify: want ErrSignature, got %v", err)
			}
		})
	}
}

func TestParseSignatureWellFormed(t *testing.T) {
	v1, v2 := strings.Repeat("ab", 32), strings.Repeat("CD", 32)
	s, err := ParseSignature(" t=1764000000 , v1=" + v1 + ",v0=old,v1=" + v2)
	if err != nil {
		t.Fatal(err)
	}
	if s.Timestamp != 1764000000 || len(s.V1) != 2 || hex.EncodeToString(s.V1[1]) != strings.ToLower(v2) {
		t.Fatalf("%+v", s)
	}
	// More v1 values than anyone needs: the first maxSignatures are kept.
	many := "t=1764000000" + strings.Repeat(",v1="+v1, 20)
	if s, err := ParseSignature(many); err != nil || len(s.V1) != maxSignatures {
		t.Fatalf("%d values, %v", len(s.V1), err)
	}
}

// formatSignature writes a parsed signature back as a header.
func formatSignature(s Signature) string {
	var b strings.Builder
	b.WriteString("t=" + strconv.FormatInt(s.Timestamp, 10))
	for _, v := range s.V1 {
		b.WriteString(",v1=" + hex.EncodeToString(v))
	}
	return b.String()
}

// FuzzParseSignature: ParseSignature never panics; what it accepts has a
// positive timestamp and 1 to maxSignatures 32-byte values, and reads back
// the same once written out again; what it refuses comes back empty.
func FuzzParseSignature(f *testing.F) {
	v1 := strings.Repeat("0f", 32)
	for _, seed := range []string{
		Sign(testBody, testNow, testSecret),
		Sign(testBody, testNow, testSecret, testSecretNew),
		"t=1764000000,v1=" + v1 + ",v1=" + strings.ToUpper(v1),
		"t=1764000000,v0=legacy,v1=" + v1,
		" t=1,v1=" + v1 + " ",
		"", ",", "=", "t=", "v1=", "t=1", "v1=" + v1, "t=1,v1=xyz", "t=-1,v1=" + v1, "t=+1,v1=" + v1,
		"t=1,t=2,v1=" + v1, "t=1,v1=" + v1 + ",", "t=1;v1=" + v1, "t=9223372036854775807,v1=" + v1,
		"t=9223372036854775808,v1=" + v1, "t=1,v1=" + v1[:63] + "\xff", "t=\x00,v1=" + v1,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		s, err := ParseSignature(h)
		if err != nil {
			if s.Timestamp != 0 || s.V1 != nil {
				t.Fatalf("refused %q but returned %+v", h, s)
			}
			return
		}
		if s.Timestamp <= 0 || len(s.V1) == 0 || len(s.V1) > maxSignatures {
			t.Fatalf("accepted %q as %+v", h, s)
		}
		for _, v := range s.V1 {
			if len(v) != 32 {
				t.Fatalf("accepted %q with a %d-byte v1", h, len(v))
			}
		}
		again, err := ParseSignature(formatSignature(s))
		if err != nil || again.Timestamp != s.Timestamp || len(again.V1) != len(s.V1) {
			t.Fatalf("%q: written back it reads %+v, %v", h, again, err)
		}
		for i := range s.V1 {
			if !bytes.Equal(again.V1[i], s.V1[i]) {
				t.Fatalf("%q: v1 %d changed when written back", h, i)
			}
		}
	})
}

// FuzzVerify: whatever the body, the secret and the time, what Sign writes
// verifies at that time, and not for a different body.
func FuzzVerify(f *testing.F) {
	f.Add(testBody, testSecret, int64(1764000000))
	f.Add([]byte{}, "", int64(1))
	f.Add([]byte("t=1,v1=.\n\x00"), "ключ", int64(1<<40))
	f.Fuzz(func(t *testing.T, body []byte, secret string, ts int64) {
		if len(body) > 1<<12 || len(secret) > 256 {
			return // keep each iteration cheap
		}
		if ts < 0 {
			ts = -(ts + 1)
		}
		at := time.Unix(ts%(1<<40)+1, 0) // positive, and far from time's limits
		h := Sign(body, at, secret)
		if err := Verify(h, body, []string{secret}, at, DefaultTolerance); err != nil {
			t.Fatalf("signed and verified at the same time: %v", err)
		}
		other := append(append([]byte{}, body...), 'x')
		if err := Verify(h, other, []string{secret}, at, DefaultTolerance); !errors.Is(err, ErrSignature) {
			t.Fatalf("verified a different body: %v", err)
		}
	})
}
