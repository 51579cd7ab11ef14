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
package customs

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

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

var (
	zero    = decimal.Zero
	one     = decimal.NewFromInt(1)
	hundred = decimal.NewFromInt(100)
)

// lineCalc is one line's exact figures, in major units of the cart currency.
type lineCalc struct {
	goods, share, value, duty, tax decimal.Decimal
	dutyFactor, taxFactor          decimal.Decimal
	rate                           decimal.Decimal
	rule                           *DutyRule
	level                          int
	dutyRule                       string
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
	q := &Quote{OrderDate: date, Destination: c.Destination, Territory: f.Destination, Currency: cur,
		TradeMode: c.TradeMode, Incoterm: c.Incoterm, Collection: CollectionAtBorder,
		FX: FX{From: rate.From, To: rate.To, Rate: rate.Rate.String(), Date: rate.Date, Source: rate.Source}}
	used := ruleSet{}
	if age := rate.Age(c.Date); cur != dcur && age > e.StaleRateDays {
		q.estimate(fmt.Sprintf("the exchange rate %s→%s is from %s, %d days before the order date", cur, dcur, rate.Date, age))
	}
	toDest := func(d decimal.Decimal) decimal.Decimal {
		if cur == dcur {
			return d
		}
		return rate.Apply(d)
	}
	fromDest := func(minor int64) decimal.Decimal { // file currency minor units → cart major units
		d := fx.MajorOf(money.New(minor, dcur))
		if cur == dcur {
			return d
		}
		return rate.Unapply(d)
	}
	origin := consignmentOrigin(c.Lines)

	// Customs value: the goods (scaled for some regimes), plus transport and
	// insurance where the territory values CIF, shared out by line value.
	basis, factor := "CIF", one
	for i := range f.Valuations {
		v := &f.Valuations[i]
		if v.inForce(date) && v.match(&c, origin) {
			basis, factor = v.Basis, t.num(v.ID, "goodsFactor")
			used.add(&v.Rule)
			break
		}
	}
	lines := make([]lineCalc, len(c.Lines))
	goods := zero
	for i := range c.Lines {
		lines[i].goods = fx.MajorOf(c.Lines[i].LineTotal)
		goods = goods.Add(lines[i].goods)
	}
	freight := fx.MajorOf(c.Shipping).Add(fx.MajorOf(c.Insurance))
	value := zero
	for i := range lines {
		l := &lines[i]
		switch {
		case goods.IsPositive():
			l.share = l.goods.Div(goods)
		default:
			l.share = one.DivRound(decimal.NewFromInt(int64(len(lines))), 16)
		}
		l.value = l.goods.Mul(factor)
		if basis == "CIF" {
			l.value = l.value.Add(freight.Mul(l.share))
		}
		l.dutyFactor, l.taxFactor = one, one
		value = value.Add(l.value)
	}
	measure := func(b Basis) decimal.Decimal { // in the file's currency, major units
		if b == BasisCustomsValue {
			return toDest(value)
		}
		return toDest(goods)
	}
	within := func(limit int64, b Basis) bool {
		return measure(b).Cmp(fx.MajorOf(money.New(limit, dcur))) <= 0
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
		df, tf := t.num(r.ID, "dutyFactor"), t.num(r.ID, "taxFactor")
		report := Relief{Applied: applied, Threshold: &threshold, Rule: r.ID}
		if !df.Equal(one) && (q.DutyRelief.Rule == "" || (applied && !q.DutyRelief.Applied)) {
			q.DutyRelief = report
		}
		if !tf.Equal(one) && (q.TaxRelief.Rule == "" || (applied && !q.TaxRelief.Applied)) {
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
			lines[j].dutyFactor = lines[j].dutyFactor.Mul(df)
			lines[j].taxFactor = lines[j].taxFactor.Mul(tf)
		}
	}

	// Who collects the tax.
	atSale := false
	for i := range f.Collections {
		r := &f.Collections[i]
		if !r.inForce(date) || !r.match(&c, origin) || (r.RequiresIOSS && c.IOSSNumber == "") {
			continue
		}
		if r.MaxConsignment > 0 && !within(r.MaxConsignment, r.Basis) {
			continue
		}
		q.Collection, atSale = r.Regime, r.TaxOnSalePrice
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
		l.rate = t.num(l.rule.ID, "rate")
		l.dutyRule = l.rule.ID
		l.duty = l.value.Mul(l.rate).Div(hundred).Mul(l.dutyFactor)
	}

	// Flat fees.
	feesInBase := zero
	var feeExact []decimal.Decimal
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
		amount := fromDest(r.Amount).Mul(decimal.NewFromInt(int64(count)))
		used.add(&r.Rule)
		q.Fees = append(q.Fees, Fee{Rule: r.ID, Description: r.Description, Count: count})
		feeExact = append(feeExact, amount)
		if r.InTaxBase {
			feesInBase = feesInBase.Add(amount)
		}
		if r.ReplacesDuty {
			for j := range lines {
				lines[j].duty, lines[j].dutyRule = zero, r.ID
			}
		}
	}

	// Import VAT/GST: on the rule's base, or on the sale price where the
	// seller charges it as on a domestic sale (IOSS, UK/AU/NZ/SG).
	taxes := t.pickTaxes(&c, origin, date)
	taxExact := make([]decimal.Decimal, len(taxes))
	for k, x := range taxes {
		used.add(&x.Rule)
		rate := t.num(x.ID, "rate").Div(hundred)
		for i := range lines {
			l := &lines[i]
			base := zero
			if atSale {
				base = l.goods.Add(freight.Mul(l.share))
			} else {
				for _, part := range x.Base {
					switch part {
					case BaseValue:
						base = base.Add(l.value)
					case BaseDuty:
						base = base.Add(l.duty)
					case BaseFreight:
						if basis == "FOB" {
							base = base.Add(freight.Mul(l.share))
						}
					case BaseFees:
						base = base.Add(feesInBase.Mul(l.share))
					}
				}
			}
			amount := base.Mul(rate).Mul(l.taxFactor)
			l.tax = l.tax.Add(amount)
			taxExact[k] = taxExact[k].Add(amount)
		}
	}
	if len(taxes) == 0 {
		q.Taxes = []TaxApplied{}
	}

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
	if err := q.round(&c, lines, taxes, taxExact, feeExact, rate, basis); err != nil {
		return nil, err
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
func (q *Quote) round(c *Cart, lines []lineCalc, taxes []*TaxRule, taxExact, feeExact []decimal.Decimal, rate fx.Rate, basis string) error {
	cur, dcur := c.Currency, rate.To
	n := len(lines)
	col := func(get func(*lineCalc) decimal.Decimal) []decimal.Decimal {
		out := make([]decimal.Decimal, n)
		for i := range lines {
			out[i] = get(&lines[i])
		}
		return out
	}
	values, duties, tax := col(func(l *lineCalc) decimal.Decimal { return l.value }),
		col(func(l *lineCalc) decimal.Decimal { return l.duty }), col(func(l *lineCalc) decimal.Decimal { return l.tax })

	var err error
	split := func(exact []decimal.Decimal, currency string, conv func(decimal.Decimal) decimal.Decimal) ([]money.Money, money.Money) {
		parts, total, e := splitRounded(exact, currency, conv)
		if e != nil && err == nil {
			err = e
		}
		return parts, total
	}
	lv, tv := split(values, cur, nil)
	ld, td := split(duties, cur, nil)
	lt, tt := split(tax, cur, nil)
	fees := money.New(0, cur)
	for i, exact := range feeExact {
		m, e := fx.Round(exact, cur)
		if e != nil {
			return e
		}
		q.Fees[i].Amount = m
		fees.Amount += m.Amount
	}
	if q.Fees == nil {
		q.Fees = []Fee{}
	}
	for k, x := range taxes {
		m, e := fx.Round(taxExact[k], cur)
		if e != nil {
			return e
		}
		q.Taxes = append(q.Taxes, TaxApplied{Rule: x.ID, Name: x.Name, Rate: x.Rate, Amount: m})
	}
	// The per-tax amounts are each rounded once; the tax total is split from
	// the exact sum. They can differ by a unit when several taxes apply; the
	// total is what is charged.
	q.Lines = make([]LineQuote, n)
	goods := int64(0)
	for i := range lines {
		l := &lines[i]
		rateText := ""
		if l.rule != nil {
			rateText = l.rule.Rate
		}
		q.Lines[i] = LineQuote{SKU: c.Lines[i].SKU, HSCode: c.Lines[i].HSCode, HSLevelUsed: l.level, DutyRate: rateText,
			DutyRule: l.dutyRule, CustomsValue: lv[i], Duty: ld[i], Tax: lt[i]}
		goods += c.Lines[i].LineTotal.Amount
	}
	q.Totals = Totals{Goods: money.New(goods, cur), Shipping: moneyIn(c.Shipping, cur), Insurance: moneyIn(c.Insurance, cur),
		CustomsValue: tv, Duty: td, Tax: tt, Fees: fees}
	q.Totals.LandedTotal = money.New(goods+q.Totals.Shipping.Amount+q.Totals.Insurance.Amount+td.Amount+tt.Amount+fees.Amount, cur)
	sale := goods + q.Totals.Shipping.Amount + q.Totals.Insurance.Amount
	switch {
	case q.Incoterm == order.IncotermDDP:
		q.DueAtCheckout, q.DueOnDelivery = q.Totals.LandedTotal, money.New(0, cur)
	case q.Collection == CollectionIOSS || q.Collection == CollectionPointOfSale:
		q.DueAtCheckout, q.DueOnDelivery = money.New(sale+tt.Amount, cur), money.New(td.Amount+fees.Amount, cur)
	default:
		q.DueAtCheckout, q.DueOnDelivery = money.New(sale, cur), money.New(td.Amount+tt.Amount+fees.Amount, cur)
	}

	// The assessment, in the destination's currency.
	a := Assessment{Currency: dcur, Valuation: basis, Collection: q.Collection, Incoterm: q.Incoterm, TradeMode: q.TradeMode}
	conv := rate.Apply
	if cur == dcur {
		conv = nil
	}
	av, atv := split(values, dcur, conv)
	ad, atd := split(duties, dcur, conv)
	at, att := split(tax, dcur, conv)
	goodsExact := zero
	for i := range lines {
		goodsExact = goodsExact.Add(lines[i].goods)
	}
	if conv != nil {
		goodsExact = conv(goodsExact)
	}
	intrinsic, e := fx.Round(goodsExact, dcur)
	if e != nil {
		return e
	}
	feeSum := zero
	for _, f := range feeExact {
		feeSum = feeSum.Add(f)
	}
	if conv != nil {
		feeSum = conv(feeSum)
	}
	afees, e := fx.Round(feeSum, dcur)
	if e != nil {
		return e
	}
	a.CustomsValue, a.Duty, a.Tax, a.Fees, a.Intrinsic = atv, atd, att, afees, intrinsic
	a.Lines = make([]AssessedLine, n)
	for i := range lines {
		a.Lines[i] = AssessedLine{SKU: c.Lines[i].SKU, HSCode: c.Lines[i].HSCode, CustomsValue: av[i], Duty: ad[i], Tax: at[i]}
	}
	q.Assessment = a
	return err
}

func moneyIn(m money.Money, cur string) money.Money {
	if m.Currency == "" {
		return money.New(m.Amount, cur)
	}
	return m
}

// splitRounded rounds the exact sum of parts (major units, converted by conv
// when it is not nil) once and splits it into rounded parts by largest
// remainder, so that the parts add up to the rounded total.
func splitRounded(parts []decimal.Decimal, currency string, conv func(decimal.Decimal) decimal.Decimal) ([]money.Money, money.Money, error) {
	exp, _ := money.Exponent(currency)
	sum := zero
	scaled := make([]decimal.Decimal, len(parts))
	for i, p := range parts {
		if conv != nil {
			p = conv(p)
		}
		scaled[i] = p.Shift(int32(exp))
		sum = sum.Add(scaled[i])
	}
	total, err := fx.Round(sum.Shift(-int32(exp)), currency)
	if err != nil {
		return nil, money.Money{}, err
	}
	out := make([]money.Money, len(parts))
	floorSum := int64(0)
	type rem struct {
		i int
		r decimal.Decimal
	}
	rems := make([]rem, len(parts))
	for i, s := range scaled {
		fl := s.Floor()
		out[i] = money.New(fl.IntPart(), currency)
		floorSum += out[i].Amount
		rems[i] = rem{i, s.Sub(fl)}
	}
	left := total.Amount - floorSum
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r.Cmp(rems[b].r) > 0 })
	for k := 0; left > 0 && k < len(rems); k++ {
		out[rems[k].i].Amount++
		left--
	}
	return out, total, nil
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
