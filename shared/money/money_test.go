package money

import (
	"errors"
	"math"
	"testing"
)

func TestExponent(t *testing.T) {
	for code, want := range map[string]int{"EUR": 2, "USD": 2, "JPY": 0, "KRW": 0, "KWD": 3, "BHD": 3, "TND": 3, "CLF": 4, "CNY": 2, "GBP": 2} {
		if got, ok := Exponent(code); !ok || got != want {
			t.Errorf("Exponent(%s) = %d, %v; want %d", code, got, ok, want)
		}
	}
	for _, code := range []string{"", "eur", "XXX", "HRK", "EURO"} {
		if Valid(code) {
			t.Errorf("%q must not be valid", code)
		}
	}
}

func TestArithmetic(t *testing.T) {
	a, err := New(1999, "EUR").Add(New(1, "EUR"))
	if err != nil || a != New(2000, "EUR") {
		t.Fatalf("add: %v %v", a, err)
	}
	if _, err := New(1, "EUR").Add(New(1, "USD")); !errors.Is(err, ErrCurrencyMismatch) {
		t.Fatalf("mixed currencies: %v", err)
	}
	if _, err := New(math.MaxInt64, "EUR").Add(New(1, "EUR")); !errors.Is(err, ErrOverflow) {
		t.Fatalf("overflow: %v", err)
	}
	if _, err := New(math.MinInt64, "EUR").Add(New(-1, "EUR")); !errors.Is(err, ErrOverflow) {
		t.Fatalf("underflow: %v", err)
	}
	m, err := New(2499, "EUR").Mul(3)
	if err != nil || m.Amount != 7497 {
		t.Fatalf("mul: %v %v", m, err)
	}
	if _, err := New(math.MaxInt64/2+1, "EUR").Mul(2); !errors.Is(err, ErrOverflow) {
		t.Fatalf("mul overflow: %v", err)
	}
	if m, _ := New(5, "EUR").Mul(0); m.Amount != 0 || m.Currency != "EUR" {
		t.Fatalf("mul by zero: %v", m)
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
	}{
		{New(1999, "EUR"), "19.99 EUR"},
		{New(5, "EUR"), "0.05 EUR"},
		{New(-1999, "EUR"), "-19.99 EUR"},
		{New(1999, "JPY"), "1999 JPY"},
		{New(1250, "KWD"), "1.250 KWD"},
		{New(12, "XYZ"), "12 XYZ"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("%v.String() = %q, want %q", tc.m, got, tc.want)
		}
	}
}
