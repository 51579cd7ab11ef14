package customs

import (
	"errors"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/order"
)

// TestRouteDecidesTheRegime: where a parcel ships from decides whether it
// crosses a border at all. Each case is worked by hand in its comment.
func TestRouteDecidesTheRegime(t *testing.T) {
	e := Default()
	from := func(shipFrom string, f order.Fulfilment) func(*Cart) {
		return func(c *Cart) { c.ShipFrom, c.Fulfilment = shipFrom, f }
	}
	for _, tc := range []struct {
		name       string
		cart       Cart
		regime     Regime
		collection Collection
		duty, tax  int64
		atCheckout int64
		onDelivery int64
		rules      []string
		absent     []string
		note       string
	}{
		{
			// A$100.00 of goods and A$10.00 shipping from the Sydney
			// warehouse to a Sydney shopper: a taxable supply in Australia,
			// GST 10 % of its value (GST Act s 9-70): A$11.00; no duty, no
			// import, the low-value import regime (Division 84) not in play.
			name:   "AU from the Sydney warehouse: domestic GST, no import",
			cart:   with(cart("AU", "AUD", "2026-12-01", order.TradeM2B2C, 1000, ln("851830", 10000, 1, "CN")), from("AU", order.FulfilOverseasWarehouse)),
			regime: RegimeDomestic, collection: CollectionDomestic, duty: 0, tax: 1100, atCheckout: 12100, onDelivery: 0,
			rules: []string{"au.domestic-supply", "au.gst"}, absent: []string{"au.lvig-1000", "au.low-value-1000"},
			note: "domestic taxable supply",
		},
		{
			// €80.00 of goods and €5.00 shipping from Frankfurt to Paris: an
			// intra-EU distance sale, French VAT 20 % on €85.00 = €17.00
			// through the OSS; no customs, so neither the €3 flat duty nor
			// German VAT.
			name:   "FR from the Frankfurt warehouse: French VAT through the OSS, no import",
			cart:   with(cart("FR", "EUR", "2026-12-01", order.TradeB2C, 500, ln("610910", 4000, 2, "CN")), from("DE", order.FulfilOverseasWarehouse)),
			regime: RegimeIntraEU, collection: CollectionOSS, duty: 0, tax: 1700, atCheckout: 10200, onDelivery: 0,
			rules: []string{"eu.intra-eu-distance-sale", "eu.vat.fr"}, absent: []string{"eu.vat.de", "eu.flat-duty-3", "eu.ioss-150"},
			note: "One-Stop Shop",
		},
		{
			// The same goods to a Berlin shopper: a domestic German supply,
			// 19 % of €85.00 = €16.15.
			name:   "DE from the Frankfurt warehouse: German VAT, domestic",
			cart:   with(cart("DE", "EUR", "2026-12-01", order.TradeB2C, 500, ln("610910", 4000, 2, "CN")), from("DE", order.FulfilOverseasWarehouse)),
			regime: RegimeDomestic, collection: CollectionDomestic, tax: 1615, atCheckout: 10115,
			rules: []string{"eu.domestic-supply", "eu.vat.de"},
		},
		{
			// The US has no VAT: a sale from the Los Angeles warehouse to a
			// US shopper carries none, and says sales tax is not computed.
			name:   "US from the Los Angeles warehouse: no VAT, sales tax not computed",
			cart:   with(cart("US", "USD", "2026-12-01", order.TradeB2C, 700, ln("851830", 5000, 1, "CN")), from("US", order.FulfilOverseasWarehouse)),
			regime: RegimeDomestic, collection: CollectionDomestic, atCheckout: 5700,
			rules: []string{"us.domestic-sale"}, note: "sales tax is not computed",
		},
		{
			// Under DAP a domestic supply still carries its tax at the sale:
			// nothing is due on delivery.
			name: "GB from the London warehouse under DAP: VAT at the sale",
			cart: with(cart("GB", "GBP", "2026-12-01", order.TradeB2C, 0, ln("851830", 20000, 1, "CN")), func(c *Cart) {
				c.ShipFrom, c.Incoterm = "GB", order.IncotermDAP
			}),
			regime: RegimeDomestic, collection: CollectionDomestic, tax: 4000, atCheckout: 24000, onDelivery: 0,
			rules: []string{"gb.domestic-supply", "gb.vat"},
		},
		{
			// ¥10,000 from a warehouse in Japan to a Japanese shopper: the
			// consumption tax of a domestic transfer, 7.8 % national (¥780)
			// and local consumption tax of 22/78 of it (¥220): ¥1,000, 10 %.
			name:   "JP from a warehouse in Japan: 7.8 % national and 22/78 of it local",
			cart:   with(cart("JP", "JPY", "2026-12-01", order.TradeB2C, 0, ln("950300", 10000, 1, "CN")), from("JP", order.FulfilOverseasWarehouse)),
			regime: RegimeDomestic, collection: CollectionDomestic, tax: 1000, atCheckout: 11000,
			rules: []string{"jp.domestic-supply", "jp.consumption-tax.national", "jp.consumption-tax.local"},
		},
		{
			// Out of the bonded warehouse in Ningbo to a Chinese shopper: an
			// import (1210) though it ships from China.
			name:   "CN from the bonded warehouse: an import",
			cart:   with(cart("CN", "CNY", "2026-12-01", order.TradeB2C, 0, ln("330499", 20000, 1, "JP")), from("CN", order.FulfilBondedWarehouse)),
			regime: RegimeImport, collection: CollectionPointOfSale, duty: -1, tax: -1, atCheckout: -1, onDelivery: -1,
		},
		{
			// Direct mail from China to Germany stays an import.
			name:   "DE by direct mail from China: an import, as before",
			cart:   with(cart("DE", "EUR", "2026-12-01", order.TradeB2C, 500, ln("610910", 4000, 2, "CN")), from("CN", order.FulfilDirectMail)),
			regime: RegimeImport, collection: CollectionIOSS, duty: -1, tax: -1, atCheckout: -1, onDelivery: -1,
			rules: []string{"eu.vat.de"}, absent: []string{"eu.domestic-supply", "eu.intra-eu-distance-sale"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.regime == RegimeImport && tc.cart.Destination == "DE" {
				tc.cart.IOSSNumber = "IM2760000001"
			}
			q, err := e.Quote(tc.cart)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, tc.cart, q)
			if q.Regime != tc.regime || q.Collection != tc.collection || q.Route.ShipFrom != tc.cart.ShipFrom {
				t.Fatalf("regime %s, collection %s, route %+v", q.Regime, q.Collection, q.Route)
			}
			for _, c := range []struct {
				name      string
				got, want int64
			}{{"duty", q.Totals.Duty.Amount, tc.duty}, {"tax", q.Totals.Tax.Amount, tc.tax},
				{"due at checkout", q.DueAtCheckout.Amount, tc.atCheckout}, {"due on delivery", q.DueOnDelivery.Amount, tc.onDelivery}} {
				if c.want >= 0 && c.got != c.want {
					t.Errorf("%s %d, want %d", c.name, c.got, c.want)
				}
			}
			if tc.regime != RegimeImport && (q.Totals.CustomsValue.Amount != 0 || q.Assessment.CustomsValue.Amount != 0 || len(q.Fees) != 0) {
				t.Errorf("no import, yet customs value %v, assessed %v, fees %v", q.Totals.CustomsValue, q.Assessment.CustomsValue, q.Fees)
			}
			for _, id := range tc.rules {
				if !usedRule(q, id) {
					t.Errorf("rule %s not applied: %v", id, ruleIDs(q))
				}
			}
			for _, id := range tc.absent {
				if usedRule(q, id) {
					t.Errorf("rule %s applied: %v", id, ruleIDs(q))
				}
			}
			if tc.note != "" && !strings.Contains(strings.Join(q.Notes, " "), tc.note) {
				t.Errorf("notes %q lack %q", q.Notes, tc.note)
			}
			if tc.regime != RegimeImport && !NoImport(q.Record(day("2026-12-01"))) {
				t.Error("the recorded assessment does not say no import is due")
			}
		})
	}
}

// TestRouteWithoutRules: a domestic sale in a territory whose rule file
// says nothing of one is refused by name, not priced as an import.
func TestRouteWithoutRules(t *testing.T) {
	c := with(cart("NZ", "NZD", "2026-12-01", order.TradeB2C, 0, ln("851830", 5000, 1, "CN")), func(c *Cart) { c.ShipFrom = "NZ" })
	if _, err := Default().Quote(c); !errors.Is(err, ErrUnsupportedRoute) {
		t.Fatalf("err %v, want ErrUnsupportedRoute", err)
	}
}

// TestCartHashCoversTheRoute: a quote for one route cannot be accepted by
// an order shipped another way.
func TestCartHashCoversTheRoute(t *testing.T) {
	c := cart("AU", "AUD", "2026-12-01", order.TradeB2C, 0, ln("851830", 5000, 1, "CN"))
	au := with(c, func(c *Cart) { c.ShipFrom = "AU" })
	if CartHash(c) == CartHash(au) || CartHash(au) == CartHash(with(au, func(c *Cart) { c.Carrier = order.CarrierPost })) {
		t.Fatal("the cart hash ignores the route")
	}
}
