package money

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestExponent(t *testing.T) {
	for _, tc := range []struct {
		code string
		exp  int
		ok   bool
	}{
		{"EUR", 2, true}, {"USD", 2, true}, {"GBP", 2, true}, {"CNY", 2, true}, {"AUD", 2, true},
		{"JPY", 0, true}, {"KRW", 0, true}, {"ISK", 0, true}, {"CLP", 0, true}, {"VND", 0, true},
		{"XAF", 0, true}, {"XOF", 0, true}, {"XPF", 0, true}, {"UGX", 0, true}, {"UYI", 0, true},
		{"KWD", 3, true}, {"BHD", 3, true}, {"JOD", 3, true}, {"OMR", 3, true}, {"TND", 3, true},
		{"IQD", 3, true}, {"LYD", 3, true},
		{"CLF", 4, true}, {"UYW", 4, true},
		// ISO gives MGA and MRU two decimals although their real subdivision is 1/5.
		{"MGA", 2, true}, {"MRU", 2, true},
		// Recent additions.
		{"XCG", 2, true}, {"ZWG", 2, true}, {"SLE", 2, true}, {"VED", 2, true},
		// Withdrawn codes.
		{"HRK", 0, false}, {"BGN", 0, false}, {"ANG", 0, false}, {"ZWL", 0, false}, {"SLL", 0, false},
		{"LTL", 0, false}, {"VEF", 0, false}, {"MRO", 0, false},
		// Codes without a minor unit.
		{"XAU", 0, false}, {"XDR", 0, false}, {"XTS", 0, false}, {"XXX", 0, false},
		// Not codes.
		{"", 0, false}, {"eur", 0, false}, {"Eur", 0, false}, {"EURO", 0, false}, {"EU", 0, false}, {"€", 0, false},
	} {
		exp, ok := Exponent(tc.code)
		if exp != tc.exp || ok != tc.ok {
			t.Errorf("Exponent(%q) = %d, %v; want %d, %v", tc.code, exp, ok, tc.exp, tc.ok)
		}
		if Valid(tc.code) != tc.ok {
			t.Errorf("Valid(%q) = %v, want %v", tc.code, !tc.ok, tc.ok)
		}
	}
}

func TestExponentTable(t *testing.T) {
	// ISO 4217 List One (2026-01-01): 178 codes, 13 of them without a minor
	// unit; the other 165 split 17 × 0, 139 × 2, 7 × 3, 2 × 4.
	count := map[int]int{}
	for code, exp := range exponents {
		if len(code) != 3 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || code[2] < 'A' || code[2] > 'Z' {
			t.Errorf("malformed code %q", code)
		}
		count[exp]++
	}
	if len(exponents) != 165 || count[0] != 17 || count[2] != 139 || count[3] != 7 || count[4] != 2 {
		t.Fatalf("%d codes, by exponent %v; want 165: 0:17 2:139 3:7 4:2", len(exponents), count)
	}
}

func TestAdd(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b Money
		want Money
		err  error
	}{
		{"sum", New(1999, "EUR"), New(1, "EUR"), New(2000, "EUR"), nil},
		{"negative", New(-500, "EUR"), New(200, "EUR"), New(-300, "EUR"), nil},
		{"to the maximum", New(math.MaxInt64-1, "EUR"), New(1, "EUR"), New(math.MaxInt64, "EUR"), nil},
		{"to the minimum", New(math.MinInt64+1, "EUR"), New(-1, "EUR"), New(math.MinInt64, "EUR"), nil},
		{"opposite extremes", New(math.MaxInt64, "EUR"), New(math.MinInt64, "EUR"), New(-1, "EUR"), nil},
		{"overflow", New(math.MaxInt64, "EUR"), New(1, "EUR"), Money{}, ErrOverflow},
		{"overflow both large", New(math.MaxInt64/2+1, "EUR"), New(math.MaxInt64/2+1, "EUR"), Money{}, ErrOverflow},
		{"underflow", New(math.MinInt64, "EUR"), New(-1, "EUR"), Money{}, ErrOverflow},
		{"currencies differ", New(1, "EUR"), New(1, "USD"), Money{}, ErrCurrencyMismatch},
		{"currency missing", New(1, "EUR"), New(1, ""), Money{}, ErrCurrencyMismatch},
	} {
		got, err := tc.a.Add(tc.b)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%s: %v + %v = %v, %v; want %v, %v", tc.name, tc.a, tc.b, got, err, tc.want, tc.err)
		}
	}
}

func TestMul(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Money
		n    int64
		want Money
		err  error
	}{
		{"product", New(2499, "EUR"), 3, New(7497, "EUR"), nil},
		{"by zero keeps the currency", New(5, "EUR"), 0, New(0, "EUR"), nil},
		{"zero by anything", New(0, "JPY"), math.MaxInt64, New(0, "JPY"), nil},
		{"negative", New(-250, "USD"), 4, New(-1000, "USD"), nil},
		{"largest order line", New(1_000_000_000_000, "EUR"), 10_000, New(10_000_000_000_000_000, "EUR"), nil},
		{"exactly the maximum", New(math.MaxInt64, "EUR"), 1, New(math.MaxInt64, "EUR"), nil},
		{"minimum times one", New(math.MinInt64, "EUR"), 1, New(math.MinInt64, "EUR"), nil},
		{"overflow", New(math.MaxInt64/2+1, "EUR"), 2, Money{}, ErrOverflow},
		{"overflow negative", New(math.MinInt64/2-1, "EUR"), 2, Money{}, ErrOverflow},
		{"overflow large factors", New(1<<32, "EUR"), 1 << 32, Money{}, ErrOverflow},
		{"minimum times minus one", New(math.MinInt64, "EUR"), -1, Money{}, ErrOverflow},
		{"minus one times minimum", New(-1, "EUR"), math.MinInt64, Money{}, ErrOverflow},
	} {
		got, err := tc.m.Mul(tc.n)
		if !errors.Is(err, tc.err) || got != tc.want {
			t.Errorf("%s: %v × %d = %v, %v; want %v, %v", tc.name, tc.m, tc.n, got, err, tc.want, tc.err)
		}
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		want string
	}{
		{New(1999, "EUR"), "19.99 EUR"},
		{New(5, "EUR"), "0.05 EUR"},
		{New(50, "EUR"), "0.50 EUR"},
		{New(100, "EUR"), "1.00 EUR"},
		{New(0, "EUR"), "0.00 EUR"},
		{New(-1999, "EUR"), "-19.99 EUR"},
		{New(-5, "EUR"), "-0.05 EUR"},
		{New(1999, "JPY"), "1999 JPY"},
		{New(-1999, "JPY"), "-1999 JPY"},
		{New(0, "JPY"), "0 JPY"},
		{New(1250, "KWD"), "1.250 KWD"},
		{New(7, "KWD"), "0.007 KWD"},
		{New(-1250, "KWD"), "-1.250 KWD"},
		{New(12345, "CLF"), "1.2345 CLF"},
		{New(12, "XYZ"), "12 XYZ"},
		{New(12, ""), "12"},
		{New(math.MaxInt64, "USD"), "92233720368547758.07 USD"},
		{New(math.MinInt64, "USD"), "-92233720368547758.08 USD"},
		{New(math.MinInt64, "JPY"), "-9223372036854775808 JPY"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("Money{%d, %q}.String() = %q, want %q", tc.m.Amount, tc.m.Currency, got, tc.want)
		}
	}
}

func ExampleMoney_String() {
	fmt.Println(New(1999, "EUR"), New(1200, "JPY"), New(1250, "KWD"), New(-5, "USD"))
	// Output: 19.99 EUR 1200 JPY 1.250 KWD -0.05 USD
}
