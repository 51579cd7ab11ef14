package country

import (
	"strings"
	"testing"
)

func TestCodes(t *testing.T) {
	if n := len(strings.Fields(alpha2)); n != 249 || len(known) != 249 {
		t.Fatalf("%d codes (%d distinct), want the 249 assigned", n, len(known))
	}
	if len(members) != 27 {
		t.Fatalf("%d EU members, want 27", len(members))
	}
	for c := range members {
		if !known[c] {
			t.Errorf("EU member %s is not a known code", c)
		}
	}
	for _, c := range []string{"DE", "US", "CN", "GB", "AU", "JP", "SG"} {
		if !Valid(c) {
			t.Errorf("%s should be valid", c)
		}
	}
	for _, c := range []string{"", "de", "UK", "EU", "XX", "DEU"} {
		if Valid(c) {
			t.Errorf("%q should not be valid", c)
		}
	}
	if !InEU("FR") || InEU("GB") || InEU("CH") || InEU("NO") {
		t.Fatal("EU membership wrong")
	}
}
