package order

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
)

// valid returns a valid B2C order from CN to DE.
func valid() Draft {
	ship := money.New(499, "EUR")
	party := Party{Name: "Lena Fischer", Email: "lena@example.de", Phone: "+4915112345678",
		Address: Address{Line1: "Bergmannstraße 12", City: "Berlin", PostalCode: "10961", Country: "DE"}}
	return Draft{
		Channel: ChannelMobile, TradeMode: TradeB2C, Fulfilment: FulfilDirectMail, Currency: "EUR",
		Buyer: party, Consignee: party,
		Lines: []Line{
			{SKU: "TSHIRT-M", Title: "T-shirt", HSCode: "610910", Quantity: 2, UnitPrice: money.New(1999, "EUR"),
				LineTotal: money.New(3998, "EUR"), WeightGrams: 200, OriginCountry: "CN"},
			{SKU: "EARBUDS", Title: "Earbuds", HSCode: "8518300000", Quantity: 1, UnitPrice: money.New(2499, "EUR"),
				LineTotal: money.New(2499, "EUR"), WeightGrams: 120, OriginCountry: "CN"},
		},
		Shipping: &ship, Total: money.New(6996, "EUR"), Payment: Payment{Method: "card", Token: "tok_visa"},
	}
}

func TestValidOrdersOfEveryTradeMode(t *testing.T) {
	for _, name := range []string{"mobile-b2c-de", "b2b-us", "c2c-gb", "m2b2c-au-overseas-warehouse"} {
		b, err := os.ReadFile("../../events/orders/" + name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var d Draft
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		if errs := d.Validate(); errs != nil {
			t.Errorf("%s: %v", name, errs)
		}
	}
	d := valid()
	if errs := d.Validate(); errs != nil {
		t.Fatalf("valid(): %v", errs)
	}
}

func TestValidateRules(t *testing.T) {
	for _, tc := range []struct {
		name        string
		change      func(d *Draft)
		field, code string
	}{
		{"channel missing", func(d *Draft) { d.Channel = "" }, "/channel", CodeRequired},
		{"channel unknown", func(d *Draft) { d.Channel = "fax" }, "/channel", CodeInvalid},
		{"trade mode unknown", func(d *Draft) { d.TradeMode = "D2C" }, "/tradeMode", CodeInvalid},
		{"fulfilment missing", func(d *Draft) { d.Fulfilment = "" }, "/fulfilment", CodeRequired},
		{"incoterm unknown", func(d *Draft) { d.Incoterm = "EXW" }, "/incoterm", CodeInvalid},
		{"currency missing", func(d *Draft) { d.Currency = "" }, "/currency", CodeRequired},
		{"currency unknown", func(d *Draft) { d.Currency = "EUX" }, "/currency", CodeInvalid},
		{"currency withdrawn", func(d *Draft) { d.Currency = "HRK" }, "/currency", CodeInvalid},
		{"no lines", func(d *Draft) { d.Lines = nil }, "/lines", CodeRequired},
		{"too many lines", func(d *Draft) {
			for len(d.Lines) <= MaxLines {
				d.Lines = append(d.Lines, d.Lines[0])
			}
		}, "/lines", CodeTooMany},
		{"sku missing", func(d *Draft) { d.Lines[1].SKU = "" }, "/lines/1/sku", CodeRequired},
		{"sku characters", func(d *Draft) { d.Lines[0].SKU = "a b" }, "/lines/0/sku", CodeInvalid},
		{"sku too long", func(d *Draft) { d.Lines[0].SKU = strings.Repeat("A", 65) }, "/lines/0/sku", CodeTooLong},
		{"title missing", func(d *Draft) { d.Lines[0].Title = "" }, "/lines/0/title", CodeRequired},
		{"title too long", func(d *Draft) { d.Lines[0].Title = strings.Repeat("é", 201) }, "/lines/0/title", CodeTooLong},
		{"title control char", func(d *Draft) { d.Lines[0].Title = "a\x00b" }, "/lines/0/title", CodeInvalid},
		{"hs code missing", func(d *Draft) { d.Lines[0].HSCode = "" }, "/lines/0/hsCode", CodeRequired},
		{"hs code short", func(d *Draft) { d.Lines[0].HSCode = "61091" }, "/lines/0/hsCode", CodeInvalid},
		{"hs code long", func(d *Draft) { d.Lines[0].HSCode = "61091000001" }, "/lines/0/hsCode", CodeInvalid},
		{"hs code dotted", func(d *Draft) { d.Lines[0].HSCode = "6109.10" }, "/lines/0/hsCode", CodeInvalid},
		{"quantity zero", func(d *Draft) { d.Lines[0].Quantity = 0 }, "/lines/0/quantity", CodeOutOfRange},
		{"quantity negative", func(d *Draft) { d.Lines[0].Quantity = -1 }, "/lines/0/quantity", CodeOutOfRange},
		{"quantity huge", func(d *Draft) { d.Lines[0].Quantity = MaxQuantity + 1 }, "/lines/0/quantity", CodeOutOfRange},
		{"unit price negative", func(d *Draft) { d.Lines[0].UnitPrice.Amount = -1 }, "/lines/0/unitPrice/amount", CodeOutOfRange},
		{"unit price huge", func(d *Draft) { d.Lines[0].UnitPrice.Amount = MaxUnitAmount + 1 }, "/lines/0/unitPrice/amount", CodeOutOfRange},
		{"unit price currency", func(d *Draft) { d.Lines[0].UnitPrice.Currency = "USD" }, "/lines/0/unitPrice/currency", CodeMismatch},
		{"unit price no currency", func(d *Draft) { d.Lines[0].UnitPrice.Currency = "" }, "/lines/0/unitPrice/currency", CodeRequired},
		{"line total wrong", func(d *Draft) { d.Lines[0].LineTotal.Amount = 3999 }, "/lines/0/lineTotal", CodeMismatch},
		{"line total currency", func(d *Draft) { d.Lines[1].LineTotal.Currency = "GBP" }, "/lines/1/lineTotal/currency", CodeMismatch},
		{"weight zero", func(d *Draft) { d.Lines[0].WeightGrams = 0 }, "/lines/0/weightGrams", CodeOutOfRange},
		{"weight huge", func(d *Draft) { d.Lines[0].WeightGrams = MaxWeightGrams + 1 }, "/lines/0/weightGrams", CodeOutOfRange},
		{"origin missing", func(d *Draft) { d.Lines[0].OriginCountry = "" }, "/lines/0/originCountry", CodeRequired},
		{"origin unknown", func(d *Draft) { d.Lines[0].OriginCountry = "XX" }, "/lines/0/originCountry", CodeInvalid},
		{"origin lower case", func(d *Draft) { d.Lines[0].OriginCountry = "cn" }, "/lines/0/originCountry", CodeInvalid},
		{"origin is destination", func(d *Draft) { d.Lines[1].OriginCountry = "DE" }, "/lines/1/originCountry", CodeNotAllowed},
		{"total wrong", func(d *Draft) { d.Total.Amount = 6995 }, "/total", CodeMismatch},
		{"total without shipping", func(d *Draft) { d.Shipping = nil }, "/total", CodeMismatch},
		{"total zero", func(d *Draft) { d.Total.Amount = 0 }, "/total/amount", CodeOutOfRange},
		{"total currency", func(d *Draft) { d.Total.Currency = "USD" }, "/total/currency", CodeMismatch},
		{"shipping negative", func(d *Draft) { d.Shipping.Amount = -5 }, "/shipping/amount", CodeOutOfRange},
		{"buyer name missing", func(d *Draft) { d.Buyer.Name = "" }, "/buyer/name", CodeRequired},
		{"buyer name too long", func(d *Draft) { d.Buyer.Name = strings.Repeat("x", 101) }, "/buyer/name", CodeTooLong},
		{"buyer email", func(d *Draft) { d.Buyer.Email = "lena@" }, "/buyer/email", CodeInvalid},
		{"buyer email two ats", func(d *Draft) { d.Buyer.Email = "a@b@c.de" }, "/buyer/email", CodeInvalid},
		{"buyer phone", func(d *Draft) { d.Buyer.Phone = "015112345678" }, "/buyer/phone", CodeInvalid},
		{"consignee line1", func(d *Draft) { d.Consignee.Address.Line1 = "" }, "/consignee/address/line1", CodeRequired},
		{"consignee city", func(d *Draft) { d.Consignee.Address.City = "" }, "/consignee/address/city", CodeRequired},
		{"consignee postal code", func(d *Draft) { d.Consignee.Address.PostalCode = "10961!" }, "/consignee/address/postalCode", CodeInvalid},
		{"consignee country missing", func(d *Draft) { d.Consignee.Address.Country = "" }, "/consignee/address/country", CodeRequired},
		{"consignee country unknown", func(d *Draft) { d.Consignee.Address.Country = "UK" }, "/consignee/address/country", CodeInvalid},
		{"consignee unreachable", func(d *Draft) { d.Consignee.Email, d.Consignee.Phone = "", "" }, "/consignee/phone", CodeRequired},
		{"vat number", func(d *Draft) { d.Buyer.VATNumber = "123456789" }, "/buyer/vatNumber", CodeInvalid},
		{"ioss format", func(d *Draft) { d.Buyer.IOSSNumber = "IM12345" }, "/buyer/iossNumber", CodeInvalid},
		{"ioss outside the EU", func(d *Draft) {
			d.Buyer.IOSSNumber = "IM2760000001"
			d.Consignee.Address.Country = "US"
		}, "/buyer/iossNumber", CodeNotAllowed},
		{"b2b without registration", func(d *Draft) { d.TradeMode = TradeB2B }, "/buyer/businessRegistration", CodeRequired},
		{"registration too long", func(d *Draft) { d.Buyer.BusinessRegistration = strings.Repeat("1", 65) }, "/buyer/businessRegistration", CodeTooLong},
		{"payment method", func(d *Draft) { d.Payment.Method = "cash" }, "/payment/method", CodeInvalid},
		{"payment token missing", func(d *Draft) { d.Payment.Token = "" }, "/payment/token", CodeRequired},
		{"payment token spaces", func(d *Draft) { d.Payment.Token = "tok visa" }, "/payment/token", CodeInvalid},
		{"payment token long", func(d *Draft) { d.Payment.Token = strings.Repeat("t", 256) }, "/payment/token", CodeTooLong},
		{"partner ref too long", func(d *Draft) { d.PartnerOrderRef = strings.Repeat("r", 65) }, "/partnerOrderRef", CodeTooLong},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			errs := d.Validate()
			for _, e := range errs {
				if e.Field == tc.field && e.Code == tc.code {
					if e.Message == "" {
						t.Fatal("empty message")
					}
					return
				}
			}
			t.Fatalf("want %s %s, got %+v", tc.field, tc.code, errs)
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	d := valid()
	d.Channel = ""
	d.Lines[0].HSCode = "12"
	d.Lines[1].Quantity = 0
	d.Consignee.Address.Country = "ZZ"
	d.Payment.Token = ""
	d.TradeMode = TradeB2B
	errs := d.Validate()
	want := []string{"/channel", "/consignee/address/country", "/buyer/businessRegistration", "/lines/0/hsCode", "/lines/1/quantity", "/payment/token"}
	got := map[string]bool{}
	for _, e := range errs {
		got[e.Field] = true
	}
	for _, f := range want {
		if !got[f] {
			t.Errorf("missing %s in %+v", f, errs)
		}
	}
	// Deterministic order: the same problems in the same order every time.
	again := d.Validate()
	for i := range errs {
		if errs[i] != again[i] {
			t.Fatal("Validate is not deterministic")
		}
	}
}

func TestValidateMessagesHoldNoPersonalData(t *testing.T) {
	d := valid()
	d.Buyer.Email = "secret.person@@example.de"
	d.Buyer.Name = strings.Repeat("Secret Person ", 10)
	d.Consignee.Phone = "+0123"
	for _, e := range d.Validate() {
		if strings.Contains(e.Message, "secret") || strings.Contains(e.Message, "Secret") || strings.Contains(e.Message, "+0123") {
			t.Fatalf("message repeats personal data: %+v", e)
		}
	}
}

func TestCurrencyExponentsInTotals(t *testing.T) {
	// JPY has no minor unit and KWD three: amounts are still integers and sum exactly.
	for _, cur := range []string{"JPY", "KWD"} {
		d := valid()
		d.Currency = cur
		for i := range d.Lines {
			d.Lines[i].UnitPrice.Currency, d.Lines[i].LineTotal.Currency = cur, cur
		}
		d.Shipping.Currency, d.Total.Currency = cur, cur
		if errs := d.Validate(); errs != nil {
			t.Errorf("%s: %v", cur, errs)
		}
	}
}

func TestLineTotalOverflowIsAMismatchNotAPanic(t *testing.T) {
	d := valid()
	d.Lines[0].UnitPrice.Amount = MaxUnitAmount
	d.Lines[0].Quantity = MaxQuantity
	d.Lines[0].LineTotal.Amount = MaxUnitAmount * MaxQuantity
	errs := d.Validate()
	if len(errs) != 1 || errs[0].Field != "/total" {
		t.Fatalf("the largest line is allowed and only the total disagrees: %+v", errs)
	}
}

func FuzzValidate(f *testing.F) {
	for _, name := range []string{"mobile-b2c-de", "b2b-us", "c2c-gb", "m2b2c-au-overseas-warehouse"} {
		b, err := os.ReadFile("../../events/orders/" + name + ".json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"lines":[{"quantity":9223372036854775807,"unitPrice":{"amount":9223372036854775807}}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Draft
		if json.Unmarshal(b, &d) != nil {
			return
		}
		if d.Validate() != nil {
			return
		}
		// Whatever Validate accepts is internally consistent.
		var sum int64
		for _, l := range d.Lines {
			if l.Quantity < 1 || l.LineTotal.Amount != l.UnitPrice.Amount*l.Quantity || l.LineTotal.Currency != d.Currency {
				t.Fatalf("accepted an inconsistent line: %+v", l)
			}
			if l.OriginCountry == d.Destination() {
				t.Fatal("accepted a domestic line")
			}
			sum += l.LineTotal.Amount
		}
		if d.Shipping != nil {
			sum += d.Shipping.Amount
		}
		if sum != d.Total.Amount || d.Total.Amount <= 0 || len(d.Lines) == 0 || len(d.Lines) > MaxLines {
			t.Fatalf("accepted inconsistent totals: lines+shipping %d, total %d", sum, d.Total.Amount)
		}
	})
}
