package partner

import (
	"errors"
	"strings"
	"testing"
)

func TestParseMinorUnits(t *testing.T) {
	for _, tc := range []struct {
		s       string
		exp     int
		want    int64
		problem decimalProblem
	}{
		{"19.99", 2, 1999, decimalOK},
		{"19.9", 2, 1990, decimalOK},
		{"19", 2, 1900, decimalOK},
		{"0.05", 2, 5, decimalOK},
		{"0", 2, 0, decimalOK},
		{"0.00", 2, 0, decimalOK},
		{"007.50", 2, 750, decimalOK},
		{"19.990", 2, 1999, decimalOK},
		{"1999", 0, 1999, decimalOK},
		{"1999.00", 0, 1999, decimalOK},
		{"1.250", 3, 1250, decimalOK},
		{"1.2345", 4, 12345, decimalOK},
		{"9999999999999999.99", 2, 999999999999999999, decimalOK},
		{"19.999", 2, 0, decimalTooPrecise},
		{"19.5", 0, 0, decimalTooPrecise},
		{"1.2505", 3, 0, decimalTooPrecise},
		{"-1.00", 2, 0, decimalNegative},
		{"-0.5", 2, 0, decimalNegative},
		{"10000000000000000.00", 2, 0, decimalTooLarge},
		{"99999999999999999999999", 0, 0, decimalTooLarge},
		{"", 2, 0, decimalMalformed},
		{".5", 2, 0, decimalMalformed},
		{"5.", 2, 0, decimalMalformed},
		{"1,99", 2, 0, decimalMalformed},
		{"1e3", 2, 0, decimalMalformed},
		{"+1.00", 2, 0, decimalMalformed},
		{"--1", 2, 0, decimalMalformed},
		{"1.2.3", 2, 0, decimalMalformed},
		{" 1.00", 2, 0, decimalMalformed},
		{"€1.00", 2, 0, decimalMalformed},
		{"١٢", 0, 0, decimalMalformed}, // Arabic-Indic digits are not ASCII digits
	} {
		got, problem := parseMinorUnits(tc.s, tc.exp)
		if got != tc.want || problem != tc.problem {
			t.Errorf("parseMinorUnits(%q, %d) = %d, %d; want %d, %d", tc.s, tc.exp, got, problem, tc.want, tc.problem)
		}
	}
}

func TestAttributeKey(t *testing.T) {
	for in, want := range map[string]string{
		"hs_code": "hs_code", "HS code": "hs_code", "hs-code": "hs_code", "HS_Code": "hs_code", " _hs code ": "hs_code",
		"HS  - code": "hs_code", "hscode": "hscode", "origin_country": "origin_country", "Origin Country": "origin_country",
		"trade_mode": "trade_mode", "Trade-Mode": "trade_mode", "": "", "___": "",
	} {
		if got := attributeKey(in); got != want {
			t.Errorf("attributeKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFormatsAfterParse: Parse accepts exactly the registered formats, so a
// parsed partner always has a mapper.
func TestFormatsAfterParse(t *testing.T) {
	fs := Formats()
	if len(fs) < 2 || fs[0] != FormatNative || fs[1] != FormatShopify {
		t.Fatalf("formats %v", fs)
	}
	for _, f := range fs {
		d, err := Parse([]byte(`{"partners": [` + partnerJSON(map[string]string{"format": `"` + string(f) + `"`}) + `]}`))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		p, _ := d.Get("acme")
		if _, ok := mappers[p.Format]; !ok {
			t.Fatalf("%s parsed without a mapper", f)
		}
		if _, _, err := p.Draft([]byte(`{`), nil); !errors.Is(err, ErrMalformed) {
			t.Fatalf("%s: malformed JSON: %v", f, err)
		}
	}
	for _, f := range []string{"xml", "Native", "SHOPIFY", "csv"} {
		if _, err := Parse([]byte(`{"partners": [` + partnerJSON(map[string]string{"format": `"` + f + `"`}) + `]}`)); err == nil {
			t.Fatalf("%s accepted", f)
		}
	}
	// A Partner built by hand, not parsed: an error, not a panic.
	p := &Partner{ID: "hand-made", Format: "xml"}
	if _, _, err := p.Draft([]byte(`{}`), nil); err == nil || errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "no mapper") {
		t.Fatalf("got %v", err)
	}
}

func TestMalformedPayloadErrors(t *testing.T) {
	for _, f := range Formats() {
		p := &Partner{ID: "acme", Format: f}
		for _, tc := range []struct{ name, raw, want string }{
			{"empty", ``, "empty or truncated"},
			{"truncated", `{"currency": "EUR"`, "empty or truncated"},
			{"not JSON", `currency=EUR`, "malformed JSON at byte"},
			{"an array", `[]`, "must be a JSON object"},
			{"two objects", `{} {}`, "single JSON object"},
		} {
			_, errs, err := p.Draft([]byte(tc.raw), nil)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) || errs != nil {
				t.Errorf("%s, %s: want an error saying %q, got %v (%v)", f, tc.name, tc.want, err, errs)
			}
		}
	}
}
