package customs

import (
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t.Add(10 * time.Hour)
}

// ln is an order line: HS code, unit price in minor units, quantity, origin.
func ln(hs string, unit, qty int64, origin string) order.Line {
	return order.Line{SKU: "SKU-" + hs, Title: "goods " + hs, HSCode: hs, Quantity: qty,
		UnitPrice: money.Money{Amount: unit}, LineTotal: money.Money{Amount: unit * qty}, WeightGrams: 100, OriginCountry: origin}
}

// cart builds a valid cart; amounts take the cart's currency.
func cart(dest, cur, date string, tm order.TradeMode, shipping int64, lines ...order.Line) Cart {
	for i := range lines {
		lines[i].UnitPrice.Currency, lines[i].LineTotal.Currency = cur, cur
	}
	return Cart{Destination: dest, Currency: cur, Date: day(date), TradeMode: tm, Incoterm: order.IncotermDDP,
		Shipping: money.New(shipping, cur), Insurance: money.New(0, cur), Lines: lines}
}

func with(c Cart, f func(*Cart)) Cart { f(&c); return c }

// fromUS is c shipped from the United States (by courier unless changed).
func fromUS(c Cart) Cart { c.ShipFrom = "US"; return c }

// expect is what a worked example must come to, in minor units of the cart
// currency. A nil pointer is not checked.
type expect struct {
	duty, tax, fees, landed int64
	collection              Collection
	dutyRelief              *bool
	taxRelief               *bool
	lineDuty                []int64
	hsLevel                 []int
	atCheckout, onDelivery  *int64
	estimate                bool
	reason                  string // part of an estimate reason
	note                    string // part of a note
	rules                   []string
}

func yes() *bool         { b := true; return &b }
func no() *bool          { b := false; return &b }
func amt(n int64) *int64 { return &n }

// TestWorkedExamples: each case is worked by hand in its comment. Threshold
// edges are tested exactly at the threshold and one minor unit over it.
func TestWorkedExamples(t *testing.T) {
	e := Default()
	B2C, B2B, C2C := order.TradeB2C, order.TradeB2B, order.TradeC2C
	cases := []struct {
		name string
		cart Cart
		want expect
	}{
		// ---- United States: FOB, no federal VAT.
		{"US de minimis 2025-08-28 exactly $800: duty free",
			cart("US", "USD", "2025-08-28", B2C, 2000, ln("610910", 80000, 1, "VN")),
			expect{duty: 0, tax: 0, landed: 82000, collection: CollectionAtBorder, dutyRelief: yes(), rules: []string{"us.de-minimis-800", "us.valuation.fob"},
				estimate: true, reason: "IEEPA"}},
		{"US de minimis 2025-08-28 $800.01: 16.5 % of the FOB value 800.01 = 132.00165",
			cart("US", "USD", "2025-08-28", B2C, 2000, ln("610910", 80001, 1, "VN")),
			expect{duty: 13200, tax: 0, landed: 80001 + 2000 + 13200, dutyRelief: no(), hsLevel: []int{6}}},
		{"US 2025-08-29 de minimis suspended: $100 T-shirt pays 16.50",
			cart("US", "USD", "2025-08-29", B2C, 1000, ln("610910", 10000, 1, "VN")),
			expect{duty: 1650, landed: 10000 + 1000 + 1650, dutyRelief: no(), note: "suspended for all countries"}},
		{"US gift C2C exactly $100 after the suspension: still free",
			with(cart("US", "USD", "2025-09-15", C2C, 0, ln("610910", 10000, 1, "GB")), func(c *Cart) { c.Gift = true }),
			expect{duty: 0, landed: 10000, dutyRelief: yes(), rules: []string{"us.gift-100"}}},
		{"US gift C2C $100.01: 16.5 % = 16.501650",
			with(cart("US", "USD", "2025-09-15", C2C, 0, ln("610910", 10001, 1, "GB")), func(c *Cart) { c.Gift = true }),
			expect{duty: 1650, landed: 10001 + 1650, dutyRelief: no()}},
		{"US C2C not declared a gift: no gift relief",
			cart("US", "USD", "2025-09-15", C2C, 0, ln("610910", 5000, 1, "GB")),
			expect{duty: 825, landed: 5825}},
		{"US HS fallback: 10-digit 6109100012 → HS6 610910; 8517130000 → HS4 8517 (free)",
			cart("US", "USD", "2026-11-30", B2C, 0, ln("6109100012", 2000, 2, "CN"), ln("8517130000", 50000, 1, "CN")),
			expect{duty: 660, lineDuty: []int64{660, 0}, hsLevel: []int{6, 4}, landed: 4000 + 50000 + 660}},

		// ---- European Union: CIF, import VAT on value + duty (+ flat duty).
		{"DE 2026-06-30 exactly €150 intrinsic: duty relief; VAT 19 % × (150 + 10 shipping) = 30.40",
			cart("DE", "EUR", "2026-06-30", B2C, 1000, ln("610910", 15000, 1, "CN")),
			expect{duty: 0, tax: 3040, landed: 15000 + 1000 + 3040, collection: CollectionAtBorder, dutyRelief: yes()}},
		{"DE 2026-06-30 €150.01: duty 12 % × CIF 160.01 = 19.2012; VAT 19 % × 179.2112 = 34.050128",
			cart("DE", "EUR", "2026-06-30", B2C, 1000, ln("610910", 15001, 1, "CN")),
			expect{duty: 1920, tax: 3405, landed: 15001 + 1000 + 1920 + 3405, dutyRelief: no(), hsLevel: []int{4}}},
		{"DE 2026-07-01 exactly €150: flat €3 per subheading replaces duty; VAT 19 % × (160 + 3) = 30.97",
			cart("DE", "EUR", "2026-07-01", B2C, 1000, ln("610910", 15000, 1, "CN")),
			expect{duty: 0, fees: 300, tax: 3097, landed: 15000 + 1000 + 300 + 3097, rules: []string{"eu.flat-duty-3"}, note: "ended on 2026-07-01"}},
		{"DE 2026-07-01 €150.01: no flat duty, ad valorem as before",
			cart("DE", "EUR", "2026-07-01", B2C, 1000, ln("610910", 15001, 1, "CN")),
			expect{duty: 1920, fees: 0, tax: 3405, landed: 15001 + 1000 + 1920 + 3405}},
		{"DE 2026-07-01 three lines, two distinct HS6 subheadings: €6",
			cart("DE", "EUR", "2026-07-01", B2C, 0, ln("610910", 2000, 1, "CN"), ln("6109100010", 1000, 2, "CN"), ln("851830", 3000, 1, "CN")),
			// VAT 19 % × (70 + 6) = 14.44
			expect{duty: 0, fees: 600, tax: 1444, landed: 7000 + 600 + 1444}},
		{"DE IOSS €100 + €5 shipping: VAT at checkout on the sale price, 19 % × 105 = 19.95",
			with(cart("DE", "EUR", "2026-06-30", B2C, 500, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.IOSSNumber = "IM2760000001" }),
			expect{duty: 0, tax: 1995, landed: 12495, collection: CollectionIOSS, atCheckout: amt(12495), onDelivery: amt(0)}},
		{"DE IOSS under DAP: the VAT is still collected at checkout, nothing on delivery",
			with(cart("DE", "EUR", "2026-06-30", B2C, 500, ln("610910", 10000, 1, "CN")), func(c *Cart) {
				c.IOSSNumber, c.Incoterm = "IM2760000001", order.IncotermDAP
			}),
			expect{tax: 1995, landed: 12495, collection: CollectionIOSS, atCheckout: amt(12495), onDelivery: amt(0)}},
		// Council Regulation (EU) 2026/382: the €3 duty from 2026-07-01 is a customs duty. At the border
		// it enters the import VAT base (Directive 2006/112/EC Art. 86(1)(a)); under IOSS the seller's
		// price includes it when the seller charges it (DDP), and VAT is on that price (Art. 78(a)).
		{"DE IOSS 2026-07-01 DDP €100 + €5 shipping: €3 duty charged at checkout; VAT 19 % × (105 + 3) = 20.52",
			with(cart("DE", "EUR", "2026-07-01", B2C, 500, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.IOSSNumber = "IM2760000001" }),
			expect{duty: 0, fees: 300, tax: 2052, landed: 10500 + 300 + 2052, collection: CollectionIOSS, atCheckout: amt(12852), onDelivery: amt(0)}},
		{"DE IOSS 2026-07-01 DAP: the buyer pays the €3 on delivery, outside the sale price; VAT 19 % × 105 = 19.95",
			with(cart("DE", "EUR", "2026-07-01", B2C, 500, ln("610910", 10000, 1, "CN")), func(c *Cart) {
				c.IOSSNumber, c.Incoterm = "IM2760000001", order.IncotermDAP
			}),
			expect{duty: 0, fees: 300, tax: 1995, landed: 10500 + 300 + 1995, collection: CollectionIOSS, atCheckout: amt(12495), onDelivery: amt(300)}},
		{"DE 2026-07-01 no IOSS, DAP: the €3 is in the import VAT base; VAT 19 % × (105 + 3) = 20.52 on delivery",
			with(cart("DE", "EUR", "2026-07-01", B2C, 500, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.Incoterm = order.IncotermDAP }),
			expect{duty: 0, fees: 300, tax: 2052, landed: 10500 + 300 + 2052, collection: CollectionAtBorder, atCheckout: amt(10500), onDelivery: amt(2352), note: "Nacherhebung"}},
		{"DE IOSS €150.01 is over the IOSS limit: VAT at the border",
			with(cart("DE", "EUR", "2026-06-30", B2C, 0, ln("610910", 15001, 1, "CN")), func(c *Cart) { c.IOSSNumber = "IM2760000001" }),
			// duty 12 % × 150.01 = 18.0012; VAT 19 % × 168.0112 = 31.922128
			expect{duty: 1800, tax: 3192, landed: 15001 + 1800 + 3192, collection: CollectionAtBorder}},
		{"DE DAP at the border: the buyer pays duty and VAT on delivery",
			with(cart("DE", "EUR", "2026-06-30", B2C, 1000, ln("610910", 15001, 1, "CN")), func(c *Cart) { c.Incoterm = order.IncotermDAP }),
			expect{duty: 1920, tax: 3405, landed: 21326, atCheckout: amt(16001), onDelivery: amt(1920 + 3405)}},
		{"FR VAT 20 %: duty 12 % × 200 = 24; VAT 20 % × 224 = 44.80",
			cart("FR", "EUR", "2026-06-30", B2C, 0, ln("610910", 20000, 1, "CN")),
			expect{duty: 2400, tax: 4480, landed: 26880, rules: []string{"eu.vat.fr"}}},
		{"IT VAT 22 %: 22 % × 224 = 49.28",
			cart("IT", "EUR", "2026-06-30", B2C, 0, ln("610910", 20000, 1, "CN")),
			expect{duty: 2400, tax: 4928, landed: 27328, rules: []string{"eu.vat.it"}}},
		{"NL VAT 21 %: 21 % × 224 = 47.04",
			cart("NL", "EUR", "2026-06-30", B2C, 0, ln("610910", 20000, 1, "CN")),
			expect{duty: 2400, tax: 4704, landed: 27104, rules: []string{"eu.vat.nl"}}},
		{"ES VAT 21 %, footwear 8 %: duty 8 % × 200 = 16; VAT 21 % × 216 = 45.36",
			cart("ES", "EUR", "2026-06-30", B2C, 0, ln("640399", 20000, 1, "VN")),
			expect{duty: 1600, tax: 4536, landed: 26136, rules: []string{"eu.vat.es", "eu.duty.6403"}}},
		{"DE gift C2C exactly €45: no duty, no VAT",
			with(cart("DE", "EUR", "2026-06-30", C2C, 0, ln("610910", 4500, 1, "US")), func(c *Cart) { c.Gift = true }),
			expect{duty: 0, tax: 0, landed: 4500, taxRelief: yes()}},
		{"DE gift C2C €45.01: VAT 19 % × 45.01 = 8.5519 (duty still relieved under €150)",
			with(cart("DE", "EUR", "2026-06-30", C2C, 0, ln("610910", 4501, 1, "US")), func(c *Cart) { c.Gift = true }),
			expect{duty: 0, tax: 855, landed: 5356, taxRelief: no(), dutyRelief: yes()}},
		{"DE perfume: no duty rate in the rules → estimate, never a silent zero",
			cart("DE", "EUR", "2026-06-30", B2C, 0, ln("330300", 5000, 1, "FR")),
			expect{duty: 0, tax: 950, landed: 5950, estimate: true, reason: "no EU duty rate for HS 330300", hsLevel: []int{0}}},

		// ---- United Kingdom: CIF; ≤ £135 VAT at the point of sale.
		{"GB exactly £135: VAT at the sale, 20 % × (135 + 5) = 28; no duty",
			cart("GB", "GBP", "2026-11-30", B2C, 500, ln("610910", 13500, 1, "CN")),
			expect{duty: 0, tax: 2800, landed: 16800, collection: CollectionPointOfSale, dutyRelief: yes()}},
		{"GB £135.01: at the border; duty 12 % × 140.01 = 16.8012; VAT 20 % × 156.8112 = 31.36224",
			cart("GB", "GBP", "2026-11-30", B2C, 500, ln("610910", 13501, 1, "CN")),
			expect{duty: 1680, tax: 3136, landed: 13501 + 500 + 1680 + 3136, collection: CollectionAtBorder, dutyRelief: no()}},
		{"GB £135 under DAP: point-of-sale VAT is charged at checkout",
			with(cart("GB", "GBP", "2026-11-30", B2C, 500, ln("610910", 13500, 1, "CN")), func(c *Cart) { c.Incoterm = order.IncotermDAP }),
			expect{tax: 2800, landed: 16800, atCheckout: amt(16800), onDelivery: amt(0)}},
		{"GB gift C2C exactly £39: no VAT",
			with(cart("GB", "GBP", "2026-11-30", C2C, 0, ln("610910", 3900, 1, "US")), func(c *Cart) { c.Gift = true }),
			expect{tax: 0, landed: 3900, taxRelief: yes()}},
		{"GB gift C2C £39.01: VAT 20 % = 7.802 at the border",
			with(cart("GB", "GBP", "2026-11-30", C2C, 0, ln("610910", 3901, 1, "US")), func(c *Cart) { c.Gift = true }),
			expect{tax: 780, landed: 4681, taxRelief: no(), collection: CollectionAtBorder}},

		// ---- Australia: FOB; GST on value + duty + freight; ≤ A$1,000 GST at the sale.
		{"AU exactly A$1,000: GST at the sale 10 % × 1,020 = 102; no duty",
			cart("AU", "AUD", "2026-11-30", B2C, 2000, ln("610910", 100000, 1, "CN")),
			expect{duty: 0, tax: 10200, landed: 112200, collection: CollectionPointOfSale}},
		{"AU A$1,000.01: duty 5 % × 1000.01 = 50.0005; GST 10 % × (1000.01 + 50.0005 + 20) = 107.00105",
			cart("AU", "AUD", "2026-11-30", B2C, 2000, ln("610910", 100001, 1, "CN")),
			expect{duty: 5000, tax: 10700, landed: 100001 + 2000 + 5000 + 10700, collection: CollectionAtBorder, hsLevel: []int{2}, note: "import processing charge"}},

		// ---- Canada: FOB; CUSMA courier thresholds by where the parcel ships from; GST or HST by province.
		// CBSA Customs Notice 20-18, paragraph 2: courier shipments from the US or Mexico are duty-free
		// up to C$150 and tax-free up to C$40; post from the US or Mexico and anything from elsewhere
		// keep the C$20 remission (Postal / Courier Imports Remission Orders).
		{"CA shipped from the US exactly C$150: duty free under CUSMA; GST 5 % × 150 = 7.50",
			fromUS(cart("CA", "CAD", "2026-11-30", B2C, 1000, ln("610910", 15000, 1, "US"))),
			expect{duty: 0, tax: 750, landed: 15000 + 1000 + 750, dutyRelief: yes(), rules: []string{"ca.cusma-courier-duty-150"}}},
		{"CA shipped from the US C$150.01: duty 18 % = 27.0018; GST 5 % × 177.0118 = 8.85059",
			fromUS(cart("CA", "CAD", "2026-11-30", B2C, 1000, ln("610910", 15001, 1, "US"))),
			expect{duty: 2700, tax: 885, landed: 15001 + 1000 + 2700 + 885, dutyRelief: no()}},
		{"CA shipped from the US exactly C$40: no duty, no GST",
			fromUS(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 4000, 1, "US"))),
			expect{duty: 0, tax: 0, landed: 4000, taxRelief: yes()}},
		{"CA shipped from the US C$40.01: GST 5 % = 2.0005",
			fromUS(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 4001, 1, "US"))),
			expect{duty: 0, tax: 200, landed: 4201}},
		{"CA C$120 of China-origin goods by courier from the US (CN 20-18: keyed on where it ships from, not origin): duty free; GST 5 % × 120 = 6",
			fromUS(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 12000, 1, "CN"))),
			expect{duty: 0, tax: 600, landed: 12600, dutyRelief: yes(), taxRelief: no(), rules: []string{"ca.cusma-courier-duty-150"}, note: "entered US or Mexican commerce"}},
		{"CA the same C$120 shipped from China: only the C$20 rule; duty 18 % = 21.60; GST 5 % × 141.60 = 7.08",
			with(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 12000, 1, "CN")), func(c *Cart) { c.ShipFrom = "CN" }),
			expect{duty: 2160, tax: 708, landed: 12000 + 2160 + 708, dutyRelief: no(), rules: []string{"ca.low-value-20"}}},
		{"CA the same C$120 by post from the US: no courier relief; duty 21.60; GST 7.08",
			with(fromUS(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 12000, 1, "CN"))), func(c *Cart) { c.Carrier = order.CarrierPost }),
			expect{duty: 2160, tax: 708, landed: 12000 + 2160 + 708, dutyRelief: no()}},
		{"CA US-origin goods with no ship-from: CUSMA courier relief not given",
			cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 12000, 1, "US")),
			expect{duty: 2160, tax: 708, landed: 12000 + 2160 + 708, dutyRelief: no()}},
		{"CA by post from the US exactly C$20: the postal C$20 remission applies",
			with(fromUS(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 2000, 1, "CN"))), func(c *Cart) { c.Carrier = order.CarrierPost }),
			expect{duty: 0, tax: 0, landed: 2000, rules: []string{"ca.low-value-20"}}},
		{"CA CN origin exactly C$20: nothing due",
			cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 2000, 1, "CN")),
			expect{duty: 0, tax: 0, landed: 2000}},
		{"CA CN origin C$20.01: duty 18 % = 3.6018; GST 5 % × 23.6118 = 1.18059",
			cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 2001, 1, "CN")),
			expect{duty: 360, tax: 118, landed: 2479}},
		{"CA Ontario: HST 13 % × (100 + 18) = 15.34",
			with(cart("CA", "CAD", "2026-11-30", B2C, 0, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.Region = "on" }),
			expect{duty: 1800, tax: 1534, landed: 13334, rules: []string{"ca.hst.on"}}},
		{"CA Nova Scotia before 2025-04-01: HST 15 % × 118 = 17.70",
			with(cart("CA", "CAD", "2025-03-31", B2C, 0, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.Region = "NS" }),
			expect{duty: 1800, tax: 1770, landed: 13570, rules: []string{"ca.hst.ns.15"}}},
		{"CA Nova Scotia from 2025-04-01: HST 14 % × 118 = 16.52",
			with(cart("CA", "CAD", "2025-04-01", B2C, 0, ln("610910", 10000, 1, "CN")), func(c *Cart) { c.Region = "NS" }),
			expect{duty: 1800, tax: 1652, landed: 13452, rules: []string{"ca.hst.ns"}}},

		// ---- Japan: CIF, personal-use goods at 60 %; ≤ ¥10,000 exempt; yen have no minor unit.
		{"JP toy ¥16,000 + ¥400 shipping: dutiable 0.6 × 16,000 + 400 = ¥10,000 exactly: exempt",
			cart("JP", "JPY", "2026-11-30", B2C, 400, ln("950300", 16000, 1, "CN")),
			expect{duty: 0, tax: 0, landed: 16400, dutyRelief: yes()}},
		{"JP toy, ¥401 shipping: dutiable ¥10,001 → base ¥10,000 × 7.8 % = 780 → ¥700; local 700 × 22/78 = 197 → ¥100",
			cart("JP", "JPY", "2026-11-30", B2C, 401, ln("950300", 16000, 1, "CN")),
			expect{duty: 0, tax: 800, landed: 17201, dutyRelief: no(), rules: []string{"jp.rounding.consumption-tax", "jp.consumption-tax.local"}}},
		{"JP leather handbag ¥5,000: excluded from the exemption; duty 10 % × 3,000 = ¥300; tax base 3,300 → 3,000 × 7.8 % = 234 → ¥200; local 200 × 22/78 = 56 → ¥0",
			cart("JP", "JPY", "2026-11-30", B2C, 0, ln("420221", 5000, 1, "IT")),
			expect{duty: 300, tax: 200, landed: 5500, rules: []string{"jp.rounding.duty"}}},
		{"JP B2B: no 60 % valuation; computers free; tax 10 % × 200,000",
			cart("JP", "JPY", "2026-11-30", B2B, 0, ln("847130", 200000, 1, "CN")),
			expect{duty: 0, tax: 20000, landed: 220000, rules: []string{"jp.valuation.cif"}}},
		{"JP from 2028-04-01 the exemption covers duty only: 7.8 % × (0.6 × 10,000) = 468 → ¥400; local 400 × 22/78 = 112 → ¥100",
			cart("JP", "JPY", "2028-04-01", B2C, 0, ln("950300", 10000, 1, "CN")),
			expect{duty: 0, tax: 500, landed: 10500, rules: []string{"jp.small-value-10000-from-2028"}}},
		{"EUR cart to JP on 2028-04-01: the last rate is from 2026-11-30 → estimate",
			cart("JP", "EUR", "2028-04-01", B2C, 0, ln("950300", 6000, 1, "CN")),
			// €60 = ¥10,752 × 0.6 = ¥6,451.2 → base ¥6,000: national ¥400, local ¥100; ¥500 ÷ 179.20 = €2.79
			expect{duty: 0, tax: 279, landed: 6279, estimate: true, reason: "days before the order date"}},

		// ---- Singapore: no duty on these goods; GST at the sale ≤ S$400.
		{"SG exactly S$400: GST at the sale 9 % × 410 = 36.90",
			cart("SG", "SGD", "2026-11-30", B2C, 1000, ln("851830", 40000, 1, "CN")),
			expect{duty: 0, tax: 3690, landed: 44690, collection: CollectionPointOfSale}},
		{"SG S$400.01: at the border, GST 9 % × CIF 410.01 = 36.9009",
			cart("SG", "SGD", "2026-11-30", B2C, 1000, ln("851830", 40001, 1, "CN")),
			expect{duty: 0, tax: 3690, landed: 44691, collection: CollectionAtBorder, hsLevel: []int{2}}},
		{"SG 2023: GST 8 % × 410 = 32.80",
			cart("SG", "SGD", "2023-06-01", B2C, 1000, ln("851830", 40000, 1, "CN")),
			expect{tax: 3280, landed: 44280, rules: []string{"sg.gst.8"}}},

		// ---- New Zealand: FOB; ≤ NZ$1,000 GST at the sale.
		{"NZ exactly NZ$1,000: GST at the sale 15 % × 1,020 = 153",
			cart("NZ", "NZD", "2026-11-30", B2C, 2000, ln("610910", 100000, 1, "CN")),
			expect{duty: 0, tax: 15300, landed: 117300, collection: CollectionPointOfSale}},
		{"NZ NZ$1,000.01: duty 10 % = 100.001; GST 15 % × (1000.01 + 100.001 + 20) = 168.00165",
			cart("NZ", "NZD", "2026-11-30", B2C, 2000, ln("610910", 100001, 1, "CN")),
			expect{duty: 10000, tax: 16800, landed: 100001 + 2000 + 10000 + 16800, collection: CollectionAtBorder}},

		// ---- China, cross-border retail import: ≤ ¥5,000: no duty, VAT at 70 %.
		{"CN exactly ¥5,000 dutiable (4,950 + 50 freight): VAT 13 % × 70 % × 5,000 = 455",
			cart("CN", "CNY", "2026-11-30", B2C, 5000, ln("610910", 495000, 1, "JP")),
			expect{duty: 0, tax: 45500, landed: 545500, collection: CollectionPointOfSale, dutyRelief: yes(), note: "¥26,000"}},
		{"CN ¥5,000.01: full duty 6 % = 300.0006 and VAT 13 % × 5,300.0106 = 689.001378; estimate (single item only)",
			cart("CN", "CNY", "2026-11-30", B2C, 5000, ln("610910", 495001, 1, "JP")),
			expect{duty: 30000, tax: 68900, landed: 495001 + 5000 + 30000 + 68900, dutyRelief: no(), estimate: true, reason: "single item"}},
		{"CN cosmetics: consumption tax not computed → estimate",
			cart("CN", "CNY", "2026-11-30", B2C, 0, ln("330499", 20000, 1, "FR")),
			// VAT 13 % × 70 % × 200 = 18.20
			expect{duty: 0, tax: 1820, landed: 21820, estimate: true, reason: "consumption tax"}},

		// ---- Currency conversion: a USD cart into the EU, 2026-06-30 (1 EUR = 1.1640 USD).
		{"USD cart to DE: $174.60 is exactly €150.00: duty relief",
			cart("DE", "USD", "2026-06-30", B2C, 0, ln("610910", 17460, 1, "CN")),
			// VAT 19 % × 174.60 = 33.174
			expect{duty: 0, tax: 3317, landed: 17460 + 3317, dutyRelief: yes()}},
		{"USD cart to DE: $174.61 is €150.0086: duty 12 % = 20.9532; VAT 19 % × 195.5632 = 37.157008",
			cart("DE", "USD", "2026-06-30", B2C, 0, ln("610910", 17461, 1, "CN")),
			expect{duty: 2095, tax: 3716, landed: 17461 + 2095 + 3716, dutyRelief: no()}},
		{"EUR cart to JP 2026-11-30 (1 EUR = ¥179.20): €60 = ¥10,752 × 0.6 = ¥6,451.2: exempt",
			cart("JP", "EUR", "2026-11-30", B2C, 0, ln("950300", 6000, 1, "CN")),
			expect{duty: 0, tax: 0, landed: 6000, dutyRelief: yes()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cart
			if errs := e.ValidateCart(&c); errs != nil {
				t.Fatalf("cart is not valid: %+v", errs)
			}
			q, err := e.Quote(c)
			if err != nil {
				t.Fatal(err)
			}
			w := tc.want
			tot := q.Totals
			check := func(what string, got money.Money, want int64) {
				t.Helper()
				if got.Amount != want || got.Currency != c.Currency {
					t.Errorf("%s = %v, want %v", what, got, money.New(want, c.Currency))
				}
			}
			check("duty", tot.Duty, w.duty)
			check("tax", tot.Tax, w.tax)
			check("fees", tot.Fees, w.fees)
			check("landedTotal", tot.LandedTotal, w.landed)
			if w.collection != "" && q.Collection != w.collection {
				t.Errorf("collection = %s, want %s", q.Collection, w.collection)
			}
			if w.dutyRelief != nil && q.DutyRelief.Applied != *w.dutyRelief {
				t.Errorf("dutyRelief = %+v, want applied %v", q.DutyRelief, *w.dutyRelief)
			}
			if w.taxRelief != nil && q.TaxRelief.Applied != *w.taxRelief {
				t.Errorf("taxRelief = %+v, want applied %v", q.TaxRelief, *w.taxRelief)
			}
			for i, d := range w.lineDuty {
				check("line duty", q.Lines[i].Duty, d)
			}
			for i, lv := range w.hsLevel {
				if q.Lines[i].HSLevelUsed != lv {
					t.Errorf("line %d hsLevelUsed = %d, want %d", i, q.Lines[i].HSLevelUsed, lv)
				}
			}
			if w.atCheckout != nil {
				check("dueAtCheckout", q.DueAtCheckout, *w.atCheckout)
			}
			if w.onDelivery != nil {
				check("dueOnDelivery", q.DueOnDelivery, *w.onDelivery)
			}
			if q.Estimate != w.estimate && !(w.reason == "" && !w.estimate && q.Estimate && onlyKnownEstimates(q)) {
				t.Errorf("estimate = %v (%q), want %v", q.Estimate, q.EstimateReasons, w.estimate)
			}
			if w.reason != "" && !strings.Contains(strings.Join(q.EstimateReasons, "; "), w.reason) {
				t.Errorf("estimate reasons %q lack %q", q.EstimateReasons, w.reason)
			}
			if w.note != "" && !strings.Contains(strings.Join(q.Notes, "; ")+strings.Join(q.EstimateReasons, "; "), w.note) {
				t.Errorf("notes %q lack %q", q.Notes, w.note)
			}
			for _, id := range w.rules {
				if !usedRule(q, id) {
					t.Errorf("rules %v lack %s", ruleIDs(q), id)
				}
			}
			checkInvariants(t, c, q)
		})
	}
}

// onlyKnownEstimates: US quotes after 2025-04-05 are estimates because the
// additional duties by origin are not modelled; cases that are not about it
// do not restate it.
func onlyKnownEstimates(q *Quote) bool {
	for _, r := range q.EstimateReasons {
		if !strings.Contains(r, "IEEPA") {
			return false
		}
	}
	return true
}

func usedRule(q *Quote, id string) bool {
	for _, r := range q.Rules {
		if r.ID == id {
			return true
		}
	}
	return false
}

func ruleIDs(q *Quote) []string {
	var ids []string
	for _, r := range q.Rules {
		ids = append(ids, r.ID)
	}
	return ids
}

// checkInvariants: every quote adds up, in both currencies.
func checkInvariants(t *testing.T, c Cart, q *Quote) {
	t.Helper()
	tot := q.Totals
	var duty, tax, value, goods int64
	for i, l := range q.Lines {
		duty += l.Duty.Amount
		tax += l.Tax.Amount
		value += l.CustomsValue.Amount
		goods += c.Lines[i].LineTotal.Amount
		if l.Duty.Amount < 0 || l.Tax.Amount < 0 {
			t.Errorf("line %d has a negative amount: %+v", i, l)
		}
	}
	if duty != tot.Duty.Amount || tax != tot.Tax.Amount || value != tot.CustomsValue.Amount {
		t.Errorf("lines do not add up to the totals: duty %d/%d tax %d/%d value %d/%d", duty, tot.Duty.Amount, tax, tot.Tax.Amount, value, tot.CustomsValue.Amount)
	}
	if goods != tot.Goods.Amount {
		t.Errorf("goods = %d, lines hold %d", tot.Goods.Amount, goods)
	}
	fees := int64(0)
	for _, f := range q.Fees {
		fees += f.Amount.Amount
	}
	if fees != tot.Fees.Amount {
		t.Errorf("fees = %d, fee list holds %d", tot.Fees.Amount, fees)
	}
	want := tot.Goods.Amount + tot.Shipping.Amount + tot.Insurance.Amount + tot.Duty.Amount + tot.Tax.Amount + tot.Fees.Amount
	if tot.LandedTotal.Amount != want {
		t.Errorf("landedTotal = %d, its parts add up to %d", tot.LandedTotal.Amount, want)
	}
	if q.DueAtCheckout.Amount+q.DueOnDelivery.Amount != tot.LandedTotal.Amount {
		t.Errorf("due at checkout %d + on delivery %d ≠ landed total %d", q.DueAtCheckout.Amount, q.DueOnDelivery.Amount, tot.LandedTotal.Amount)
	}
	a := q.Assessment
	var ad, at, av int64
	for _, l := range a.Lines {
		ad, at, av = ad+l.Duty.Amount, at+l.Tax.Amount, av+l.CustomsValue.Amount
		if l.Duty.Currency != a.Currency {
			t.Errorf("assessment line in %s, assessment in %s", l.Duty.Currency, a.Currency)
		}
	}
	if ad != a.Duty.Amount || at != a.Tax.Amount || av != a.CustomsValue.Amount {
		t.Errorf("assessment lines do not add up: duty %d/%d tax %d/%d value %d/%d", ad, a.Duty.Amount, at, a.Tax.Amount, av, a.CustomsValue.Amount)
	}
	if len(q.Rules) == 0 {
		t.Error("a quote names no rules")
	}
	for _, r := range q.Rules {
		if r.Source == "" || r.From == "" {
			t.Errorf("rule %s lacks a source or a date", r.ID)
		}
	}
}
