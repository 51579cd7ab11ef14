package order

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
)

// valid returns a valid B2C order of two lines from China to Germany.
func valid() Draft {
	ship := money.New(499, "EUR")
	party := Party{Name: "Lena Fischer", Email: "lena.fischer@example.de", Phone: "+4915112345678",
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

func decodeFile(t testing.TB, path string) Draft {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d Draft
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

func TestValidOrderOfEveryTradeMode(t *testing.T) {
	for _, tc := range []struct {
		file       string
		mode       TradeMode
		dest       string
		fulfilment Fulfilment
	}{
		{"b2c-de.json", TradeB2C, "DE", FulfilDirectMail},
		{"b2b-us.json", TradeB2B, "US", FulfilSupplierDirect},
		{"c2c-gb.json", TradeC2C, "GB", FulfilDirectMail},
		{"m2b2c-au.json", TradeM2B2C, "AU", FulfilOverseasWarehouse},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d := decodeFile(t, filepath.Join("testdata", "valid", tc.file))
			if d.TradeMode != tc.mode || d.Destination() != tc.dest || d.Fulfilment != tc.fulfilment {
				t.Fatalf("fixture is %s to %s via %s, want %s to %s via %s",
					d.TradeMode, d.Destination(), d.Fulfilment, tc.mode, tc.dest, tc.fulfilment)
			}
			if errs := d.Validate(); errs != nil {
				t.Fatalf("valid order refused: %+v", errs)
			}
		})
	}
	d := valid()
	if errs := d.Validate(); errs != nil {
		t.Fatalf("valid(): %+v", errs)
	}
}

// The sample requests shipped for the API (events/orders) must stay valid.
func TestSampleRequestsAreValid(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "orders", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		d := decodeFile(t, f)
		if errs := d.Validate(); errs != nil {
			t.Errorf("%s: %+v", f, errs)
		}
	}
}

// problem is a FieldError without its message, for comparisons.
func problem(field, code string) string { return field + " " + code }

func problemsOf(errs []FieldError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, problem(e.Field, e.Code))
	}
	return out
}

// personalData lists the values in d that messages must never repeat.
func personalData(d *Draft) []string {
	var out []string
	for _, p := range []*Party{&d.Buyer, &d.Consignee} {
		a := p.Address
		out = append(out, p.Name, p.Email, p.Phone, a.Line1, a.Line2, a.City, a.Region, a.PostalCode,
			p.VATNumber, p.IOSSNumber, p.BusinessRegistration)
		if p.Identity != nil {
			out = append(out, p.Identity.Number)
		}
	}
	out = append(out, d.Payment.Token, d.PartnerOrderRef)
	return slices.DeleteFunc(out, func(s string) bool { return len(strings.TrimSpace(s)) < 5 })
}

func TestValidateRules(t *testing.T) {
	long := func(s string, n int) string { return strings.Repeat(s, n) }
	for _, tc := range []struct {
		name   string
		change func(d *Draft)
		want   []string // every problem expected, in order; none for a valid variant
	}{
		// Enumerations.
		{"channel missing", func(d *Draft) { d.Channel = "" }, []string{problem("/channel", CodeRequired)}},
		{"channel unknown", func(d *Draft) { d.Channel = "fax" }, []string{problem("/channel", CodeInvalid)}},
		{"channel upper case", func(d *Draft) { d.Channel = "WEB" }, []string{problem("/channel", CodeInvalid)}},
		{"channel partner", func(d *Draft) { d.Channel = ChannelPartner }, nil},
		{"channel web", func(d *Draft) { d.Channel = ChannelWeb }, nil},
		{"trade mode missing", func(d *Draft) { d.TradeMode = "" }, []string{problem("/tradeMode", CodeRequired)}},
		{"trade mode unknown", func(d *Draft) { d.TradeMode = "D2C" }, []string{problem("/tradeMode", CodeInvalid)}},
		{"trade mode C2C", func(d *Draft) { d.TradeMode = TradeC2C }, nil},
		{"trade mode M2B2C", func(d *Draft) { d.TradeMode, d.Fulfilment = TradeM2B2C, FulfilOverseasWarehouse }, nil},
		{"fulfilment missing", func(d *Draft) { d.Fulfilment = "" }, []string{problem("/fulfilment", CodeRequired)}},
		{"fulfilment unknown", func(d *Draft) { d.Fulfilment = "air" }, []string{problem("/fulfilment", CodeInvalid)}},
		{"fulfilment bonded", func(d *Draft) { d.Fulfilment = FulfilBondedWarehouse }, nil},
		{"fulfilment supplier", func(d *Draft) { d.Fulfilment = FulfilSupplierDirect }, nil},
		{"incoterm unknown", func(d *Draft) { d.Incoterm = "EXW" }, []string{problem("/incoterm", CodeInvalid)}},
		{"incoterm lower case", func(d *Draft) { d.Incoterm = "ddp" }, []string{problem("/incoterm", CodeInvalid)}},
		{"incoterm DAP", func(d *Draft) { d.Incoterm = IncotermDAP }, nil},
		{"incoterm DDP", func(d *Draft) { d.Incoterm = IncotermDDP }, nil},

		// Currency: one code, every amount in it.
		{"currency missing", func(d *Draft) { d.Currency = "" }, []string{problem("/currency", CodeRequired)}},
		{"currency unknown", func(d *Draft) { d.Currency = "EUX" }, []string{problem("/currency", CodeInvalid)}},
		{"currency lower case", func(d *Draft) { d.Currency = "eur" }, []string{problem("/currency", CodeInvalid)}},
		{"currency withdrawn", func(d *Draft) { d.Currency = "HRK" }, []string{problem("/currency", CodeInvalid)}},
		{"currency without minor unit", func(d *Draft) { d.Currency = "XAU" }, []string{problem("/currency", CodeInvalid)}},
		{"unit price in another currency", func(d *Draft) { d.Lines[0].UnitPrice.Currency = "USD" },
			[]string{problem("/lines/0/unitPrice/currency", CodeMismatch)}},
		{"unit price without currency", func(d *Draft) { d.Lines[0].UnitPrice.Currency = "" },
			[]string{problem("/lines/0/unitPrice/currency", CodeRequired)}},
		{"line total in another currency", func(d *Draft) { d.Lines[1].LineTotal.Currency = "GBP" },
			[]string{problem("/lines/1/lineTotal/currency", CodeMismatch)}},
		{"line total in no currency at all", func(d *Draft) { d.Lines[1].LineTotal.Currency = "euros" },
			[]string{problem("/lines/1/lineTotal/currency", CodeMismatch)}},
		{"shipping in another currency", func(d *Draft) { d.Shipping.Currency = "USD" },
			[]string{problem("/shipping/currency", CodeMismatch)}},
		{"total in another currency", func(d *Draft) { d.Total.Currency = "USD" },
			[]string{problem("/total/currency", CodeMismatch)}},

		// Lines.
		{"no lines", func(d *Draft) { d.Lines = nil }, []string{problem("/lines", CodeRequired)}},
		{"empty lines", func(d *Draft) { d.Lines = []Line{} }, []string{problem("/lines", CodeRequired)}},
		{"too many lines", func(d *Draft) {
			for len(d.Lines) <= MaxLines {
				d.Lines = append(d.Lines, d.Lines[1])
			}
			d.Total.Amount = 3998 + MaxLines*2499 + 499
		}, []string{problem("/lines", CodeTooMany)}},
		{"lines beyond the limit are not examined", func(d *Draft) {
			for len(d.Lines) < 3*MaxLines {
				d.Lines = append(d.Lines, Line{})
			}
		}, func() []string {
			want := []string{problem("/lines", CodeTooMany)}
			for i := 2; i < MaxLines; i++ {
				p := fmt.Sprintf("/lines/%d", i)
				want = append(want, problem(p+"/sku", CodeRequired), problem(p+"/title", CodeRequired),
					problem(p+"/hsCode", CodeRequired), problem(p+"/quantity", CodeOutOfRange),
					problem(p+"/unitPrice/currency", CodeRequired), problem(p+"/lineTotal/currency", CodeRequired),
					problem(p+"/weightGrams", CodeOutOfRange), problem(p+"/originCountry", CodeRequired))
			}
			return want
		}()},
		{"exactly the maximum of lines", func(d *Draft) {
			for len(d.Lines) < MaxLines {
				d.Lines = append(d.Lines, d.Lines[1])
			}
			d.Total.Amount = 3998 + (MaxLines-1)*2499 + 499
		}, nil},
		{"sku missing", func(d *Draft) { d.Lines[1].SKU = "" }, []string{problem("/lines/1/sku", CodeRequired)}},
		{"sku with a space", func(d *Draft) { d.Lines[0].SKU = "a b" }, []string{problem("/lines/0/sku", CodeInvalid)}},
		{"sku with a slash", func(d *Draft) { d.Lines[0].SKU = "a/b" }, []string{problem("/lines/0/sku", CodeInvalid)}},
		{"sku not ASCII", func(d *Draft) { d.Lines[0].SKU = "TÉE" }, []string{problem("/lines/0/sku", CodeInvalid)}},
		{"sku too long", func(d *Draft) { d.Lines[0].SKU = long("A", 65) }, []string{problem("/lines/0/sku", CodeTooLong)}},
		{"sku of 64", func(d *Draft) { d.Lines[0].SKU = long("A", 63) + "_" }, nil},
		{"sku of every allowed kind", func(d *Draft) { d.Lines[0].SKU = "Az09._-" }, nil},
		{"title missing", func(d *Draft) { d.Lines[0].Title = "" }, []string{problem("/lines/0/title", CodeRequired)}},
		{"title blank", func(d *Draft) { d.Lines[0].Title = "   " }, []string{problem("/lines/0/title", CodeRequired)}},
		{"title of no-break spaces", func(d *Draft) { d.Lines[0].Title = "\u00a0\u3000" }, []string{problem("/lines/0/title", CodeRequired)}},
		{"title too long", func(d *Draft) { d.Lines[0].Title = long("é", 201) }, []string{problem("/lines/0/title", CodeTooLong)}},
		{"title of 200 characters in 400 bytes", func(d *Draft) { d.Lines[0].Title = long("é", 200) }, nil},
		{"title in Chinese", func(d *Draft) { d.Lines[0].Title = "纯棉T恤 — 中号" }, nil},
		{"title with NUL", func(d *Draft) { d.Lines[0].Title = "a\x00b" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with a newline", func(d *Draft) { d.Lines[0].Title = "a\nb" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with a tab", func(d *Draft) { d.Lines[0].Title = "a\tb" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with DEL", func(d *Draft) { d.Lines[0].Title = "a\x7fb" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with a C1 control", func(d *Draft) { d.Lines[0].Title = "a\u0085b" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with invalid UTF-8", func(d *Draft) { d.Lines[0].Title = "T-shirt \xff" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title with a replacement character", func(d *Draft) { d.Lines[0].Title = "T-shirt \ufffd" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"title too long and invalid", func(d *Draft) { d.Lines[0].Title = long("x", 300) + "\x00" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"hs code missing", func(d *Draft) { d.Lines[0].HSCode = "" }, []string{problem("/lines/0/hsCode", CodeRequired)}},
		{"hs code of 5 digits", func(d *Draft) { d.Lines[0].HSCode = "61091" }, []string{problem("/lines/0/hsCode", CodeInvalid)}},
		{"hs code of 11 digits", func(d *Draft) { d.Lines[0].HSCode = "61091000001" }, []string{problem("/lines/0/hsCode", CodeInvalid)}},
		{"hs code dotted", func(d *Draft) { d.Lines[0].HSCode = "6109.10" }, []string{problem("/lines/0/hsCode", CodeInvalid)}},
		{"hs code in full-width digits", func(d *Draft) { d.Lines[0].HSCode = "６１０９１０" }, []string{problem("/lines/0/hsCode", CodeInvalid)}},
		{"hs code of 8 digits", func(d *Draft) { d.Lines[0].HSCode = "61091000" }, nil},
		{"quantity zero", func(d *Draft) { d.Lines[0].Quantity = 0 }, []string{problem("/lines/0/quantity", CodeOutOfRange)}},
		{"quantity negative", func(d *Draft) { d.Lines[0].Quantity = -1 }, []string{problem("/lines/0/quantity", CodeOutOfRange)}},
		{"quantity above the maximum", func(d *Draft) { d.Lines[0].Quantity = MaxQuantity + 1 }, []string{problem("/lines/0/quantity", CodeOutOfRange)}},
		{"unit price negative", func(d *Draft) { d.Lines[0].UnitPrice.Amount = -1 }, []string{problem("/lines/0/unitPrice/amount", CodeOutOfRange)}},
		{"unit price above the maximum", func(d *Draft) { d.Lines[0].UnitPrice.Amount = MaxUnitAmount + 1 },
			[]string{problem("/lines/0/unitPrice/amount", CodeOutOfRange)}},
		{"free line", func(d *Draft) {
			d.Lines[0].UnitPrice.Amount, d.Lines[0].LineTotal.Amount, d.Total.Amount = 0, 0, 2499+499
		}, nil},
		{"line total wrong", func(d *Draft) { d.Lines[0].LineTotal.Amount = 3999 }, []string{problem("/lines/0/lineTotal", CodeMismatch)}},
		{"line total of one unit", func(d *Draft) { d.Lines[0].LineTotal.Amount = 1999 }, []string{problem("/lines/0/lineTotal", CodeMismatch)}},
		{"line total negative", func(d *Draft) { d.Lines[0].LineTotal.Amount = -3998 }, []string{problem("/lines/0/lineTotal/amount", CodeOutOfRange)}},
		{"weight zero", func(d *Draft) { d.Lines[0].WeightGrams = 0 }, []string{problem("/lines/0/weightGrams", CodeOutOfRange)}},
		{"weight negative", func(d *Draft) { d.Lines[0].WeightGrams = -200 }, []string{problem("/lines/0/weightGrams", CodeOutOfRange)}},
		{"weight above the maximum", func(d *Draft) { d.Lines[0].WeightGrams = MaxWeightGrams + 1 }, []string{problem("/lines/0/weightGrams", CodeOutOfRange)}},
		{"weight at the maximum", func(d *Draft) { d.Lines[0].WeightGrams = MaxWeightGrams }, nil},
		{"origin missing", func(d *Draft) { d.Lines[0].OriginCountry = "" }, []string{problem("/lines/0/originCountry", CodeRequired)}},
		{"origin unknown", func(d *Draft) { d.Lines[0].OriginCountry = "XX" }, []string{problem("/lines/0/originCountry", CodeInvalid)}},
		{"origin lower case", func(d *Draft) { d.Lines[0].OriginCountry = "cn" }, []string{problem("/lines/0/originCountry", CodeInvalid)}},
		{"origin alpha-3", func(d *Draft) { d.Lines[0].OriginCountry = "CHN" }, []string{problem("/lines/0/originCountry", CodeInvalid)}},
		{"origin is the destination", func(d *Draft) { d.Lines[1].OriginCountry = "DE" }, []string{problem("/lines/1/originCountry", CodeNotAllowed)}},
		{"origin elsewhere in the EU", func(d *Draft) { d.Lines[1].OriginCountry = "FR" }, nil},

		// Shipping and total.
		{"shipping negative", func(d *Draft) { d.Shipping.Amount = -5 }, []string{problem("/shipping/amount", CodeOutOfRange)}},
		{"shipping above the maximum", func(d *Draft) { d.Shipping.Amount = MaxShippingAmount + 1 }, []string{problem("/shipping/amount", CodeOutOfRange)}},
		{"shipping free", func(d *Draft) { d.Shipping.Amount, d.Total.Amount = 0, 6497 }, nil},
		{"shipping omitted", func(d *Draft) { d.Shipping, d.Total.Amount = nil, 6497 }, nil},
		{"shipping omitted, total not", func(d *Draft) { d.Shipping = nil }, []string{problem("/total", CodeMismatch)}},
		{"total wrong", func(d *Draft) { d.Total.Amount = 6995 }, []string{problem("/total", CodeMismatch)}},
		{"total zero", func(d *Draft) { d.Total.Amount = 0 }, []string{problem("/total/amount", CodeOutOfRange)}},
		{"total negative", func(d *Draft) { d.Total.Amount = -6996 }, []string{problem("/total/amount", CodeOutOfRange)}},
		{"total zero for a free order", func(d *Draft) {
			for i := range d.Lines {
				d.Lines[i].UnitPrice.Amount, d.Lines[i].LineTotal.Amount = 0, 0
			}
			d.Shipping, d.Total.Amount = nil, 0
		}, []string{problem("/total/amount", CodeOutOfRange)}},

		// Buyer and consignee.
		{"buyer name missing", func(d *Draft) { d.Buyer.Name = "" }, []string{problem("/buyer/name", CodeRequired)}},
		{"buyer name blank", func(d *Draft) { d.Buyer.Name = " " }, []string{problem("/buyer/name", CodeRequired)}},
		{"buyer name too long", func(d *Draft) { d.Buyer.Name = long("x", 101) }, []string{problem("/buyer/name", CodeTooLong)}},
		{"buyer name of 100", func(d *Draft) { d.Buyer.Name = long("ß", 100) }, nil},
		{"buyer name with a newline", func(d *Draft) { d.Buyer.Name = "Lena\nFischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"consignee name missing", func(d *Draft) { d.Consignee.Name = "" }, []string{problem("/consignee/name", CodeRequired)}},

		// Invisible characters in the names and titles screening reads.
		{"buyer name with a soft hyphen", func(d *Draft) { d.Buyer.Name = "Acme Sanc\u00adtioned Trading" },
			[]string{problem("/buyer/name", CodeInvalid)}},
		{"consignee name with a zero-width space", func(d *Draft) { d.Consignee.Name = "Lena\u200bFischer" },
			[]string{problem("/consignee/name", CodeInvalid)}},
		{"consignee name with a zero-width non-joiner in Latin", func(d *Draft) { d.Consignee.Name = "Zor\u200cblax" },
			[]string{problem("/consignee/name", CodeInvalid)}},
		{"consignee name with a zero-width joiner in Latin", func(d *Draft) { d.Consignee.Name = "Zor\u200dblax" },
			[]string{problem("/consignee/name", CodeInvalid)}},
		{"buyer name with a word joiner", func(d *Draft) { d.Buyer.Name = "Lena Fisc\u2060her" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a byte order mark", func(d *Draft) { d.Buyer.Name = "\ufeffLena Fischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a bidi override", func(d *Draft) { d.Buyer.Name = "\u202eLena Fischer\u202c" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a bidi isolate", func(d *Draft) { d.Buyer.Name = "\u2066Lena\u2069 Fischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a direction mark", func(d *Draft) { d.Buyer.Name = "Lena Fischer\u200e" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a tag character", func(d *Draft) { d.Buyer.Name = "Lena\U000e0041 Fischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a Hangul filler", func(d *Draft) { d.Buyer.Name = "Lena\u3164Fischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a Mongolian vowel separator", func(d *Draft) { d.Buyer.Name = "Lena\u180eFischer" },
			[]string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with a joiner alone", func(d *Draft) { d.Buyer.Name = "\u200d" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"buyer name with two non-joiners in Persian", func(d *Draft) { d.Buyer.Name = "علی\u200c\u200cرضا" },
			[]string{problem("/buyer/name", CodeInvalid)}},
		{"title with a soft hyphen", func(d *Draft) { d.Lines[1].Title = "Va\u00adpe pen" }, []string{problem("/lines/1/title", CodeInvalid)}},
		{"title with a zero-width space", func(d *Draft) { d.Lines[0].Title = "Fire\u200bworks" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"name too long and invisible: too long only", func(d *Draft) { d.Buyer.Name = long("x", 101) + "\u00ad" },
			[]string{problem("/buyer/name", CodeTooLong)}},
		{"name with a control and invisible: the control", func(d *Draft) { d.Buyer.Name = "a\x00\u00adb" },
			[]string{problem("/buyer/name", CodeInvalid)}},
		{"Persian name with a zero-width non-joiner", func(d *Draft) { d.Buyer.Name = "علی\u200cرضا محمدی" }, nil},
		{"Hindi name with a zero-width joiner after a virama", func(d *Draft) { d.Buyer.Name = "लक्\u200dष्मी" }, nil},
		{"Malayalam name with a zero-width non-joiner", func(d *Draft) { d.Consignee.Name = "ശ്രീ\u200cകുമാർ" }, nil},
		{"Japanese name with an ideographic variation selector", func(d *Draft) { d.Buyer.Name = "葛\U000e0100飾 花子" }, nil},
		{"title with an emoji sequence", func(d *Draft) {
			d.Lines[0].Title = "T-shirt 👩\u200d💻 and 👩🏽\u200d🚀, ❤\ufe0f\u200d🔥"
		}, nil},
		{"name in Cyrillic", func(d *Draft) { d.Buyer.Name = "Иван Петрович Сидоров" }, nil},
		{"address with a zero-width space (not screened)", func(d *Draft) { d.Buyer.Address.Line2 = "Hinterhaus\u200b" }, nil},
		{"title with a noncharacter", func(d *Draft) { d.Lines[0].Title = "T-shirt \ufffe" }, []string{problem("/lines/0/title", CodeInvalid)}},
		{"name with a noncharacter", func(d *Draft) { d.Buyer.Name = "Lena \ufdd0Fischer" }, []string{problem("/buyer/name", CodeInvalid)}},
		{"city with a noncharacter", func(d *Draft) { d.Consignee.Address.City = "Berlin\U0010ffff" },
			[]string{problem("/consignee/address/city", CodeInvalid)}},
		{"buyer email without domain", func(d *Draft) { d.Buyer.Email = "lena@" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email without local part", func(d *Draft) { d.Buyer.Email = "@example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with two ats", func(d *Draft) { d.Buyer.Email = "a@b@example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email without dot", func(d *Draft) { d.Buyer.Email = "lena@localhost" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with a space", func(d *Draft) { d.Buyer.Email = "lena fischer@example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with two dots", func(d *Draft) { d.Buyer.Email = "lena@example..de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with a trailing dot", func(d *Draft) { d.Buyer.Email = "lena@example.de." }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with a hyphen label", func(d *Draft) { d.Buyer.Email = "lena@-example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with a display name", func(d *Draft) { d.Buyer.Email = "Lena <lena@example.de>" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email with a control", func(d *Draft) { d.Buyer.Email = "lena@exa\u0085mple.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email of invalid UTF-8", func(d *Draft) { d.Buyer.Email = "l\xffna@example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email too long", func(d *Draft) { d.Buyer.Email = "lena@" + long("a", 250) + ".de" }, []string{problem("/buyer/email", CodeTooLong)}},
		{"buyer email local part too long", func(d *Draft) { d.Buyer.Email = long("l", 65) + "@example.de" }, []string{problem("/buyer/email", CodeInvalid)}},
		{"buyer email internationalised", func(d *Draft) { d.Buyer.Email = "léna@exämple.de" }, nil},
		{"buyer email with plus and dots", func(d *Draft) { d.Buyer.Email = "lena.f+shop@mail.example.co.uk" }, nil},
		{"buyer without email or phone", func(d *Draft) { d.Buyer.Email, d.Buyer.Phone = "", "" }, nil},
		{"buyer phone without plus", func(d *Draft) { d.Buyer.Phone = "015112345678" }, []string{problem("/buyer/phone", CodeInvalid)}},
		{"buyer phone with spaces", func(d *Draft) { d.Buyer.Phone = "+49 151 12345678" }, []string{problem("/buyer/phone", CodeInvalid)}},
		{"buyer phone with leading zero", func(d *Draft) { d.Buyer.Phone = "+0123456789" }, []string{problem("/buyer/phone", CodeInvalid)}},
		{"buyer phone of 5 digits", func(d *Draft) { d.Buyer.Phone = "+12345" }, []string{problem("/buyer/phone", CodeInvalid)}},
		{"buyer phone of 16 digits", func(d *Draft) { d.Buyer.Phone = "+1234567890123456" }, []string{problem("/buyer/phone", CodeInvalid)}},
		{"buyer phone of 6 digits", func(d *Draft) { d.Buyer.Phone = "+123456" }, nil},
		{"buyer phone of 15 digits", func(d *Draft) { d.Buyer.Phone = "+123456789012345" }, nil},
		{"consignee without email or phone", func(d *Draft) { d.Consignee.Email, d.Consignee.Phone = "", "" },
			[]string{problem("/consignee/phone", CodeRequired)}},
		{"consignee with email only", func(d *Draft) { d.Consignee.Phone = "" }, nil},
		{"consignee with phone only", func(d *Draft) { d.Consignee.Email = "" }, nil},
		{"consignee with a bad phone only", func(d *Draft) { d.Consignee.Email, d.Consignee.Phone = "", "12" },
			[]string{problem("/consignee/phone", CodeInvalid)}},
		{"consignee line1 missing", func(d *Draft) { d.Consignee.Address.Line1 = "" }, []string{problem("/consignee/address/line1", CodeRequired)}},
		{"consignee line1 too long", func(d *Draft) { d.Consignee.Address.Line1 = long("x", 101) }, []string{problem("/consignee/address/line1", CodeTooLong)}},
		{"consignee line2 too long", func(d *Draft) { d.Consignee.Address.Line2 = long("x", 101) }, []string{problem("/consignee/address/line2", CodeTooLong)}},
		{"consignee line2 with a control", func(d *Draft) { d.Consignee.Address.Line2 = "\x1b[2J" }, []string{problem("/consignee/address/line2", CodeInvalid)}},
		{"consignee city missing", func(d *Draft) { d.Consignee.Address.City = "" }, []string{problem("/consignee/address/city", CodeRequired)}},
		{"consignee city too long", func(d *Draft) { d.Consignee.Address.City = long("x", 101) }, []string{problem("/consignee/address/city", CodeTooLong)}},
		{"consignee region too long", func(d *Draft) { d.Consignee.Address.Region = long("x", 101) }, []string{problem("/consignee/address/region", CodeTooLong)}},
		{"consignee postal code characters", func(d *Draft) { d.Consignee.Address.PostalCode = "10961!" },
			[]string{problem("/consignee/address/postalCode", CodeInvalid)}},
		{"consignee postal code too long", func(d *Draft) { d.Consignee.Address.PostalCode = long("1", 21) },
			[]string{problem("/consignee/address/postalCode", CodeTooLong)}},
		{"consignee postal code with space and hyphen", func(d *Draft) { d.Consignee.Address.PostalCode = "SW1A 1AA-2" }, nil},
		{"consignee postal code omitted", func(d *Draft) { d.Consignee.Address.PostalCode = "" }, nil},
		{"consignee country missing", func(d *Draft) { d.Consignee.Address.Country = "" },
			[]string{problem("/consignee/address/country", CodeRequired)}},
		{"consignee country UK", func(d *Draft) { d.Consignee.Address.Country = "UK" },
			[]string{problem("/consignee/address/country", CodeInvalid)}},
		{"consignee country lower case", func(d *Draft) { d.Consignee.Address.Country = "de" },
			[]string{problem("/consignee/address/country", CodeInvalid)}},
		{"buyer country missing", func(d *Draft) { d.Buyer.Address.Country = "" }, []string{problem("/buyer/address/country", CodeRequired)}},
		{"buyer in another country", func(d *Draft) { d.Buyer.Address.Country = "CN" }, nil},

		// Tax numbers and registration.
		{"vat without prefix", func(d *Draft) { d.Buyer.VATNumber = "987654321" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat with a space", func(d *Draft) { d.Buyer.VATNumber = "DE 123456789" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat in lower case", func(d *Draft) { d.Buyer.VATNumber = "de123456789" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat of Greece as GR", func(d *Draft) { d.Buyer.VATNumber = "GR123456789" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat outside the EU", func(d *Draft) { d.Buyer.VATNumber = "US123456789" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat too short", func(d *Draft) { d.Buyer.VATNumber = "DE1" }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat too long", func(d *Draft) { d.Buyer.VATNumber = "DE" + long("1", 14) }, []string{problem("/buyer/vatNumber", CodeInvalid)}},
		{"vat of Germany", func(d *Draft) { d.Buyer.VATNumber = "DE123456789" }, nil},
		{"vat of Austria", func(d *Draft) { d.Buyer.VATNumber = "ATU12345678" }, nil},
		{"vat of Greece as EL", func(d *Draft) { d.Buyer.VATNumber = "EL123456789" }, nil},
		{"vat of Northern Ireland", func(d *Draft) { d.Buyer.VATNumber = "XI123456789" }, nil},
		{"vat of the United Kingdom", func(d *Draft) { d.Buyer.VATNumber = "GB123456789" }, nil},
		{"vat of the Netherlands, longest", func(d *Draft) { d.Buyer.VATNumber = "NL123456789B01" }, nil},
		{"consignee vat", func(d *Draft) { d.Consignee.VATNumber = "FR-12345" }, []string{problem("/consignee/vatNumber", CodeInvalid)}},
		{"ioss too short", func(d *Draft) { d.Buyer.IOSSNumber = "IM12345" }, []string{problem("/buyer/iossNumber", CodeInvalid)}},
		{"ioss wrong prefix", func(d *Draft) { d.Buyer.IOSSNumber = "IN2760000001" }, []string{problem("/buyer/iossNumber", CodeInvalid)}},
		{"ioss with letters", func(d *Draft) { d.Buyer.IOSSNumber = "IM27600000AB" }, []string{problem("/buyer/iossNumber", CodeInvalid)}},
		{"ioss into the EU", func(d *Draft) { d.Buyer.IOSSNumber = "IM2760000001" }, nil},
		{"ioss outside the EU", func(d *Draft) {
			d.Buyer.IOSSNumber = "IM2760000001"
			d.Consignee.Address.Country = "US"
		}, []string{problem("/buyer/iossNumber", CodeNotAllowed)}},
		{"ioss into Switzerland", func(d *Draft) {
			d.Consignee.IOSSNumber = "IM2760000001"
			d.Consignee.Address.Country = "CH"
		}, []string{problem("/consignee/iossNumber", CodeNotAllowed)}},
		{"ioss with an unknown destination", func(d *Draft) {
			d.Buyer.IOSSNumber = "IM2760000001"
			d.Consignee.Address.Country = "XX"
		}, []string{problem("/consignee/address/country", CodeInvalid)}},
		{"b2b without registration", func(d *Draft) { d.TradeMode = TradeB2B }, []string{problem("/buyer/businessRegistration", CodeRequired)}},
		{"b2b with blank registration", func(d *Draft) { d.TradeMode, d.Buyer.BusinessRegistration = TradeB2B, "  " },
			[]string{problem("/buyer/businessRegistration", CodeRequired)}},
		{"b2b with registration", func(d *Draft) { d.TradeMode, d.Buyer.BusinessRegistration = TradeB2B, "HRB 12345" }, nil},
		{"b2b registration on the consignee only", func(d *Draft) {
			d.TradeMode, d.Consignee.BusinessRegistration = TradeB2B, "HRB 12345"
		}, []string{problem("/buyer/businessRegistration", CodeRequired)}},
		{"registration too long", func(d *Draft) { d.Buyer.BusinessRegistration = long("1", 65) },
			[]string{problem("/buyer/businessRegistration", CodeTooLong)}},
		{"registration with a control", func(d *Draft) { d.Consignee.BusinessRegistration = "HRB\x0012345" },
			[]string{problem("/consignee/businessRegistration", CodeInvalid)}},

		// Payment and references.
		{"payment method missing", func(d *Draft) { d.Payment.Method = "" }, []string{problem("/payment/method", CodeRequired)}},
		{"payment method cash", func(d *Draft) { d.Payment.Method = "cash" }, []string{problem("/payment/method", CodeInvalid)}},
		{"payment method upper case", func(d *Draft) { d.Payment.Method = "CARD" }, []string{problem("/payment/method", CodeInvalid)}},
		{"payment token missing", func(d *Draft) { d.Payment.Token = "" }, []string{problem("/payment/token", CodeRequired)}},
		{"payment token with a space", func(d *Draft) { d.Payment.Token = "tok visa" }, []string{problem("/payment/token", CodeInvalid)}},
		{"payment token with a newline", func(d *Draft) { d.Payment.Token = "tok_visa\n" }, []string{problem("/payment/token", CodeInvalid)}},
		{"payment token not ASCII", func(d *Draft) { d.Payment.Token = "tok_visé" }, []string{problem("/payment/token", CodeInvalid)}},
		{"payment token too long", func(d *Draft) { d.Payment.Token = long("t", 256) }, []string{problem("/payment/token", CodeTooLong)}},
		{"payment token of 255", func(d *Draft) { d.Payment.Token = long("t", 255) }, nil},
		{"partner reference too long", func(d *Draft) { d.PartnerOrderRef = long("r", 65) }, []string{problem("/partnerOrderRef", CodeTooLong)}},
		{"partner reference with a newline", func(d *Draft) { d.PartnerOrderRef = "PO-1\n" }, []string{problem("/partnerOrderRef", CodeInvalid)}},
		{"partner reference of 64", func(d *Draft) { d.PartnerOrderRef = long("r", 64) }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			errs := d.Validate()
			if got := problemsOf(errs); !slices.Equal(got, tc.want) {
				t.Fatalf("problems:\n got  %q\n want %q", got, tc.want)
			}
			secrets := personalData(&d)
			for _, e := range errs {
				if e.Message == "" || !strings.HasSuffix(e.Message, ".") {
					t.Errorf("%s: message %q is not a sentence", e.Field, e.Message)
				}
				for _, s := range secrets {
					if strings.Contains(e.Message, s) {
						t.Errorf("%s: message %q repeats personal data", e.Field, e.Message)
					}
				}
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(d *Draft)
		field  string
		says   string
	}{
		{"line total states the expected amount", func(d *Draft) { d.Lines[0].LineTotal.Amount = 3999 }, "/lines/0/lineTotal", "39.98 EUR"},
		{"total states the expected amount", func(d *Draft) { d.Total.Amount = 1 }, "/total", "69.96 EUR"},
		{"total in yen", func(d *Draft) {
			d.Currency = "JPY"
			for i := range d.Lines {
				d.Lines[i].UnitPrice.Currency, d.Lines[i].LineTotal.Currency = "JPY", "JPY"
			}
			d.Shipping.Currency, d.Total = "JPY", money.New(1, "JPY")
		}, "/total", "6996 JPY"},
		{"b2b registration names B2B", func(d *Draft) { d.TradeMode = TradeB2B }, "/buyer/businessRegistration", "B2B"},
		{"cross-border only", func(d *Draft) { d.Lines[0].OriginCountry = "DE" }, "/lines/0/originCountry",
			"origin and destination are the same country; this pipeline handles cross-border orders only"},
		{"currency mismatch names both codes", func(d *Draft) { d.Total.Currency = "USD" }, "/total/currency", "EUR, not USD"},
		{"currency mismatch does not echo junk", func(d *Draft) { d.Total.Currency = "lena.fischer@example.de" }, "/total/currency", "currency EUR."},
		{"field name in text messages", func(d *Draft) { d.Consignee.Address.City = "" }, "/consignee/address/city", "city is required."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := valid()
			tc.change(&d)
			for _, e := range d.Validate() {
				if e.Field == tc.field {
					if !strings.Contains(e.Message, tc.says) {
						t.Fatalf("message %q does not say %q", e.Message, tc.says)
					}
					return
				}
			}
			t.Fatalf("no problem reported on %s", tc.field)
		})
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	d := valid()
	d.Channel = ""
	d.Incoterm = "FOB"
	d.TradeMode = TradeB2B
	d.Buyer.Email = "not-an-email"
	d.Buyer.IOSSNumber = "IM2760000001"
	d.Consignee.Phone, d.Consignee.Email = "", ""
	d.Consignee.Address.Country = "US"
	d.Consignee.Address.PostalCode = "94105#"
	d.Lines[0].HSCode = "12"
	d.Lines[0].Title = ""
	d.Lines[1].Quantity = 0
	d.Lines[1].OriginCountry = "US"
	d.Shipping.Currency = "GBP"
	d.Payment.Token = ""
	d.PartnerOrderRef = strings.Repeat("r", 65)
	want := []string{
		problem("/channel", CodeRequired),
		problem("/incoterm", CodeInvalid),
		problem("/buyer/email", CodeInvalid),
		problem("/buyer/iossNumber", CodeNotAllowed),
		problem("/buyer/businessRegistration", CodeRequired),
		problem("/consignee/phone", CodeRequired),
		problem("/consignee/address/postalCode", CodeInvalid),
		problem("/lines/0/title", CodeRequired),
		problem("/lines/0/hsCode", CodeInvalid),
		problem("/lines/1/quantity", CodeOutOfRange),
		problem("/lines/1/originCountry", CodeNotAllowed),
		problem("/shipping/currency", CodeMismatch),
		problem("/payment/token", CodeRequired),
		problem("/partnerOrderRef", CodeTooLong),
	}
	errs := d.Validate()
	if got := problemsOf(errs); !slices.Equal(got, want) {
		t.Fatalf("problems, in field order:\n got  %q\n want %q", got, want)
	}
	again := d.Validate()
	if !slices.Equal(errs, again) {
		t.Fatal("Validate is not deterministic")
	}
}

func TestCurrencyExponentsInTotals(t *testing.T) {
	// JPY has no minor unit and KWD three: amounts are still integers and sum exactly.
	for _, cur := range []string{"JPY", "KWD", "CLF", "USD"} {
		d := valid()
		d.Currency = cur
		for i := range d.Lines {
			d.Lines[i].UnitPrice.Currency, d.Lines[i].LineTotal.Currency = cur, cur
		}
		d.Shipping.Currency, d.Total.Currency = cur, cur
		if errs := d.Validate(); errs != nil {
			t.Errorf("%s: %+v", cur, errs)
		}
	}
}

func TestLargestOrderFitsWithoutOverflow(t *testing.T) {
	d := valid()
	line := d.Lines[0]
	line.UnitPrice.Amount, line.Quantity = MaxUnitAmount, MaxQuantity
	line.LineTotal.Amount = MaxUnitAmount * MaxQuantity
	d.Lines = slices.Repeat([]Line{line}, MaxLines)
	d.Shipping.Amount = MaxShippingAmount
	d.Total.Amount = MaxLines*MaxUnitAmount*MaxQuantity + MaxShippingAmount
	if errs := d.Validate(); errs != nil {
		t.Fatalf("the largest order is allowed: %+v", errs)
	}
	d.Total.Amount--
	if got := problemsOf(d.Validate()); !slices.Equal(got, []string{problem("/total", CodeMismatch)}) {
		t.Fatalf("got %q", got)
	}
}

func TestValidateAllocatesNothingForAValidOrder(t *testing.T) {
	d := decodeFile(t, filepath.Join("testdata", "order_10_lines.json"))
	if allocs := testing.AllocsPerRun(100, func() {
		if d.Validate() != nil {
			t.Fatal("invalid")
		}
	}); allocs != 0 {
		t.Fatalf("Validate allocated %v times for a valid order", allocs)
	}
}

func ExampleDraft_Validate() {
	d := Draft{
		Channel: ChannelWeb, TradeMode: TradeB2C, Fulfilment: FulfilDirectMail, Currency: "EUR",
		Buyer: Party{Name: "Lena Fischer", Address: Address{Line1: "Bergmannstraße 12", City: "Berlin", Country: "DE"}},
		Consignee: Party{Name: "Lena Fischer", Phone: "+4915112345678",
			Address: Address{Line1: "Bergmannstraße 12", City: "Berlin", Country: "DE"}},
		Lines: []Line{{SKU: "TSHIRT-M", Title: "T-shirt", HSCode: "6109.10", Quantity: 2,
			UnitPrice: money.New(1999, "EUR"), LineTotal: money.New(3999, "EUR"), WeightGrams: 200, OriginCountry: "CN"}},
		Total:   money.New(3999, "EUR"),
		Payment: Payment{Method: "card", Token: "tok_visa"},
	}
	for _, e := range d.Validate() {
		fmt.Printf("%s %s: %s\n", e.Field, e.Code, e.Message)
	}
	// Output:
	// /lines/0/hsCode invalid: hsCode must be 6 to 10 digits, without dots or spaces.
	// /lines/0/lineTotal mismatch: lineTotal must equal unitPrice × quantity: 39.98 EUR.
}

func FuzzValidate(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "valid", "*.json"))
	samples, _ := filepath.Glob(filepath.Join("..", "..", "events", "orders", "*.json"))
	for _, name := range append(append(seeds, samples...), filepath.Join("testdata", "order_10_lines.json")) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"lines":[{"quantity":9223372036854775807,"unitPrice":{"amount":9223372036854775807}}]}`))
	f.Add([]byte(`{"currency":"EUR","lines":[{"lineTotal":{"amount":-9223372036854775808,"currency":"EUR"}}],` +
		`"shipping":{"amount":9223372036854775807,"currency":"EUR"},"total":{"amount":1,"currency":"EUR"}}`))
	f.Add([]byte(`{"buyer":{"name":"\u0000","email":"a@b@c"},"consignee":{"address":{"country":"de"}},"lines":[{"title":"\ud800"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var d Draft
		if json.Unmarshal(b, &d) != nil {
			return
		}
		errs := d.Validate()
		if !slices.Equal(errs, d.Validate()) {
			t.Fatal("Validate is not deterministic")
		}
		for _, e := range errs {
			switch e.Code {
			case CodeRequired, CodeInvalid, CodeTooLong, CodeTooMany, CodeOutOfRange, CodeMismatch, CodeNotAllowed:
			default:
				t.Fatalf("unknown code %q", e.Code)
			}
			if !strings.HasPrefix(e.Field, "/") || e.Message == "" {
				t.Fatalf("malformed problem %+v", e)
			}
		}
		if errs != nil {
			return
		}
		// Whatever Validate accepts is internally consistent.
		if !money.Valid(d.Currency) || !country.Valid(d.Destination()) || len(d.Lines) < 1 || len(d.Lines) > MaxLines {
			t.Fatalf("accepted currency %q, destination %q, %d lines", d.Currency, d.Destination(), len(d.Lines))
		}
		if d.Consignee.Email == "" && d.Consignee.Phone == "" {
			t.Fatal("accepted a consignee the carrier cannot reach")
		}
		if d.TradeMode == TradeB2B && strings.TrimSpace(d.Buyer.BusinessRegistration) == "" {
			t.Fatal("accepted a B2B order without the buyer's registration")
		}
		switch id := d.Buyer.Identity; {
		case d.Consignee.Identity != nil:
			t.Fatal("accepted an identity on the consignee")
		case !d.RetailImportIntoChina() && id != nil:
			t.Fatal("accepted an identity on an order that is not a retail import into China")
		case d.RetailImportIntoChina() && (id == nil || id.Type != IDTypeResidentCard || residentIDProblem(id.Number, time.Now()) != ""):
			t.Fatal("accepted a retail import into China without a well-formed resident identity card")
		}
		sum := money.New(0, d.Currency)
		for _, l := range d.Lines {
			want, err := l.UnitPrice.Mul(l.Quantity)
			if err != nil || l.Quantity < 1 || l.UnitPrice.Amount < 0 || l.LineTotal != want || l.UnitPrice.Currency != d.Currency {
				t.Fatalf("accepted an inconsistent line: %+v", l)
			}
			if !country.Valid(l.OriginCountry) || l.OriginCountry == d.Destination() {
				t.Fatalf("accepted origin %q to %q", l.OriginCountry, d.Destination())
			}
			if sum, err = sum.Add(l.LineTotal); err != nil {
				t.Fatalf("accepted lines that overflow: %v", err)
			}
		}
		if d.Shipping != nil {
			var err error
			if d.Shipping.Amount < 0 {
				t.Fatal("accepted a negative shipping charge")
			}
			if sum, err = sum.Add(*d.Shipping); err != nil {
				t.Fatalf("accepted shipping that overflows or is in another currency: %v", err)
			}
		}
		if sum != d.Total || d.Total.Amount <= 0 {
			t.Fatalf("accepted inconsistent totals: lines and shipping %v, total %v", sum, d.Total)
		}
	})
}
