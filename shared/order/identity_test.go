package order

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"
)

// Fictitious resident identity card numbers, checksum-valid: region 110101
// (Dongcheng, Beijing), born 1990-03-07. They name no one known to us.
const (
	testIDNumber  = "110101199003070038"
	testIDNumberX = "11010119900307002X"
)

// validChina is a valid B2C retail import into China, in CNY, of goods made
// in Japan, whose buyer gives her identity.
func validChina() Draft {
	d := valid()
	party := Party{Name: "王小明", Phone: "+8613800000001",
		Address: Address{Line1: "建国路 88 号", City: "北京", PostalCode: "100022", Country: "CN"}}
	d.Buyer, d.Consignee = party, party
	d.Buyer.Identity = &Identity{Type: IDTypeResidentCard, Number: testIDNumber}
	d.Currency = "CNY"
	for i := range d.Lines {
		d.Lines[i].OriginCountry = "JP"
		d.Lines[i].UnitPrice.Currency, d.Lines[i].LineTotal.Currency = "CNY", "CNY"
	}
	d.Shipping.Currency, d.Total.Currency = "CNY", "CNY"
	return d
}

// withCheck completes 17 digits with their check character.
func withCheck(d17 string) string { return d17 + string(residentIDCheck(d17)) }

func TestResidentIDCheckCharacter(t *testing.T) {
	for _, n := range []string{testIDNumber, testIDNumberX, "11010519491231002X", "440524188001010014"} {
		if got := residentIDCheck(n[:17]); got != n[17] {
			t.Errorf("check character of %s…: %c, want %c", n[:6], got, n[17])
		}
	}
}

func TestIdentityRules(t *testing.T) {
	later := time.Now().AddDate(1, 0, 0).Format("20060102")
	number := func(n string) func(d *Draft) { return func(d *Draft) { d.Buyer.Identity.Number = n } }
	for _, tc := range []struct {
		name   string
		change func(d *Draft)
		want   []string
	}{
		{"a retail import with the buyer's identity", func(*Draft) {}, nil},
		{"check character X", number(testIDNumberX), nil},
		{"check character x, taken for X", number(strings.ToLower(testIDNumberX)), nil},
		{"bonded retail import (1210)", func(d *Draft) { d.Fulfilment = FulfilBondedWarehouse }, nil},
		{"in another currency", func(d *Draft) {
			d.Currency, d.Shipping.Currency, d.Total.Currency = "USD", "USD", "USD"
			for i := range d.Lines {
				d.Lines[i].UnitPrice.Currency, d.Lines[i].LineTotal.Currency = "USD", "USD"
			}
		}, nil},

		// Required of every retail import into China.
		{"B2C without identity", func(d *Draft) { d.Buyer.Identity = nil }, []string{problem("/buyer/identity", CodeRequired)}},
		{"C2C without identity", func(d *Draft) { d.TradeMode, d.Buyer.Identity = TradeC2C, nil },
			[]string{problem("/buyer/identity", CodeRequired)}},
		{"M2B2C without identity", func(d *Draft) {
			d.TradeMode, d.Fulfilment, d.Buyer.Identity = TradeM2B2C, FulfilOverseasWarehouse, nil
		}, []string{problem("/buyer/identity", CodeRequired)}},
		{"bonded without identity", func(d *Draft) { d.Fulfilment, d.Buyer.Identity = FulfilBondedWarehouse, nil },
			[]string{problem("/buyer/identity", CodeRequired)}},
		{"identity on the consignee only", func(d *Draft) { d.Consignee.Identity, d.Buyer.Identity = d.Buyer.Identity, nil },
			[]string{problem("/buyer/identity", CodeRequired), problem("/consignee/identity", CodeNotAllowed)}},
		{"identity on the consignee too", func(d *Draft) { d.Consignee.Identity = d.Buyer.Identity },
			[]string{problem("/consignee/identity", CodeNotAllowed)}},

		// Refused where it is not needed.
		{"B2B into China: general trade, no identity", func(d *Draft) {
			d.TradeMode, d.Buyer.BusinessRegistration, d.Buyer.Identity = TradeB2B, "91110000000000000X", nil
		}, nil},
		{"B2B into China with an identity", func(d *Draft) {
			d.TradeMode, d.Buyer.BusinessRegistration = TradeB2B, "91110000000000000X"
		}, []string{problem("/buyer/identity", CodeNotAllowed)}},
		{"export from China with an identity", func(d *Draft) {
			e := valid()
			e.Buyer.Identity = d.Buyer.Identity
			*d = e
		}, []string{problem("/buyer/identity", CodeNotAllowed)}},
		{"unknown trade mode: only that is reported", func(d *Draft) { d.TradeMode = "" }, []string{problem("/tradeMode", CodeRequired)}},
		{"unknown trade mode: the identity is still checked", func(d *Draft) { d.TradeMode, d.Buyer.Identity.Number = "D2C", "1" },
			[]string{problem("/tradeMode", CodeInvalid), problem("/buyer/identity/number", CodeInvalid)}},

		// The type.
		{"type missing", func(d *Draft) { d.Buyer.Identity.Type = "" }, []string{problem("/buyer/identity/type", CodeRequired)}},
		{"type 2, other: listed, not allowed", func(d *Draft) { d.Buyer.Identity.Type = IDTypeOther },
			[]string{problem("/buyer/identity/type", CodeNotAllowed)}},
		{"type 01", func(d *Draft) { d.Buyer.Identity.Type = "01" }, []string{problem("/buyer/identity/type", CodeInvalid)}},
		{"type passport", func(d *Draft) { d.Buyer.Identity.Type, d.Buyer.Identity.Number = "passport", "E12345678" },
			[]string{problem("/buyer/identity/type", CodeInvalid)}},
		{"type and number missing", func(d *Draft) { d.Buyer.Identity = &Identity{} },
			[]string{problem("/buyer/identity/type", CodeRequired), problem("/buyer/identity/number", CodeRequired)}},

		// The number.
		{"number missing", number(""), []string{problem("/buyer/identity/number", CodeRequired)}},
		{"17 characters", number(testIDNumber[:17]), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"19 characters", number(testIDNumber + "0"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"a first-generation 15-digit number", number("110101900307003"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"with spaces", number("110101 19900307 0038"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"a letter among the digits", number("11010119900307A038"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"check character Y", number(testIDNumber[:17] + "Y"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"wrong check digit", number(testIDNumber[:17] + "9"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"X where a digit is due", number(testIDNumber[:17] + "X"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"two digits swapped", number("110101199003070308"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"full-width digits", number("１１０１０１１９９００３０７００３８"), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"month 13", number(withCheck("11010119901307003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"day 0", number(withCheck("11010119900300003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"30 February", number(withCheck("11010119900230003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"29 February of a common year", number(withCheck("11010119900229003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"29 February of a leap year", number(withCheck("11010119920229003")), nil},
		{"born before 1900", number(withCheck("11010118991231003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
		{"born on 1900-01-01", number(withCheck("11010119000101003")), nil},
		{"born next year", number(withCheck("110101" + later + "003")), []string{problem("/buyer/identity/number", CodeInvalid)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := validChina()
			tc.change(&d)
			errs := d.Validate()
			if got := problemsOf(errs); !slices.Equal(got, tc.want) {
				t.Fatalf("problems:\n got  %q\n want %q\n %+v", got, tc.want, errs)
			}
			var secrets []string
			for _, id := range []*Identity{d.Buyer.Identity, d.Consignee.Identity} {
				if id != nil && len(id.Number) >= 8 {
					// The number, and its birth date: neither may be quoted.
					secrets = append(secrets, id.Number, id.Number[:6], id.Number[6:min(14, len(id.Number))])
				}
			}
			for _, e := range errs {
				if !strings.HasSuffix(e.Message, ".") {
					t.Errorf("%s: message %q is not a sentence", e.Field, e.Message)
				}
				for _, s := range secrets {
					if strings.Contains(e.Message, s) {
						t.Errorf("%s: message %q quotes the identity number", e.Field, e.Message)
					}
				}
			}
		})
	}
}

func TestIdentityMessages(t *testing.T) {
	d := validChina()
	d.Buyer.Identity = nil
	errs := d.Validate()
	if len(errs) != 1 || errs[0].Message == "" || !strings.Contains(errs[0].Message, "required for retail imports into China") {
		t.Fatalf("got %+v", errs)
	}
	d = validChina()
	d.Buyer.Identity.Number = testIDNumber[:17] + "9"
	if errs := d.Validate(); len(errs) != 1 || !strings.Contains(errs[0].Message, "check character") {
		t.Fatalf("got %+v", errs)
	}
}

func TestValidateAllocatesNothingForAValidRetailImport(t *testing.T) {
	d := validChina()
	if allocs := testing.AllocsPerRun(100, func() {
		if d.Validate() != nil {
			t.Fatal("invalid")
		}
	}); allocs != 0 {
		t.Fatalf("Validate allocated %v times for a valid retail import", allocs)
	}
}

func TestRetailImportIntoChina(t *testing.T) {
	for _, tc := range []struct {
		dest string
		tm   TradeMode
		want bool
	}{
		{"CN", TradeB2C, true}, {"CN", TradeC2C, true}, {"CN", TradeM2B2C, true},
		{"CN", TradeB2B, false}, {"CN", "", false}, {"DE", TradeB2C, false}, {"HK", TradeB2C, false}, {"cn", TradeB2C, false},
	} {
		d := Draft{TradeMode: tc.tm, Consignee: Party{Address: Address{Country: tc.dest}}}
		if got := d.RetailImportIntoChina(); got != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.dest, tc.tm, got, tc.want)
		}
	}
}

func TestAcceptWritesTheCheckCharacterInUpperCase(t *testing.T) {
	d := validChina()
	d.Buyer.Identity.Number = strings.ToLower(testIDNumberX)
	o, _ := Accept(d, "01KIDENTITY000000000000001", "alice", "customer:alice", time.Now())
	if o.Buyer.Identity.Number != testIDNumberX || o.Buyer.Identity.Type != IDTypeResidentCard {
		t.Fatalf("stored %q", o.Buyer.Identity.Number)
	}
	if o.Buyer.Identity == d.Buyer.Identity {
		t.Fatal("the order shares the draft's identity")
	}
	if NormalizeIDNumber(testIDNumber) != testIDNumber || NormalizeIDNumber("x") != "x" {
		t.Fatal("NormalizeIDNumber changes what it must not")
	}
}

func TestMaskIDNumber(t *testing.T) {
	for in, want := range map[string]string{
		testIDNumber:  "**************0038",
		testIDNumberX: "**************002X",
		"12345":       "*2345",
		"1234":        "****",
		"":            "",
	} {
		if got := MaskIDNumber(in); got != want {
			t.Errorf("MaskIDNumber(%q) = %q, want %q", in, got, want)
		}
	}
	var none *Identity
	if none.Masked() != nil {
		t.Fatal("nil masks to nil")
	}
	id := &Identity{Type: "1", Number: testIDNumber}
	if m := id.Masked(); m.Number != "**************0038" || m.Type != "1" || id.Number != testIDNumber {
		t.Fatalf("masked %+v, original %q", *m, id.Number)
	}
}

// The number never leaves in JSON, fmt or slog output: only its last four
// characters do.
func TestIdentityIsNeverWrittenOut(t *testing.T) {
	d := validChina()
	o, _ := Accept(d, "01KIDENTITY000000000000002", "alice", "customer:alice", time.Now())
	var out bytes.Buffer
	j, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	out.Write(j)
	id := *o.Buyer.Identity
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, format+"\n", id)
		fmt.Fprintf(&out, format+"\n", &id)
		fmt.Fprintf(&out, format+"\n", o.Buyer)
		fmt.Fprintf(&out, format+"\n", *o)
	}
	for _, h := range []slog.Handler{slog.NewJSONHandler(&out, nil), slog.NewTextHandler(&out, nil)} {
		l := slog.New(h)
		l.Info("order", "identity", id, "identityPtr", &id, "buyer", o.Buyer, "order", o)
	}
	if strings.Contains(out.String(), testIDNumber) || strings.Contains(out.String(), testIDNumber[6:14]) {
		t.Fatalf("the number was written out:\n%s", out.String())
	}
	if !strings.Contains(string(j), `"identity":{"type":"1","number":"**************0038"}`) {
		t.Fatalf("JSON %s", j)
	}
	// Requests still give it in full.
	var back Draft
	if err := json.Unmarshal([]byte(`{"buyer":{"identity":{"type":"1","number":"`+testIDNumber+`"}}}`), &back); err != nil ||
		back.Buyer.Identity.Number != testIDNumber {
		t.Fatalf("decoded %+v, %v", back.Buyer.Identity, err)
	}
}

// China's import messages carry the buyer's telephone: a retail import
// into China without one is refused; other orders may leave it out.
func TestRetailImportIntoChinaNeedsTheBuyersPhone(t *testing.T) {
	d := validChina()
	d.Buyer.Phone = ""
	errs := d.Validate()
	if len(errs) != 1 || errs[0].Field != "/buyer/phone" || errs[0].Code != CodeRequired {
		t.Fatalf("errors %v, want /buyer/phone required", errs)
	}
	other := valid()
	other.Buyer.Phone = ""
	if errs := other.Validate(); len(errs) != 0 {
		t.Fatalf("an order into %s without a buyer phone: %v", other.Consignee.Address.Country, errs)
	}
}
