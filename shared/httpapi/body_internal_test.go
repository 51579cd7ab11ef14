package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/order"
)

// nested is a body whose "x" holds n nested arrays.
func nested(n int) string {
	return `{"x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`
}

// objectOfKeys is an object of n distinct keys, then extra.
func objectOfKeys(n int, extra string) string {
	var b strings.Builder
	b.WriteString(`{`)
	for i := range n {
		b.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i) + `,`)
	}
	b.WriteString(extra + `}`)
	return b.String()
}

func TestCheckJSONObject(t *testing.T) {
	sample, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, body string
		want       string // the error's text; "" for none
	}{
		{"an order", string(sample), ""},
		{"the same key in sibling and nested objects", `{"a":{"a":1},"b":[{"a":1},{"a":2}],"c":{"a":[{"a":1}]}}`, ""},
		{"keys that differ by more than case", `{"sku":1,"skus":2,"SKU_":3}`, ""},
		{"32 deep", nested(31), ""},
		{"16 keys", objectOfKeys(16, `"x":1`), ""},
		{"many keys", objectOfKeys(500, `"x":1`), ""},
		{"whitespace around", " \t\r\n{}\n ", ""},

		{"a duplicate at the top", `{"channel":"mobile","currency":"EUR","channel":"partner"}`,
			`duplicate key "channel" at /channel: each key may appear once in an object`},
		{"a duplicate in the second line", `{"lines":[{"sku":"A"},{"sku":"B","qty":1,"sku":"C"}]}`,
			`duplicate key "sku" at /lines/1/sku: each key may appear once in an object`},
		{"a duplicate deep down", `{"a":{"b":[0,[1,{"c":{"d":1,"d":2}}]]}}`, `duplicate key "d" at /a/b/1/1/c/d`},
		{"a duplicate after a nested object", `{"a":{"b":1},"a":2}`, `duplicate key "a" at /a`},
		{"a duplicate spelt with an escape", `{"sku":1,"\u0073ku":2}`, `duplicate key "sku" at /sku`},
		{"a duplicate with a quote in it", `{"a\"b":1,"a\u0022b":2}`, `duplicate key "a\"b" at /a"b`},
		{"a pointer's ~ and / escaped", `{"a/b":{"c~d":1,"c~d":2}}`, `duplicate key "c~d" at /a~1b/c~0d`},
		{"a duplicate in another case", `{"channel":"mobile","Channel":"partner"}`,
			`duplicate key "Channel" at /Channel: the object has "channel" already, and keys that differ only in case name the same field`},
		{"the Kelvin sign for k", `{"sku":1,"s\u212aU":2}`, "duplicate key \"s\u212aU\" at /s\u212aU: the object has \"sku\" already"},
		{"the long s for s", `{"sku":1,"ſku":2}`, `duplicate key "ſku" at /ſku: the object has "sku" already`},
		{"a duplicate among many keys", objectOfKeys(40, `"k7":0`), `duplicate key "k7" at /k7`},
		{"a duplicate 17th key", objectOfKeys(16, `"k0":0`), `duplicate key "k0" at /k0`},
		{"a key like a string value", `{"x":"\"}","x":1}`, `duplicate key "x" at /x`},

		{"33 deep", nested(32), "the body nests objects and arrays more than 32 deep (at /x/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0)"},
		{"5,000 deep", nested(5000), "more than 32 deep"},
		{"deeper than encoding/json goes", nested(10000), "malformed JSON at byte"},
		{"null", `null`, "the body must be a JSON object"},
		{"an array", `[]`, "the body must be a JSON object"},
		{"an array of an object", `[{}]`, "the body must be a JSON object"},
		{"a string", `"x"`, "the body must be a JSON object"},
		{"a number", `1`, "the body must be a JSON object"},
		{"true", ` true `, "the body must be a JSON object"},
		{"empty", ``, "the body is empty or truncated JSON"},
		{"blank", " \n", "the body is empty or truncated JSON"},
		{"truncated", `{"a":[1,`, "the body is empty or truncated JSON"},
		{"two objects", `{} {}`, "the body must hold a single JSON object"},
		{"trailing text", `{"a":1}x`, "the body must hold a single JSON object"},
		{"invalid UTF-8", "{\"a\":\"caf\xe9\"}", "the body is not valid UTF-8 (byte 9)"},
		{"a UTF-16 body", "\xff\xfe{\x00}\x00", "the body is not valid UTF-8 (byte 0)"},
		{"malformed before a duplicate", `{"a":1,,"a":2}`, "malformed JSON at byte 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := checkJSONObject([]byte(tc.body))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want) && !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want %q", err, tc.want)
			}
		})
	}
}

func TestJSONMediaType(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/json":                                true,
		"application/json; charset=utf-8":                 true,
		"application/json; charset=UTF-8":                 true,
		`application/json; charset="utf-8"`:               true,
		"application/json;charset=utf8":                   true, // the WHATWG label for UTF-8
		"Application/JSON; Charset=Utf-8":                 true,
		"application/merge-patch+json":                    true,
		"application/json; charset=utf-16":                false,
		"application/json; charset=UTF-16LE":              false,
		"application/json; charset=iso-8859-1":            false,
		"application/json; charset=us-ascii":              false,
		"application/json; charset=":                      false,
		"application/json; charset=utf-8; charset=utf-16": false,
		"":                                  false,
		"text/plain":                        false,
		"+json":                             false,
		"application/x-www-form-urlencoded": false,
	} {
		if got := jsonMediaType(ct); got != want {
			t.Errorf("jsonMediaType(%q) = %v, want %v", ct, got, want)
		}
	}
}

// tokenWalk is checkJSONObject's verdict on a well-formed body as a plain
// walk with json.Decoder.Token finds it, keys compared with
// strings.EqualFold as encoding/json matches them to fields: the reference
// the fast scan is held to.
func tokenWalk(raw []byte) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errNotObject
	}
	type frame struct {
		object  bool
		keys    []string
		wantKey bool
		key     string
		index   int
	}
	stack := []*frame{{object: true, wantKey: true}}
	pointer := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				b.WriteString("/" + strings.NewReplacer("~", "~0", "/", "~1").Replace(f.key))
			} else {
				b.WriteString("/" + strconv.Itoa(f.index))
			}
		}
		return b.String()
	}
	for len(stack) > 0 {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		f := stack[len(stack)-1]
		switch {
		case tok == json.Delim('}') || tok == json.Delim(']'):
			stack = stack[:len(stack)-1]
			continue
		case f.object && f.wantKey:
			key := tok.(string)
			f.key, f.wantKey = key, false
			for _, k := range f.keys {
				if strings.EqualFold(k, key) {
					return errDuplicateKey(key, k, pointer())
				}
			}
			f.keys = append(f.keys, key)
			continue
		case f.object:
			f.wantKey = true
		default:
			f.index++
		}
		if tok == json.Delim('{') || tok == json.Delim('[') {
			if len(stack) == maxJSONDepth {
				return errTooDeep(pointer())
			}
			stack = append(stack, &frame{object: tok == json.Delim('{'), wantKey: true, index: -1})
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		return errSingleObject
	}
	return nil
}

// FuzzCheckJSONObject holds checkJSONObject to the token walk on every
// well-formed body, and to ending on any other.
func FuzzCheckJSONObject(f *testing.F) {
	for _, name := range []string{"orders/mobile-b2c-de.json", "orders/b2b-us.json", "partners/native-order.json",
		"partners/shopify-orders-create.json", "quotes/cart-de.json"} {
		b, err := os.ReadFile("../../events/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{`{"a":1,"a":2}`, `{"a":[{"b":1},{"b":2,"B":3}]}`, `{"a\"":{"~/":[[],{}]}}`, `{"K":1,"\u212a":2}`,
		`{"x":"\\\"","y":"\\\\"}`, nested(31), nested(32), objectOfKeys(20, `"k3":1`), `[]`, `null`, `{}`, `{} {}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := checkJSONObject(raw) // must end, whatever raw is
		if !utf8.Valid(raw) || !json.Valid(raw) {
			return
		}
		want := tokenWalk(raw)
		if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
			t.Fatalf("%q:\n scan       %v\n token walk %v", raw, got, want)
		}
	})
}

// BenchmarkOrderBody compares, on a typical order body, the check every
// JSON body now gets (check) with the strict decode it had already
// (decode), and with the same check done by json.Decoder.Token (token walk).
func BenchmarkOrderBody(b *testing.B) {
	raw, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d order.Draft
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := checkJSONObject(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("check and decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var d order.Draft
			if err := decodeStrict(raw, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("token walk", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := tokenWalk(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}
