package screening

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Folding, shared by party names, line titles and keywords, so that a name
// or a title is compared with the list the way name-screening systems
// compare: by what a reader sees, not by code points.
//
//   - invisible characters are removed, not read as word breaks: format
//     characters (Cf: soft hyphen, zero-width space, non-joiner and joiner,
//     word joiner, byte order mark, bidirectional controls …), other
//     default-ignorable code points and control characters (Cc) that are not
//     white space. "Sanc<U+00AD>tioned" is "sanctioned": a reader sees one
//     word, so the screen must too. (Validation refuses such names; folding
//     removes them for whatever reaches the screen by another way, and for
//     the lists themselves.)
//   - lower case;
//   - diacritics removed: compatibility decomposition (NFKD, which also folds
//     full-width, mathematical, circled and ligature forms) with the
//     combining marks dropped (variation selectors too: they are marks),
//     plus foldTable for letters that do not decompose (ß→ss, ø→o, ł→l,
//     æ→ae …);
//   - look-alikes of Latin letters in other scripts read as those letters
//     (see confusables.go): Cyrillic "Асме" is "acme";
//   - letters and digits kept, in any script; within a word that has
//     letters, the digit 0 reads as the letter o ("Z0rblax"), see
//     readZeroAsO;
//   - apostrophes and full stops dropped without a break ("d'Armement" →
//     "darmement", "Co." → "co"), or turned into a break ("d armement") when
//     splitJoiners is asked for; party entries are indexed both ways;
//   - every other character (spaces, punctuation, symbols) is a break, and
//     breaks collapse into one space, none at either end.
//
// Folding is idempotent: a folded text folds to itself (FuzzFold checks it).

// foldMode selects one reading of a text; the zero mode is the usual one.
type foldMode uint8

const (
	// splitJoiners reads apostrophes and full stops as word breaks.
	splitJoiners foldMode = 1 << iota
	// asCapitals reads the letters of capitalLookalikes by their own shape
	// (Greek Ν as n) rather than through their lower case (ν, read as v).
	asCapitals
)

// foldNotes is what folding saw that another reading of the same text would
// read differently: whether the other readings are worth trying.
type foldNotes struct {
	joiner  bool // an apostrophe or a full stop: splitJoiners differs
	capital bool // a letter of capitalLookalikes: asCapitals differs
}

// foldTable maps lower-case letters that NFKD leaves whole to ASCII: letters
// with a stroke or a hook, which a reader takes for the plain letter, as
// NFKD makes é into e.
var foldTable = map[rune]string{
	'ß': "ss", 'ø': "o", 'ł': "l", 'æ': "ae", 'œ': "oe", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŀ': "l", 'ĸ': "k", 'ƒ': "f",
	'ƀ': "b", 'ɨ': "i", 'ƶ': "z", 'ɇ': "e", 'ɉ': "j", 'ɍ': "r", 'ʉ': "u",
	'ƚ': "l", 'ȼ': "c", 'ǥ': "g", 'ɏ': "y", 'ᵽ': "p", 'ɓ': "b", 'ɗ': "d",
	'ƙ': "k", 'ƥ': "p", 'ƭ': "t", 'ƴ': "y", 'ƈ': "c", 'ɠ': "g", 'ɦ': "h",
	'ʂ': "s", 'ʐ': "z", 'ȥ': "z", 'ɲ': "n", 'ɳ': "n",
}

// joiner reports whether r is an apostrophe or a full stop, which join or
// break a word depending on the reading.
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
	clsLetter        // kept, or replaced (by foldTable, lookalikes …)
	clsMark          // a combining mark: dropped
	clsJoiner        // an apostrophe or a full stop
	clsIgnore        // invisible: removed without a break
)

// invisible reports whether r is removed without a trace: a format
// character (Cf), another default-ignorable code point, or a control
// character (Cc) that is not white space (a tab or a line feed is a break,
// as a space is).
func invisible(r rune) bool {
	switch {
	case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r):
		return true
	case unicode.Is(unicode.Cc, r):
		return !unicode.IsSpace(r)
	}
	return false
}

// blankLetter reports whether r is one of the Hangul fillers: letters by
// category and default-ignorable, but drawn as a blank where they are drawn
// at all, so that "Acme<U+3164>Sanctioned" looks like two words. They are
// word breaks, not removed (U+3164 and U+FFA0 decompose to U+1160).
func blankLetter(r rune) bool {
	return r == '\u3164' || r == '\uffa0' || r == '\u115f' || r == '\u1160'
}

// classify returns the class of r, r lower-cased, and its replacement repl
// if any; capital reports whether r is one of capitalLookalikes, which the
// asCapitals reading replaces.
func classify(r rune, mode foldMode) (cls int, lr rune, repl string, capital bool) {
	if r < utf8.RuneSelf {
		switch {
		case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			return clsLetter, r, "", false
		case 'A' <= r && r <= 'Z':
			return clsLetter, r + 'a' - 'A', "", false
		case r == '\'' || r == '.' || r == '`':
			return clsJoiner, r, "", false
		case r < ' ' && !unicode.IsSpace(r), r == 0x7f:
			return clsIgnore, r, "", false
		}
		return clsBreak, r, "", false
	}
	if c, ok := capitalLookalikes[r]; ok {
		if mode&asCapitals != 0 {
			return clsLetter, r, c, true
		}
		capital = true
	}
	switch {
	case blankLetter(r):
		return clsBreak, r, "", capital
	case invisible(r):
		return clsIgnore, r, "", capital
	}
	r = unicode.ToLower(r)
	switch {
	case unicode.Is(unicode.M, r):
		return clsMark, r, "", capital
	case joiner(r):
		return clsJoiner, r, "", capital
	case foldTable[r] != "":
		return clsLetter, r, foldTable[r], capital
	case lookalikes[r] != "":
		return clsLetter, r, lookalikes[r], capital
	case unicode.IsLetter(r) || unicode.IsDigit(r):
		return clsLetter, r, "", capital
	}
	return clsBreak, r, "", capital
}

// put appends one rune of class cls (replaced by repl if set) to dst; brk is whether a break is
// pending, as it is after the call.
func put(dst []byte, brk bool, mode foldMode, cls int, r rune, repl string) ([]byte, bool) {
	switch cls {
	case clsLetter:
		if brk && len(dst) > 0 {
			dst = append(dst, ' ')
		}
		if repl != "" {
			return append(dst, repl...), false
		}
		if r < utf8.RuneSelf {
			return append(dst, byte(r)), false
		}
		return utf8.AppendRune(dst, r), false
	case clsJoiner:
		return dst, brk || mode&splitJoiners != 0
	case clsBreak:
		return dst, true
	}
	return dst, brk // a mark, or an invisible character
}

// asciiTable maps an ASCII byte to itself lower-cased if it is a letter or
// a digit, to asciiJoiner if it is an apostrophe or a full stop, to
// asciiIgnore if it is an invisible control character, else to asciiBreak:
// the fast path of appendFold.
var asciiTable = func() (t [utf8.RuneSelf]byte) {
	for c := range byte(utf8.RuneSelf) {
		switch cls, r, _, _ := classify(rune(c), 0); cls {
		case clsLetter:
			t[c] = byte(r)
		case clsJoiner:
			t[c] = asciiJoiner
		case clsIgnore:
			t[c] = asciiIgnore
		}
	}
	return t
}()

const (
	asciiBreak = iota
	asciiJoiner
	asciiIgnore
)

// appendFold appends the folded form of s, read in mode, to dst, and notes
// what another reading would change.
func appendFold(dst []byte, s string, mode foldMode) ([]byte, foldNotes) {
	start, brk := len(dst), false
	var notes foldNotes
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			switch t := asciiTable[c]; {
			case t > asciiIgnore:
				if brk && len(dst) > start {
					dst = append(dst, ' ')
				}
				brk = false
				dst = append(dst, t)
			case t == asciiJoiner:
				notes.joiner = true
				brk = brk || mode&splitJoiners != 0
			case t == asciiBreak:
				brk = true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		cls, lr, repl, capital := classify(r, mode)
		notes.capital = notes.capital || capital
		if repl == "" && (cls == clsLetter || cls == clsBreak || cls == clsJoiner) {
			if d := norm.NFKD.PropertiesString(s[i:]).Decomposition(); len(d) > 0 {
				for len(d) > 0 {
					dr, ds := utf8.DecodeRune(d)
					dcls, dlr, drepl, dcapital := classify(dr, mode)
					notes.capital = notes.capital || dcapital
					notes.joiner = notes.joiner || dcls == clsJoiner
					dst, brk = put(dst, brk && len(dst) > start, mode, dcls, dlr, drepl)
					d = d[ds:]
				}
				i += size
				continue
			}
		}
		notes.joiner = notes.joiner || cls == clsJoiner
		dst, brk = put(dst, brk && len(dst) > start, mode, cls, lr, repl)
		i += size
	}
	return readZeroAsO(dst, start), notes
}

// readZeroAsO replaces the digit 0 with the letter o in every word of
// dst[start:] that also has a letter: "z0rblax" is "zorblax", "b0ng" is
// "bong". A word of digits alone ("2000", "0") is a number and stays one,
// and other digits are not read as letters (1 passes for l and for i alike).
func readZeroAsO(dst []byte, start int) []byte {
	for i := start; i < len(dst); {
		end := i
		zero, letter := false, false
		for end < len(dst) && dst[end] != ' ' {
			switch c := dst[end]; {
			case c == '0':
				zero = true
				end++
			case c < utf8.RuneSelf:
				letter = letter || c < '0' || c > '9'
				end++
			default:
				r, size := utf8.DecodeRune(dst[end:])
				letter = letter || unicode.IsLetter(r)
				end += size
			}
		}
		if zero && letter {
			for j := i; j < end; j++ {
				if dst[j] == '0' {
					dst[j] = 'o'
				}
			}
		}
		i = end + 1
	}
	return dst
}

// fold returns the folded form of s in the usual reading.
func fold(s string) string {
	b, _ := appendFold(nil, s, 0)
	return string(b)
}

// span is one token of a folded buffer: buf[start:end].
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

// tokens splits a folded string into its tokens.
func tokens(s string) []string {
	var out []string
	for _, sp := range appendTokens(nil, []byte(s)) {
		out = append(out, s[sp.start:sp.end])
	}
	return out
}
