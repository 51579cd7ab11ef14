package customs

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// The rule files: one per destination (the EU's covers its member states),
// each entry with an id, its source and the dates it is in force.
//
//go:embed rules/*.json
var embeddedRules embed.FS

// RuleFile is one destination's rules as stored in rules/<name>.json.
type RuleFile struct {
	// Version is the date the file was last reviewed.
	Version string `json:"version"`
	// Destination names the customs territory ("US", "EU", "GB", …).
	Destination string `json:"destination"`
	// Countries are the consignee countries the rules cover.
	Countries []string `json:"countries"`
	// Currency is the territory's currency: thresholds and fees are in it.
	Currency    string           `json:"currency"`
	Valuations  []ValuationRule  `json:"valuation"`
	Reliefs     []ReliefRule     `json:"reliefs"`
	Collections []CollectionRule `json:"collection"`
	Taxes       []TaxRule        `json:"taxes"`
	Fees        []FeeRule        `json:"fees"`
	Duties      []DutyRule       `json:"duties"`
	Notes       []NoteRule       `json:"notes"`
	// Supplies say how a sale that crosses no customs border is taxed (a
	// domestic supply, an intra-EU distance sale).
	Supplies []SupplyRule `json:"supplies,omitempty"`
	// Rounding is the legal rounding of the duty and of taxes, where the
	// law rounds them down (Japan); without it amounts are exact until the
	// quote rounds them once.
	Rounding []RoundingRule `json:"rounding,omitempty"`
}

// Rule is what every entry carries: who says so, and when it is in force.
type Rule struct {
	ID          string `json:"id"`
	Description string `json:"description,omitempty"`
	Source      string `json:"source"`
	// From and To (inclusive, YYYY-MM-DD) bound the days the rule is in
	// force; an empty To means until further notice.
	From string `json:"from"`
	To   string `json:"to,omitempty"`
	// Verify marks a figure taken from a secondary source or not confirmed.
	Verify bool `json:"verify,omitempty"`
}

// Applies narrows an entry to some carts; empty lists match every cart.
type Applies struct {
	TradeModes []order.TradeMode `json:"tradeModes,omitempty"`
	Countries  []string          `json:"countries,omitempty"`
	Regions    []string          `json:"regions,omitempty"`
	Origins    []string          `json:"origins,omitempty"`
	// Gift: the entry is only for bona fide gifts between private persons.
	Gift bool `json:"gift,omitempty"`
	// ShipFrom: only for parcels shipped from these countries (CUSMA's
	// courier relief is for shipments from the US or Mexico, whatever the
	// goods' origin); Carriers: only for these carriers (courier, post).
	ShipFrom []string        `json:"shipFrom,omitempty"`
	Carriers []order.Carrier `json:"carriers,omitempty"`
}

// Basis is the value a threshold is measured on.
type Basis string

// Bases of thresholds.
const (
	// BasisIntrinsic: the goods alone, without transport and insurance.
	BasisIntrinsic Basis = "intrinsic"
	// BasisCustomsValue: the customs value (CIF or FOB as the territory
	// values goods).
	BasisCustomsValue Basis = "customs_value"
)

// ValuationRule says how the customs value is built.
type ValuationRule struct {
	Rule
	Applies
	// Basis is CIF (transport and insurance to the border included) or FOB.
	Basis string `json:"basis"`
	// GoodsFactor scales the goods price (Japan values goods for personal
	// use at 60 % of the retail price); empty means 1.
	GoodsFactor string `json:"goodsFactor,omitempty"`
}

// ReliefRule is a duty or tax relief up to a threshold (de minimis).
type ReliefRule struct {
	Rule
	Applies
	// Threshold in minor units of the file's currency; a consignment at or
	// below it (≤) gets the relief.
	Threshold int64 `json:"threshold"`
	Basis     Basis `json:"basis"`
	// DutyFactor and TaxFactor scale duty and tax when the relief applies:
	// "0" waives it, "0.7" charges 70 %; empty leaves it as it is.
	DutyFactor string `json:"dutyFactor,omitempty"`
	TaxFactor  string `json:"taxFactor,omitempty"`
	// ExcludeHS are headings the relief never covers.
	ExcludeHS []string `json:"excludeHS,omitempty"`
}

// Collection is who collects the import VAT/GST and when.
type Collection string

// Collection regimes.
const (
	// CollectionIOSS: the seller charges EU VAT at checkout under its
	// Import One-Stop Shop number; the goods clear VAT-free.
	CollectionIOSS Collection = "IOSS"
	// CollectionPointOfSale: the seller or marketplace charges the
	// destination's VAT/GST at the sale (UK, AU, NZ, SG low-value regimes;
	// China's cross-border retail import, where the platform withholds it).
	CollectionPointOfSale Collection = "POINT_OF_SALE"
	// CollectionAtBorder: duty and tax are assessed on import.
	CollectionAtBorder Collection = "AT_BORDER"
)

// CollectionRule picks the collection regime; the first that matches wins,
// and AT_BORDER is the default.
type CollectionRule struct {
	Rule
	Applies
	Regime Collection `json:"regime"`
	// MaxConsignment (minor units, ≤) bounds the consignments it covers; 0
	// means no bound.
	MaxConsignment int64 `json:"maxConsignment,omitempty"`
	Basis          Basis `json:"basis,omitempty"`
	// RequiresIOSS: only when the cart carries an IOSS number.
	RequiresIOSS bool `json:"requiresIOSS,omitempty"`
	// TaxOnSalePrice: the seller charges the tax as on a domestic sale, on
	// the price (goods, shipping, insurance), not on the import base. China's
	// withholding is of the import taxes themselves, on the import base.
	TaxOnSalePrice bool `json:"taxOnSalePrice,omitempty"`
	// TaxChargedFees: fees marked inTaxBase that the seller charges at
	// checkout (DDP) are part of the sale price the tax is on (EU IOSS: the
	// €3 customs duty charged to the buyer, Directive 2006/112/EC Art. 78(a)).
	TaxChargedFees bool `json:"taxChargedFees,omitempty"`
}

// Tax base components.
const (
	BaseValue   = "value"   // the customs value
	BaseDuty    = "duty"    // the duty
	BaseFreight = "freight" // transport and insurance, when the value is FOB
	BaseFees    = "fees"    // fees marked inTaxBase
)

// TaxRule is an import VAT/GST (or a province's HST). In each Group, a rule
// for the consignee's region beats one for its country, which beats one for
// the whole file.
type TaxRule struct {
	Rule
	Applies
	Group string `json:"group"`
	Name  string `json:"name"`
	// Rate in percent, e.g. "19" or "9.975"; or Fraction, the tax as an
	// exact fraction of its base ("22/78": Japan's local consumption tax is
	// 22/78 of the national one). A tax has one or the other.
	Rate     string `json:"rate,omitempty"`
	Fraction string `json:"fraction,omitempty"`
	// Base lists what the tax is charged on at the border: value, duty,
	// freight, fees, or tax:<group>, the amount of a tax of an earlier group
	// (which carries its relief with it). Under a collection regime with
	// TaxOnSalePrice the tax is on the sale price (goods, shipping and
	// insurance) instead.
	Base []string `json:"base"`
}

// RoundingRule is a legal rounding, in the destination's currency, of the
// duty or of the taxes of a group: each line's base is rounded down to a
// multiple of BaseDown and its amount truncated to a minor unit; the
// consignment's amount is the sum of the lines' amounts rounded down to a
// multiple of AmountDown, and a later base (the tax on value + duty, a tax
// on a tax) takes each line's amount rounded down to AmountDown. Japan:
// bases to ¥1,000, amounts to ¥100 (a base under ¥1,000, an amount under
// ¥100, is nothing). The cart-currency figures are converted from the
// rounded amounts.
type RoundingRule struct {
	Rule
	Applies
	// Of is "duty" or a tax group.
	Of string `json:"of"`
	// BaseDown and AmountDown in minor units of the file's currency; 0
	// leaves the base (or the amount) as it is.
	BaseDown   int64 `json:"baseDown,omitempty"`
	AmountDown int64 `json:"amountDown,omitempty"`
}

// RoundingOfDuty is RoundingRule.Of for the duty.
const RoundingOfDuty = "duty"

// BaseTaxPrefix starts a tax base component naming another tax's group.
const BaseTaxPrefix = "tax:"

// FeeKind says how a fee is counted.
type FeeKind string

// Fee kinds.
const (
	FeePerConsignment FeeKind = "per_consignment"
	FeePerSubheading  FeeKind = "per_subheading"
)

// FeeRule is a flat charge on a consignment.
type FeeRule struct {
	Rule
	Applies
	Kind FeeKind `json:"kind"`
	// Amount in minor units of the file's currency.
	Amount int64 `json:"amount"`
	// SubheadingDigits: how many HS digits make a distinct subheading.
	SubheadingDigits int `json:"subheadingDigits,omitempty"`
	// MinConsignment (exclusive) and MaxConsignment (inclusive) bound the
	// consignment value, on Basis; 0 means no bound.
	MinConsignment int64 `json:"minConsignment,omitempty"`
	MaxConsignment int64 `json:"maxConsignment,omitempty"`
	Basis          Basis `json:"basis,omitempty"`
	// ReplacesDuty: the flat amount is the duty; no ad valorem duty is due.
	ReplacesDuty bool `json:"replacesDuty,omitempty"`
	// InTaxBase: the fee is part of the import VAT/GST base.
	InTaxBase bool `json:"inTaxBase,omitempty"`
}

// DutyRule is the duty rate of an HS code (2 to 10 digits).
type DutyRule struct {
	Rule
	HS string `json:"hs"`
	// Rate in percent of the customs value.
	Rate string `json:"rate"`
}

// NoteRule is something an operator must know about a cart. Estimate notes
// mark the quote estimate: true, with the note as the reason.
type NoteRule struct {
	Rule
	Applies
	HSPrefixes []string `json:"hsPrefixes,omitempty"`
	// OverThreshold: only when no relief of the file applied.
	OverThreshold bool   `json:"overThreshold,omitempty"`
	Estimate      bool   `json:"estimate,omitempty"`
	Text          string `json:"text"`
}

// RuleRef is a rule a quote used, as the quote reports it.
type RuleRef struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	From   string `json:"from"`
	To     string `json:"to,omitempty"`
	Verify bool   `json:"verify,omitempty"`
}

func (r *Rule) ref() RuleRef {
	return RuleRef{ID: r.ID, Source: r.Source, From: r.From, To: r.To, Verify: r.Verify}
}

// inForce reports whether the rule is in force on date (YYYY-MM-DD).
func (r *Rule) inForce(date string) bool {
	return r.From <= date && (r.To == "" || date <= r.To)
}

func (a *Applies) match(c *Cart, origin string) bool {
	if a.Gift && !c.Gift {
		return false
	}
	if len(a.TradeModes) > 0 && !has(a.TradeModes, c.TradeMode) {
		return false
	}
	if len(a.Countries) > 0 && !has(a.Countries, c.Destination) {
		return false
	}
	if len(a.Regions) > 0 && !has(a.Regions, c.region()) {
		return false
	}
	if len(a.Origins) > 0 && (origin == "" || !has(a.Origins, origin)) {
		return false
	}
	if len(a.ShipFrom) > 0 && !has(a.ShipFrom, c.ShipFrom) {
		return false
	}
	if len(a.Carriers) > 0 && !has(a.Carriers, c.carrier()) {
		return false
	}
	return true
}

// matchAnyOrigin is match, with Origins met when any line has one of them.
func (a *Applies) matchAnyOrigin(c *Cart) bool {
	b := *a
	b.Origins = nil
	if !b.match(c, "") {
		return false
	}
	if len(a.Origins) == 0 {
		return true
	}
	for _, l := range c.Lines {
		if has(a.Origins, l.OriginCountry) {
			return true
		}
	}
	return false
}

func has[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// territory is one rule file, checked and indexed.
type territory struct {
	file   *RuleFile
	duties map[string][]*DutyRule // by HS prefix
	// parsed rates and factors, by rule id and field
	rat map[string]ratio
	// chained: some tax is on another tax, or the law rounds (the quote
	// keeps each tax's line amounts).
	chained bool
}

// LoadRules reads every rules/*.json file of fsys.
func LoadRules(fsys fs.FS, dir string) ([]*RuleFile, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("customs: list rule files: %w", err)
	}
	sort.Strings(names)
	var files []*RuleFile
	for _, name := range names {
		raw, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("customs: read %s: %w", name, err)
		}
		var f RuleFile
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("customs: %s: %w", name, err)
		}
		files = append(files, &f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("customs: no rule files in %s", dir)
	}
	return files, nil
}

// index checks a rule file and builds its look-up tables.
func index(f *RuleFile) (*territory, error) {
	t := &territory{file: f, duties: map[string][]*DutyRule{}, rat: map[string]ratio{}}
	var errs []error
	bad := func(id, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", f.Destination, id, fmt.Sprintf(format, args...)))
	}
	if !money.Valid(f.Currency) {
		bad("currency", "%q is not an ISO 4217 code", f.Currency)
	}
	for _, c := range f.Countries {
		if !country.Valid(c) {
			bad("countries", "%q is not an ISO 3166-1 code", c)
		}
	}
	ids := map[string]bool{}
	check := func(r *Rule) {
		switch {
		case r.ID == "":
			bad("?", "a rule has no id")
		case ids[r.ID]:
			bad(r.ID, "the id is used twice")
		case r.Source == "":
			bad(r.ID, "no source")
		}
		ids[r.ID] = true
		if _, err := time.Parse(time.DateOnly, r.From); err != nil {
			bad(r.ID, "from %q is not YYYY-MM-DD", r.From)
		}
		if r.To != "" {
			if _, err := time.Parse(time.DateOnly, r.To); err != nil || r.To < r.From {
				bad(r.ID, "to %q is not a YYYY-MM-DD on or after from", r.To)
			}
		}
	}
	// num parses a decimal factor; percent rates are stored divided by 100.
	num := func(r *Rule, name, s string, empty string) {
		if s == "" {
			s = empty
		}
		v, ok := parseRatio(s)
		if !ok {
			bad(r.ID, "%s %q is not a decimal ≥ 0 (at most 15 digits)", name, s)
			return
		}
		if name == "rate" {
			v.d *= 100
		}
		t.rat[r.ID+"/"+name] = v
	}
	basis := func(r *Rule, b Basis) {
		if b != BasisIntrinsic && b != BasisCustomsValue {
			bad(r.ID, "basis %q is neither intrinsic nor customs_value", b)
		}
	}
	for i := range f.Supplies {
		s := &f.Supplies[i]
		check(&s.Rule)
		if s.Kind != RegimeDomestic && s.Kind != RegimeIntraEU {
			bad(s.ID, "kind %q is neither DOMESTIC nor INTRA_EU", s.Kind)
		}
	}
	for i := range f.Valuations {
		v := &f.Valuations[i]
		check(&v.Rule)
		if v.Basis != "CIF" && v.Basis != "FOB" {
			bad(v.ID, "basis %q is neither CIF nor FOB", v.Basis)
		}
		num(&v.Rule, "goodsFactor", v.GoodsFactor, "1")
	}
	for i := range f.Reliefs {
		r := &f.Reliefs[i]
		check(&r.Rule)
		basis(&r.Rule, r.Basis)
		num(&r.Rule, "dutyFactor", r.DutyFactor, "1")
		num(&r.Rule, "taxFactor", r.TaxFactor, "1")
	}
	for i := range f.Collections {
		c := &f.Collections[i]
		check(&c.Rule)
		switch c.Regime {
		case CollectionIOSS, CollectionPointOfSale, CollectionAtBorder:
		default:
			bad(c.ID, "regime %q is unknown", c.Regime)
		}
		if c.MaxConsignment > 0 {
			basis(&c.Rule, c.Basis)
		}
	}
	groups := map[string]int{} // tax group → index of its first rule
	for i := range f.Taxes {
		x := &f.Taxes[i]
		check(&x.Rule)
		switch {
		case (x.Rate == "") == (x.Fraction == ""):
			bad(x.ID, "a tax needs a rate or a fraction, not both")
		case x.Rate != "":
			num(&x.Rule, "rate", x.Rate, "")
		default:
			n, d, ok := strings.Cut(x.Fraction, "/")
			nr, nok := parseRatio(n)
			dr, dok := parseRatio(d)
			if !ok || !nok || !dok || nr.d != 1 || dr.d != 1 || dr.n == 0 {
				bad(x.ID, "fraction %q is not n/d in whole numbers", x.Fraction)
				break
			}
			t.rat[x.ID+"/rate"] = ratio{nr.n, dr.n}
		}
		if x.Group == "" || len(x.Base) == 0 {
			bad(x.ID, "a tax needs a group and a base")
		}
		if _, seen := groups[x.Group]; !seen {
			groups[x.Group] = i
		}
		for _, b := range x.Base {
			if g, ok := strings.CutPrefix(b, BaseTaxPrefix); ok {
				if first, seen := groups[g]; !seen || g == x.Group || first >= i {
					bad(x.ID, "base component %q names no tax group before this one", b)
				}
				t.chained = true
				continue
			}
			if b != BaseValue && b != BaseDuty && b != BaseFreight && b != BaseFees {
				bad(x.ID, "base component %q is unknown", b)
			}
		}
	}
	for i := range f.Rounding {
		r := &f.Rounding[i]
		check(&r.Rule)
		if _, ok := groups[r.Of]; !ok && r.Of != RoundingOfDuty {
			bad(r.ID, "of %q is neither duty nor a tax group", r.Of)
		}
		if r.BaseDown < 0 || r.AmountDown < 0 {
			bad(r.ID, "baseDown and amountDown are minor units ≥ 0")
		}
		t.chained = true
	}
	for i := range f.Fees {
		x := &f.Fees[i]
		check(&x.Rule)
		if x.Kind != FeePerConsignment && x.Kind != FeePerSubheading {
			bad(x.ID, "kind %q is unknown", x.Kind)
		}
		if x.Kind == FeePerSubheading && (x.SubheadingDigits < 2 || x.SubheadingDigits > 10) {
			bad(x.ID, "subheadingDigits must be 2 to 10")
		}
		if x.MinConsignment > 0 || x.MaxConsignment > 0 {
			basis(&x.Rule, x.Basis)
		}
	}
	for i := range f.Duties {
		d := &f.Duties[i]
		check(&d.Rule)
		if !hsPrefix(d.HS) {
			bad(d.ID, "hs %q is not 2 to 10 digits", d.HS)
		}
		num(&d.Rule, "rate", d.Rate, "")
		t.duties[d.HS] = append(t.duties[d.HS], d)
	}
	for i := range f.Notes {
		n := &f.Notes[i]
		check(&n.Rule)
		if n.Text == "" {
			bad(n.ID, "a note needs text")
		}
	}
	// Overlapping duty entries for one code would make the rate ambiguous.
	for hs, list := range t.duties {
		for i := range list {
			for j := i + 1; j < len(list); j++ {
				if overlap(&list[i].Rule, &list[j].Rule) {
					bad(list[j].ID, "overlaps %s for HS %s", list[i].ID, hs)
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("customs: rule file %s: %w", f.Destination, errors.Join(errs...))
	}
	return t, nil
}

func overlap(a, b *Rule) bool {
	aEnd, bEnd := a.To, b.To
	if aEnd == "" {
		aEnd = "9999-12-31"
	}
	if bEnd == "" {
		bEnd = "9999-12-31"
	}
	return a.From <= bEnd && b.From <= aEnd
}

func hsPrefix(s string) bool {
	if len(s) < 2 || len(s) > 10 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// dutyFor finds the duty rate of an HS code on date, falling back from the
// full code through HS10, HS8, HS6, HS4 to HS2; the level is the number of
// digits of the entry used (0 when none).
func (t *territory) dutyFor(hs, date string) (*DutyRule, int) {
	for _, n := range [...]int{10, 9, 8, 7, 6, 4, 2} {
		if n > len(hs) {
			continue
		}
		for _, d := range t.duties[hs[:n]] {
			if d.inForce(date) {
				return d, n
			}
		}
	}
	return nil, 0
}

func (t *territory) ratio(id, name string) ratio { return t.rat[id+"/"+name] }

// rounding is the legal rounding of the duty or of a tax group in force for
// the cart, if any.
func (t *territory) rounding(of string, c *Cart, origin, date string) *RoundingRule {
	for i := range t.file.Rounding {
		r := &t.file.Rounding[i]
		if r.Of == of && r.inForce(date) && r.match(c, origin) {
			return r
		}
	}
	return nil
}
