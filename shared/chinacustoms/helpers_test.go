package chinacustoms

import (
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Fixtures: small orders built from Go values. Every one is checked with
// order.Validate, so that they stay orders the intake API would accept.

// testIDNumber is the identity number of the import fixtures' buyer: a
// fictitious, checksum-valid resident identity card number (region 110101,
// born 1990-03-07).
const testIDNumber = "110101199003070038"

var (
	testNow    = time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)
	testPaidAt = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
)

// line is a goods line: quantity × unit minor units of currency.
func line(sku, hs string, qty, unit int64, currency, origin string, grams int64) order.Line {
	return order.Line{
		SKU: sku, Title: "Item " + sku, HSCode: hs, Quantity: qty,
		UnitPrice: money.New(unit, currency), LineTotal: money.New(unit*qty, currency),
		WeightGrams: grams, OriginCountry: origin,
	}
}

// newOrder is an accepted order with an authorised charge of its total.
// shipping is in minor units of currency; 0 means free shipping. The buyer
// of a retail import into China gives her identity (testIDNumber), as
// intake requires.
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
		d.Buyer.Identity = &order.Identity{Type: order.IDTypeResidentCard, Number: testIDNumber}
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

// The fixtures of the build tests.

func export9610(t *testing.T) *order.Order { // B2C parcel from China to Germany
	return newOrder(t, "ORD-9610-EXPORT", order.TradeB2C, order.FulfilDirectMail, "EUR", "DE", 499,
		line("MUG-01", "691200", 2, 1299, "EUR", "CN", 350),
		line("TEE-02", "6109100011", 1, 1999, "EUR", "CN", 180))
}

func export9710(t *testing.T) *order.Order { // B2B supplier-direct to the United States
	return newOrder(t, "ORD-9710-EXPORT", order.TradeB2B, order.FulfilSupplierDirect, "USD", "US", 25000,
		line("LAPTOP-14", "8471300000", 10, 125000, "USD", "CN", 1600))
}

// export9810 is goods leaving China for the overseas warehouse in
// Australia: what ships under 9810 (a consumer order the warehouse serves
// ships from Australia and is not declared to China).
func export9810(t *testing.T) *order.Order {
	o := newOrder(t, "ORD-9810-EXPORT", order.TradeB2C, order.FulfilOverseasWarehouse, "AUD", "AU", 0,
		line("LAMP-03", "94052000", 1, 8900, "AUD", "CN", 1200))
	o.ShipFrom = "CN"
	return o
}

func import1210(t *testing.T) *order.Order { // bonded retail import, priced in renminbi
	return newOrder(t, "ORD-1210-IMPORT", order.TradeB2C, order.FulfilBondedWarehouse, "CNY", "CN", 0,
		line("CREAM-50", "3304990099", 2, 32800, "CNY", "JP", 120),
		line("MASK-10", "330499", 1, 9900, "CNY", "KR", 200))
}

func import9610(t *testing.T) *order.Order { // direct-purchase retail import, priced in renminbi
	return newOrder(t, "ORD-9610-IMPORT", order.TradeC2C, order.FulfilDirectMail, "CNY", "CN", 3000,
		line("FORMULA-900", "1901101000", 3, 25800, "CNY", "NL", 1100))
}

// importOfValue is a 9610 import into China whose goods value is exactly
// goods fen, in lines × quantity 1 (or one line of quantity qty).
func importOfValue(t *testing.T, goods int64, qty int64, lines int) *order.Order {
	t.Helper()
	var ls []order.Line
	switch {
	case lines > 1:
		per, rest := goods/int64(lines), goods%int64(lines)
		for i := range lines {
			unit := per
			if i == 0 {
				unit += rest
			}
			ls = append(ls, line("SKU-"+string(rune('A'+i)), "8517130000", 1, unit, "CNY", "US", 300))
		}
	default:
		if goods%qty != 0 {
			t.Fatalf("goods %d cannot be split into %d equal units", goods, qty)
		}
		ls = append(ls, line("PHONE", "8517130000", qty, goods/qty, "CNY", "US", 300))
	}
	return newOrder(t, "ORD-LIMIT", order.TradeB2C, order.FulfilDirectMail, "CNY", "CN", 2000, ls...)
}

func waybillFor(no string) WaybillInput { return WaybillInput{LogisticsNo: no} }

func paidNow() PaymentInput { return PaymentInput{PaidAt: testPaidAt} }

// mustBuild builds the declaration of o with the demo parties.
func mustBuild(t *testing.T, o *order.Order) *Declaration {
	t.Helper()
	d, err := Build(o, paidNow(), waybillFor("WB"+o.ID[4:8]+"0001"), DemoParties(), testNow)
	if err != nil {
		t.Fatalf("Build(%s): %v", o.ID, err)
	}
	return d
}

// perTenThousand converts into CNY at rate/10000, half away from zero, the
// way an FX converter would.
func perTenThousand(rate int64) Converter {
	return func(m money.Money) (money.Money, error) {
		v := m.Amount * rate
		q, r := v/10000, v%10000
		if 2*r >= 10000 {
			q++
		}
		return money.New(q, "CNY"), nil
	}
}
