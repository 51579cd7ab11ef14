package screening

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Normalisation, shared by party names, line titles and keywords:
//
//   - lower case;
//   - diacritics removed: compatibility decomposition (NFKD, which also folds
//     full-width and ligature forms) with the combining marks dropped, plus
//     foldTable for letters that do not decompose (ß→ss, ø→o, ł→l, æ→ae …);
//   - letters and digits kept, in any script (a Cyrillic or Chinese name is
//     kept as written, not transliterated);
//   - apostrophes and full stops dropped without a break ("d'Armement" →
//     "darmement", "Co." → "co") when join is true, or turned into a break
//     ("d armement") when it is false; party entries are indexed both ways;
//   - every other character (spaces, punctuation, symbols) is a break, and
//     breaks collapse into one space, none at either end.

// foldTable maps lower-case letters that NFKD leaves whole to ASCII.
var foldTable = map[rune]string{
	'ß': "ss", 'ø': "o", 'ł': "l", 'æ': "ae", 'œ': "oe", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŀ': "l", 'ĸ': "k", 'ƒ': "f",
}

// joiner reports whether r is an apostrophe or a full stop, which join or
// break a word depending on the variant asked for.
func joiner(r rune) bool {
	switch r {
	case '\'', '.', '`', '\u2019', '\u2018', '\u02bc', '\u2032', '\uff07', '\uff0e':
		return true
	}
	return false
}

// Classes of a rune, once lower-cased.
const (
	clsBreak  = iota // a word break
	clsLetter        // kept (fold set: replaced by fold)
	clsMark          // a combining mark: dropped
	clsJoiner        // an apostrophe or a full stop
)

// classify returns the class of r, r lower-cased, and its fold-table
// replacement if any.
func classify(r rune) (int, rune, string) {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return clsLetter, r, ""
		case 'A' <= r && r <= 'Z':
			return clsLetter, r + 'a' - 'A', ""
		case r == '\'' || r == '.' || r == '`':
			return clsJoiner, r, ""
		}
		return clsBreak, r, ""
	}
	r = unicode.ToLower(r)
	switch {
	case unicode.Is(unicode.M, r):
		return clsMark, r, ""
	case joiner(r):
		return clsJoiner, r, ""
	case foldTable[r] != "":
		return clsLetter, r, foldTable[r]
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return clsLetter, r, ""
	}
	return clsBreak, r, ""
}

// put appends one rune of class cls to dst; brk is whether a break is
// pending, as it is after the call.
func put(dst []byte, brk bool, joins bool, cls int, r rune, fold string) ([]byte, bool) {
	switch cls {
	case clsLetter:
		if brk && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		if fold != "" {
			return append(dst, fold...), false
		}
		if r < utf8.RuneSelf {
			return append(dst, byte(r)), false
		}
		return utf8.AppendRune(dst, r), false
	case clsJoiner:
		return dst, brk || !joins
	case clsBreak:
		return dst, true
	}
	return dst, brk // a mark
}

// asciiTable maps an ASCII byte to itself lower-cased if it is a letter or
// a digit, to asciiJoiner if it is an apostrophe or a full stop, else to 0
// (a break): the fast path of appendNormal.
var asciiTable = func() (t [utf8.RuneSelf]byte) {
	for c := range byte(utf8.RuneSelf) {
		switch cls, r, _ := classify(rune(c)); cls {
		case clsLetter:
			t[c] = byte(r)
		case clsJoiner:
			t[c] = asciiJoiner
		}
	}
	return t
}()

const asciiJoiner = 1

// appendNormal appends the normalised form of s to dst.
func appendNormal(dst []byte, s string, joins bool) []byte {
	brk := false
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch t := asciiTable[c]; {
			case t > asciiJoiner:
				if brk && len(dst) > 0 {
					dst = append(dst, ' ')
				}
				brk = false
				dst = append(dst, t)
			case t == 0 || !joins:
				brk = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		cls, lr, fold := classify(r)
		if fold == "" && cls != clsMark {
			if d := norm.NFKD.PropertiesString(s[i:]).Decomposition(); len(d) > 0 {
				for len(d) > 0 {
					dr, ds := utf8.DecodeRune(d)
					dcls, dlr, dfold := classify(dr)
					dst, brk = put(dst, brk, joins, dcls, dlr, dfold)
					d = d[ds:]
				}
				i += size
				continue
			}
		}
		dst, brk = put(dst, brk, joins, cls, lr, fold)
		i += size
	}
	return dst
}

// normal returns the normalised form of s, apostrophes and full stops joining.
func normal(s string) string { return string(appendNormal(nil, s, true)) }

// span is one token of a normalised buffer: buf[start:end].
type span struct{ start, end int }

// appendTokens appends the spans of the space-separated tokens of b.
func appendTokens(dst []span, b []byte) []span {
	start := 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == ' ' {
			if i > start {
				dst = append(dst, span{start, i})
			}
			start = i + 1
		}
	}
	return dst
}

// tokens splits a normalised string into its tokens.
func tokens(s string) []string {
	var out []string
	for _, sp := range appendTokens(nil, []byte(s)) {
		out = append(out, s[sp.start:sp.end])
	}
	return out
}

// hasJoiner reports whether s has an apostrophe or a full stop, so that its
// two normalisations differ.
func hasJoiner(s string) bool {
	for _, r := range s {
		if joiner(r) {
			return true
		}
	}
	return false
}
