package chinacustoms

import (
	"errors"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func TestSelectMode(t *testing.T) {
	const (
		b2b, b2c, c2c, m2b2c          = order.TradeB2B, order.TradeB2C, order.TradeC2C, order.TradeM2B2C
		overseas, mail, supplier      = order.FulfilOverseasWarehouse, order.FulfilDirectMail, order.FulfilSupplierDirect
		bonded                        = order.FulfilBondedWarehouse
		none                     Mode = ""
	)
	for _, tc := range []struct {
		dir  Direction
		tm   order.TradeMode
		f    order.Fulfilment
		want Mode
		err  error
	}{
		// Exports: every trade mode × fulfilment.
		{Export, b2c, mail, Mode9610, nil},
		{Export, b2c, supplier, Mode9610, nil},
		{Export, b2c, overseas, Mode9810, nil},
		{Export, b2c, bonded, Mode1210, nil},
		{Export, c2c, mail, Mode9610, nil},
		{Export, c2c, supplier, Mode9610, nil},
		{Export, c2c, overseas, Mode9810, nil},
		{Export, c2c, bonded, Mode1210, nil},
		{Export, b2b, mail, Mode9710, nil},
		{Export, b2b, supplier, Mode9710, nil},
		{Export, b2b, overseas, Mode9810, nil},
		{Export, b2b, bonded, Mode1210, nil},
		// An M2B2C parcel shipped from China is a retail parcel; 9810 is
		// the bulk shipment to the warehouse abroad.
		{Export, m2b2c, mail, Mode9610, nil},
		{Export, m2b2c, supplier, Mode9610, nil},
		{Export, m2b2c, overseas, Mode9810, nil},
		{Export, m2b2c, bonded, Mode1210, nil},
		// Imports into China.
		{Import, b2c, mail, Mode9610, nil},
		{Import, b2c, supplier, Mode9610, nil},
		{Import, b2c, overseas, Mode9610, nil},
		{Import, b2c, bonded, Mode1210, nil},
		{Import, c2c, mail, Mode9610, nil},
		{Import, c2c, supplier, Mode9610, nil},
		{Import, c2c, overseas, Mode9610, nil},
		{Import, c2c, bonded, Mode1210, nil},
		{Import, m2b2c, mail, Mode9610, nil},
		{Import, m2b2c, supplier, Mode9610, nil},
		{Import, m2b2c, overseas, Mode9610, nil},
		{Import, m2b2c, bonded, Mode1210, nil},
		{Import, b2b, mail, none, ErrNotRetailImport},
		{Import, b2b, supplier, none, ErrNotRetailImport},
		{Import, b2b, overseas, none, ErrNotRetailImport},
		{Import, b2b, bonded, none, ErrNotRetailImport},
		// Unsupported.
		{"transit", b2c, mail, none, ErrUnsupportedCombination},
		{"", b2c, mail, none, ErrUnsupportedCombination},
		{Export, "D2C", mail, none, ErrUnsupportedCombination},
		{Import, "", mail, none, ErrUnsupportedCombination},
		{Export, b2c, "drone", none, ErrUnsupportedCombination},
		{Import, b2c, "", none, ErrUnsupportedCombination},
	} {
		got, err := SelectMode(tc.dir, tc.tm, tc.f)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("SelectMode(%q, %q, %q) = %q, %v; want %q, %v", tc.dir, tc.tm, tc.f, got, err, tc.want, tc.err)
		}
		if err != nil && errors.Is(err, ErrUnsupportedCombination) {
			// The error names the combination.
			for _, part := range []string{string(tc.dir), string(tc.tm), string(tc.f)} {
				if part != "" && !strings.Contains(err.Error(), part) {
					t.Errorf("SelectMode(%q, %q, %q) error %q does not name %q", tc.dir, tc.tm, tc.f, err, part)
				}
			}
		}
	}
}

func TestOrderType(t *testing.T) {
	for m, want := range map[Mode]string{Mode9610: "E", Mode9710: "B", Mode9810: "W", Mode1210: "E", "0110": ""} {
		if got := m.OrderType(); got != want {
			t.Errorf("Mode(%q).OrderType() = %q, want %q", m, got, want)
		}
	}
}

func TestDirectionOf(t *testing.T) {
	withLines := func(dest string, origins ...string) *order.Order {
		o := &order.Order{}
		o.Consignee.Address.Country = dest
		for _, c := range origins {
			o.Lines = append(o.Lines, order.Line{OriginCountry: c, LineTotal: money.New(1, "EUR")})
		}
		return o
	}
	for _, tc := range []struct {
		name string
		o    *order.Order
		dir  Direction
		ok   bool
	}{
		{"into China", withLines("CN", "JP", "US"), Import, true},
		{"into China, whatever the origin", withLines("CN", "DE"), Import, true},
		{"from China", withLines("DE", "CN", "CN"), Export, true},
		{"mixed origins: not known to leave China", withLines("US", "CN", "VN"), "", false},
		{"neither end in China", withLines("US", "DE"), "", false},
		{"no lines, not into China", withLines("US"), "", false},
		{"nil order", nil, "", false},
	} {
		dir, ok := DirectionOf(tc.o)
		if dir != tc.dir || ok != tc.ok {
			t.Errorf("%s: DirectionOf = %q, %v; want %q, %v", tc.name, dir, ok, tc.dir, tc.ok)
		}
	}
}

func TestHSCode10(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		padded   bool
		err      bool
	}{
		{"6109100011", "6109100011", false, false},
		{"610910", "6109100000", true, false},
		{"94052000", "9405200000", true, false},
		{"6109.10.00", "6109100000", true, false},
		{"8471 30 0000", "8471300000", false, false},
		{"61091", "", false, true},
		{"", "", false, true},
		{"61091000111", "", false, true},
		{"6109AB", "", false, true},
	} {
		got, padded, err := HSCode10(tc.in)
		if got != tc.want || padded != tc.padded || (err != nil) != tc.err {
			t.Errorf("HSCode10(%q) = %q, %v, %v; want %q, %v, error %v", tc.in, got, padded, err, tc.want, tc.padded, tc.err)
		}
		if err != nil && !errors.Is(err, ErrInvalidHSCode) {
			t.Errorf("HSCode10(%q) error %v does not wrap ErrInvalidHSCode", tc.in, err)
		}
	}
}

func TestPartiesValidate(t *testing.T) {
	for _, m := range []Mode{Mode9610, Mode9710, Mode9810, Mode1210} {
		for _, dir := range []Direction{Export, Import} {
			if err := DemoParties().Validate(dir, m); err != nil {
				t.Errorf("DemoParties().Validate(%s, %s): %v", dir, m, err)
			}
		}
	}

	p := DemoParties()
	p.Platform.Code = NoPlatformCode
	if err := p.Validate(Export, Mode9610); err != nil {
		t.Errorf("an export platform without a Chinese code (无): %v", err)
	}
	if err := p.Validate(Import, Mode9610); err == nil {
		t.Error("an import platform without a code passed")
	}

	// Every problem at once.
	p = DemoParties()
	p.ECommerce.Code = "SHORT"
	p.Payment.Name = ""
	p.CustomsCode = "12A4"
	p.BondedAccountNo = ""
	err := p.Validate(Import, Mode1210)
	if !errors.Is(err, ErrInvalidParties) {
		t.Fatalf("Validate = %v, want ErrInvalidParties", err)
	}
	for _, want := range []string{"e-commerce enterprise code", "payment company name", "customs code", "emsNo"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error %q does not report %q", err, want)
		}
	}
	// 1210's bonded warehouse is not needed for other modes.
	if err := p.Validate(Import, Mode9610); err == nil || strings.Contains(err.Error(), "emsNo") {
		t.Errorf("Validate for 9610 = %v; want the other problems only", err)
	}
}

// TestConsumerOrdersFromAWarehouseAbroadAreNotChinas: an order served from
// an overseas warehouse ships from abroad — its goods left China with the
// warehouse's stock, declared then (9810) — so China's customs are sent
// nothing for it; the same goods mailed from China are an export (9610).
func TestConsumerOrdersFromAWarehouseAbroadAreNotChinas(t *testing.T) {
	o := &order.Order{}
	o.TradeMode, o.Fulfilment = order.TradeM2B2C, order.FulfilOverseasWarehouse
	o.Consignee.Address.Country = "AU"
	o.Lines = []order.Line{{SKU: "LAMP-03", OriginCountry: "CN"}}
	for _, shipFrom := range []string{"AU", ""} { // "": stored before routes
		o.ShipFrom = shipFrom
		if dir, ok := DirectionOf(o); ok {
			t.Errorf("served from the Sydney warehouse (shipFrom %q): %s to China's customs", shipFrom, dir)
		}
	}
	o.ShipFrom, o.Fulfilment = "CN", order.FulfilDirectMail
	dir, ok := DirectionOf(o)
	mode, err := SelectMode(dir, o.TradeMode, o.Fulfilment)
	if !ok || dir != Export || mode != Mode9610 || err != nil {
		t.Fatalf("mailed from China: %s %v %s %v, want an export under 9610", dir, ok, mode, err)
	}
	o.ShipFrom, o.Consignee.Address.Country = "CN", "CN"
	if _, ok := DirectionOf(o); ok {
		t.Error("a sale within China is neither an import nor an export")
	}
}

// TestBondedRetailImportsStayImports: goods out of a bonded warehouse in
// China to a Chinese shopper are imported as they leave it (1210), though
// they ship from China.
func TestBondedRetailImportsStayImports(t *testing.T) {
	o := &order.Order{}
	o.TradeMode, o.Fulfilment, o.ShipFrom = order.TradeB2C, order.FulfilBondedWarehouse, "CN"
	o.Consignee.Address.Country = "CN"
	dir, ok := DirectionOf(o)
	mode, err := SelectMode(dir, o.TradeMode, o.Fulfilment)
	if !ok || dir != Import || mode != Mode1210 || err != nil {
		t.Fatalf("%s %v %s %v, want an import under 1210", dir, ok, mode, err)
	}
}
