package capacity

import (
	"encoding/json"
	"regexp"
	"strings"
	"unicode/utf8"
)

// value is one DynamoDB attribute value in the wire shape, {"S": "…"}.
type value map[string]json.RawMessage

// item is an item, or a key, in the wire shape.
type item map[string]value

// text is a scalar value as text: a string, a number or base64 bytes;
// "" for anything else.
func (v value) text() string {
	for _, t := range []string{"S", "N", "B"} {
		if raw, ok := v[t]; ok {
			var s string
			_ = json.Unmarshal(raw, &s)
			return s
		}
	}
	return ""
}

// size is DynamoDB's size of an item: the lengths of its attribute names
// plus the sizes of their values.
func (it item) size() int {
	n := 0
	for name, v := range it {
		n += len(name) + v.size()
	}
	return n
}

// size follows DynamoDB's rules closely enough to weigh items against each
// other: strings by UTF-8 length, numbers by about one byte per two digits,
// binary by decoded length, 3 bytes of overhead per map or list and 1 per
// element.
func (v value) size() int {
	for t, raw := range v {
		switch t {
		case "S", "N", "B":
			var s string
			_ = json.Unmarshal(raw, &s)
			switch t {
			case "S":
				return len(s)
			case "N":
				return (len(strings.TrimLeft(s, "-0"))+1)/2 + 1
			default:
				return len(s) * 3 / 4
			}
		case "BOOL", "NULL":
			return 1
		case "SS", "NS", "BS":
			var set []string
			_ = json.Unmarshal(raw, &set)
			n := 0
			for _, s := range set {
				n += len(s)
			}
			return n
		case "M":
			var m item
			_ = json.Unmarshal(raw, &m)
			n := 3
			for name, e := range m {
				n += len(name) + e.size() + 1
			}
			return n
		case "L":
			var l []value
			_ = json.Unmarshal(raw, &l)
			n := 3
			for _, e := range l {
				n += e.size() + 1
			}
			return n
		}
	}
	return 0
}

// writeUnits is what writing an item of size bytes costs in write units
// (1 KB each, rounded up).
func writeUnits(size int) float64 { return float64(max(1, (size+1023)/1024)) }

// assignments reads an update expression for the top-level attributes it
// sets to a plain value (":v") and those it removes; names go through
// ExpressionAttributeNames, values through ExpressionAttributeValues. An
// attribute set by a function (if_not_exists, list_append, arithmetic) is
// reported as set to nil: changed to something not known here.
func assignments(expr string, names map[string]string, values map[string]value) (set map[string]value, removed []string) {
	set = map[string]value{}
	for _, clause := range clauses(expr) {
		verb, body, _ := strings.Cut(strings.TrimSpace(clause), " ")
		switch strings.ToUpper(verb) {
		case "SET":
			for _, a := range splitTop(body) {
				path, rhs, ok := strings.Cut(a, "=")
				if !ok {
					continue
				}
				name := attributeName(path, names)
				rhs = strings.TrimSpace(rhs)
				if v, ok := values[rhs]; ok {
					set[name] = v
				} else {
					set[name] = nil
				}
			}
		case "REMOVE":
			for _, p := range splitTop(body) {
				removed = append(removed, attributeName(p, names))
			}
		case "ADD", "DELETE":
			for _, a := range splitTop(body) {
				if p, _, ok := strings.Cut(strings.TrimSpace(a), " "); ok {
					set[attributeName(p, names)] = nil
				}
			}
		}
	}
	return set, removed
}

var clauseVerb = regexp.MustCompile(`(?i)\b(SET|REMOVE|ADD|DELETE)\s`)

// clauses splits an update expression at its SET, REMOVE, ADD and DELETE
// keywords.
func clauses(expr string) []string {
	idx := clauseVerb.FindAllStringIndex(expr, -1)
	var out []string
	for i, at := range idx {
		end := len(expr)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		out = append(out, expr[at[0]:end])
	}
	return out
}

// splitTop splits at commas outside parentheses.
func splitTop(s string) []string {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				out = append(out, s[start:i])
				start = i + utf8.RuneLen(r)
			}
		}
	}
	return append(out, s[start:])
}

// attributeName is the top-level attribute a document path starts with.
func attributeName(path string, names map[string]string) string {
	path = strings.TrimSpace(path)
	if i := strings.IndexAny(path, ".["); i >= 0 {
		path = path[:i]
	}
	if n, ok := names[path]; ok {
		return n
	}
	return path
}

var andKeyword = regexp.MustCompile(`(?i)\s+AND\s+`)

// equalityValue finds, in a key condition, the value the attribute attr is
// compared to with "=" ("" when it is not).
func equalityValue(cond, attr string, names map[string]string, values map[string]value) string {
	for _, part := range andKeyword.Split(cond, -1) {
		l, r, ok := strings.Cut(part, "=")
		if !ok || strings.ContainsAny(l, "<>") {
			continue
		}
		l, r = strings.Trim(l, " ()"), strings.Trim(r, " ()")
		if attributeName(l, names) == attr {
			return values[r].text()
		}
		if attributeName(r, names) == attr { // ":v = #pk"
			return values[l].text()
		}
	}
	return ""
}
