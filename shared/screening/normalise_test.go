package screening

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	tests := []struct{ in, joined, split string }{
		{"Société Générale", "societe generale", "societe generale"},
		{"SOCIÉTÉ", "societe", "societe"},
		{"Straße", "strasse", "strasse"},
		{"Øresund", "oresund", "oresund"},
		{"Łódź", "lodz", "lodz"},
		{"Æsir Œuvre", "aesir oeuvre", "aesir oeuvre"},
		{"Þór Đorđe", "thor dorde", "thor dorde"},
		{"Nguyễn Văn", "nguyen van", "nguyen van"},
		{"e\u0301te\u0301", "ete", "ete"}, // already decomposed
		{"İstanbul", "istanbul", "istanbul"},
		{"ＡＣＭＥ", "acme", "acme"}, // full-width
		{"ﬁne", "fine", "fine"},  // ligature
		// Other scripts are kept, lower-cased, their Latin look-alikes read
		// as Latin (before the skeleton, this was "иван").
		{"Иван", "иbah", "иbah"},
		{"张伟", "张伟", "张伟"},
		{"Acme,  Sanctioned-Trading\tCo.", "acme sanctioned trading co", "acme sanctioned trading co"},
		{"d'Armement", "darmement", "d armement"},
		{"d’Armement", "darmement", "d armement"},
		{"S.A.R.L.", "sarl", "s a r l"},
		{"100% cotton — 2×", "100 cotton 2", "100 cotton 2"},
		{"  \t ", "", ""},
		{"", "", ""},

		// Invisible characters are removed, not word breaks (before, each
		// of these split the word in two).
		{"Sanc\u00adtioned", "sanctioned", "sanctioned"},               // soft hyphen
		{"Sanc\u200btioned", "sanctioned", "sanctioned"},               // zero-width space
		{"Sanc\u200ctioned", "sanctioned", "sanctioned"},               // zero-width non-joiner
		{"Sanc\u200dtioned", "sanctioned", "sanctioned"},               // zero-width joiner
		{"Sanc\u2060tioned", "sanctioned", "sanctioned"},               // word joiner
		{"\ufeffSanc\ufefftioned", "sanctioned", "sanctioned"},         // byte order mark
		{"\u202eSanc\u202ctioned\u2066", "sanctioned", "sanctioned"},   // bidi controls
		{"Sanc\u200e\u200ftioned\u061c", "sanctioned", "sanctioned"},   // direction marks
		{"Sanc\U000e0041tioned", "sanctioned", "sanctioned"},           // a tag character
		{"Sanc\x00\x1btioned\u0085x", "sanctioned x", "sanctioned x"},  // controls go, a line break (NEL) stays one
		{"Sanc\ufe0ftioned\u034f", "sanctioned", "sanctioned"},         // variation selector, grapheme joiner
		{"Acme\u3164Sanctioned", "acme sanctioned", "acme sanctioned"}, // a Hangul filler is drawn blank: a break
		{"Acme\u00a0Sanctioned\u2028Trading", "acme sanctioned trading", "acme sanctioned trading"},

		// Look-alikes.
		{"Асме", "acme", "acme"},          // Cyrillic А, С, М, Е
		{"АСМЕ", "acme", "acme"},          // the same in capitals
		{"Αcme", "acme", "acme"},          // Greek Α
		{"ΒLOCKED", "βlocked", "βlocked"}, // Greek Β: its lower case β is no b; asCapitals reads it (below)
		{"𝐀𝐜𝐦𝐞", "acme", "acme"},          // mathematical bold
		{"ᴀᴄᴍᴇ", "acme", "acme"},          // small capitals
		{"Ꭺꮯꮇꭼ", "acme", "acme"},          // Cherokee
		{"Z0rblax 2000 0", "zorblax 2000 0", "zorblax 2000 0"},
		{"ϲat", "cat", "cat"}, // lunate sigma, which NFKD would make ς
		{"ΝΙΚΟΣ νίκος", "vikoo vikoo", "vikoo vikoo"},
		{"ƀɨɍɗ", "bird", "bird"},
	}
	for _, tt := range tests {
		if got, _ := appendFold(nil, tt.in, 0); string(got) != tt.joined {
			t.Errorf("fold(%q) = %q, want %q", tt.in, got, tt.joined)
		}
		if got, _ := appendFold(nil, tt.in, splitJoiners); string(got) != tt.split {
			t.Errorf("fold(%q), breaking at apostrophes = %q, want %q", tt.in, got, tt.split)
		}
	}
}

// TestFoldAsCapitals: the capitals whose lower case passes for another
// letter are read by their shape in the asCapitals reading, which the notes
// say is worth trying.
func TestFoldAsCapitals(t *testing.T) {
	tests := []struct{ in, usual, capitals string }{
		{"ΒLOCKED ΕΝΤΙΤΥ", "βlocked evtitu", "blocked entity"},
		{"ΝΙΚΟΣ", "vikoo", "nikoo"},
		{"ӀVAN ӏvan", "lvan lvan", "ivan lvan"}, // palochka: capital I, small l
		{"Ήλιος", "nλioo", "hλioo"},             // decomposed first: Η with a tonos
	}
	for _, tt := range tests {
		usual, notes := appendFold(nil, tt.in, 0)
		if string(usual) != tt.usual || !notes.capital {
			t.Errorf("fold(%q) = %q (capital noted: %v), want %q", tt.in, usual, notes.capital, tt.usual)
		}
		if got, _ := appendFold(nil, tt.in, asCapitals); string(got) != tt.capitals {
			t.Errorf("fold(%q) as capitals = %q, want %q", tt.in, got, tt.capitals)
		}
	}
	for _, s := range []string{"Acme", "Асме", "Иван Петрович", "d'Armement", "νίκος"} {
		if _, notes := appendFold(nil, s, 0); notes.capital {
			t.Errorf("%q: capital look-alike noted", s)
		}
	}
}

// TestLookalikeTables keeps the tables to their contract: keys are what
// unicode.ToLower leaves (capitalLookalikes aside), values one Latin
// lower-case letter, and a capital look-alike reads differently through
// its lower case (else it belongs in lookalikes alone).
func TestLookalikeTables(t *testing.T) {
	for r, s := range lookalikes {
		if unicode.ToLower(r) != r || len(s) != 1 || s[0] < 'a' || s[0] > 'z' {
			t.Errorf("lookalikes[%U] = %q", r, s)
		}
		if _, dup := foldTable[r]; dup {
			t.Errorf("%U is in foldTable and lookalikes", r)
		}
	}
	for r, s := range capitalLookalikes {
		if len(s) != 1 || s[0] < 'a' || s[0] > 'z' {
			t.Errorf("capitalLookalikes[%U] = %q", r, s)
		}
		if lookalikes[unicode.ToLower(r)] == s {
			t.Errorf("capitalLookalikes[%U] reads as its lower case already", r)
		}
	}
}

// FuzzFold: folding never panics, is idempotent in every reading (a folded
// text folds to itself: the lists and the names meet on one form), yields
// valid UTF-8 of single-space-separated words without invisible characters
// or capitals, and never grows a text by more than the folding of ligatures
// and decompositions can.
func FuzzFold(f *testing.F) {
	for _, s := range []string{
		"Acme Sanctioned Trading Co., Ltd.", "Acme Sanc\u00adtioned Trading", "Асме Ѕаnсtіоnеd", "ΒLOCKED ΕΝΤΙΤΥ",
		"𝐀𝐜𝐦𝐞 ＴＲＡＤＩＮＧ", "d’Armement S.A.R.L.", "Z0rblax", "Ήλιος ΝΙΚΟΣ", "A\u0301\u20dd\ufe0f", "\ufb03\u2126\u212a",
		"Weißfluss Øresund Łódź", "张伟 \u3164 \uffa0", "\xff\xfe\xc0", "Ӏ ӏ ꓲ", "e\u0301\u0345ͺ", "0 00 a0 0a ٠", "ǅ ǈ ǋ Ǳ", "ẞ ᾳ ΐ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, mode := range []foldMode{0, splitJoiners, asCapitals, splitJoiners | asCapitals} {
			once, _ := appendFold(nil, s, mode)
			twice, _ := appendFold(nil, string(once), mode)
			if string(once) != string(twice) {
				t.Fatalf("mode %d: fold(%q) = %q, folded again %q", mode, s, once, twice)
			}
			if !utf8.Valid(once) {
				t.Fatalf("mode %d: fold(%q) = %q is not UTF-8", mode, s, once)
			}
			if len(once) > 0 && (once[0] == ' ' || once[len(once)-1] == ' ') || strings.Contains(string(once), "  ") {
				t.Fatalf("mode %d: fold(%q) = %q has stray spaces", mode, s, once)
			}
			for _, r := range string(once) {
				if r != ' ' && !(unicode.IsLetter(r) || unicode.IsDigit(r)) || invisible(r) || unicode.IsUpper(r) || joiner(r) {
					t.Fatalf("mode %d: fold(%q) = %q holds %U", mode, s, once, r)
				}
			}
			// Prefixed output: appendFold appends and reads the prefix
			// not at all.
			pre, _ := appendFold([]byte("x"), s, mode)
			if string(pre) != "x"+string(once) {
				t.Fatalf("mode %d: appended to %q: %q, want %q", mode, "x", pre, "x"+string(once))
			}
		}
	})
}
