// Package country knows the ISO 3166-1 alpha-2 country codes and the groupings
// that cross-border rules depend on (such as EU membership).
package country

// set is a set of alpha-2 codes, indexed by their two letters.
type set [26 * 26]bool

var (
	assigned = parse(alpha2)
	eu       = parse(euMembers)
)

// parse reads a list of space-separated upper-case codes.
func parse(list string) *set {
	var s set
	for i := 0; i+1 < len(list); i += 3 {
		s[index(list[i:i+2])] = true
	}
	return &s
}

// index returns the slot of an upper-case two-letter code, or -1.
func index(code string) int {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' {
		return -1
	}
	return int(code[0]-'A')*26 + int(code[1]-'A')
}

func (s *set) has(code string) bool {
	i := index(code)
	return i >= 0 && s[i]
}

// Valid reports whether code is an officially assigned ISO 3166-1 alpha-2
// code, in upper case ("DE", not "de", "DEU" or "UK").
func Valid(code string) bool { return assigned.has(code) }

// InEU reports whether code is a member state of the European Union.
func InEU(code string) bool { return eu.has(code) }
