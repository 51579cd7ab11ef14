package customs

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/order"
)

// Regime says whether a parcel crosses a customs border on its way to the
// shopper, from where it ships.
type Regime string

// Regimes.
const (
	// RegimeImport: the parcel enters the destination's customs territory
	// (from China by direct mail, from the Los Angeles warehouse to Canada):
	// customs value, duty, reliefs, import VAT/GST.
	RegimeImport Regime = "IMPORT"
	// RegimeDomestic: it ships from a warehouse in the destination country
	// (Sydney to a Sydney shopper). The goods were imported earlier, in
	// bulk, duty and import GST paid on that import; the sale is a
	// domestic supply, taxed as any other at the destination's rate on the
	// price.
	RegimeDomestic Regime = "DOMESTIC"
	// RegimeIntraEU: it ships from one member state to another (Frankfurt
	// to Paris): no customs, an intra-EU distance sale taxed at the
	// destination's VAT rate and declared through the One-Stop Shop.
	RegimeIntraEU Regime = "INTRA_EU"
)

// Collections of a sale with no import.
const (
	// CollectionDomestic: the seller charges the destination's VAT/GST on
	// the sale, as on any domestic supply.
	CollectionDomestic Collection = "DOMESTIC_SUPPLY"
	// CollectionOSS: the seller charges the member state of arrival's VAT
	// and declares it in its One-Stop Shop return.
	CollectionOSS Collection = "OSS"
)

// ErrUnsupportedRoute: the rule file has no rule for a sale shipped from
// where the cart ships from (a domestic supply it does not cover).
var ErrUnsupportedRoute = errors.New("customs: no rules for this route")

// Route is the route a quote is for.
type Route struct {
	// ShipFrom is the country the parcel ships from ("" when unknown: the
	// quote then takes it for an import).
	ShipFrom   string           `json:"shipFrom,omitempty"`
	Fulfilment order.Fulfilment `json:"fulfilment,omitempty"`
	Warehouse  string           `json:"warehouse,omitempty"`
	Carrier    order.Carrier    `json:"carrier"`
	// Assumed: the request gave no ship-from; the quote took the
	// warehouse the stock step would pick for the fulfilment. The order's
	// own warehouse decides its assessment.
	Assumed bool `json:"assumed,omitempty"`
}

// SupplyRule is how a sale that crosses no customs border is taxed: a
// domestic supply, or an intra-EU distance sale.
type SupplyRule struct {
	Rule
	Applies
	// Kind is DOMESTIC or INTRA_EU.
	Kind Regime `json:"kind"`
	// NoTax: the territory charges no VAT/GST on the sale (the United
	// States: state and local sales taxes are the seller's or the
	// marketplace facilitator's, and not computed here); Note says so in
	// the quote.
	NoTax bool   `json:"noTax,omitempty"`
	Note  string `json:"note,omitempty"`
}

// regime is the cart's regime, from where it ships and where it goes.
func (c *Cart) regime() Regime {
	switch {
	case c.ShipFrom == "" || c.Fulfilment == order.FulfilBondedWarehouse:
		// A bonded warehouse holds goods not yet imported: they are
		// imported as they leave it for the shopper (China's 1210).
		return RegimeImport
	case c.ShipFrom == c.Destination:
		return RegimeDomestic
	case country.InEU(c.ShipFrom) && country.InEU(c.Destination):
		return RegimeIntraEU
	}
	return RegimeImport
}

func (c *Cart) route() Route {
	return Route{ShipFrom: c.ShipFrom, Fulfilment: c.Fulfilment, Warehouse: c.Warehouse, Carrier: c.carrier(), Assumed: c.RouteAssumed}
}

// quoteSupply prices a sale that crosses no customs border: no customs
// value, no duty, no relief, no fee; the destination's VAT/GST (the rule
// file's tax rules for the consignee's country and region) on the price —
// goods, shipping and insurance — as the seller charges it on the sale,
// under the file's supply rule for the regime, which the quote cites.
func (e *Engine) quoteSupply(t *territory, c *Cart, q *Quote, toDest ratio, used *ruleSet, date string) (*Quote, error) {
	origin := consignmentOrigin(c.Lines)
	var rule *SupplyRule
	for i := range t.file.Supplies {
		s := &t.file.Supplies[i]
		if s.Kind == q.Regime && s.inForce(date) && s.match(c, origin) {
			rule = s
			break
		}
	}
	if rule == nil {
		return nil, fmt.Errorf("%w: %s from %s to %s", ErrUnsupportedRoute, q.Regime, c.ShipFrom, c.Destination)
	}
	used.add(&rule.Rule)
	q.Collection = CollectionDomestic
	if q.Regime == RegimeIntraEU {
		q.Collection = CollectionOSS
	}
	if rule.Note != "" {
		q.Notes = append(q.Notes, rule.Note)
	}
	var k calc
	lines := make([]lineCalc, len(c.Lines))
	goodsMinor := int64(0)
	for i := range c.Lines {
		lines[i].goods = minorUnits(c.Lines[i].LineTotal.Amount)
		goodsMinor += c.Lines[i].LineTotal.Amount
	}
	for i := range lines {
		if goodsMinor > 0 {
			lines[i].share = ratio{uint64(c.Lines[i].LineTotal.Amount), uint64(goodsMinor)}
		} else {
			lines[i].share = ratio{1, uint64(len(lines))}
		}
		lines[i].dutyFactor, lines[i].taxFactor = unit, unit
	}
	freight := minorUnits(c.Shipping.Amount + c.Insurance.Amount)
	var taxes []*TaxRule
	if !rule.NoTax {
		taxes = t.pickTaxes(c, origin, date)
	}
	taxExact := make([]fixed, len(taxes))
	// A tax on another tax (Japan's local consumption tax, 22/78 of the
	// national one) is on that tax's amounts; any other on the price.
	groups := map[string][]fixed{}
	for j, x := range taxes {
		used.add(&x.Rule)
		rate := t.ratio(x.ID, "rate")
		var onTaxes []string
		for _, part := range x.Base {
			if g, ok := strings.CutPrefix(part, BaseTaxPrefix); ok {
				onTaxes = append(onTaxes, g)
			}
		}
		own := make([]fixed, len(lines))
		for i := range lines {
			l := &lines[i]
			base := k.add(l.goods, k.mul(freight, l.share))
			if len(onTaxes) > 0 {
				base = fixed{}
				for _, g := range onTaxes {
					if d := groups[g]; d != nil {
						base = k.add(base, d[i])
					}
				}
			}
			amount := k.mul(base, rate)
			own[i] = amount
			l.tax = k.add(l.tax, amount)
			taxExact[j] = k.add(taxExact[j], amount)
		}
		groups[x.Group] = own
	}
	q.Taxes = make([]TaxApplied, 0, len(taxes))
	q.round(&k, c, lines, taxes, taxExact, nil, t.file.Currency, toDest, "")
	if k.err != nil {
		return nil, k.err
	}
	q.DutyRelief, q.TaxRelief = Relief{}, Relief{}
	q.Rules = used.list
	return q, nil
}

// noImport reports whether a recorded assessment found that the order
// crosses no customs border.
func noImport(c Collection) bool { return c == CollectionDomestic || c == CollectionOSS }

// NoImport reports whether an order's recorded assessment (its
// Collection) found no import: nothing to declare to customs.
func NoImport(l *order.LandedCharges) bool { return l != nil && noImport(Collection(l.Collection)) }
