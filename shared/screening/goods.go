package screening

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// GoodsList is the List of every restricted-goods Hit.
const GoodsList = "restricted-goods"

//go:embed data/restricted-goods.json
var embeddedGoods []byte

// GoodsRule is one restricted or prohibited kind of goods, as written in a
// restricted-goods file.
type GoodsRule struct {
	// ID is stable and names the destination, as "AU.vapes"; "ALL." for
	// every destination.
	ID string `json:"id"`
	// Destinations are ISO 3166-1 alpha-2 codes, or the single "*" for all.
	Destinations []string `json:"destinations"`
	// HSPrefixes are HS chapters, headings or subheadings (2 to 10 digits)
	// matched as digit prefixes of a line's HS code.
	HSPrefixes []string `json:"hsPrefixes,omitempty"`
	// Keywords are words or phrases matched against a line's title as whole
	// words, both folded as party names are (invisible characters removed,
	// case and diacritics ignored, look-alike letters of other scripts read
	// as Latin, punctuation a word break; see normalise.go). The last word
	// also matches with "s" or "es" appended ("aerosol" matches
	// "aerosols"). Negation is not understood:
	// "aerosol-free" contains the word "aerosol".
	Keywords []string `json:"keywords,omitempty"`
	// Action is what a hit does; only "reject" is supported.
	Action      string `json:"action"`
	Description string `json:"description"`
	// Source is the public source of the restriction: a URL or a document.
	Source string `json:"source"`
	// EffectiveFrom and EffectiveTo (YYYY-MM-DD, both days included) bound
	// when the rule is in force; EffectiveTo may be omitted.
	EffectiveFrom string `json:"effectiveFrom"`
	EffectiveTo   string `json:"effectiveTo,omitempty"`
	// Verify marks a rule whose source is secondary or uncertain, to be
	// checked against the primary source before relying on it.
	Verify bool `json:"verify"`
}

type goodsFile struct {
	Version string      `json:"version"`
	Date    string      `json:"date"`
	Note    string      `json:"note,omitempty"`
	Rules   []GoodsRule `json:"rules"`
}

// GoodsRules is a parsed restricted-goods file with its per-destination
// index, built once. It is safe for concurrent use.
type GoodsRules struct {
	version, date string
	rules         []goodsRule
	byDest        map[string]*destIndex // every destination named by a rule
	all           *destIndex            // destinations no rule names: the "*" rules
}

type goodsRule struct {
	GoodsRule
	from, to int // yyyymmdd; to 0 when open
}

func (r *goodsRule) inForce(day int) bool {
	return day >= r.from && (r.to == 0 || day <= r.to)
}

// destIndex is every rule that applies to one destination.
type destIndex struct {
	hs      map[string][]int32 // HS prefix → rules (indexes into GoodsRules.rules)
	hsLens  uint16             // bit n set when some prefix has n digits
	phrases map[string][]phrase
}

// phrase is one keyword, indexed under its first token (and, for a
// one-word keyword, under its plural forms).
type phrase struct {
	rule    int32
	keyword string   // as written in the file
	rest    []string // the tokens after the first
}

// LoadGoods reads a restricted-goods file (the shape of
// data/restricted-goods.json).
func LoadGoods(r io.Reader) (*GoodsRules, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("screening: read restricted-goods rules: %w", err)
	}
	g, err := parseGoods(data)
	if err != nil {
		return nil, fmt.Errorf("screening: restricted-goods rules: %w", err)
	}
	return g, nil
}

// LoadGoodsFile reads the restricted-goods file at path.
func LoadGoodsFile(path string) (*GoodsRules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("screening: read restricted-goods rules: %w", err)
	}
	g, err := parseGoods(data)
	if err != nil {
		return nil, fmt.Errorf("screening: restricted-goods rules %s: %w", path, err)
	}
	return g, nil
}

var defaultGoods = sync.OnceValue(func() *GoodsRules {
	return must(parseGoods(embeddedGoods))
})

// DefaultGoods is the embedded restricted-goods rules, parsed once.
func DefaultGoods() *GoodsRules { return defaultGoods() }

func parseGoods(data []byte) (*GoodsRules, error) {
	var f goodsFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, err
	}
	if f.Version == "" {
		return nil, errors.New(`"version" is missing`)
	}
	if _, err := parseDay(f.Date); err != nil {
		return nil, fmt.Errorf(`"date": %w`, err)
	}
	if len(f.Rules) == 0 {
		return nil, errors.New("no rules")
	}
	g := &GoodsRules{version: f.Version, date: f.Date, byDest: map[string]*destIndex{}}
	seen := map[string]bool{}
	for i, r := range f.Rules {
		gr, err := checkRule(r)
		if err != nil {
			if r.ID != "" {
				return nil, fmt.Errorf("rule %d (%q): %w", i, r.ID, err)
			}
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("rule %d: id %q is used twice", i, r.ID)
		}
		seen[r.ID] = true
		g.rules = append(g.rules, gr)
		for _, d := range r.Destinations {
			if d != "*" && g.byDest[d] == nil {
				g.byDest[d] = newDestIndex()
			}
		}
	}
	g.all = newDestIndex()
	for i := range g.rules {
		r := &g.rules[i]
		if r.Destinations[0] == "*" {
			g.all.add(int32(i), r)
			for _, idx := range g.byDest {
				idx.add(int32(i), r)
			}
			continue
		}
		for _, d := range r.Destinations {
			g.byDest[d].add(int32(i), r)
		}
	}
	return g, nil
}

func checkRule(r GoodsRule) (goodsRule, error) {
	gr := goodsRule{GoodsRule: r}
	switch {
	case r.ID == "" || strings.TrimSpace(r.ID) != r.ID:
		return gr, errors.New(`"id" is missing or has surrounding spaces`)
	case len(r.Destinations) == 0:
		return gr, errors.New(`"destinations" is empty: name ISO 3166-1 alpha-2 codes, or "*" for all`)
	case len(r.HSPrefixes) == 0 && len(r.Keywords) == 0:
		return gr, errors.New(`neither "hsPrefixes" nor "keywords": the rule would match nothing`)
	case r.Action != "reject":
		return gr, fmt.Errorf(`"action" %q is not supported (only "reject")`, r.Action)
	case strings.TrimSpace(r.Description) == "":
		return gr, errors.New(`"description" is missing`)
	case strings.TrimSpace(r.Source) == "":
		return gr, errors.New(`"source" is missing`)
	}
	for _, d := range r.Destinations {
		if d == "*" && len(r.Destinations) > 1 {
			return gr, errors.New(`"destinations": "*" must stand alone`)
		}
		if d != "*" && !countryCode(d) {
			return gr, fmt.Errorf(`"destinations": %q is not an ISO 3166-1 alpha-2 code (two upper-case letters) or "*"`, d)
		}
	}
	for _, p := range r.HSPrefixes {
		if len(p) < 2 || len(p) > 10 || !digits(p) {
			return gr, fmt.Errorf(`"hsPrefixes": %q must be 2 to 10 digits, without dots or spaces`, p)
		}
	}
	for _, k := range r.Keywords {
		if fold(k) == "" {
			return gr, fmt.Errorf(`"keywords": %q has no letters or digits`, k)
		}
	}
	var err error
	if gr.from, err = parseDay(r.EffectiveFrom); err != nil {
		return gr, fmt.Errorf(`"effectiveFrom": %w`, err)
	}
	if r.EffectiveTo != "" {
		if gr.to, err = parseDay(r.EffectiveTo); err != nil {
			return gr, fmt.Errorf(`"effectiveTo": %w`, err)
		}
		if gr.to < gr.from {
			return gr, fmt.Errorf(`"effectiveTo" %s is before "effectiveFrom" %s`, r.EffectiveTo, r.EffectiveFrom)
		}
	}
	return gr, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func newDestIndex() *destIndex {
	return &destIndex{hs: map[string][]int32{}, phrases: map[string][]phrase{}}
}

func (d *destIndex) add(i int32, r *goodsRule) {
	for _, p := range r.HSPrefixes {
		d.hs[p] = append(d.hs[p], i)
		d.hsLens |= 1 << len(p)
	}
	for _, k := range r.Keywords {
		folded, notes := appendFold(nil, k, 0)
		d.addPhrase(i, k, tokens(string(folded)))
		// A keyword with Greek capitals is indexed by their shape too.
		if notes.capital {
			if other, _ := appendFold(nil, k, asCapitals); string(other) != string(folded) {
				d.addPhrase(i, k, tokens(string(other)))
			}
		}
	}
}

// addPhrase indexes keyword k of rule i, folded into toks, under its first
// token (and, for one word, its plurals).
func (d *destIndex) addPhrase(i int32, k string, toks []string) {
	ph := phrase{rule: i, keyword: k, rest: toks[1:]}
	d.phrases[toks[0]] = append(d.phrases[toks[0]], ph)
	if len(toks) == 1 {
		d.phrases[toks[0]+"s"] = append(d.phrases[toks[0]+"s"], ph)
		d.phrases[toks[0]+"es"] = append(d.phrases[toks[0]+"es"], ph)
	}
}

// Version is the version of the rules file.
func (g *GoodsRules) Version() string { return g.version }

// Date is the date of the rules file.
func (g *GoodsRules) Date() string { return g.date }

// Rules returns a copy of the rules, in file order.
func (g *GoodsRules) Rules() []GoodsRule {
	out := make([]GoodsRule, len(g.rules))
	for i := range g.rules {
		out[i] = g.rules[i].GoodsRule
	}
	return out
}

// Check screens lines bound for destination dest (ISO 3166-1 alpha-2)
// against the rules in force on the calendar date of on (in on's location; a
// zero on means now). It returns nil when every line passes, or the first hit
// in line order; within a line an HS prefix hit comes before a title
// keyword hit, and between rules the earlier in the file wins. Fields are
// JSON pointers into an order ("/lines/2/hsCode"), so a cart checked before
// it is an order gets the same pointers.
func (g *GoodsRules) Check(dest string, lines []order.Line, on time.Time) *Hit {
	if g == nil || len(lines) == 0 {
		return nil
	}
	if on.IsZero() {
		on = time.Now()
	}
	day := dayOf(on)
	idx := g.byDest[strings.ToUpper(strings.TrimSpace(dest))]
	if idx == nil {
		idx = g.all
	}
	for i := range lines {
		if h := g.checkLine(idx, i, &lines[i], day); h != nil {
			return h
		}
	}
	return nil
}

func (g *GoodsRules) checkLine(idx *destIndex, i int, l *order.Line, day int) *Hit {
	// HS code: validated orders have digits only; a cart may not be validated.
	hs := l.HSCode
	var digitBuf [16]byte
	if !digits(hs) {
		b := digitBuf[:0]
		for j := 0; j < len(hs); j++ {
			if '0' <= hs[j] && hs[j] <= '9' {
				b = append(b, hs[j])
			}
		}
		hs = string(b)
	}
	best, bestPrefix := int32(-1), ""
	for n := 2; n <= len(hs) && n <= 10; n++ {
		if idx.hsLens&(1<<n) == 0 {
			continue
		}
		for _, ri := range idx.hs[hs[:n]] {
			if (best < 0 || ri < best) && g.rules[ri].inForce(day) {
				best, bestPrefix = ri, hs[:n]
			}
		}
	}
	if best >= 0 {
		return g.hit(best, "HS "+bestPrefix, "/lines/"+strconv.Itoa(i)+"/hsCode")
	}

	if len(idx.phrases) == 0 || l.Title == "" {
		return nil
	}
	// The title is folded as the keywords are, so that "Va<U+00AD>pe" or a
	// Cyrillic а in "vаpe" hits; with Greek capitals it is read both
	// through their lower case and by their shape, the earlier rule winning.
	best, bestKw, notes := g.matchKeywords(idx, l.Title, 0, day)
	if notes.capital {
		if other, kw, _ := g.matchKeywords(idx, l.Title, asCapitals, day); other >= 0 && (best < 0 || other < best) {
			best, bestKw = other, kw
		}
	}
	if best >= 0 {
		return g.hit(best, "keyword "+bestKw, "/lines/"+strconv.Itoa(i)+"/title")
	}
	return nil
}

// matchKeywords returns the earliest rule in force on day whose keyword the
// title, read in mode, holds, and that keyword; -1 if none.
func (g *GoodsRules) matchKeywords(idx *destIndex, title string, mode foldMode, day int) (int32, string, foldNotes) {
	var textBuf [256]byte
	var spanBuf [48]span
	text, notes := appendFold(textBuf[:0], title, mode)
	toks := appendTokens(spanBuf[:0], text)
	best, bestKw := int32(-1), ""
	for t, sp := range toks {
		for _, ph := range idx.phrases[string(text[sp.start:sp.end])] {
			if (best >= 0 && ph.rule >= best) || !g.rules[ph.rule].inForce(day) || !ph.follows(text, toks[t+1:]) {
				continue
			}
			best, bestKw = ph.rule, ph.keyword
		}
	}
	return best, bestKw, notes
}

// follows reports whether the phrase's remaining tokens are the next tokens
// of the title, the last allowing a plural "s" or "es".
func (ph *phrase) follows(text []byte, next []span) bool {
	if len(ph.rest) > len(next) {
		return false
	}
	for j, want := range ph.rest {
		got := string(text[next[j].start:next[j].end])
		if got == want {
			continue
		}
		if j == len(ph.rest)-1 && strings.HasPrefix(got, want) && (got[len(want):] == "s" || got[len(want):] == "es") {
			continue
		}
		return false
	}
	return true
}

func (g *GoodsRules) hit(ri int32, matched, field string) *Hit {
	r := &g.rules[ri]
	return &Hit{
		Reason:   RestrictedGoods,
		EntryID:  r.ID,
		List:     GoodsList,
		Matched:  matched,
		Field:    field,
		Source:   r.Source,
		ListDate: g.date,
	}
}
