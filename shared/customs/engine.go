// Package customs computes the landed cost of a cart or an order for its
// destination — customs value, duty by HS code, duty and tax relief
// thresholds, import VAT/GST, flat fees, who collects what — from rule files
// that say, for every figure, where it comes from and when it is in force.
// It builds the import declaration the customs step files. It is pure Go.
//
// Arithmetic is decimal and exact until the end: each reported amount is
// rounded once, half away from zero, to its currency's minor units. A total
// is rounded from the exact sum of its lines, and the lines' rounded figures
// are split from it by largest remainder, so they add up to it exactly.
// Where the law itself rounds (a file's rounding rules), the duty and taxes
// are first assessed in the destination's currency with the law's rounding,
// and the cart's figures are converted from the rounded amounts.
//
// Rules worth knowing, with their sources (rules/*.json has the rest):
//
// Canada's CUSMA courier thresholds (duty-free up to C$150, duty- and
// tax-free up to C$40) follow the parcel, not the goods: they apply to
// courier shipments from the US or Mexico, whatever the goods' origin (CBSA
// Customs Notice 20-18, paragraph 2); post from the US or Mexico and
// anything from elsewhere keep the C$20 remission, the same for post and
// courier (Postal and Courier Imports Remission Orders).
//
// Japan assesses in yen with the law's rounding (Customs Act Art. 13-4,
// Act on General Rules for National Taxes Arts. 118–119): each item's
// dutiable value down to ¥1,000, its duty to the yen, the declaration's
// duty down to ¥100; the national consumption tax (7.8 %) on value + duty
// the same way; the local consumption tax is 22/78 of the national one,
// down to ¥100. Japan Customs' Customs Answer No. 1111 is the worked
// example the tests follow.
//
// The EU's €3 duty per tariff subheading on consignments of €150 or less
// (from 2026-07-01, Council Regulation (EU) 2026/382) is a customs duty:
// it is part of the import VAT base at the border (Directive 2006/112/EC
// Art. 86(1)(a)) and of the IOSS sale price when the seller charges it
// (Art. 78(a)). Germany's small-amount rule (§ 23 ZollV, under €5) only
// stops post-clearance recovery; the quote charges small amounts.
package customs

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/fx"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Rates gives reference exchange rates (package fx's Table).
type Rates interface {
	Supports(currency string) bool
	Rate(from, to string, on time.Time) (fx.Rate, error)
}

// Engine computes landed costs.
type Engine struct {
	byCountry map[string]*territory
	rates     Rates
	// StaleRateDays: a rate published more than this many days before the
	// order date makes the quote an estimate.
	StaleRateDays int
}

// Errors of the engine.
var (
	// ErrUnsupportedDestination: no rule file covers the country.
	ErrUnsupportedDestination = errors.New("customs: no rules for this destination")
	// ErrUnsupportedCurrency: no reference rate for the currency.
	ErrUnsupportedCurrency = errors.New("customs: no reference rate for this currency")
)

// New builds an engine from rule files and a rate table.
func New(files []*RuleFile, rates Rates) (*Engine, error) {
	e := &Engine{byCountry: map[string]*territory{}, rates: rates, StaleRateDays: 7}
	for _, f := range files {
		t, err := index(f)
		if err != nil {
			return nil, err
		}
		if !rates.Supports(f.Currency) {
			return nil, fmt.Errorf("customs: %s rules are in %s, which the rate table lacks", f.Destination, f.Currency)
		}
		for _, c := range f.Countries {
			if e.byCountry[c] != nil {
				return nil, fmt.Errorf("customs: %s is covered by two rule files", c)
			}
			e.byCountry[c] = t
		}
	}
	return e, nil
}

var (
	defaultOnce   sync.Once
	defaultEngine *Engine
	defaultErr    error
)

// Default is the engine over the embedded rule files and rates, built once.
func Default() *Engine {
	defaultOnce.Do(func() {
		sub, _ := fs.Sub(embeddedRules, ".")
		var files []*RuleFile
		files, defaultErr = LoadRules(sub, "rules")
		if defaultErr == nil {
			defaultEngine, defaultErr = New(files, fx.Default())
		}
	})
	if defaultErr != nil {
		panic("customs: embedded rules are broken: " + defaultErr.Error()) // a test loads them
	}
	return defaultEngine
}

// Supports reports whether the engine has rules for a destination country.
func (e *Engine) Supports(country string) bool { return e.byCountry[country] != nil }

// SupportsCurrency reports whether a cart may be in currency.
func (e *Engine) SupportsCurrency(currency string) bool { return e.rates.Supports(currency) }

// Countries lists the destinations the engine covers.
func (e *Engine) Countries() []string {
	var cs []string
	for c := range e.byCountry {
		cs = append(cs, c)
	}
	sort.Strings(cs)
	return cs
}

// lineCalc is one line's figures, in fixed minor units of the cart currency.
type lineCalc struct {
	goods, value, duty, tax fixed
	// share is the line's part of the consignment (its value ÷ the goods).
	share                 ratio
	dutyFactor, taxFactor ratio
	rule                  *DutyRule
	level                 int
	dutyRule              string
}

// Quote computes the landed cost of c. The cart must be valid (see
// ValidateCart); an unsupported destination or currency is an error.
func (e *Engine) Quote(c Cart) (*Quote, error) {
	t := e.byCountry[c.Destination]
	if t == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedDestination, c.Destination)
	}
	f := t.file
	if c.Date.IsZero() {
		c.Date = time.Now()
	}
	if c.Incoterm == "" {
		c.Incoterm = order.IncotermDDP
	}
	date := c.Date.UTC().Format(time.DateOnly)
	cur, dcur := c.Currency, f.Currency
	if !e.rates.Supports(cur) {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedCurrency, cur)
	}
	rate, err := e.rates.Rate(cur, dcur, c.Date)
	if err != nil {
		return nil, fmt.Errorf("customs: %w", err)
	}
	// toDest converts fixed minor units of the cart currency into the
	// destination's: the rate, and the currencies' exponents.
	toDest := unit
	if cur != dcur {
		n, d, ok := rate.Ratio()
		if !ok {
			return nil, fmt.Errorf("customs: the %s→%s rate %s is too fine to compute with", cur, dcur, rate.Rate)
		}
		ec, _ := money.Exponent(cur)
		ed, _ := money.Exponent(dcur)
		toDest = ratio{n, d}.times(ratio{pow10(ed), pow10(ec)})
	}
	q := &Quote{OrderDate: date, Destination: c.Destination, Territory: f.Destination, Currency: cur,
		TradeMode: c.TradeMode, Incoterm: c.Incoterm, Collection: CollectionAtBorder,
		FX: FX{From: rate.From, To: rate.To, Rate: rate.Rate.String(), Date: rate.Date, Source: rate.Source}}
	used := ruleSet{}
	if age := rate.Age(c.Date); cur != dcur && age > e.StaleRateDays {
		q.estimate(fmt.Sprintf("the exchange rate %s→%s is from %s, %d days before the order date", cur, dcur, rate.Date, age))
	}
	q.Route, q.Regime = c.route(), c.regime()
	if c.RouteAssumed {
		q.Notes = append(q.Notes, fmt.Sprintf("Priced as shipped from %s (warehouse %s), where the stock step takes the goods from for %s fulfilment; the order's own warehouse decides its assessment.",
			c.ShipFrom, c.Warehouse, c.Fulfilment))
	}
	if q.Regime != RegimeImport {
		return e.quoteSupply(t, &c, q, toDest, &used, date)
	}
	var k calc
	origin := consignmentOrigin(c.Lines)

	// Customs value: the goods (scaled for some regimes), plus transport and
	// insurance where the territory values CIF, shared out by line value.
	basis, factor := "CIF", unit
	for i := range f.Valuations {
		v := &f.Valuations[i]
		if v.inForce(date) && v.match(&c, origin) {
			basis, factor = v.Basis, t.ratio(v.ID, "goodsFactor")
			used.add(&v.Rule)
			break
		}
	}
	lines := make([]lineCalc, len(c.Lines))
	var goods fixed
	goodsMinor := int64(0)
	for i := range c.Lines {
		lines[i].goods = minorUnits(c.Lines[i].LineTotal.Amount)
		goods = k.add(goods, lines[i].goods)
		goodsMinor += c.Lines[i].LineTotal.Amount
	}
	freight := minorUnits(c.Shipping.Amount + c.Insurance.Amount)
	var value fixed
	for i := range lines {
		l := &lines[i]
		if goodsMinor > 0 {
			l.share = ratio{uint64(c.Lines[i].LineTotal.Amount), uint64(goodsMinor)}
		} else {
			l.share = ratio{1, uint64(len(lines))}
		}
		l.value = k.mul(l.goods, factor)
		if basis == "CIF" {
			l.value = k.add(l.value, k.mul(freight, l.share))
		}
		l.dutyFactor, l.taxFactor = unit, unit
		value = k.add(value, l.value)
	}
	goodsDest, valueDest := k.mul(goods, toDest), k.mul(value, toDest)
	within := func(limit int64, b Basis) bool {
		m := goodsDest
		if b == BasisCustomsValue {
			m = valueDest
		}
		return m.cmp(minorUnits(limit)) <= 0
	}

	// Reliefs.
	anyRelief := false
	for i := range f.Reliefs {
		r := &f.Reliefs[i]
		if !r.inForce(date) || !r.match(&c, origin) {
			continue
		}
		used.add(&r.Rule)
		applied := within(r.Threshold, r.Basis)
		threshold := money.New(r.Threshold, dcur)
		df, tf := t.ratio(r.ID, "dutyFactor"), t.ratio(r.ID, "taxFactor")
		report := Relief{Applied: applied, Threshold: &threshold, Rule: r.ID}
		if !df.isOne() && (q.DutyRelief.Rule == "" || (applied && !q.DutyRelief.Applied)) {
			q.DutyRelief = report
		}
		if !tf.isOne() && (q.TaxRelief.Rule == "" || (applied && !q.TaxRelief.Applied)) {
			q.TaxRelief = report
		}
		if !applied {
			continue
		}
		anyRelief = true
		for j := range lines {
			if hasPrefix(c.Lines[j].HSCode, r.ExcludeHS) {
				continue
			}
			lines[j].dutyFactor = lines[j].dutyFactor.times(df)
			lines[j].taxFactor = lines[j].taxFactor.times(tf)
		}
	}

	// Who collects the tax.
	atSale, saleFees := false, false
	for i := range f.Collections {
		r := &f.Collections[i]
		if !r.inForce(date) || !r.match(&c, origin) || (r.RequiresIOSS && c.IOSSNumber == "") {
			continue
		}
		if r.MaxConsignment > 0 && !within(r.MaxConsignment, r.Basis) {
			continue
		}
		q.Collection, atSale = r.Regime, r.TaxOnSalePrice
		saleFees = r.TaxOnSalePrice && r.TaxChargedFees && c.Incoterm == order.IncotermDDP
		used.add(&r.Rule)
		break
	}

	// Duty by HS code.
	for i := range lines {
		l, hs := &lines[i], c.Lines[i].HSCode
		l.rule, l.level = t.dutyFor(hs, date)
		if l.rule == nil {
			q.estimate(fmt.Sprintf("no %s duty rate for HS %s on %s: duty on line %d not computed", f.Destination, hs, date, i))
			continue
		}
		used.add(&l.rule.Rule)
		l.dutyRule = l.rule.ID
		l.duty = k.mul(k.mul(l.value, t.ratio(l.rule.ID, "rate")), l.dutyFactor)
	}

	// Flat fees, in the destination's currency, converted into the cart's.
	var feesInBase fixed
	var feeExact []fixed
	fromDest := toDest.inverse()
	for i := range f.Fees {
		r := &f.Fees[i]
		if !r.inForce(date) || !r.match(&c, origin) {
			continue
		}
		if r.MaxConsignment > 0 && !within(r.MaxConsignment, r.Basis) {
			continue
		}
		if r.MinConsignment > 0 && within(r.MinConsignment, r.Basis) {
			continue
		}
		count := 1
		if r.Kind == FeePerSubheading {
			count = distinctSubheadings(c.Lines, r.SubheadingDigits)
		}
		amount := k.mul(minorUnits(r.Amount*int64(count)), fromDest)
		used.add(&r.Rule)
		q.Fees = append(q.Fees, Fee{Rule: r.ID, Description: r.Description, Count: count})
		feeExact = append(feeExact, amount)
		if r.InTaxBase {
			feesInBase = k.add(feesInBase, amount)
		}
		if r.ReplacesDuty {
			for j := range lines {
				lines[j].duty, lines[j].dutyRule = fixed{}, r.ID
			}
		}
	}

	// The law's rounding of the duty, in the destination's currency: each
	// line's value rounded down, its duty truncated to a minor unit, the
	// consignment's duty the sum rounded down; later bases take each line's
	// duty rounded down. The cart's figures follow from the rounded ones.
	var dutyDest []fixed // each line's duty in the destination's currency, as a tax base sees it
	if r := t.rounding(RoundingOfDuty, &c, origin, date); r != nil {
		used.add(&r.Rule)
		dutyDest = make([]fixed, len(lines))
		legal := make([]fixed, len(lines))
		var sum fixed
		for i := range lines {
			l := &lines[i]
			if l.rule == nil || l.dutyRule != l.rule.ID {
				continue // no rate, or a flat duty replaced it
			}
			base := floorTo(&k, k.mul(l.value, toDest), r.BaseDown)
			legal[i] = floorTo(&k, k.mul(k.mul(base, t.ratio(l.rule.ID, "rate")), l.dutyFactor), 1)
			sum = k.add(sum, legal[i])
			dutyDest[i] = floorTo(&k, legal[i], r.AmountDown)
		}
		for i, a := range apportion(&k, floorTo(&k, sum, r.AmountDown), legal) {
			lines[i].duty = k.mul(a, fromDest)
		}
	}

	// Import VAT/GST: on the rule's base, or on the sale price where the
	// seller charges it as on a domestic sale (IOSS, UK/AU/NZ/SG).
	taxes := t.pickTaxes(&c, origin, date)
	taxExact := make([]fixed, len(taxes))
	// With chained taxes or legal rounding, each tax's line amounts: in the
	// cart's currency, and as a later base in the destination's.
	var groupLines, groupDest map[string][]fixed
	if t.chained {
		groupLines, groupDest = map[string][]fixed{}, map[string][]fixed{}
	}
	for j, x := range taxes {
		used.add(&x.Rule)
		rate := t.ratio(x.ID, "rate")
		var rr *RoundingRule
		if !atSale {
			rr = t.rounding(x.Group, &c, origin, date)
		}
		var own, ownDest, legal []fixed
		if t.chained {
			own = make([]fixed, len(lines))
		}
		if rr != nil {
			used.add(&rr.Rule)
			ownDest, legal = make([]fixed, len(lines)), make([]fixed, len(lines))
		}
		var legalSum fixed
		for i := range lines {
			l := &lines[i]
			var base, onTax fixed
			switch {
			case atSale:
				base = k.add(l.goods, k.mul(freight, l.share))
				if saleFees {
					base = k.add(base, k.mul(feesInBase, l.share))
				}
			case rr != nil:
				// In the destination's currency.
				for _, part := range x.Base {
					switch part {
					case BaseValue:
						base = k.add(base, k.mul(l.value, toDest))
					case BaseDuty:
						if dutyDest != nil {
							base = k.add(base, dutyDest[i])
						} else {
							base = k.add(base, k.mul(l.duty, toDest))
						}
					case BaseFreight:
						if basis == "FOB" {
							base = k.add(base, k.mul(k.mul(freight, l.share), toDest))
						}
					case BaseFees:
						base = k.add(base, k.mul(k.mul(feesInBase, l.share), toDest))
					default:
						g := strings.TrimPrefix(part, BaseTaxPrefix)
						if d := groupDest[g]; d != nil {
							onTax = k.add(onTax, d[i])
						} else if d := groupLines[g]; d != nil {
							onTax = k.add(onTax, k.mul(d[i], toDest))
						}
					}
				}
			default:
				for _, part := range x.Base {
					switch part {
					case BaseValue:
						base = k.add(base, l.value)
					case BaseDuty:
						base = k.add(base, l.duty)
					case BaseFreight:
						if basis == "FOB" {
							base = k.add(base, k.mul(freight, l.share))
						}
					case BaseFees:
						base = k.add(base, k.mul(feesInBase, l.share))
					default:
						if d := groupLines[strings.TrimPrefix(part, BaseTaxPrefix)]; d != nil {
							onTax = k.add(onTax, d[i])
						}
					}
				}
			}
			// The relief factor scales the tax on value, duty, freight and
			// fees; a tax on a tax already carries it.
			var amount fixed
			switch {
			case rr != nil:
				b := floorTo(&k, k.add(k.mul(base, l.taxFactor), onTax), rr.BaseDown)
				legal[i] = floorTo(&k, k.mul(b, rate), 1)
				legalSum = k.add(legalSum, legal[i])
				ownDest[i] = floorTo(&k, legal[i], rr.AmountDown)
				continue
			case onTax == (fixed{}):
				amount = k.mul(k.mul(base, rate), l.taxFactor)
			default:
				amount = k.mul(k.add(k.mul(base, l.taxFactor), onTax), rate)
			}
			l.tax = k.add(l.tax, amount)
			taxExact[j] = k.add(taxExact[j], amount)
			if own != nil {
				own[i] = amount
			}
		}
		if rr != nil {
			// The consignment's tax is the lines' sum rounded down; the lines
			// share it, and the cart's figures are converted from it.
			for i, a := range apportion(&k, floorTo(&k, legalSum, rr.AmountDown), legal) {
				amount := k.mul(a, fromDest)
				lines[i].tax = k.add(lines[i].tax, amount)
				taxExact[j] = k.add(taxExact[j], amount)
				own[i] = amount
			}
			groupDest[x.Group] = ownDest
		}
		if own != nil {
			groupLines[x.Group] = own
		}
	}
	q.Taxes = make([]TaxApplied, 0, len(taxes))

	// Notes.
	for i := range f.Notes {
		n := &f.Notes[i]
		if !n.inForce(date) || !n.matchAnyOrigin(&c) || (n.OverThreshold && anyRelief) {
			continue
		}
		if len(n.HSPrefixes) > 0 && !anyLineHS(c.Lines, n.HSPrefixes) {
			continue
		}
		used.add(&n.Rule)
		if n.Estimate {
			q.estimate(n.Text)
		} else {
			q.Notes = append(q.Notes, n.Text)
		}
	}

	// Round once: totals from the exact sums, lines split from the totals.
	q.round(&k, &c, lines, taxes, taxExact, feeExact, dcur, toDest, basis)
	if k.err != nil {
		return nil, k.err
	}
	q.Rules = used.list
	return q, nil
}

func (q *Quote) estimate(reason string) {
	q.Estimate = true
	q.EstimateReasons = append(q.EstimateReasons, reason)
}

// round turns the exact figures into money, in the cart's currency and in
// the destination's.
func (q *Quote) round(k *calc, c *Cart, lines []lineCalc, taxes []*TaxRule, taxExact, feeExact []fixed, dcur string, toDest ratio, basis string) {
	cur := c.Currency
	n := len(lines)
	values, duties, tax := make([]fixed, n), make([]fixed, n), make([]fixed, n)
	var goodsExact fixed
	for i := range lines {
		values[i], duties[i], tax[i] = lines[i].value, lines[i].duty, lines[i].tax
		goodsExact = k.add(goodsExact, lines[i].goods)
	}
	lv, tv := splitRounded(k, values, unit)
	ld, td := splitRounded(k, duties, unit)
	lt, tt := splitRounded(k, tax, unit)
	fees := int64(0)
	var feeSum fixed
	for i, exact := range feeExact {
		m := k.round(exact)
		q.Fees[i].Amount = money.New(m, cur)
		fees += m
		feeSum = k.add(feeSum, exact)
	}
	if q.Fees == nil {
		q.Fees = []Fee{}
	}
	// Each tax is rounded once; the tax total is split from their exact sum.
	// With several taxes the two can differ by a unit; the total is charged.
	assessed := make([]TaxApplied, 0, len(taxes))
	for j, x := range taxes {
		rate := cmp.Or(x.Rate, x.Fraction)
		q.Taxes = append(q.Taxes, TaxApplied{Rule: x.ID, Name: x.Name, Rate: rate, Amount: money.New(k.round(taxExact[j]), cur)})
		assessed = append(assessed, TaxApplied{Rule: x.ID, Name: x.Name, Rate: rate, Amount: money.New(k.round(k.mul(taxExact[j], toDest)), dcur)})
	}
	q.Lines = make([]LineQuote, n)
	goods := int64(0)
	for i := range lines {
		l := &lines[i]
		rateText := ""
		if l.rule != nil {
			rateText = l.rule.Rate
		}
		q.Lines[i] = LineQuote{SKU: c.Lines[i].SKU, HSCode: c.Lines[i].HSCode, HSLevelUsed: l.level, DutyRate: rateText,
			DutyRule: l.dutyRule, CustomsValue: money.New(lv[i], cur), Duty: money.New(ld[i], cur), Tax: money.New(lt[i], cur)}
		goods += c.Lines[i].LineTotal.Amount
	}
	ship, ins := c.Shipping.Amount, c.Insurance.Amount
	q.Totals = Totals{Goods: money.New(goods, cur), Shipping: money.New(ship, cur), Insurance: money.New(ins, cur),
		CustomsValue: money.New(tv, cur), Duty: money.New(td, cur), Tax: money.New(tt, cur), Fees: money.New(fees, cur),
		LandedTotal: money.New(goods+ship+ins+td+tt+fees, cur)}
	sale := goods + ship + ins
	switch {
	case q.Incoterm == order.IncotermDDP:
		q.DueAtCheckout, q.DueOnDelivery = q.Totals.LandedTotal, money.New(0, cur)
	case q.Collection == CollectionIOSS || q.Collection == CollectionPointOfSale || noImport(q.Collection):
		q.DueAtCheckout, q.DueOnDelivery = money.New(sale+tt, cur), money.New(td+fees, cur)
	default:
		q.DueAtCheckout, q.DueOnDelivery = money.New(sale, cur), money.New(td+tt+fees, cur)
	}

	// The assessment, in the destination's currency.
	av, atv := splitRounded(k, values, toDest)
	ad, atd := splitRounded(k, duties, toDest)
	at, att := splitRounded(k, tax, toDest)
	a := Assessment{Currency: dcur, Valuation: basis, Collection: q.Collection, Incoterm: q.Incoterm, TradeMode: q.TradeMode,
		CustomsValue: money.New(atv, dcur), Duty: money.New(atd, dcur), Tax: money.New(att, dcur), Taxes: assessed,
		Fees: money.New(k.round(k.mul(feeSum, toDest)), dcur), Intrinsic: money.New(k.round(k.mul(goodsExact, toDest)), dcur)}
	a.Lines = make([]AssessedLine, n)
	for i := range lines {
		a.Lines[i] = AssessedLine{SKU: c.Lines[i].SKU, HSCode: c.Lines[i].HSCode, CustomsValue: money.New(av[i], dcur),
			Duty: money.New(ad[i], dcur), Tax: money.New(at[i], dcur)}
	}
	q.Assessment = a
}

// splitRounded converts the parts by r, rounds their sum once and splits it
// into whole minor units by largest remainder, so that the parts add up to
// the rounded total.
func splitRounded(k *calc, parts []fixed, r ratio) ([]int64, int64) {
	out := make([]int64, len(parts))
	var rems [16]struct {
		i   int
		rem uint64
	}
	order := rems[:0]
	var sum fixed
	floors := int64(0)
	for i, p := range parts {
		p = k.mul(p, r)
		sum = k.add(sum, p)
		whole, rem := k.split(p)
		out[i], floors = whole, floors+whole
		order = append(order, struct {
			i   int
			rem uint64
		}{i, rem})
	}
	total := k.round(sum)
	slices.SortStableFunc(order, func(a, b struct {
		i   int
		rem uint64
	}) int {
		return cmpDesc(a.rem, b.rem)
	})
	for j := 0; floors < total && j < len(order); j++ {
		out[order[j].i]++
		floors++
	}
	return out, total
}

func cmpDesc(a, b uint64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// pickTaxes chooses, in each tax group, the most specific rule in force: one
// for the consignee's region, then one for its country, then one for all.
func (t *territory) pickTaxes(c *Cart, origin, date string) []*TaxRule {
	var out []*TaxRule
	best := map[string]int{}
	for i := range t.file.Taxes {
		x := &t.file.Taxes[i]
		if !x.inForce(date) || !x.match(c, origin) {
			continue
		}
		score := 1
		if len(x.Countries) > 0 {
			score = 2
		}
		if len(x.Regions) > 0 {
			score = 3
		}
		k, seen := best[x.Group]
		switch {
		case !seen:
			best[x.Group] = len(out)
			out = append(out, x)
		case score > specificity(out[k]):
			out[k] = x
		}
	}
	return out
}

func specificity(x *TaxRule) int {
	switch {
	case len(x.Regions) > 0:
		return 3
	case len(x.Countries) > 0:
		return 2
	}
	return 1
}

// consignmentOrigin is the lines' common origin, or "" when they differ.
func consignmentOrigin(lines []order.Line) string {
	if len(lines) == 0 {
		return ""
	}
	o := lines[0].OriginCountry
	for _, l := range lines[1:] {
		if l.OriginCountry != o {
			return ""
		}
	}
	return o
}

func hasPrefix(hs string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(hs, p) {
			return true
		}
	}
	return false
}

func anyLineHS(lines []order.Line, prefixes []string) bool {
	for _, l := range lines {
		if hasPrefix(l.HSCode, prefixes) {
			return true
		}
	}
	return false
}

func distinctSubheadings(lines []order.Line, digits int) int {
	seen := make(map[string]bool, len(lines))
	for _, l := range lines {
		k := l.HSCode
		if len(k) > digits {
			k = k[:digits]
		}
		seen[k] = true
	}
	return len(seen)
}

// ruleSet collects the rules a quote used, once each, in order.
type ruleSet struct {
	seen map[string]bool
	list []RuleRef
}

func (s *ruleSet) add(r *Rule) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if s.seen[r.ID] {
		return
	}
	s.seen[r.ID] = true
	s.list = append(s.list, r.ref())
}

// LockRate is the reference rate from an order's currency into its
// destination's, as the order records it at intake.
func (e *Engine) LockRate(currency, destination string, on time.Time) (*order.FXRate, error) {
	t := e.byCountry[destination]
	if t == nil {
		return nil, fmt.Errorf("%w: %s", ErrUnsupportedDestination, destination)
	}
	r, err := e.rates.Rate(currency, t.file.Currency, on)
	if err != nil {
		return nil, fmt.Errorf("customs: %w", err)
	}
	return &order.FXRate{From: r.From, To: r.To, Rate: r.Rate.String(), Date: r.Date, Source: r.Source}, nil
}
