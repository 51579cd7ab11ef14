package screening

import "testing"

func TestNormal(t *testing.T) {
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
		{"Иван", "иван", "иван"}, // other scripts are kept, lower-cased
		{"Acme,  Sanctioned-Trading\tCo.", "acme sanctioned trading co", "acme sanctioned trading co"},
		{"d'Armement", "darmement", "d armement"},
		{"d’Armement", "darmement", "d armement"},
		{"S.A.R.L.", "sarl", "s a r l"},
		{"100% cotton — 2×", "100 cotton 2", "100 cotton 2"},
		{"  \t ", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		if got := string(appendNormal(nil, tt.in, true)); got != tt.joined {
			t.Errorf("normal(%q) = %q, want %q", tt.in, got, tt.joined)
		}
		if got := string(appendNormal(nil, tt.in, false)); got != tt.split {
			t.Errorf("normal(%q), breaking at apostrophes = %q, want %q", tt.in, got, tt.split)
		}
	}
}
