package customs

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xborder/xborder/shared/fx"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Every destination the issue names has rules, and a duty rate for each
// representative heading, on today's rules.
func TestRuleFilesCoverEveryDestinationAndHeading(t *testing.T) {
	e := Default()
	headings := []string{"610910", "620342", "640399", "851713", "847130", "330499", "950300", "420221", "850760"}
	for _, c := range []string{"US", "DE", "FR", "IT", "NL", "ES", "GB", "AU", "CA", "JP", "SG", "NZ", "CN"} {
		if !e.Supports(c) {
			t.Errorf("no rules for %s", c)
			continue
		}
		tr := e.byCountry[c]
		for _, hs := range headings {
			if r, level := tr.dutyFor(hs, "2026-11-30"); r == nil || level == 0 {
				t.Errorf("%s: no duty rate for HS %s", c, hs)
			}
		}
		for _, v := range tr.file.Valuations {
			if v.Source == "" {
				t.Errorf("%s: valuation %s has no source", c, v.ID)
			}
		}
	}
}

func TestIndexRefusesBrokenRules(t *testing.T) {
	good := `{"version":"2026-11-30","destination":"XX","countries":["DE"],"currency":"EUR",
	 "valuation":[{"id":"v","source":"s","from":"2020-01-01","basis":"CIF"}],
	 "reliefs":[],"collection":[],"taxes":[],"fees":[],"notes":[],
	 "duties":[%s]}`
	cases := []struct{ name, duties, want string }{
		{"no source", `{"id":"d","source":"","from":"2020-01-01","hs":"6109","rate":"12"}`, "no source"},
		{"bad date", `{"id":"d","source":"s","from":"2020-13-01","hs":"6109","rate":"12"}`, "not YYYY-MM-DD"},
		{"to before from", `{"id":"d","source":"s","from":"2020-01-01","to":"2019-01-01","hs":"6109","rate":"12"}`, "on or after from"},
		{"bad rate", `{"id":"d","source":"s","from":"2020-01-01","hs":"6109","rate":"-3"}`, "not a decimal"},
		{"bad hs", `{"id":"d","source":"s","from":"2020-01-01","hs":"61.09","rate":"12"}`, "not 2 to 10 digits"},
		{"overlap", `{"id":"a","source":"s","from":"2020-01-01","hs":"6109","rate":"12"},{"id":"b","source":"s","from":"2021-01-01","hs":"6109","rate":"10"}`, "overlaps a"},
		{"same id", `{"id":"a","source":"s","from":"2020-01-01","hs":"6109","rate":"12"},{"id":"a","source":"s","from":"2020-01-01","hs":"6110","rate":"12"}`, "used twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{"rules/xx.json": {Data: []byte(strings.Replace(good, "%s", tc.duties, 1))}}
			files, err := LoadRules(fsys, "rules")
			if err != nil {
				t.Fatal(err)
			}
			_, err = New(files, fx.Default())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one saying %q", err, tc.want)
			}
		})
	}
	// Unknown fields are refused too: a typo must not silently drop a rule.
	fsys := fstest.MapFS{"rules/xx.json": {Data: []byte(strings.Replace(good, "%s", `{"id":"d","source":"s","from":"2020-01-01","hs":"6109","rat":"12"}`, 1))}}
	if _, err := LoadRules(fsys, "rules"); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestValidateCartNamesEveryField(t *testing.T) {
	e := Default()
	c := cart("XX", "ISK", "2026-11-30", "B2X", 0, ln("61.09", 100, 1, "CN"))
	c.Gift, c.IOSSNumber = true, "IM123"
	got := map[string]string{}
	for _, fe := range e.ValidateCart(&c) {
		got[fe.Field] = fe.Code
	}
	want := map[string]string{"/consigneeCountry": order.CodeInvalid, "/currency": CodeUnsupported, "/tradeMode": order.CodeInvalid,
		"/lines/0/hsCode": order.CodeInvalid, "/gift": order.CodeNotAllowed, "/iossNumber": order.CodeInvalid}
	for f, code := range want {
		if got[f] != code {
			t.Errorf("%s: code %q, want %q (all: %v)", f, got[f], code, got)
		}
	}
	c = cart("BR", "EUR", "2026-11-30", order.TradeB2C, 0, ln("610910", 100, 1, "CN"))
	if errs := e.ValidateCart(&c); len(errs) != 1 || errs[0].Field != "/consigneeCountry" || errs[0].Code != CodeUnsupported {
		t.Fatalf("a valid country without rules: %+v", errs)
	}
	c = cart("GB", "EUR", "2026-11-30", order.TradeB2C, 0, ln("610910", 100, 1, "CN"))
	c.IOSSNumber = "IM2760000001"
	if errs := e.ValidateCart(&c); len(errs) != 1 || errs[0].Field != "/iossNumber" || errs[0].Code != order.CodeNotAllowed {
		t.Fatalf("IOSS outside the EU: %+v", errs)
	}
}

func TestQuoteRefusesWhatItCannotQuote(t *testing.T) {
	e := Default()
	c := cart("BR", "EUR", "2026-11-30", order.TradeB2C, 0, ln("610910", 100, 1, "CN"))
	if _, err := e.Quote(c); !errors.Is(err, ErrUnsupportedDestination) {
		t.Fatalf("destination: %v", err)
	}
	c = cart("DE", "EUR", "2024-01-01", order.TradeB2C, 0, ln("610910", 100, 1, "CN"))
	c.Currency = "USD"
	if _, err := e.Quote(c); !errors.Is(err, fx.ErrNoRate) {
		t.Fatalf("a date before the first published rate: %v", err)
	}
}

// The quote records the exchange rate it used, with its date.
func TestQuoteRecordsTheRate(t *testing.T) {
	c := cart("DE", "GBP", "2026-07-01", order.TradeB2C, 0, ln("610910", 10000, 1, "CN"))
	q, err := Default().Quote(c)
	if err != nil {
		t.Fatal(err)
	}
	// 1 GBP = 1/0.86150 EUR on 2026-07-01.
	if q.FX.From != "GBP" || q.FX.To != "EUR" || q.FX.Date != "2026-07-01" || q.FX.Rate != "1.1607661056" {
		t.Fatalf("fx = %+v", q.FX)
	}
	// £100 = €116.08 (116.0766…) intrinsic, rounded once.
	if q.Assessment.Intrinsic != money.New(11608, "EUR") {
		t.Fatalf("intrinsic value %v", q.Assessment.Intrinsic)
	}
	fxr := q.OrderFX()
	if fxr.Rate != q.FX.Rate || fxr.Date != "2026-07-01" {
		t.Fatalf("order fx %+v", fxr)
	}
}

// A rate older than a week before the order date makes the quote an estimate.
func TestStaleRateIsAnEstimate(t *testing.T) {
	c := cart("DE", "USD", "2026-12-31", order.TradeB2C, 0, ln("610910", 10000, 1, "CN"))
	q, err := Default().Quote(c)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Estimate || q.FX.Date != "2026-11-30" || !strings.Contains(strings.Join(q.EstimateReasons, ";"), "31 days") {
		t.Fatalf("estimate %v %q fx %+v", q.Estimate, q.EstimateReasons, q.FX)
	}
	c.Date = time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	if q, _ = Default().Quote(c); q.Estimate {
		t.Fatalf("a rate 4 days old is fine: %q", q.EstimateReasons)
	}
}
