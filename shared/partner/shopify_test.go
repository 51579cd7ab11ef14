package partner

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

var shopifyPartner = &Partner{ID: "shop", Format: FormatShopify}

func demoCatalogue(t *testing.T) *Catalogue {
	t.Helper()
	c, err := LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// shopifySample is the sample payload, changed by edit (a decoded JSON
// object; numbers stay json.Number).
func shopifySample(t *testing.T, edit func(o map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(readSample(t, "shopify-orders-create.json")))
	dec.UseNumber()
	var o map[string]any
	if err := dec.Decode(&o); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(o)
	}
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func lineItem(o map[string]any, i int) map[string]any {
	return o["line_items"].([]any)[i].(map[string]any)
}

func object(o map[string]any, path ...string) map[string]any {
	for _, k := range path {
		o = o[k].(map[string]any)
	}
	return o
}

// mapShopify maps a payload with the demo catalogue; a malformed payload
// fails the test.
func mapShopify(t *testing.T, raw []byte) (order.Draft, []order.FieldError) {
	t.Helper()
	d, errs, err := shopifyPartner.Draft(raw, demoCatalogue(t))
	if err != nil {
		t.Fatal(err)
	}
	return d, errs
}

// fieldErrors indexes field errors by field.
func fieldErrors(errs []order.FieldError) map[string]order.FieldError {
	m := map[string]order.FieldError{}
	for _, e := range errs {
		m[e.Field] = e
	}
	return m
}

// wantOnly checks that errs are exactly one error on field with code, its
// message saying each of says.
func wantOnly(t *testing.T, errs []order.FieldError, field, code string, says ...string) {
	t.Helper()
	if len(errs) != 1 || errs[0].Field != field || errs[0].Code != code {
		t.Fatalf("want one %s error on %s, got %+v", code, field, errs)
	}
	for _, s := range says {
		if !strings.Contains(errs[0].Message, s) {
			t.Fatalf("the message %q does not say %q", errs[0].Message, s)
		}
	}
}

func TestShopifySample(t *testing.T) {
	d, errs := mapShopify(t, readSample(t, "shopify-orders-create.json"))
	if errs != nil {
		t.Fatalf("field errors: %+v", errs)
	}
	eur := func(n int64) money.Money { return money.New(n, "EUR") }
	shipping := eur(490)
	want := order.Draft{
		Channel:    order.ChannelPartner,
		TradeMode:  order.TradeB2C,
		Fulfilment: order.FulfilDirectMail,
		Incoterm:   order.IncotermDDP,
		Currency:   "EUR",
		Buyer: order.Party{Name: "Jonas Becker", Email: "jonas.becker@example.com", Phone: "+4917612345678",
			Address: order.Address{Line1: "Torstraße 101", City: "Berlin", Region: "BE", PostalCode: "10119", Country: "DE"}},
		Consignee: order.Party{Name: "Jonas Becker", Email: "jonas.becker@example.com", Phone: "+4917612345678",
			Address: order.Address{Line1: "Schönhauser Allee 45", Line2: "3. OG", City: "Berlin", Region: "BE", PostalCode: "10435", Country: "DE"}},
		Lines: []order.Line{
			// HS code ("HS code": "6912.00") and origin from line properties.
			{SKU: "DRIPPER-CER-WHT", Title: "Ceramic pour-over coffee dripper", HSCode: "691200", Quantity: 1,
				UnitPrice: eur(2490), LineTotal: eur(2490), WeightGrams: 450, OriginCountry: "CN"},
			// HS code, origin and weight (grams 0) from the catalogue.
			{SKU: "INFUSER-STEEL", Title: "Stainless steel tea infuser", HSCode: "732393", Quantity: 2,
				UnitPrice: eur(795), LineTotal: eur(1590), WeightGrams: 60, OriginCountry: "CN"},
		},
		Shipping:        &shipping,
		Total:           eur(4570),
		Payment:         order.Payment{Method: order.PaymentPartnerAccount},
		PartnerOrderRef: "#1001",
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("the mapped sample does not validate: %+v", errs)
	}
}

func TestShopifyMissingHSCode(t *testing.T) {
	t.Run("not in the catalogue, no property", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["sku"], lineItem(o, 1)["grams"] = "NOT-IN-CATALOGUE", 60
			lineItem(o, 1)["properties"] = []any{map[string]any{"name": "origin_country", "value": "CN"}}
		}))
		wantOnly(t, errs, "/line_items/1/hs_code", order.CodeRequired, "catalogue", "line property hs_code")
	})
	t.Run("nothing known of the line", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["sku"], lineItem(o, 1)["properties"] = "NOT-IN-CATALOGUE", []any{}
		}))
		got := fieldErrors(errs)
		for _, f := range []string{"/line_items/1/hs_code", "/line_items/1/origin_country", "/line_items/1/grams"} {
			if got[f].Code != order.CodeRequired {
				t.Fatalf("no error on %s: %+v", f, errs)
			}
		}
		if len(errs) != 3 {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("the first line's property removed", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 0)["properties"] = []any{map[string]any{"name": "origin_country", "value": "CN"}}
		}))
		wantOnly(t, errs, "/line_items/0/hs_code", order.CodeRequired)
	})
	t.Run("no SKU", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["sku"] = nil }))
		got := fieldErrors(errs)
		if got["/line_items/1/sku"].Code != order.CodeRequired || got["/line_items/1/hs_code"].Code != order.CodeRequired {
			t.Fatalf("%+v", errs)
		}
	})
}

func TestShopifyLineProperties(t *testing.T) {
	for _, name := range []string{"hs_code", "HS code", "hs-code", "HS-Code", "_hs_code", "Hs Code"} {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["properties"] = []any{
				map[string]any{"name": "Engraving", "value": "none"},
				map[string]any{"name": name, "value": " 7323.93.00 "},
				map[string]any{"name": "Origin Country", "value": "vn"},
			}
		}))
		if errs != nil || d.Lines[1].HSCode != "73239300" || d.Lines[1].OriginCountry != "VN" {
			t.Fatalf("%q: %+v %+v", name, errs, d.Lines[1])
		}
	}
	for _, tc := range []struct {
		name, value string
		number      bool
	}{{"hs_code", "6912", false}, {"hs_code", "69120000001", false}, {"hs_code", "ceramic", false}, {"origin_country", "China", false},
		{"origin_country", "XX", false}, {"hs_code", "691200", true}} {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			var v any = tc.value
			if tc.number {
				v = json.Number(tc.value) // a number is read as its digits
			}
			props := lineItem(o, 0)["properties"].([]any)
			props[map[string]int{"hs_code": 0, "origin_country": 1}[tc.name]] = map[string]any{"name": tc.name, "value": v}
		}))
		if tc.number {
			if errs != nil {
				t.Fatalf("%s %s as a number: %+v", tc.name, tc.value, errs)
			}
			continue
		}
		field := map[string]string{"hs_code": "/line_items/0/properties/0/value", "origin_country": "/line_items/0/properties/1/value"}[tc.name]
		wantOnly(t, errs, field, order.CodeInvalid)
	}
}

func TestShopifyPrices(t *testing.T) {
	t.Run("more decimals than EUR has", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["price"] = "7.955" }))
		wantOnly(t, errs, "/line_items/1/price", order.CodeInvalid, "more decimals than EUR has (2)", "never rounded")
	})
	t.Run("trailing zeros are exact", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["price"] = "7.9500" }))
		if errs != nil || d.Lines[1].UnitPrice.Amount != 795 {
			t.Fatalf("%+v %+v", errs, d.Lines[1])
		}
	})
	t.Run("a price as a JSON number", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["price"] = json.Number("7.95") }))
		if errs != nil || d.Lines[1].UnitPrice.Amount != 795 {
			t.Fatalf("%+v %+v", errs, d.Lines[1])
		}
	})
	for _, tc := range []struct {
		price any
		code  string
	}{{"", order.CodeRequired}, {nil, order.CodeRequired}, {"7,95", order.CodeInvalid}, {"€7.95", order.CodeInvalid},
		{"-7.95", order.CodeOutOfRange}, {"99999999999999999999", order.CodeOutOfRange}, {"10000000000.01", order.CodeOutOfRange},
		{map[string]any{"amount": "7.95"}, order.CodeInvalid}} {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["price"] = tc.price }))
		wantOnly(t, errs, "/line_items/1/price", tc.code)
	}
	t.Run("quantity", func(t *testing.T) {
		for _, q := range []int64{0, -1, order.MaxQuantity + 1} {
			_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { lineItem(o, 1)["quantity"] = q }))
			wantOnly(t, errs, "/line_items/1/quantity", order.CodeOutOfRange)
		}
	})
}

// jpySample is the sample in yen: no minor unit.
func jpySample(t *testing.T, edit func(o map[string]any)) []byte {
	return shopifySample(t, func(o map[string]any) {
		o["currency"] = "JPY"
		object(o, "total_shipping_price_set", "shop_money")["amount"] = "490"
		object(o, "total_shipping_price_set", "shop_money")["currency_code"] = "JPY"
		lineItem(o, 0)["price"], lineItem(o, 1)["price"] = "2490", "795"
		o["subtotal_price"], o["total_price"], o["total_tax"] = "4080", "4570", "730"
		if edit != nil {
			edit(o)
		}
	})
}

func TestShopifyJPY(t *testing.T) {
	d, errs := mapShopify(t, jpySample(t, nil))
	if errs != nil {
		t.Fatalf("%+v", errs)
	}
	if d.Currency != "JPY" || d.Lines[0].UnitPrice != money.New(2490, "JPY") || d.Lines[1].LineTotal != money.New(1590, "JPY") ||
		*d.Shipping != money.New(490, "JPY") || d.Total != money.New(4570, "JPY") {
		t.Fatalf("%+v", d)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("%+v", errs)
	}
	t.Run("1999 is 1999 yen", func(t *testing.T) {
		d, errs := mapShopify(t, jpySample(t, func(o map[string]any) {
			lineItem(o, 0)["price"], o["subtotal_price"], o["total_price"] = "1999", "3589", "4079"
		}))
		if errs != nil || d.Lines[0].UnitPrice.Amount != 1999 {
			t.Fatalf("%+v %+v", errs, d.Lines[0])
		}
	})
	t.Run("1999.00 is 1999 yen", func(t *testing.T) {
		d, errs := mapShopify(t, jpySample(t, func(o map[string]any) { lineItem(o, 0)["price"] = "2490.00" }))
		if errs != nil || d.Lines[0].UnitPrice.Amount != 2490 {
			t.Fatalf("%+v %+v", errs, d.Lines[0])
		}
	})
	t.Run("decimals in yen", func(t *testing.T) {
		_, errs := mapShopify(t, jpySample(t, func(o map[string]any) { lineItem(o, 0)["price"] = "2490.5" }))
		wantOnly(t, errs, "/line_items/0/price", order.CodeInvalid, "JPY has no minor unit")
	})
	t.Run("shop money in another currency", func(t *testing.T) {
		_, errs := mapShopify(t, jpySample(t, func(o map[string]any) {
			object(o, "total_shipping_price_set", "shop_money")["currency_code"] = "EUR"
		}))
		wantOnly(t, errs, "/total_shipping_price_set/shop_money/currency_code", order.CodeMismatch)
	})
}

func TestShopifyTaxes(t *testing.T) {
	t.Run("taxes included: total_price is the total", func(t *testing.T) {
		// The sample: prices include 19% VAT, total_tax 7.30 is inside 45.70.
		d, errs := mapShopify(t, readSample(t, "shopify-orders-create.json"))
		if errs != nil || d.Total.Amount != 4570 {
			t.Fatalf("%+v %v", errs, d.Total)
		}
	})
	t.Run("taxes not included: total_price less total_tax", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			o["taxes_included"], o["total_price"], o["total_tax"] = false, "53.00", "7.30"
		}))
		if errs != nil || d.Total.Amount != 4570 {
			t.Fatalf("%+v %v", errs, d.Total)
		}
		if errs := d.Validate(); errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("taxes not included, total_tax missing: no tax", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			o["taxes_included"] = false
			delete(o, "total_tax")
		}))
		if errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("taxes not included, but total_price as if they were", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["taxes_included"] = false }))
		wantOnly(t, errs, "/total_price", order.CodeMismatch, "45.70 EUR less total_tax 7.30 EUR is 38.40 EUR", "add up to 45.70 EUR")
	})
	t.Run("taxes included, but total_price as if they were not", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["total_price"] = "53.00" }))
		wantOnly(t, errs, "/total_price", order.CodeMismatch, "53.00 EUR", "taxes included", "add up to 45.70 EUR")
	})
	t.Run("a malformed total_tax", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["taxes_included"], o["total_tax"] = false, "7.3.0" }))
		wantOnly(t, errs, "/total_tax", order.CodeInvalid)
	})
}

func TestShopifyTotals(t *testing.T) {
	t.Run("total mismatch (a tip)", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			o["total_price"], o["total_tip_received"] = "47.70", "2.00"
		}))
		wantOnly(t, errs, "/total_price", order.CodeMismatch, "total_price is 47.70 EUR", "add up to 45.70 EUR")
	})
	t.Run("subtotal mismatch", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["subtotal_price"] = "41.80" }))
		wantOnly(t, errs, "/subtotal_price", order.CodeMismatch, "41.80 EUR", "40.80 EUR")
	})
	t.Run("no subtotal: not checked", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { delete(o, "subtotal_price") }))
		if errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("no total_price", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { delete(o, "total_price") }))
		wantOnly(t, errs, "/total_price", order.CodeRequired)
	})
	t.Run("shipping from shipping_lines", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			delete(o, "total_shipping_price_set")
			lines := o["shipping_lines"].([]any)
			o["shipping_lines"] = append(lines, map[string]any{"title": "Insurance", "price": "1.00"})
			o["total_price"] = "46.70"
		}))
		if errs != nil || d.Shipping.Amount != 590 || d.Total.Amount != 5670-1000 {
			t.Fatalf("%+v %+v %v", errs, d.Shipping, d.Total)
		}
	})
	t.Run("no shipping at all", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			delete(o, "total_shipping_price_set")
			delete(o, "shipping_lines")
			o["total_price"] = "40.80"
		}))
		if errs != nil || d.Shipping != nil || d.Total.Amount != 4080 {
			t.Fatalf("%+v %+v %v", errs, d.Shipping, d.Total)
		}
		if errs := d.Validate(); errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("a malformed shipping price", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			object(o, "total_shipping_price_set", "shop_money")["amount"] = "4.9O"
		}))
		wantOnly(t, errs, "/total_shipping_price_set/shop_money/amount", order.CodeInvalid)
	})
}

func TestShopifyDiscounts(t *testing.T) {
	t.Run("a line discount spread evenly", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["discount_allocations"] = []any{map[string]any{"amount": "1.00", "discount_application_index": 0}}
			o["subtotal_price"], o["total_price"], o["total_discounts"] = "39.80", "44.70", "1.00"
		}))
		if errs != nil || d.Lines[1].UnitPrice.Amount != 745 || d.Lines[1].LineTotal.Amount != 1490 || d.Total.Amount != 4470 {
			t.Fatalf("%+v %+v", errs, d.Lines[1])
		}
		if errs := d.Validate(); errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("total_discount without allocations", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			delete(lineItem(o, 1), "discount_allocations")
			lineItem(o, 1)["total_discount"] = "1.00"
			o["subtotal_price"], o["total_price"] = "39.80", "44.70"
		}))
		if errs != nil || d.Lines[1].UnitPrice.Amount != 745 {
			t.Fatalf("%+v %+v", errs, d.Lines[1])
		}
	})
	t.Run("a discount that does not spread evenly", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["discount_allocations"] = []any{map[string]any{"amount": "0.99"}}
			o["subtotal_price"], o["total_price"] = "39.81", "44.71"
		}))
		wantOnly(t, errs, "/line_items/1/discount_allocations", order.CodeInvalid, "0.99 EUR", "2 units")
	})
	t.Run("a discount above the price", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			lineItem(o, 1)["discount_allocations"] = []any{map[string]any{"amount": "16.00"}}
		}))
		wantOnly(t, errs, "/line_items/1/discount_allocations", order.CodeOutOfRange)
	})
	t.Run("an unallocated discount is a mismatch, not a guess", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			o["total_discounts"], o["subtotal_price"], o["total_price"] = "1.00", "39.80", "44.70"
		}))
		if got := fieldErrors(errs); len(errs) != 2 || got["/total_price"].Code != order.CodeMismatch || got["/subtotal_price"].Code != order.CodeMismatch {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("free shipping by discount", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			object(o["shipping_lines"].([]any)[0].(map[string]any))["discount_allocations"] = []any{map[string]any{"amount": "4.90"}}
			o["total_price"] = "40.80"
		}))
		if errs != nil || d.Shipping.Amount != 0 || d.Total.Amount != 4080 {
			t.Fatalf("%+v %+v", errs, d.Shipping)
		}
	})
}

func TestShopifyNoteAttributes(t *testing.T) {
	d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
		o["note_attributes"] = []any{
			map[string]any{"name": "Trade Mode", "value": "b2b"},
			map[string]any{"name": "fulfillment", "value": "overseas-warehouse"},
			map[string]any{"name": "incoterm", "value": "dap"},
			map[string]any{"name": "business_registration", "value": "HRB 123456 B"},
			map[string]any{"name": "VAT number", "value": "de 123456789"},
		}
	}))
	if errs != nil || d.TradeMode != order.TradeB2B || d.Fulfilment != order.FulfilOverseasWarehouse || d.Incoterm != order.IncotermDAP ||
		d.Buyer.BusinessRegistration != "HRB 123456 B" || d.Buyer.VATNumber != "DE123456789" {
		t.Fatalf("%+v %+v", errs, d)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("%+v", errs)
	}
	for _, attr := range []string{"trade_mode", "fulfilment", "incoterm"} {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			o["note_attributes"] = []any{map[string]any{"name": "gift", "value": "no"}, map[string]any{"name": attr, "value": "by sea"}}
		}))
		wantOnly(t, errs, "/note_attributes/1/value", order.CodeInvalid, attr)
	}
}

func TestShopifyParties(t *testing.T) {
	t.Run("no billing address: the buyer is at the shipping address", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["billing_address"] = nil }))
		if errs != nil || d.Buyer.Address != d.Consignee.Address || d.Buyer.Name != "Jonas Becker" {
			t.Fatalf("%+v %+v", errs, d.Buyer)
		}
	})
	t.Run("no customer: names from the addresses", func(t *testing.T) {
		d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
			delete(o, "customer")
			object(o, "billing_address")["name"] = nil
			object(o, "shipping_address")["name"] = ""
		}))
		if errs != nil || d.Buyer.Name != "Jonas Becker" || d.Consignee.Name != "Jonas Becker" || d.Buyer.Email != "jonas.becker@example.com" {
			t.Fatalf("%+v %+v", errs, d)
		}
		if errs := d.Validate(); errs != nil {
			t.Fatalf("%+v", errs)
		}
	})
	t.Run("no shipping address", func(t *testing.T) {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { delete(o, "shipping_address") }))
		wantOnly(t, errs, "/shipping_address", order.CodeRequired)
	})
	t.Run("phones", func(t *testing.T) {
		for _, tc := range []struct {
			ship, email, want string
		}{
			{"+49 (176) 123-456.78", "jonas.becker@example.com", "+4917612345678"},
			{"0176 12345678", "jonas.becker@example.com", "+4917612345678"}, // not E.164: the customer's phone
		} {
			d, errs := mapShopify(t, shopifySample(t, func(o map[string]any) {
				object(o, "shipping_address")["phone"], o["email"] = tc.ship, tc.email
			}))
			if errs != nil || d.Consignee.Phone != tc.want {
				t.Fatalf("%q: %+v %q", tc.ship, errs, d.Consignee.Phone)
			}
		}
		// No usable phone but an email: the phone is left out.
		d, _ := mapShopify(t, shopifySample(t, func(o map[string]any) {
			object(o, "shipping_address")["phone"], object(o, "customer")["phone"] = "0176 12345678", nil
		}))
		if d.Consignee.Phone != "" || d.Consignee.Email == "" || d.Validate() != nil {
			t.Fatalf("%+v", d.Consignee)
		}
		// No email at all: the phone stays as sent, for validation to name it.
		d, _ = mapShopify(t, shopifySample(t, func(o map[string]any) {
			object(o, "shipping_address")["phone"], object(o, "customer")["phone"] = "0176 12345678", nil
			o["email"], o["contact_email"], object(o, "customer")["email"] = "", nil, ""
		}))
		if v := fieldErrors(d.Validate()); d.Consignee.Phone != "0176 12345678" || v["/consignee/phone"].Code != order.CodeInvalid {
			t.Fatalf("%+v %+v", d.Consignee, v)
		}
	})
}

func TestShopifyReference(t *testing.T) {
	d, _ := mapShopify(t, shopifySample(t, func(o map[string]any) { delete(o, "name") }))
	if d.PartnerOrderRef != "5821947092185" {
		t.Fatalf("%q", d.PartnerOrderRef)
	}
}

func TestShopifyLines(t *testing.T) {
	_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["line_items"] = []any{} }))
	wantOnly(t, errs, "/line_items", order.CodeRequired)
	_, errs = mapShopify(t, shopifySample(t, func(o map[string]any) {
		var items []any
		for range order.MaxLines + 1 {
			items = append(items, lineItem(o, 1))
		}
		o["line_items"] = items
	}))
	if len(errs) == 0 || errs[0].Field != "/line_items" || errs[0].Code != order.CodeTooMany {
		t.Fatalf("%+v", errs)
	}
	t.Run("no catalogue", func(t *testing.T) {
		_, errs, err := shopifyPartner.Draft(readSample(t, "shopify-orders-create.json"), nil)
		if err != nil {
			t.Fatal(err)
		}
		got := fieldErrors(errs)
		if len(errs) != 3 || got["/line_items/1/hs_code"].Code == "" || got["/line_items/1/grams"].Code == "" {
			t.Fatalf("%+v", errs)
		}
	})
}

func TestShopifyCurrency(t *testing.T) {
	for _, c := range []any{"", nil, "EURO", "eur", "XAU"} {
		_, errs := mapShopify(t, shopifySample(t, func(o map[string]any) { o["currency"] = c }))
		wantOnly(t, errs, "/currency", map[bool]string{true: order.CodeRequired, false: order.CodeInvalid}[c == "" || c == nil])
	}
}

func TestShopifyMalformed(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(o map[string]any)
		want string
	}{
		{"quantity as a string", func(o map[string]any) { lineItem(o, 0)["quantity"] = "1" }, `field "line_items.quantity" must be a JSON number, not a string`},
		{"line_items an object", func(o map[string]any) { o["line_items"] = map[string]any{} }, `field "line_items" must be a JSON array`},
		{"a name as a number", func(o map[string]any) { object(o, "shipping_address")["name"] = json.Number("4917612345678") }, `field "shipping_address.name" must be a JSON string, not a number`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, err := shopifyPartner.Draft(shopifySample(t, tc.edit), nil)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) || errs != nil {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "4917612345678") {
				t.Fatalf("the error holds a value: %v", err)
			}
		})
	}
}

// TestShopifyErrorsHoldNoPersonalData: a payload broken everywhere is
// reported by paths, codes and amounts, never its names, addresses,
// emails or phones.
func TestShopifyErrorsHoldNoPersonalData(t *testing.T) {
	raw := shopifySample(t, func(o map[string]any) {
		o["total_price"] = "1.00"
		lineItem(o, 0)["price"], lineItem(o, 1)["sku"] = "24.901", "Jonas-Becker"
		lineItem(o, 0)["properties"] = []any{map[string]any{"name": "hs_code", "value": "Schönhauser Allee 45"}}
		o["note_attributes"] = []any{map[string]any{"name": "trade_mode", "value": "jonas.becker@example.com"}}
	})
	_, errs := mapShopify(t, raw)
	if len(errs) < 3 {
		t.Fatalf("%+v", errs)
	}
	for _, e := range errs {
		for _, pii := range []string{"Jonas", "Becker", "Schönhauser", "Berlin", "10435", "example.com", "17612345678"} {
			if strings.Contains(e.Field+e.Message, pii) {
				t.Fatalf("%+v holds %q", e, pii)
			}
		}
	}
}
