package screening

import (
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

//go:embed data/denied-parties.json
var embeddedParties []byte

// PartyEntry is one listed party, as written in a denied-party list file.
type PartyEntry struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Aliases are other names the party is listed under; each is matched
	// like the name.
	Aliases []string `json:"aliases,omitempty"`
	// List is the list the entry comes from ("SDN", "Entity List" …).
	List string `json:"list"`
	// Countries are ISO 3166-1 alpha-2 codes of the entry's addresses.
	Countries []string `json:"countries,omitempty"`
	Source    string   `json:"source"`
}

type partyFile struct {
	ListDate string       `json:"listDate"`
	Source   string       `json:"source"`
	Note     string       `json:"note,omitempty"`
	Entries  []PartyEntry `json:"entries"`
}

// legalForms are tokens dropped from every name before comparison: legal
// forms and "the". "co ltd" written "Co.Ltd" normalises to "coltd".
var legalForms = map[string]bool{
	"ltd": true, "limited": true, "llc": true, "inc": true, "co": true, "corp": true,
	"corporation": true, "incorporated": true, "company": true, "gmbh": true,
	"sa": true, "sarl": true, "srl": true, "bv": true, "plc": true, "ag": true,
	"llp": true, "pte": true, "pty": true, "coltd": true, "the": true,
}

// PartyList is a parsed denied-party list with its name index, built once.
// It is safe for concurrent use.
//
// Matching: a name and every listed name (entry names and aliases) are
// folded (invisible characters removed, lower case, diacritics removed,
// look-alike letters of other scripts read as the Latin letters they pass
// for, punctuation and symbols dropped, legal forms and "the" dropped; see
// normalise.go) into a set of words, word order ignored. A name hits a
// listed name of two or more words when it contains all of its words, with
// or without others: "ACME Sanctioned Trading Shanghai Branch" hits "Acme
// Sanctioned Trading", because a denied-party screen errs on the side of a
// hit (an operator reviews it), while "Acme Trading" does not. A listed
// name of one word hits only a name that is that word alone (legal forms
// aside): "Zorblax Ltd" hits "Zorblax", "Zorblax Trading" does not.
type PartyList struct {
	listDate, source string
	entries          []PartyEntry
	single           map[string]int32 // one-word listed name → variant
	anchor           map[string][]int32
	variants         []variant
}

// variant is one normalised listed name.
type variant struct {
	entry  int32
	listed string   // the name or alias as listed
	words  []string // distinct words, legal forms dropped
}

// Load reads a denied-party list file (the shape of
// data/denied-parties.json), so that operators can screen against a
// refreshed list.
func Load(r io.Reader) (*PartyList, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("screening: read denied-party list: %w", err)
	}
	l, err := parseParties(data)
	if err != nil {
		return nil, fmt.Errorf("screening: denied-party list: %w", err)
	}
	return l, nil
}

// LoadFile reads the denied-party list file at path.
func LoadFile(path string) (*PartyList, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("screening: read denied-party list: %w", err)
	}
	l, err := parseParties(data)
	if err != nil {
		return nil, fmt.Errorf("screening: denied-party list %s: %w", path, err)
	}
	return l, nil
}

var defaultParties = sync.OnceValue(func() *PartyList {
	return must(parseParties(embeddedParties))
})

// DefaultParties is the embedded sample denied-party list, parsed once.
func DefaultParties() *PartyList { return defaultParties() }

func parseParties(data []byte) (*PartyList, error) {
	var f partyFile
	if err := decodeStrict(data, &f); err != nil {
		return nil, err
	}
	if _, err := parseDay(f.ListDate); err != nil {
		return nil, fmt.Errorf(`"listDate": %w`, err)
	}
	if strings.TrimSpace(f.Source) == "" {
		return nil, errors.New(`"source" is missing`)
	}
	if len(f.Entries) == 0 {
		return nil, errors.New("no entries")
	}
	l := &PartyList{listDate: f.ListDate, source: f.Source, entries: f.Entries, single: map[string]int32{}, anchor: map[string][]int32{}}
	seen := map[string]bool{}
	for i, e := range f.Entries {
		if err := l.addEntry(int32(i), e); err != nil {
			if e.ID != "" {
				return nil, fmt.Errorf("entry %d (%q): %w", i, e.ID, err)
			}
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		if seen[e.ID] {
			return nil, fmt.Errorf("entry %d: id %q is used twice", i, e.ID)
		}
		seen[e.ID] = true
	}
	// Index each name of two or more words under its rarest word, so that a
	// common word ("trading") does not lead every check through many entries.
	freq := map[string]int{}
	for _, v := range l.variants {
		for _, w := range v.words {
			freq[w]++
		}
	}
	for i, v := range l.variants {
		if len(v.words) == 1 {
			if _, dup := l.single[v.words[0]]; !dup {
				l.single[v.words[0]] = int32(i)
			}
			continue
		}
		rare := v.words[0]
		for _, w := range v.words[1:] {
			if freq[w] < freq[rare] {
				rare = w
			}
		}
		l.anchor[rare] = append(l.anchor[rare], int32(i))
	}
	return l, nil
}

func (l *PartyList) addEntry(i int32, e PartyEntry) error {
	switch {
	case e.ID == "" || strings.TrimSpace(e.ID) != e.ID:
		return errors.New(`"id" is missing or has surrounding spaces`)
	case strings.TrimSpace(e.Name) == "":
		return errors.New(`"name" is missing`)
	case strings.TrimSpace(e.List) == "":
		return errors.New(`"list" is missing`)
	case strings.TrimSpace(e.Source) == "":
		return errors.New(`"source" is missing`)
	}
	for _, c := range e.Countries {
		if !countryCode(c) {
			return fmt.Errorf(`"countries": %q is not an ISO 3166-1 alpha-2 code (two upper-case letters)`, c)
		}
	}
	for j, name := range append([]string{e.Name}, e.Aliases...) {
		words, notes := nameWords(name, 0)
		if len(words) == 0 {
			if j == 0 {
				return fmt.Errorf(`"name" %q has no words once legal forms are dropped`, name)
			}
			return fmt.Errorf(`alias %q has no words once legal forms are dropped`, name)
		}
		first := len(l.variants)
		l.variants = append(l.variants, variant{entry: i, listed: name, words: words})
		// "d'Armement" is indexed as "darmement" and as "d armement"; a name
		// with Greek capitals is indexed through their lower case and by
		// their shape.
		for _, mode := range otherReadings(notes) {
			other, _ := nameWords(name, mode)
			if len(other) == 0 || l.indexed(first, other) {
				continue
			}
			l.variants = append(l.variants, variant{entry: i, listed: name, words: other})
		}
	}
	return nil
}

// otherReadings are the readings of a text besides the usual one that
// could fold it differently, as its notes tell, in the order they are
// tried.
func otherReadings(notes foldNotes) []foldMode {
	switch {
	case notes.joiner && notes.capital:
		return readings[:]
	case notes.joiner:
		return readings[:1]
	case notes.capital:
		return readings[1:2]
	}
	return nil
}

// readings are the other readings, sliced by otherReadings (a table, so
// that choosing them allocates nothing).
var readings = [...]foldMode{splitJoiners, asCapitals, splitJoiners | asCapitals}

// indexed reports whether one of the variants from first on has exactly
// these words.
func (l *PartyList) indexed(first int, words []string) bool {
	for _, v := range l.variants[first:] {
		if sameWords(v.words, words) {
			return true
		}
	}
	return false
}

// nameWords is the distinct words of a name read in mode, legal forms
// dropped.
func nameWords(name string, mode foldMode) ([]string, foldNotes) {
	folded, notes := appendFold(nil, name, mode)
	var out []string
	for _, w := range tokens(string(folded)) {
		if !legalForms[w] && !contains(out, w) {
			out = append(out, w)
		}
	}
	return out, notes
}

func contains(ws []string, w string) bool {
	for _, x := range ws {
		if x == w {
			return true
		}
	}
	return false
}

func sameWords(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, w := range a {
		if !contains(b, w) {
			return false
		}
	}
	return true
}

// ListDate is the date of the list.
func (l *PartyList) ListDate() string { return l.listDate }

// Source is where the list comes from.
func (l *PartyList) Source() string { return l.source }

// Entries returns a copy of the entries, in file order.
func (l *PartyList) Entries() []PartyEntry { return append([]PartyEntry(nil), l.entries...) }

// Check screens one name; field is the JSON pointer the hit reports
// ("/buyer/name"). It returns nil when the name matches no listed name. The
// hit's Matched is the listed name, never the name checked.
//
// The name is folded as the listed names are (see PartyList), so that one
// disguised with invisible characters ("Sanc<U+00AD>tioned") or look-alike
// letters (a Cyrillic А for A) hits as written plainly.
func (l *PartyList) Check(name, field string) *Hit {
	if l == nil || name == "" {
		return nil
	}
	v, notes := l.match(name, 0)
	if v >= 0 {
		return l.hit(v, field)
	}
	// Most names, without apostrophes, full stops or capital look-alikes,
	// have no other reading.
	for _, mode := range otherReadings(notes) {
		if v, _ := l.match(name, mode); v >= 0 {
			return l.hit(v, field)
		}
	}
	return nil
}

// match returns the first variant that name, read in mode, matches, or -1.
func (l *PartyList) match(name string, mode foldMode) (int32, foldNotes) {
	var textBuf [256]byte
	var spanBuf [24]span
	text, notes := appendFold(textBuf[:0], name, mode)
	all := appendTokens(spanBuf[:0], text)
	// Distinct words, legal forms dropped, in place.
	words := all[:0]
	for _, sp := range all {
		w := text[sp.start:sp.end]
		if legalForms[string(w)] {
			continue
		}
		dup := false
		for _, o := range words {
			if string(text[o.start:o.end]) == string(w) {
				dup = true
				break
			}
		}
		if !dup {
			words = append(words, sp)
		}
	}
	if len(words) == 0 {
		return -1, notes
	}
	best := int32(-1)
	if len(words) == 1 {
		if v, ok := l.single[string(text[words[0].start:words[0].end])]; ok {
			best = v
		}
	}
	for _, sp := range words {
		for _, v := range l.anchor[string(text[sp.start:sp.end])] {
			if (best < 0 || v < best) && l.variants[v].within(text, words) {
				best = v
			}
		}
	}
	return best, notes
}

// within reports whether every word of v is one of the words of text.
func (v *variant) within(text []byte, words []span) bool {
	if len(v.words) > len(words) {
		return false
	}
next:
	for _, w := range v.words {
		for _, sp := range words {
			if string(text[sp.start:sp.end]) == w {
				continue next
			}
		}
		return false
	}
	return true
}

func (l *PartyList) hit(v int32, field string) *Hit {
	e := &l.entries[l.variants[v].entry]
	return &Hit{
		Reason:   DeniedParty,
		EntryID:  e.ID,
		List:     e.List,
		Matched:  l.variants[v].listed,
		Field:    field,
		Source:   e.Source,
		ListDate: l.listDate,
	}
}
