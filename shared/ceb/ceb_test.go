package ceb

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ceb")

const (
	xsdDir    = "../../testdata/ceb/xsd/" // copies of the official schemas (see testdata/ceb/xsd/README.md)
	goldenDir = "../../testdata/ceb"
)

// demoIDNumber is the example resident identity card number of GB 11643,
// for the fixtures' retail imports.
const demoIDNumber = "11010519491231002X"

var (
	testNow    = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	testPaidAt = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
)

func line(sku, hs string, qty, unit int64, currency, origin string, grams int64) order.Line {
	return order.Line{
		SKU: sku, Title: "Item " + sku, HSCode: hs, Quantity: qty,
		UnitPrice: money.New(unit, currency), LineTotal: money.New(unit*qty, currency),
		WeightGrams: grams, OriginCountry: origin,
	}
}

func newOrder(t *testing.T, id string, tm order.TradeMode, f order.Fulfilment, currency, dest string, shipping int64, lines ...order.Line) *order.Order {
	t.Helper()
	d := order.Draft{
		Channel: order.ChannelWeb, TradeMode: tm, Fulfilment: f, Currency: currency,
		Buyer: order.Party{
			Name: "Buyer Person", Phone: "+8613800000001",
			Address: order.Address{Line1: "1 Buyer Road", City: "Buyer City", Country: dest},
		},
		Consignee: order.Party{
			Name: "Consignee Person", Phone: "+8613800000002",
			Address: order.Address{Line1: "2 Consignee Street", City: "Consignee City", PostalCode: "200000", Country: dest},
		},
		Lines:   lines,
		Payment: order.Payment{Method: "card", Token: "tok_visa"},
	}
	if tm == order.TradeB2B {
		d.Buyer.Name = "Buyer Company Ltd"
		d.Buyer.BusinessRegistration = "REG-0001"
	}
	if d.RetailImportIntoChina() {
		// The sample number of GB 11643 (a valid shape and check character),
		// not a person's.
		d.Buyer.Identity = &order.Identity{Type: order.IDTypeResidentCard, Number: demoIDNumber}
	}
	total := shipping
	for _, l := range lines {
		total += l.LineTotal.Amount
	}
	if shipping != 0 {
		s := money.New(shipping, currency)
		d.Shipping = &s
	}
	d.Total = money.New(total, currency)
	if errs := d.Validate(); len(errs) > 0 {
		t.Fatalf("fixture %s is not a valid order: %v", id, errs)
	}
	o, _ := order.Accept(d, id, "customer-"+id, "test", testNow.Add(-time.Hour))
	o.Charge = &order.Charge{ID: "ch_" + id, Status: order.ChargeAuthorized, Amount: d.Total}
	return o
}

type fixture struct {
	dir       string // golden directory: testdata/ceb/<dir>
	mode      chinacustoms.Mode
	direction chinacustoms.Direction
	order     func(t *testing.T) *order.Order
	types     []string
	bill      string // the waybill's billNo: the master air waybill of a direct-purchase import
}

var exportTypes = []string{"CEB303", "CEB403", "CEB505", "CEB603"}
var importTypes = []string{"CEB311", "CEB411", "CEB511", "CEB621"}

var fixtures = []fixture{
	{"export-9610", chinacustoms.Mode9610, chinacustoms.Export, func(t *testing.T) *order.Order {
		return newOrder(t, "ORD-9610-EXPORT", order.TradeB2C, order.FulfilDirectMail, "EUR", "DE", 499,
			line("MUG-01", "691200", 2, 1299, "EUR", "CN", 350),
			line("TEE-02", "6109100011", 1, 1999, "EUR", "CN", 180))
	}, exportTypes, ""},
	// A B2B consignment within CNY 5,000: only those (not needing a licence,
	// inspection or tax) may be declared with a CEB603 list; larger ones go
	// to the declaration form (see testdata/ceb/REVIEW.md).
	{"export-9710", chinacustoms.Mode9710, chinacustoms.Export, func(t *testing.T) *order.Order {
		return newOrder(t, "ORD-9710-EXPORT", order.TradeB2B, order.FulfilDirectMail, "EUR", "DE", 3000,
			line("CABLE-USB-C", "8544422100", 100, 250, "EUR", "CN", 40))
	}, exportTypes, ""},
	{"export-9810", chinacustoms.Mode9810, chinacustoms.Export, func(t *testing.T) *order.Order {
		// Goods leaving China for the Frankfurt warehouse: what ships
		// under 9810 (the warehouse's own sales are not declared to China).
		o := newOrder(t, "ORD-9810-EXPORT", order.TradeB2C, order.FulfilOverseasWarehouse, "EUR", "DE", 0,
			line("LAMP-03", "94052000", 1, 8900, "EUR", "CN", 1200))
		o.ShipFrom = "CN"
		return o
	}, exportTypes, ""},
	{"import-9610", chinacustoms.Mode9610, chinacustoms.Import, func(t *testing.T) *order.Order {
		return newOrder(t, "ORD-9610-IMPORT", order.TradeC2C, order.FulfilDirectMail, "CNY", "CN", 3000,
			line("FORMULA-900", "1901101000", 3, 25800, "CNY", "NL", 1100))
	}, importTypes, "DEMO-MAWB-0000001"},
	{"import-1210", chinacustoms.Mode1210, chinacustoms.Import, func(t *testing.T) *order.Order {
		return newOrder(t, "ORD-1210-IMPORT", order.TradeB2C, order.FulfilBondedWarehouse, "CNY", "CN", 0,
			line("CREAM-50", "3304990099", 2, 32800, "CNY", "JP", 120),
			line("MASK-10", "3304990000", 1, 9900, "CNY", "KR", 200))
	}, importTypes, ""},
}

func build(t *testing.T, o *order.Order) *chinacustoms.Declaration {
	t.Helper()
	return buildBill(t, o, "")
}

// buildBill builds o's declaration with bill as the waybill's billNo.
func buildBill(t *testing.T, o *order.Order, bill string) *chinacustoms.Declaration {
	t.Helper()
	d, err := chinacustoms.Build(o, chinacustoms.PaymentInput{PaidAt: testPaidAt},
		chinacustoms.WaybillInput{LogisticsNo: "WB" + strings.ReplaceAll(o.ID, "-", ""), BillNo: bill}, chinacustoms.DemoParties(), testNow)
	if err != nil {
		t.Fatalf("Build(%s): %v", o.ID, err)
	}
	return d
}

// extraBySKU gives the fixture lines' Chinese names and declaration
// elements (as a merchant registers them) and legal quantities:
// demonstration values (the real legal units are the tariff line's),
// consistent with the line as customs checks: a quantity in the declared
// unit (件) is the declared quantity, one in 千克 is left empty for the
// renderer to fill with the line's net weight. TEE-02 has a second legal
// unit.
var extraBySKU = map[string]LineExtra{
	"MUG-01":      {LegalUnit: "035", Name: "瓷制马克杯", Model: "马克杯|饮用|瓷|无品牌|350ml"},
	"TEE-02":      {LegalQty: "1", LegalUnit: "011", SecondUnit: "035", Name: "棉制针织男式T恤衫", Model: "T恤衫|日常穿着|针织|棉100%|无品牌|M码"},
	"CABLE-USB-C": {LegalUnit: "035", Name: "USB-C数据线", Model: "数据线|数据传输及充电|铜芯塑料外皮|无品牌|1米"},
	"LAMP-03":     {LegalQty: "1", LegalUnit: "011", Name: "台灯", Model: "台灯|照明|金属及塑料|无品牌|LED"},
	"FORMULA-900": {LegalUnit: "035", Name: "婴儿配方奶粉", Model: "配方奶粉|婴儿食用|乳粉|无品牌|900克/罐"},
	"CREAM-50":    {LegalUnit: "035", Name: "保湿面霜", Model: "面霜|护肤|水/甘油/角鲨烷|无品牌|50ml"},
	"MASK-10":     {LegalQty: "1", LegalUnit: "011"}, // unregistered: the order's title is sent
}

// testOptions supplies what the orders lack. The identity number is a
// fictitious placeholder of the right shape, for schema validation only;
// the transport, voyage and bill numbers are fictitious too.
func testOptions(d *chinacustoms.Declaration) Options {
	opts := Options{
		DXPID: "DXPENTDEMO000001", TrafMode: "5", POD: "0000", WrapType: "2",
		Lines: map[int]LineExtra{},
	}
	for _, l := range d.Order.Lines {
		x, ok := extraBySKU[l.ItemNo]
		if !ok {
			x = LineExtra{LegalQty: strconv.FormatInt(l.Qty, 10), LegalUnit: "011"}
		}
		if d.Mode == chinacustoms.Mode1210 {
			x.ItemRecordNo = "DEMOREC" + l.ItemNo
		}
		opts.Lines[l.GNum] = x
	}
	if d.Direction == chinacustoms.Import {
		opts.DepartureCountry = "NL"
	}
	if d.Direction == chinacustoms.Import && d.Mode == chinacustoms.Mode9610 {
		opts.TrafNo, opts.VoyageNo = "DEMO-FLIGHT-001", "DEMO-VOYAGE-001"
	}
	return opts
}

// stubSignature is a schema-shaped ds:Signature with empty values. It is
// NOT a signature: import.xsd makes ds:Signature required in CEB621, and
// this lets the test check the rest of the message against the schema.
const stubSignature = `	<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">
		<ds:SignedInfo>
			<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>
			<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>
			<ds:Reference URI="">
				<ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/>
				<ds:DigestValue></ds:DigestValue>
			</ds:Reference>
		</ds:SignedInfo>
		<ds:SignatureValue></ds:SignatureValue>
	</ds:Signature>
`

func stubSign(msgType string, x []byte) []byte {
	end := []byte("</ceb:" + msgType + "Message>")
	i := bytes.LastIndex(x, end)
	out := append([]byte{}, x[:i]...)
	out = append(out, stubSignature...)
	return append(out, x[i:]...)
}

func xmllint(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed: run `make tools` (or apt-get install libxml2-utils)")
	}
	return p
}

func validate(t *testing.T, lint, xsd, name string, x []byte) {
	t.Helper()
	f := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(f, x, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--noout", "--schema", filepath.Join(xsdDir, xsd), f).CombinedOutput()
	if err != nil {
		t.Errorf("%s does not validate against %s: %v\n%s", name, xsd, err, out)
	}
}

func TestRenderValidatesAndMatchesGolden(t *testing.T) {
	lint := xmllint(t)
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			d := buildBill(t, fx.order(t), fx.bill)
			if d.Mode != fx.mode || d.Direction != fx.direction {
				t.Fatalf("mode %s %s, want %s %s", d.Mode, d.Direction, fx.mode, fx.direction)
			}
			msgs, err := Render(d, testOptions(d))
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			again, _ := Render(d, testOptions(d))
			if len(msgs) != len(fx.types) {
				t.Fatalf("%d messages, want %d", len(msgs), len(fx.types))
			}
			xsd := "export.xsd"
			if fx.direction == chinacustoms.Import {
				xsd = "import.xsd"
			}
			for i, m := range msgs {
				if m.Type != fx.types[i] {
					t.Errorf("message %d is %s, want %s", i, m.Type, fx.types[i])
				}
				if !bytes.Equal(m.XML, again[i].XML) {
					t.Errorf("%s: re-rendering is not stable", m.Type)
				}
				x := m.XML
				if m.Type == "CEB621" {
					x = stubSign(m.Type, x)
				}
				validate(t, lint, xsd, fx.dir+"-"+m.Type, x)
				checkContent(t, d, m)
				golden := filepath.Join(goldenDir, fx.dir, m.Type+".xml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, m.XML, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./shared/ceb -update)", err)
				}
				if !bytes.Equal(want, m.XML) {
					t.Errorf("%s differs from %s (run with -update after review)\n%s", m.Type, golden, m.XML)
				}
			}
		})
	}
}

func checkContent(t *testing.T, d *chinacustoms.Declaration, m Message) {
	t.Helper()
	s := string(m.XML)
	must := []string{
		`guid="` + GUID(d.Order.OrderNo, m.Type, "message") + `" version="1.0"`,
		"<ceb:orderNo>" + d.Order.OrderNo + "</ceb:orderNo>",
		"<ceb:appType>1</ceb:appType>", "<ceb:appStatus>2</ceb:appStatus>",
		"<ceb:appTime>20260314173000</ceb:appTime>", // 09:30 UTC in China time
		"<ceb:dxpMode>DXP</ceb:dxpMode>",
	}
	if m.Type == "CEB505" {
		must = must[:1] // the export waybill has no orderNo
	}
	switch m.Type {
	case "CEB303":
		must = append(must, "<ceb:orderType>"+d.Mode.OrderType()+"</ceb:orderType>", "<ceb:currency>300</ceb:currency>")
	case "CEB603", "CEB621":
		must = append(must, "<ceb:tradeMode>"+string(d.Mode)+"</ceb:tradeMode>")
	case "CEB311", "CEB411", "CEB511":
		must = append(must, "<ceb:currency>142</ceb:currency>")
	}
	if m.Type == "CEB603" {
		must = append(must, "<ceb:country>304</ceb:country>") // DE
	}
	for _, w := range must {
		if !strings.Contains(s, w) {
			t.Errorf("%s lacks %s", m.Type, w)
		}
	}
}

func TestGUID(t *testing.T) {
	g := GUID("ORD-1", "CEB303", "message")
	if len(g) != 36 || g != strings.ToUpper(g) || g[14] != '5' {
		t.Errorf("guid %q: want 36 upper-case characters, version 5", g)
	}
	if g == GUID("ORD-1", "CEB403", "message") || g == GUID("ORD-1", "CEB303", "entity") || g != GUID("ORD-1", "CEB303", "message") {
		t.Error("guids must be stable per order, message and part, and differ otherwise")
	}
}

func TestCodeTables(t *testing.T) {
	for iso, want := range map[string]string{"CNY": "142", "USD": "502", "EUR": "300", "JPY": "116"} {
		if got, err := CurrencyCode("f", iso); err != nil || got != want {
			t.Errorf("currency %s = %q, %v; want %s", iso, got, err, want)
		}
	}
	for iso, want := range map[string]string{"CN": "142", "DE": "304", "US": "502", "GB": "303"} {
		if got, err := CountryCode("f", iso); err != nil || got != want {
			t.Errorf("country %s = %q, %v; want %s", iso, got, err, want)
		}
	}
	if got, err := UnitCode("f", "pair"); err != nil || got != "025" {
		t.Errorf("unit pair = %q, %v", got, err)
	}
	for _, f := range []func(string, string) (string, error){CurrencyCode, CountryCode, UnitCode} {
		_, err := f("OrderList[1].x", "ZZZ")
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "OrderList[1].x" {
			t.Errorf("an unmapped value must be a FieldError naming the field, got %v", err)
		}
	}
}

func TestRefusesBrokenInvariants(t *testing.T) {
	base := func(t *testing.T) *chinacustoms.Declaration { return build(t, fixtures[0].order(t)) }
	cases := []struct {
		name   string
		mutate func(d *chinacustoms.Declaration, o *Options)
		want   string // in the error
	}{
		{"amount mismatch", func(d *chinacustoms.Declaration, _ *Options) {
			d.Order.GoodsValue.Amount++
		}, "goodsValue"},
		{"unmapped unit", func(d *chinacustoms.Declaration, _ *Options) {
			d.Order.Lines[0].Unit = "999"
			d.Inventory.Lines[0].Unit = "999"
		}, "OrderList[1].unit"},
		{"unmapped legal unit", func(_ *chinacustoms.Declaration, o *Options) {
			o.Lines[2] = LineExtra{LegalQty: "1", LegalUnit: "furlong"}
		}, "InventoryList[2].unit1"},
		{"unmapped currency", func(d *chinacustoms.Declaration, _ *Options) {
			setCurrency(d, "XAU")
		}, "currency"},
		{"unmapped country", func(d *chinacustoms.Declaration, _ *Options) {
			d.Inventory.Country = "ZZ"
		}, "CEB603 InventoryHead.country"},
		{"over-long name", func(d *chinacustoms.Declaration, o *Options) {
			long := strings.Repeat("名", 251)
			d.Order.Lines[0].ItemName = long
			d.Inventory.Lines[0].ItemName = long
			d.Inventory.Lines[0].GName = long
			x := o.Lines[1]
			x.Name = "" // not registered: the declaration's name is sent
			o.Lines[1] = x
		}, "CEB303 OrderList[1].itemName"},
		{"over-long registered name", func(_ *chinacustoms.Declaration, o *Options) {
			x := o.Lines[1]
			x.Name = strings.Repeat("名", 251)
			o.Lines[1] = x
		}, "CEB303 OrderList[1].itemName"},
		{"over-long declaration elements", func(_ *chinacustoms.Declaration, o *Options) {
			x := o.Lines[1]
			x.Model = strings.Repeat("要素|", 84)
			o.Lines[1] = x
		}, "CEB603 InventoryList[1].gmodel"},
		{"missing legal quantity", func(_ *chinacustoms.Declaration, o *Options) {
			delete(o.Lines, 1)
		}, "InventoryList[1].qty1"},
		{"bad customs code", func(d *chinacustoms.Declaration, _ *Options) {
			d.Inventory.CustomsCode = "99A9"
		}, "customsCode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := base(t)
			opts := testOptions(d)
			tc.mutate(d, &opts)
			msgs, err := Render(d, opts)
			if err == nil {
				t.Fatalf("rendered %d messages, want an error naming %s", len(msgs), tc.want)
			}
			if msgs != nil {
				t.Error("messages returned with an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}

// setCurrency moves every amount of d into cur, consistently.
func setCurrency(d *chinacustoms.Declaration, cur string) {
	m := func(x *money.Money) { x.Currency = cur }
	o := &d.Order
	o.Currency, d.Payment.Currency, d.Waybill.Currency, d.Inventory.Currency = cur, cur, cur, cur
	for _, x := range []*money.Money{&o.GoodsValue, &o.Freight, &o.Discount, &o.TaxTotal, &o.ActualPaid,
		&d.Payment.AmountPaid, &d.Waybill.Freight, &d.Waybill.InsuredFee, &d.Inventory.Freight, &d.Inventory.InsuredFee} {
		m(x)
	}
	for i := range o.Lines {
		m(&o.Lines[i].Price)
		m(&o.Lines[i].TotalPrice)
		m(&d.Inventory.Lines[i].Price)
		m(&d.Inventory.Lines[i].TotalPrice)
	}
}

func TestUnsignedIsDefault(t *testing.T) {
	d := build(t, fixtures[0].order(t))
	a, err := Render(d, testOptions(d))
	if err != nil {
		t.Fatal(err)
	}
	opts := testOptions(d)
	opts.Signer = Unsigned{}
	b, _ := Render(d, opts)
	for i := range a {
		if !bytes.Equal(a[i].XML, b[i].XML) || bytes.Contains(a[i].XML, []byte("Signature")) {
			t.Errorf("%s: the default must be the unsigned form", a[i].Type)
		}
	}
}

// TestUnsignedCEB621IsNotSchemaValid documents that import.xsd requires
// ds:Signature in CEB621: the unsigned default must be signed before it is
// submitted.
func TestUnsignedCEB621IsNotSchemaValid(t *testing.T) {
	lint := xmllint(t)
	d := build(t, fixtures[4].order(t))
	msgs, err := Render(d, testOptions(d))
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "CEB621.xml")
	if err := os.WriteFile(f, msgs[3].XML, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(lint, "--noout", "--schema", filepath.Join(xsdDir, "import.xsd"), f).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Signature") {
		t.Errorf("an unsigned CEB621 validated, or failed for another reason: %v\n%s", err, out)
	}
}

// renderErr renders d with opts and returns the error, failing when there is
// none.
func renderErr(t *testing.T, d *chinacustoms.Declaration, opts Options) error {
	t.Helper()
	msgs, err := Render(d, opts)
	if err == nil {
		t.Fatalf("rendered %d messages, want an error", len(msgs))
	}
	return err
}

func wantField(t *testing.T, err error, field, problem string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != field || !strings.Contains(fe.Problem, problem) {
		t.Errorf("error %v, want a FieldError on %s saying %q", err, field, problem)
	}
}

func messageOf(t *testing.T, msgs []Message, typ string) string {
	t.Helper()
	for _, m := range msgs {
		if m.Type == typ {
			return string(m.XML)
		}
	}
	t.Fatalf("no %s", typ)
	return ""
}

// The legal quantity (qty1, qty2) must agree with the line: in the declared
// unit it is the declared quantity, in 千克 or 克 the line's net weight,
// which it defaults to. The golden lists once declared 2 件 as 1 件.
func TestLegalQuantityAgreesWithTheLine(t *testing.T) {
	d := build(t, fixtures[0].order(t)) // MUG-01: 2 件, 700 g; TEE-02: 1 件, 180 g
	for _, tc := range []struct {
		name  string
		x     LineExtra
		field string
		want  string
	}{
		{"same unit, other quantity", LineExtra{LegalQty: "1", LegalUnit: "011"}, "CEB603 InventoryList[1].qty1", "quantity mismatch"},
		{"kilograms, not the net weight", LineExtra{LegalQty: "1.5", LegalUnit: "035"}, "CEB603 InventoryList[1].qty1", "net weight is 0.700 kg"},
		{"grams, not the net weight", LineExtra{LegalQty: "70", LegalUnit: "克"}, "CEB603 InventoryList[1].qty1", "net weight is 700 g"},
		{"second unit, other quantity", LineExtra{LegalUnit: "035", SecondQty: "3", SecondUnit: "011"}, "CEB603 InventoryList[1].qty2", "quantity mismatch"},
		{"second unit repeats the first", LineExtra{LegalUnit: "035", SecondUnit: "kg"}, "CEB603 InventoryList[1].unit2", "first one"},
		{"second quantity without a unit", LineExtra{LegalUnit: "035", SecondQty: "2"}, "CEB603 InventoryList[1].unit2", "legal unit is required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(d)
			opts.Lines[1] = tc.x
			wantField(t, renderErr(t, d, opts), tc.field, tc.want)
		})
	}

	opts := testOptions(d)
	opts.Lines[1] = LineExtra{LegalQty: "2", LegalUnit: "011", SecondQty: "0.70000", SecondUnit: "035"}
	opts.Lines[2] = LineExtra{LegalUnit: "035"}
	msgs, err := Render(d, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := messageOf(t, msgs, "CEB603")
	for _, w := range []string{
		"<ceb:qty>2</ceb:qty>\n\t\t\t<ceb:qty1>2</ceb:qty1>\n\t\t\t<ceb:qty2>0.70000</ceb:qty2>\n\t\t\t<ceb:unit>011</ceb:unit>\n\t\t\t<ceb:unit1>011</ceb:unit1>\n\t\t\t<ceb:unit2>035</ceb:unit2>",
		"<ceb:qty>1</ceb:qty>\n\t\t\t<ceb:qty1>0.180</ceb:qty1>\n\t\t\t<ceb:unit>011</ceb:unit>\n\t\t\t<ceb:unit1>035</ceb:unit1>",
	} {
		if !strings.Contains(s, w) {
			t.Errorf("CEB603 lacks\n%s\nin\n%s", w, s)
		}
	}
	validate(t, xmllint(t), "export.xsd", "CEB603-qty2", []byte(s))
}

// A direct-purchase import (9610) names the means of transport, the voyage
// and the bill (直购进口必填); a bonded import (1210) leaves them out (保税进口
// 免填); an export writes them when known.
func TestTransportOfTheInventory(t *testing.T) {
	imp := buildBill(t, fixtures[3].order(t), fixtures[3].bill)
	for _, tc := range []struct {
		field  string
		mutate func(d *chinacustoms.Declaration, o *Options)
	}{
		{"trafNo", func(_ *chinacustoms.Declaration, o *Options) { o.TrafNo = "" }},
		{"voyageNo", func(_ *chinacustoms.Declaration, o *Options) { o.VoyageNo = "" }},
		{"billNo", func(d *chinacustoms.Declaration, _ *Options) { d.Waybill.BillNo = "" }},
	} {
		t.Run("9610 without "+tc.field, func(t *testing.T) {
			d := *imp
			opts := testOptions(&d)
			tc.mutate(&d, &opts)
			wantField(t, renderErr(t, &d, opts), "CEB621 InventoryHead."+tc.field, "is required")
		})
	}

	bonded := buildBill(t, fixtures[4].order(t), "DEMO-MAWB-0000002")
	opts := testOptions(bonded)
	opts.TrafNo, opts.VoyageNo = "DEMO-FLIGHT-002", "DEMO-VOYAGE-002"
	msgs, err := Render(bonded, opts)
	if err != nil {
		t.Fatal(err)
	}
	if s := messageOf(t, msgs, "CEB621"); strings.Contains(s, "trafNo") || strings.Contains(s, "voyageNo") || strings.Contains(s, "billNo") {
		t.Errorf("the 1210 CEB621 carries transport fields:\n%s", s)
	}

	exp := buildBill(t, fixtures[0].order(t), "DEMO-MAWB-0000003")
	opts = testOptions(exp)
	opts.TrafNo, opts.VoyageNo = "DEMO-FLIGHT-003", "DEMO-VOYAGE-003"
	msgs, err = Render(exp, opts)
	if err != nil {
		t.Fatal(err)
	}
	s := messageOf(t, msgs, "CEB603")
	if !strings.Contains(s, "<ceb:trafMode>5</ceb:trafMode>\n\t\t\t<ceb:trafName>DEMO-FLIGHT-003</ceb:trafName>\n\t\t\t<ceb:voyageNo>DEMO-VOYAGE-003</ceb:voyageNo>\n\t\t\t<ceb:billNo>DEMO-MAWB-0000003</ceb:billNo>") {
		t.Errorf("CEB603 lacks the transport fields:\n%s", s)
	}
	validate(t, xmllint(t), "export.xsd", "CEB603-transport", []byte(s))
}

// CEB621 writes "无" when a line has no bar code (没有条码填“无”), as CEB603
// does.
func TestImportInventoryBarCodeDefaultsToNone(t *testing.T) {
	d := build(t, fixtures[4].order(t))
	msgs, err := Render(d, testOptions(d))
	if err != nil {
		t.Fatal(err)
	}
	if s := messageOf(t, msgs, "CEB621"); strings.Count(s, "<ceb:barCode>无</ceb:barCode>") != len(d.Inventory.Lines) {
		t.Errorf("CEB621 lines without a bar code must say 无:\n%s", s)
	}
}

// The import order and inventory number their lines with at most 4 digits
// (gnum N4).
func TestImportLineNumberHasFourDigits(t *testing.T) {
	d := build(t, fixtures[4].order(t))
	opts := testOptions(d)
	d.Order.Lines[0].GNum, d.Inventory.Lines[0].GNum = 10000, 10000
	opts.Lines[10000] = opts.Lines[1]
	wantField(t, renderErr(t, d, opts), "CEB311 OrderList[10000].gnum", "more than 4 digits")
}

// Every code the order pipeline can declare is in the tables, and every
// entry either names the public copy it was checked against or is marked
// verify.
func TestCodeTablesCoverThePipelineAndCiteTheirSources(t *testing.T) {
	for _, iso := range []string{"CNY", "USD", "EUR", "GBP", "AUD", "CAD", "JPY", "SGD", "NZD"} { // shared/customs/rules currencies
		if _, err := CurrencyCode("f", iso); err != nil {
			t.Error(err)
		}
	}
	for _, iso := range []string{"CN", "US", "DE", "FR", "IT", "NL", "ES", "GB", "AU", "CA", "JP", "SG", "NZ"} { // rule territories
		if _, err := CountryCode("f", iso); err != nil {
			t.Error(err)
		}
	}
	for name, tab := range map[string]*CodeTable{"currencies": Currencies(), "countries": Countries(), "units": Units()} {
		for k, e := range tab.Entries {
			if !e.Verify && !strings.HasPrefix(e.Source, "https://github.com/") {
				t.Errorf("%s %s is not marked verify and names no public copy (source %q)", name, k, e.Source)
			}
		}
	}
	for u, want := range map[string]string{"台": "001", "千克": "035", " KG ": "035", "bottle": "142", "036": "036"} {
		if got, err := UnitCode("f", u); err != nil || got != want {
			t.Errorf("unit %q = %q, %v; want %s", u, got, err, want)
		}
	}
}

// A 9710 consignment declared on a customs declaration form (over ¥5,000)
// sends its order, payment and waybill, and no inventory list.
func TestDeclarationFormLeavesOutTheInventoryList(t *testing.T) {
	d := build(t, fixtures[1].order(t))
	if d.Mode != chinacustoms.Mode9710 {
		t.Fatalf("fixture mode %s", d.Mode)
	}
	d.DeclarationForm = true
	msgs, err := Render(d, testOptions(d))
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, m := range msgs {
		types = append(types, m.Type)
	}
	if strings.Join(types, ",") != "CEB303,CEB403,CEB505" {
		t.Fatalf("messages %v", types)
	}
}
