package chinacustoms

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
)

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		name   string
		build  func(*testing.T) *Declaration
		change func(d *Declaration)
		fields []string // the mismatches Check must report, in order; nil: none
	}{
		{
			name:   "consistent export",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(*Declaration) {},
		},
		{
			name:   "names compared without case and spaces",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, import9610(t)) },
			change: func(d *Declaration) { d.Waybill.Consignee = "  consignee\u3000PERSON " },
		},
		{
			name:   "telephones compared by their digits",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, import9610(t)) },
			change: func(d *Declaration) { d.Waybill.ConsigneeTelephone = "+86 138-0000-0002" },
		},
		{
			name:   "payment amount differs from the order's total paid",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(d *Declaration) { d.Payment.AmountPaid.Amount-- },
			fields: []string{"amountPaid"},
		},
		{
			name:   "inventory line with another HS code",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(d *Declaration) { d.Inventory.Lines[1].GCode = "6110200000" },
			fields: []string{"lines[2].gcode"},
		},
		{
			name:   "payment for another order",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, import1210(t)) },
			change: func(d *Declaration) { d.Payment.OrderNo = "ORD-OTHER" },
			fields: []string{"orderNo"},
		},
		{
			name:   "consignee on the waybill is someone else",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(d *Declaration) { d.Waybill.Consignee = "Another Person" },
			fields: []string{"consignee"},
		},
		{
			name:   "payer is not the buyer on an import",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, import9610(t)) },
			change: func(d *Declaration) { d.Payment.PayerName = "Another Person" },
			fields: []string{"buyerName"},
		},
		{
			name:  "inventory quantity and total differ from the order",
			build: func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(d *Declaration) {
				l := &d.Inventory.Lines[0]
				l.Qty, l.TotalPrice.Amount = 3, 3*1299
			},
			fields: []string{"goodsValue", "lines[1].qty", "lines[1].totalPrice"},
		},
		{
			name:   "goods value is not the sum of the lines",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9710(t)) },
			change: func(d *Declaration) { d.Order.GoodsValue.Amount += 100; d.Order.ActualPaid.Amount += 100 },
			fields: []string{"goodsValue", "amountPaid"},
		},
		{
			name:   "inventory lacks a line",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, import1210(t)) },
			change: func(d *Declaration) { d.Inventory.Lines = d.Inventory.Lines[:1] },
			fields: []string{"goodsValue", "lines (count)", "lines[2].gnum"},
		},
		{
			name:   "payment in another currency",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9610(t)) },
			change: func(d *Declaration) { d.Payment.Currency, d.Payment.AmountPaid.Currency = "USD", "USD" },
			fields: []string{"currency", "amountPaid"},
		},
		{
			name:  "import documents not in renminbi",
			build: func(t *testing.T) *Declaration { return mustBuild(t, import9610(t)) },
			change: func(d *Declaration) {
				d.Waybill.Currency = "EUR"
			},
			fields: []string{"currency", "freight currency", "insuredFee currency"},
		},
		{
			name:   "waybill and inventory weigh differently",
			build:  func(t *testing.T) *Declaration { return mustBuild(t, export9810(t)) },
			change: func(d *Declaration) { d.Waybill.GrossWeightGrams = 1000 },
			fields: []string{"grossWeight", "netWeight"},
		},
		{
			name:  "several problems at once",
			build: func(t *testing.T) *Declaration { return mustBuild(t, import9610(t)) },
			change: func(d *Declaration) {
				d.Payment.AmountPaid.Amount += 1
				d.Inventory.OrderNo = "ORD-OTHER"
				d.Inventory.Lines[0].GCode = "1901109000"
				d.Waybill.Consignee = "Another Person"
				d.Inventory.LogisticsNo = "WB-OTHER"
			},
			fields: []string{"orderNo", "amountPaid", "lines[1].gcode", "logisticsNo", "consignee"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.build(t)
			tc.change(d)
			err := d.Check()
			if tc.fields == nil {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var me *MismatchError
			if !errors.As(err, &me) {
				t.Fatalf("Check = %v, want a *MismatchError", err)
			}
			if got := me.Fields(); !slices.Equal(got, tc.fields) {
				t.Errorf("mismatched fields %q, want %q\n%v", got, tc.fields, err)
			}
			if me.OrderNo != d.Order.OrderNo {
				t.Errorf("OrderNo %q, want %q", me.OrderNo, d.Order.OrderNo)
			}
		})
	}
}

func TestCheckSaysWhatEachDocumentSays(t *testing.T) {
	d := mustBuild(t, export9610(t))
	d.Payment.AmountPaid = money.New(1000, "EUR")
	d.Inventory.Lines[1].GCode = "6110200000"
	d.Payment.OrderNo = "ORD-OTHER"
	err := d.Check()
	var me *MismatchError
	if !errors.As(err, &me) {
		t.Fatalf("Check = %v", err)
	}
	want := map[string][]Said{
		"orderNo":        {{"order", `"ORD-9610-EXPORT"`}, {"payment", `"ORD-OTHER"`}, {"waybill", `"ORD-9610-EXPORT"`}, {"inventory", `"ORD-9610-EXPORT"`}},
		"amountPaid":     {{"order acturalPaid", "50.96 EUR"}, {"payment", "10.00 EUR"}},
		"lines[2].gcode": {{"order HS code", `"6109100011"`}, {"inventory", `"6110200000"`}},
	}
	for _, m := range me.Mismatches {
		if !slices.Equal(m.Said, want[m.Field]) {
			t.Errorf("%s: said %v, want %v", m.Field, m.Said, want[m.Field])
		}
		delete(want, m.Field)
	}
	if len(want) > 0 {
		t.Errorf("not reported: %v", want)
	}
	for _, s := range []string{"orderNo", "ORD-OTHER", "10.00 EUR", "50.96 EUR", "6110200000"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestRetailImportLimit(t *testing.T) {
	for _, tc := range []struct {
		name      string
		goods     int64 // fen
		qty       int64
		lines     int
		fullTax   bool
		limit     bool  // a *LimitError
		exceeded  int64 // its Limit, fen
		bondedToo bool
	}{
		{name: "exactly ¥5,000 in two items", goods: 5_000_00, qty: 1, lines: 2},
		{name: "exactly ¥5,000 in one item", goods: 5_000_00, qty: 1, lines: 1},
		{name: "one fen over, two lines", goods: 5_000_01, qty: 1, lines: 2, limit: true, exceeded: 5_000_00},
		{name: "one fen over, two units of one line", goods: 5_000_02, qty: 2, lines: 1, limit: true, exceeded: 5_000_00},
		{name: "one fen over, a single item: taxed in full", goods: 5_000_01, qty: 1, lines: 1, fullTax: true},
		{name: "a single item at the annual limit", goods: 26_000_00, qty: 1, lines: 1, fullTax: true},
		{name: "a single item over the annual limit", goods: 26_000_01, qty: 1, lines: 1, limit: true, exceeded: 26_000_00},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := importOfValue(t, tc.goods, tc.qty, tc.lines)
			d, err := Build(o, paidNow(), waybillFor("WB1"), DemoParties(), testNow)
			if !tc.limit {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if d.Order.GoodsValue != money.New(tc.goods, "CNY") || d.FullTax != tc.fullTax {
					t.Errorf("goods %v, FullTax %v; want %d fen, %v", d.Order.GoodsValue, d.FullTax, tc.goods, tc.fullTax)
				}
				return
			}
			var le *LimitError
			if !errors.Is(err, ErrOverRetailLimit) || !errors.As(err, &le) {
				t.Fatalf("Build = %v, want a *LimitError", err)
			}
			if le.GoodsValue != money.New(tc.goods, "CNY") || le.Limit != money.New(tc.exceeded, "CNY") || le.Items != tc.qty*int64(tc.lines) {
				t.Errorf("LimitError %+v", le)
			}
			if errors.As(err, new(*MismatchError)) {
				t.Errorf("the limit is not a document mismatch: %v", err)
			}
		})
	}

	t.Run("bonded imports too", func(t *testing.T) {
		o := importOfValue(t, 5_000_01, 1, 2)
		o.Fulfilment = "bonded_warehouse"
		if _, err := Build(o, paidNow(), waybillFor("WB1"), DemoParties(), testNow); !errors.Is(err, ErrOverRetailLimit) {
			t.Errorf("1210 over the limit: %v", err)
		}
	})
	t.Run("exports have no such limit", func(t *testing.T) {
		d := mustBuild(t, export9710(t)) // 12,500 USD
		if d.FullTax {
			t.Error("FullTax on an export")
		}
	})
	t.Run("limit and mismatches together", func(t *testing.T) {
		d := mustBuild(t, importOfValue(t, 5_000_00, 1, 2))
		d.Order.Lines[0].TotalPrice.Amount++
		d.Inventory.Lines[0].TotalPrice.Amount++
		d.Order.GoodsValue.Amount++
		err := d.Check()
		if !errors.Is(err, ErrOverRetailLimit) || !errors.As(err, new(*MismatchError)) {
			t.Errorf("Check = %v; want both the limit and the mismatches", err)
		}
	})
	t.Run("a FullTax flag against the rule", func(t *testing.T) {
		d := mustBuild(t, importOfValue(t, 5_000_01, 1, 1))
		d.FullTax = false
		var me *MismatchError
		if err := d.Check(); !errors.As(err, &me) || !slices.Equal(me.Fields(), []string{"fullTax"}) {
			t.Errorf("Check = %v, want a fullTax mismatch", err)
		}
	})
}

func TestPersonalDataStaysOut(t *testing.T) {
	o := import9610(t)
	secrets := []string{"Zhang Secretname", "+8613912345678", "88 Hidden Lane", "customer-secret"}
	o.Buyer.Name, o.Consignee.Name = secrets[0], secrets[0]
	o.Buyer.Phone, o.Consignee.Phone = secrets[1], secrets[1]
	o.Consignee.Address.Line1 = secrets[2]
	o.CustomerID = secrets[3]
	d := mustBuild(t, o)
	if string(d.Order.BuyerName) != secrets[0] || string(d.Waybill.ConsigneeTelephone) != secrets[1] {
		t.Fatal("the documents must carry the personal data, for the messages")
	}

	d.Waybill.Consignee = "Li Other"
	d.Payment.PayerName = "Li Other"
	err := d.Check()
	if err == nil {
		t.Fatal("Check found no mismatch")
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("declared", "declaration", d, "buyer", d.Order.BuyerName)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("declared", "declaration", d, "buyer", d.Order.BuyerName)
	printed := strings.Join([]string{
		err.Error(), d.String(), logged.String(),
		fmt.Sprintf("%v %+v %#v %s %q %x %d", *d, *d, *d, d.Order.BuyerName, d.Waybill.ConsigneeAddress, d.Order.BuyerRegNo, d.Order.ConsigneeTelephone),
		fmt.Sprint(d.Order, d.Payment, d.Waybill, d.Inventory),
	}, "\n")
	for _, s := range append(secrets, "Li Other") {
		if strings.Contains(printed, s) {
			t.Errorf("%q printed:\n%s", s, printed)
		}
	}
	if !strings.Contains(err.Error(), "consignee (order, waybill differ; personal data withheld)") {
		t.Errorf("error %q does not say which documents differ", err)
	}
}
