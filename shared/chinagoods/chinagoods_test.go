package chinagoods

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every article shipped from or into China in the sample orders is
// registered, so the demo's CEB messages carry Chinese names: every order
// to China, and every order mailed from China (direct mail and supplier
// direct ship from China; an overseas warehouse ships from abroad).
func TestDefaultCoversTheSampleOrders(t *testing.T) {
	files, _ := filepath.Glob("../../events/orders/*.json")
	partners, _ := filepath.Glob("../../events/partners/*.json")
	files = append(files, partners...)
	if len(files) == 0 {
		t.Fatal("no sample orders")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var o struct {
			Lines []struct {
				SKU    string `json:"sku"`
				Origin string `json:"originCountry"`
			} `json:"lines"`
			LineItems []struct {
				SKU string `json:"sku"`
			} `json:"line_items"`
			Consignee struct {
				Address struct{ Country string } `json:"address"`
			} `json:"consignee"`
			Fulfilment string `json:"fulfilment"`
		}
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, l := range o.Lines {
			if o.Fulfilment == "overseas_warehouse" && o.Consignee.Address.Country != "CN" {
				continue
			}
			if _, ok := Default().Lookup(l.SKU); !ok {
				t.Errorf("%s: %s is not registered", filepath.Base(f), l.SKU)
			}
		}
		for _, l := range o.LineItems {
			if _, ok := Default().Lookup(l.SKU); !ok {
				t.Errorf("%s: %s is not registered", filepath.Base(f), l.SKU)
			}
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for name, tc := range map[string]struct{ doc, want string }{
		"no source":     {`{"goods": {"A": {"name": "杯子", "model": "杯子|饮用"}}}`, "source"},
		"english name":  {`{"source": "s", "goods": {"A": {"name": "Mug", "model": "x"}}}`, "A: name must be the Chinese name"},
		"no model":      {`{"source": "s", "goods": {"A": {"name": "杯子"}}}`, "A: model"},
		"unknown field": {`{"source": "s", "goods": {"A": {"name": "杯子", "model": "m", "price": 1}}}`, "unknown field"},
		"long name":     {`{"source": "s", "goods": {"A": {"name": "` + strings.Repeat("杯", 251) + `", "model": "m"}}}`, "over 250"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", name, err, tc.want)
		}
	}
	// Every problem at once.
	_, err := Parse([]byte(`{"source": "s", "goods": {"A": {"name": "Mug", "model": "m"}, "B": {"name": "杯子"}}}`))
	if err == nil || !strings.Contains(err.Error(), "A:") || !strings.Contains(err.Error(), "B:") {
		t.Errorf("err = %v, want both A and B named", err)
	}
}
