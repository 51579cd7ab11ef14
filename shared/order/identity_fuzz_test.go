package order

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzMaskIDNumber: masking never panics and never shows more than its
// contract: the result is as long as the number, every character but the last
// four is '*', the last four are the number's (all masked when it has four
// or fewer), so that of an 18-character card number the region and the
// birth date never show. Masking a masked number changes nothing. An
// Identity writes out that masked number, and only it, through JSON, fmt
// (every verb) and slog, and Masked leaves the original whole.
func FuzzMaskIDNumber(f *testing.F) {
	for _, s := range []string{
		testIDNumber, testIDNumberX, "11010119900307002x", "", "1", "1234", "12345", "*****",
		"身份证号码一二三四", "110101199003070038\n", "\xff\xfe\xfd\xfc\xfb", "é1234", "1234é", `"},"number":"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, n string) {
		m := MaskIDNumber(n)
		rn, rm := []rune(n), []rune(m)
		shown := 0
		if len(rn) > 4 {
			shown = 4
		}
		if len(rm) != len(rn) || strings.Trim(string(rm[:len(rm)-shown]), "*") != "" || string(rm[len(rm)-shown:]) != string(rn[len(rn)-shown:]) {
			t.Fatalf("MaskIDNumber(%q) = %q: want %d '*' then the last %d characters", n, m, len(rn)-shown, shown)
		}
		if utf8.ValidString(n) && !utf8.ValidString(m) {
			t.Fatalf("MaskIDNumber(%q) = %q cuts a character", n, m)
		}
		if again := MaskIDNumber(m); again != m {
			t.Fatalf("MaskIDNumber(%q) = %q, masked again %q", n, m, again)
		}

		id := Identity{Type: IDTypeResidentCard, Number: n}
		if masked := id.Masked(); masked.Number != m || masked.Type != id.Type || id.Number != n {
			t.Fatalf("Masked: %+v, the original now %q", *masked, id.Number)
		}
		j, err := json.Marshal(id)
		if err != nil {
			t.Fatalf("json: %v", err)
		}
		var back struct{ Type, Number string }
		if err := json.Unmarshal(j, &back); err != nil || back.Type != id.Type {
			t.Fatalf("json %s: %+v, %v", j, back, err)
		}
		// encoding/json writes invalid UTF-8 as U+FFFD: compare where the
		// masked number is text.
		if utf8.ValidString(m) && back.Number != m {
			t.Fatalf("json %s: number %q, want %q", j, back.Number, m)
		}
		want := "{type " + id.Type + " number " + m + "}"
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			if got := fmt.Sprintf(verb, id); got != want {
				t.Fatalf("%s of the identity: %q, want %q", verb, got, want)
			}
			if got := fmt.Sprintf(verb, &id); got != want {
				t.Fatalf("%s of a pointer to the identity: %q, want %q", verb, got, want)
			}
		}
		attrs := id.LogValue().Group()
		if len(attrs) != 2 || attrs[0].Key != "type" || attrs[0].Value.String() != id.Type ||
			attrs[1].Key != "number" || attrs[1].Value.String() != m {
			t.Fatalf("LogValue: %v", attrs)
		}
	})
}
