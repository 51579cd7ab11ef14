package country

import (
	"slices"
	"strings"
	"testing"
)

func TestDataTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		list string
		want int
		set  *set
	}{
		{"ISO 3166-1 alpha-2 assigned codes", alpha2, 249, assigned},
		{"EU member states", euMembers, 27, eu},
	} {
		codes := strings.Fields(tc.list)
		if len(codes) != tc.want {
			t.Errorf("%s: %d codes, want %d", tc.name, len(codes), tc.want)
		}
		// parse reads fixed "XX " slots: the list must be exactly that.
		if strings.Join(codes, " ") != tc.list {
			t.Errorf("%s: codes must be separated by single spaces", tc.name)
		}
		if !slices.IsSorted(codes) || len(slices.Compact(slices.Clone(codes))) != len(codes) {
			t.Errorf("%s: codes must be sorted and distinct", tc.name)
		}
		n := 0
		for _, ok := range tc.set {
			if ok {
				n++
			}
		}
		if n != tc.want {
			t.Errorf("%s: the set holds %d codes, want %d", tc.name, n, tc.want)
		}
	}
	for _, c := range strings.Fields(euMembers) {
		if !Valid(c) {
			t.Errorf("EU member %s is not an assigned code", c)
		}
	}
}

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"DE", true}, {"US", true}, {"CN", true}, {"GB", true}, {"AU", true}, {"JP", true}, {"SG", true},
		{"AD", true}, {"ZW", true}, {"AX", true}, {"BQ", true}, {"SS", true}, {"EH", true}, {"PS", true},
		{"AQ", true}, {"TW", true}, {"HK", true}, {"MO", true},
		{"", false}, {"D", false}, {"de", false}, {"De", false}, {"DEU", false}, {"276", false},
		{"UK", false}, // reserved; the United Kingdom is GB
		{"EU", false}, {"EL", false}, {"XK", false}, {"AN", false}, {"YU", false}, {"CS", false},
		{"XX", false}, {"ZZ", false}, {"AA", false}, {"@A", false}, {"A[", false}, {"É", false},
	} {
		if got := Valid(tc.code); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}

func TestInEU(t *testing.T) {
	for _, tc := range []struct {
		code string
		want bool
	}{
		{"DE", true}, {"FR", true}, {"IT", true}, {"NL", true}, {"ES", true}, {"IE", true},
		{"HR", true}, {"BG", true}, {"RO", true}, {"CY", true}, {"MT", true}, {"GR", true},
		{"GB", false}, {"CH", false}, {"NO", false}, {"IS", false}, {"LI", false}, {"TR", false},
		{"UA", false}, {"RS", false}, {"AD", false}, {"MC", false}, {"SM", false}, {"VA", false},
		{"GP", false}, {"RE", false}, {"GL", false}, {"FO", false},
		{"EL", false}, {"EU", false}, {"de", false}, {"", false},
	} {
		if got := InEU(tc.code); got != tc.want {
			t.Errorf("InEU(%q) = %v, want %v", tc.code, got, tc.want)
		}
	}
}
