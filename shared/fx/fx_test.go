package fx

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
)

const sample = `# comment
Date,USD,JPY,GBP,
2026-06-30,1.1640,180.25,0.86200,
2026-07-01,1.1655,N/A,0.86150,
`

func on(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t.Add(15 * time.Hour) }

func TestRatesAndCrossRates(t *testing.T) {
	tab, err := Parse(strings.NewReader(sample), "test")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		from, to, day, date string
		in, want            money.Money
	}{
		{"EUR", "USD", "2026-06-30", "2026-06-30", money.New(10000, "EUR"), money.New(11640, "USD")},
		// USD→EUR divides once: $174.60 is exactly €150.
		{"USD", "EUR", "2026-06-30", "2026-06-30", money.New(17460, "USD"), money.New(15000, "EUR")},
		// The latest publication on or before the day: a weekend uses Friday's.
		{"EUR", "USD", "2026-07-04", "2026-07-01", money.New(10000, "EUR"), money.New(11655, "USD")},
		// JPY has no minor unit; N/A on 2026-07-01 falls back to 2026-06-30.
		{"EUR", "JPY", "2026-07-01", "2026-06-30", money.New(1999, "EUR"), money.New(3603, "JPY")},
		// GBP→USD through the euro: 100 × 1.1640 / 0.86200 = 135.034802…
		{"GBP", "USD", "2026-06-30", "2026-06-30", money.New(10000, "GBP"), money.New(13503, "USD")},
		// Half away from zero: €0.05 × 1.1640 = $0.0582 → $0.06.
		{"EUR", "USD", "2026-06-30", "2026-06-30", money.New(5, "EUR"), money.New(6, "USD")},
	}
	for _, tc := range cases {
		r, err := tab.Rate(tc.from, tc.to, on(tc.day))
		if err != nil {
			t.Fatalf("%s→%s on %s: %v", tc.from, tc.to, tc.day, err)
		}
		if r.Date != tc.date {
			t.Errorf("%s→%s on %s: rate of %s, want %s", tc.from, tc.to, tc.day, r.Date, tc.date)
		}
		got, err := r.Convert(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s→%s %v = %v (%v), want %v", tc.from, tc.to, tc.in, got, err, tc.want)
		}
		back := r.Inverse()
		if back.From != tc.to || back.To != tc.from {
			t.Errorf("inverse %+v", back)
		}
	}
}

func TestRateErrors(t *testing.T) {
	tab, _ := Parse(strings.NewReader(sample), "test")
	if _, err := tab.Rate("EUR", "ISK", on("2026-06-30")); !errors.Is(err, ErrUnsupportedCurrency) {
		t.Fatalf("unsupported: %v", err)
	}
	if _, err := tab.Rate("EUR", "USD", on("2026-06-29")); !errors.Is(err, ErrNoRate) {
		t.Fatalf("before the first day: %v", err)
	}
	r, _ := tab.Rate("EUR", "USD", on("2026-06-30"))
	if _, err := r.Convert(money.New(1, "GBP")); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Fatalf("wrong currency: %v", err)
	}
	for name, bad := range map[string]string{
		"no header":       "2026-06-30,1.1\n",
		"bad currency":    "Date,XYZ\n2026-06-30,1\n",
		"bad date":        "Date,USD\n30/06/2026,1\n",
		"negative rate":   "Date,USD\n2026-06-30,-1\n",
		"missing field":   "Date,USD,JPY\n2026-06-30,1\n",
		"duplicate day":   "Date,USD\n2026-06-30,1\n2026-06-30,1\n",
		"empty":           "# nothing\n",
		"not a number":    "Date,USD\n2026-06-30,one\n",
		"zero is no rate": "Date,USD\n2026-06-30,0\n",
	} {
		if _, err := Parse(strings.NewReader(bad), "bad"); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestEmbeddedRates(t *testing.T) {
	tab := Default()
	for _, c := range []string{"EUR", "USD", "GBP", "JPY", "AUD", "CAD", "CNY", "SGD", "NZD"} {
		if !tab.Supports(c) {
			t.Errorf("no rate for %s", c)
		}
	}
	if r, err := tab.Rate("USD", "JPY", on("2026-11-30")); err != nil || r.Date != "2026-11-30" {
		t.Fatalf("%+v %v", r, err)
	}
	n, d, ok := func() (uint64, uint64, bool) { r, _ := tab.Rate("USD", "EUR", on("2026-06-30")); return r.Ratio() }()
	if !ok || n != 10000 || d != 11640 {
		t.Fatalf("ratio %d/%d %v", n, d, ok)
	}
}
