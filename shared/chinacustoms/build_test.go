package chinacustoms

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func TestBuild(t *testing.T) {
	for _, tc := range []struct {
		name      string
		order     func(*testing.T) *order.Order
		dir       Direction
		mode      Mode
		orderType string
		ieFlag    string
		currency  string
		goods     int64 // minor units
		paid      int64
		gcodes    []string
		country   string // the inventory's
		gross     int64
		// incomplete entries that must be there, and ones that must not
		incomplete, complete []string
	}{
		{
			name: "9610 export of a China-made B2C parcel", order: export9610,
			dir: Export, mode: Mode9610, orderType: "E", ieFlag: "E", currency: "EUR",
			goods: 2*1299 + 1999, paid: 2*1299 + 1999 + 499,
			gcodes: []string{"6912000000", "6109100011"}, country: "DE", gross: 2*350 + 180,
			incomplete: []string{"inventory.lines[*].qty1", "inventory.lines[*].unit1"},
			complete:   []string{"order.buyerIdNumber", "inventory.lines[1].gcode", "inventory.country"},
		},
		{
			name: "9710 B2B export", order: export9710,
			dir: Export, mode: Mode9710, orderType: "B", ieFlag: "E", currency: "USD",
			goods: 1250000, paid: 1275000, gcodes: []string{"8471300000"}, country: "US", gross: 16000,
		},
		{
			name: "9810 export through an overseas warehouse", order: export9810,
			dir: Export, mode: Mode9810, orderType: "W", ieFlag: "E", currency: "AUD",
			goods: 8900, paid: 8900, gcodes: []string{"9405200000"}, country: "AU", gross: 1200,
		},
		{
			name: "1210 bonded import into China", order: import1210,
			dir: Import, mode: Mode1210, orderType: "I", ieFlag: "I", currency: "CNY",
			goods: 2*32800 + 9900, paid: 2*32800 + 9900,
			gcodes: []string{"3304990099", "3304990000"}, country: "CN", gross: 2*120 + 200,
			incomplete: []string{"inventory.lines[*].itemRecordNo", "inventory.lines[2].gcode"},
			complete: []string{
				"order.buyerIdNumber", "payment.payerIdNumber", "inventory.buyerIdNumber",
				"inventory.lines[1].gcode", "inventory.country",
			},
		},
		{
			name: "9610 direct-purchase import into China", order: import9610,
			dir: Import, mode: Mode9610, orderType: "I", ieFlag: "I", currency: "CNY",
			goods: 3 * 25800, paid: 3*25800 + 3000, gcodes: []string{"1901101000"}, gross: 3300,
			incomplete: []string{"inventory.country"},
			complete:   []string{"order.buyerIdNumber", "payment.payerIdNumber", "inventory.buyerIdNumber", "inventory.lines[*].itemRecordNo"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.order(t)
			d := mustBuild(t, o)
			if d.Direction != tc.dir || d.Mode != tc.mode || d.OrderType != tc.orderType || d.Order.OrderType != tc.orderType {
				t.Errorf("direction, mode, orderType = %s, %s, %s/%s; want %s, %s, %s",
					d.Direction, d.Mode, d.OrderType, d.Order.OrderType, tc.dir, tc.mode, tc.orderType)
			}
			inv := d.Inventory
			if inv.TradeMode != tc.mode || inv.IEFlag != tc.ieFlag || inv.Country != tc.country {
				t.Errorf("inventory tradeMode, ieFlag, country = %s, %s, %q; want %s, %s, %q",
					inv.TradeMode, inv.IEFlag, inv.Country, tc.mode, tc.ieFlag, tc.country)
			}
			for _, no := range []string{d.Order.OrderNo, d.Payment.OrderNo, d.Waybill.OrderNo, inv.OrderNo, inv.CopNo} {
				if no != o.ID {
					t.Errorf("order number %q, want the order id %q", no, o.ID)
				}
			}
			if inv.PreNo != "" || inv.InvtNo != "" {
				t.Errorf("preNo, invtNo = %q, %q; want both empty until assigned", inv.PreNo, inv.InvtNo)
			}
			want := func(what string, got money.Money, amount int64) {
				if got != money.New(amount, tc.currency) {
					t.Errorf("%s = %v, want %v", what, got, money.New(amount, tc.currency))
				}
			}
			want("goodsValue", d.Order.GoodsValue, tc.goods)
			want("acturalPaid", d.Order.ActualPaid, tc.paid)
			want("payment amount", d.Payment.AmountPaid, tc.paid)
			if d.Payment.TransactionID != "ch_"+o.ID || d.Payment.PaidAt != testPaidAt {
				t.Errorf("payment transaction, time = %q, %v; want the order's charge", d.Payment.TransactionID, d.Payment.PaidAt)
			}
			p := DemoParties()
			if d.Order.Platform != p.Platform || d.Payment.Company != p.Payment || d.Waybill.Logistics != p.Logistics ||
				inv.Agent != p.Agent || inv.CustomsCode != p.CustomsCode || inv.PortCode != p.PortCode {
				t.Error("the enterprises and customs codes are not the configured ones")
			}
			var gcodes []string
			for i, l := range inv.Lines {
				gcodes = append(gcodes, l.GCode)
				if l.GNum != i+1 || l.Unit != UnitPiece || l.Qty != o.Lines[i].Quantity {
					t.Errorf("inventory line %d: gnum %d, unit %q, qty %d", i, l.GNum, l.Unit, l.Qty)
				}
				if d.Order.Lines[i].HSCode != l.GCode {
					t.Errorf("order line %d HS code %q, inventory %q", i, d.Order.Lines[i].HSCode, l.GCode)
				}
			}
			if !slices.Equal(gcodes, tc.gcodes) {
				t.Errorf("gcodes = %v, want %v", gcodes, tc.gcodes)
			}
			if d.Waybill.GrossWeightGrams != tc.gross || inv.GrossWeightGrams != tc.gross || inv.NetWeightGrams != tc.gross {
				t.Errorf("weights: waybill gross %d, inventory gross %d, net %d; want %d (derived from the lines)",
					d.Waybill.GrossWeightGrams, inv.GrossWeightGrams, inv.NetWeightGrams, tc.gross)
			}
			if d.Waybill.PackNo != 1 || inv.PackNo != 1 {
				t.Errorf("packNo = %d, %d; want 1", d.Waybill.PackNo, inv.PackNo)
			}
			if tc.dir == Import && (d.Order.BuyerIDType != IDTypeIdentityCard || d.Payment.PayerIDType != IDTypeIdentityCard ||
				d.Inventory.BuyerIDType != IDTypeIdentityCard || d.Order.BuyerIDNumber != testIDNumber ||
				d.Payment.PayerIDNumber != testIDNumber || d.Inventory.BuyerIDNumber != testIDNumber) {
				t.Error("an import's identity type must be 1 and its numbers the buyer's, in the order, the payment and the inventory")
			}
			if tc.dir == Export && (d.Order.BuyerIDType != "" || d.Order.BuyerIDNumber != "" || d.Payment.PayerIDNumber != "" || d.Inventory.BuyerIDNumber != "") {
				t.Error("an export declares no identity")
			}
			for _, f := range tc.incomplete {
				if !slices.Contains(d.Incomplete, f) {
					t.Errorf("Incomplete %v lacks %s", d.Incomplete, f)
				}
			}
			for _, f := range tc.complete {
				if slices.Contains(d.Incomplete, f) {
					t.Errorf("Incomplete %v lists %s", d.Incomplete, f)
				}
			}
			if d.FullTax {
				t.Error("FullTax set below the retail-import limit")
			}
		})
	}
}

func TestBuildImportConvertsToRenminbi(t *testing.T) {
	// 1.01 EUR × 3 + 2.00 EUR shipping at 7.1234: the parts round to
	// 7.19 × 3 = 21.57 and 14.25, 35.82 CNY, while 5.03 EUR converted as a
	// whole would be 35.83. The payment record must carry 35.82.
	o := newOrder(t, "ORD-EUR-IMPORT", order.TradeB2C, order.FulfilDirectMail, "EUR", "CN", 200,
		line("CHEESE", "0406900000", 3, 101, "EUR", "FR", 250))

	if _, err := Build(o, paidNow(), waybillFor("WB0001"), DemoParties(), testNow); !errors.Is(err, ErrNoRenminbiConversion) {
		t.Fatalf("Build without a conversion = %v, want ErrNoRenminbiConversion", err)
	}

	for name, conv := range map[string]Converter{
		"function": perTenThousand(71234),
		"rate":     mustRate(t, "EUR", "7.1234"),
	} {
		pay := paidNow()
		pay.ToCNY = conv
		d, err := Build(o, pay, waybillFor("WB0001"), DemoParties(), testNow)
		if err != nil {
			t.Fatalf("%s: Build: %v", name, err)
		}
		cny := func(a int64) money.Money { return money.New(a, "CNY") }
		if d.SourceCurrency != "EUR" || d.Order.Currency != "CNY" || d.Payment.Currency != "CNY" || d.Inventory.Currency != "CNY" {
			t.Errorf("%s: currencies %s → %s, %s, %s; want EUR → CNY", name, d.SourceCurrency, d.Order.Currency, d.Payment.Currency, d.Inventory.Currency)
		}
		if l := d.Order.Lines[0]; l.Price != cny(719) || l.TotalPrice != cny(2157) {
			t.Errorf("%s: line price %v, total %v; want 7.19 and 21.57 CNY", name, l.Price, l.TotalPrice)
		}
		if d.Order.Freight != cny(1425) || d.Order.ActualPaid != cny(3582) || d.Payment.AmountPaid != cny(3582) {
			t.Errorf("%s: freight %v, acturalPaid %v, amountPaid %v; want 14.25, 35.82, 35.82 CNY",
				name, d.Order.Freight, d.Order.ActualPaid, d.Payment.AmountPaid)
		}
		if d.Waybill.Freight != cny(1425) || d.Inventory.Freight != cny(1425) {
			t.Errorf("%s: waybill and inventory freight %v, %v; want 14.25 CNY", name, d.Waybill.Freight, d.Inventory.Freight)
		}
	}
}

func TestRateConverter(t *testing.T) {
	for _, tc := range []struct {
		from, rate string
		in         money.Money
		want       money.Money
	}{
		{"EUR", "7.8125", money.New(100, "EUR"), money.New(781, "CNY")},   // 7.8125 → 7.81
		{"EUR", "7.8150", money.New(100, "EUR"), money.New(782, "CNY")},   // half away from zero
		{"EUR", "7.8150", money.New(-100, "EUR"), money.New(-782, "CNY")}, // refunds too
		{"JPY", "0.0478", money.New(1000, "JPY"), money.New(4780, "CNY")}, // 1000 yen = 47.80 CNY
		{"KWD", "23.5", money.New(1250, "KWD"), money.New(2938, "CNY")},   // 1.250 KWD = 29.375 → 29.38
	} {
		conv := mustRate(t, tc.from, tc.rate)
		got, err := conv(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%s at %s: %v → %v, %v; want %v", tc.from, tc.rate, tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []struct{ from, rate string }{{"EUR", ""}, {"EUR", "0"}, {"EUR", "-7"}, {"EUR", "7,8"}, {"EUR", "1/3"}, {"EUR", "1e3"}, {"XXX", "1"}} {
		if _, err := RateConverter(bad.from, bad.rate); err == nil {
			t.Errorf("RateConverter(%q, %q) accepted", bad.from, bad.rate)
		}
	}
	conv := mustRate(t, "EUR", "7.8")
	if _, err := conv(money.New(1, "USD")); err == nil {
		t.Error("a EUR rate converted USD")
	}
}

func mustRate(t *testing.T, from, rate string) Converter {
	t.Helper()
	c, err := RateConverter(from, rate)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBuildInputs(t *testing.T) {
	t.Run("charge and tax from the order, waybill number from tracking", func(t *testing.T) {
		o := import9610(t)
		o.TrackingNumber = "TRACK-1"
		tax := money.New(1234, "CNY")
		o.Charge.Amount = money.New(o.Total.Amount+tax.Amount, "CNY")
		pay := paidNow()
		pay.Tax = &tax
		d, err := Build(o, pay, WaybillInput{GrossWeightGrams: 4000}, DemoParties(), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if d.Order.TaxTotal != tax || d.Order.ActualPaid != d.Payment.AmountPaid || d.Payment.AmountPaid != o.Charge.Amount {
			t.Errorf("taxTotal %v, acturalPaid %v, amountPaid %v; want tax in, all equal the charge %v",
				d.Order.TaxTotal, d.Order.ActualPaid, d.Payment.AmountPaid, o.Charge.Amount)
		}
		if d.Waybill.LogisticsNo != "TRACK-1" || d.Inventory.LogisticsNo != "TRACK-1" {
			t.Errorf("logisticsNo %q, %q; want the tracking number", d.Waybill.LogisticsNo, d.Inventory.LogisticsNo)
		}
		if d.Waybill.GrossWeightGrams != 4000 || d.Inventory.GrossWeightGrams != 4000 || d.Inventory.NetWeightGrams != 3300 {
			t.Errorf("gross %d/%d, net %d; want the given 4000 gross and 3300 net", d.Waybill.GrossWeightGrams, d.Inventory.GrossWeightGrams, d.Inventory.NetWeightGrams)
		}
	})
	t.Run("payment input without a charge on the order", func(t *testing.T) {
		o := export9610(t)
		o.Charge = nil
		amount := o.Total
		d, err := Build(o, PaymentInput{TransactionID: "pi_1", Amount: &amount, PaidAt: testPaidAt, PayerName: "Someone Else"}, waybillFor("WB1"), DemoParties(), testNow)
		if err != nil {
			t.Fatal(err)
		}
		if d.Payment.TransactionID != "pi_1" || d.Payment.AmountPaid != amount || d.Order.PayTransactionID != "pi_1" {
			t.Errorf("payment %q %v, order payTransactionId %q", d.Payment.TransactionID, d.Payment.AmountPaid, d.Order.PayTransactionID)
		}
	})

	for _, tc := range []struct {
		name   string
		change func(o *order.Order, pay *PaymentInput, ship *WaybillInput, p *Parties)
		want   error
	}{
		{"not China", func(o *order.Order, _ *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Lines[0].OriginCountry = "VN"
		}, ErrNotChinaCustoms},
		{"B2B import", func(o *order.Order, _ *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Consignee.Address.Country, o.TradeMode = "CN", order.TradeB2B
		}, ErrNotRetailImport},
		{"short HS code", func(o *order.Order, _ *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Lines[1].HSCode = "61091"
		}, ErrInvalidHSCode},
		{"no payment time", func(_ *order.Order, pay *PaymentInput, _ *WaybillInput, _ *Parties) {
			pay.PaidAt = time.Time{}
		}, ErrInvalidInput},
		{"voided charge", func(o *order.Order, _ *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Charge.Status = order.ChargeVoided
		}, ErrInvalidInput},
		{"input contradicts the charge", func(_ *order.Order, pay *PaymentInput, _ *WaybillInput, _ *Parties) {
			pay.TransactionID = "ch_other"
		}, ErrInvalidInput},
		{"no charge, no payment input", func(o *order.Order, _ *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Charge = nil
		}, ErrInvalidInput},
		{"no waybill number", func(_ *order.Order, _ *PaymentInput, ship *WaybillInput, _ *Parties) {
			ship.LogisticsNo = ""
		}, ErrInvalidInput},
		{"waybill number too long for CEB505", func(_ *order.Order, _ *PaymentInput, ship *WaybillInput, _ *Parties) {
			ship.LogisticsNo = "WB0123456789012345678901234567890"
		}, ErrInvalidInput},
		{"invalid parties", func(_ *order.Order, _ *PaymentInput, _ *WaybillInput, p *Parties) {
			p.PortCode = ""
		}, ErrInvalidParties},
		{"payment of another amount", func(o *order.Order, pay *PaymentInput, _ *WaybillInput, _ *Parties) {
			o.Charge = nil
			short := money.New(o.Total.Amount-1, o.Currency)
			pay.TransactionID, pay.Amount = "pi_1", &short
		}, &MismatchError{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, pay, ship, p := export9610(t), paidNow(), waybillFor("WB1"), DemoParties()
			tc.change(o, &pay, &ship, &p)
			d, err := Build(o, pay, ship, p, testNow)
			if d != nil {
				t.Errorf("Build returned a declaration with error %v", err)
			}
			if me := (*MismatchError)(nil); errors.As(tc.want, &me) {
				if !errors.As(err, &me) || !slices.Equal(me.Fields(), []string{"amountPaid"}) {
					t.Errorf("Build = %v, want a MismatchError on amountPaid", err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Build = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestBuildImportLimits(t *testing.T) {
	t.Run("packNo", func(t *testing.T) {
		ship := waybillFor("WB1")
		ship.Packages = 2
		if _, err := Build(import9610(t), paidNow(), ship, DemoParties(), testNow); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("a two-parcel retail import: %v, want ErrInvalidInput", err)
		}
		if _, err := Build(export9610(t), paidNow(), ship, DemoParties(), testNow); err != nil {
			t.Errorf("a two-parcel export: %v", err)
		}
	})
}

func TestImportCopNoFitsAndKeepsTheRandomness(t *testing.T) {
	const ulid = "01KB0S2H7M9N4P6Q8R1T3V5W7X"
	if got := ImportCopNo(ulid); len(got) != 20 || got != ulid[6:] {
		t.Fatalf("ImportCopNo(%s) = %q, want the last 20 characters", ulid, got)
	}
	if got := ImportCopNo("ORD-9610-IMPORT"); got != "ORD-9610-IMPORT" {
		t.Fatalf("a short id is its own copNo, not %q", got)
	}
}

func TestRequireDeclarationForm(t *testing.T) {
	toCNY, err := RateConverter("EUR", "7.8")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mode  Mode
		dir   Direction
		value int64 // EUR cents
		conv  Converter
		want  bool
	}{
		{Mode9710, Export, 64102, toCNY, false}, // ¥4,999.96
		{Mode9710, Export, 64103, toCNY, true},  // ¥5,000.03
		{Mode9810, Export, 100000, toCNY, true},
		{Mode9810, Export, 100, nil, true}, // no rate: cannot tell
		{Mode9610, Export, 100000000, toCNY, false},
		{Mode1210, Import, 100000000, toCNY, false},
	} {
		d := &Declaration{Mode: tc.mode, Direction: tc.dir, Order: Order{GoodsValue: money.New(tc.value, "EUR")}}
		if err := RequireDeclarationForm(d, tc.conv); err != nil {
			t.Fatal(err)
		}
		if d.DeclarationForm != tc.want {
			t.Errorf("%s %s EUR %d: form %v, want %v", tc.mode, tc.dir, tc.value, d.DeclarationForm, tc.want)
		}
	}
	// Exactly ¥5,000 stays on the inventory list.
	d := &Declaration{Mode: Mode9710, Direction: Export, Order: Order{GoodsValue: money.New(500000, Renminbi)}}
	if _ = RequireDeclarationForm(d, toCNY); d.DeclarationForm {
		t.Error("¥5,000.00 needs the form")
	}
}
