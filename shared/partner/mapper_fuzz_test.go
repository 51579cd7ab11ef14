package partner

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/order"
)

// The mappers take bytes from outside: whatever a partner posts, Map must
// not panic, and must answer one of three ways (see Mapper): an error
// wrapping ErrMalformed that quotes no value of the payload; field errors
// that point into the payload; or a draft that is then validated, which
// FuzzShopifyMap and FuzzNativeMap check against what each mapper promises.

// fuzzCatalogue is the demo catalogue the local stack runs with.
func fuzzCatalogue(f *testing.F) *Catalogue {
	f.Helper()
	c, err := LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		f.Fatal(err)
	}
	return c
}

// addSamples seeds f with the sample payloads, each also cut short and
// with its first string value turned into a number.
func addSamples(f *testing.F, paths ...string) {
	f.Helper()
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
		if i := bytes.Index(b, []byte(`: "`)); i >= 0 {
			f.Add(append(append(bytes.Clone(b[:i]), `: 12.5, "x": "`...), b[i+3:]...))
		}
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `"order"`, `{"id": 1}`, `{"line_items": [{}]}`, `{"line_items": null, "currency": []}`,
		`{"currency":"EUR","line_items":[{"sku":"MUG-PORCELAIN-350","title":"Mug","quantity":1,"price":"9.99"}],"total_price":"9.99","shipping_address":{"name":"A B","address1":"x","city":"y","country_code":"de"}}`,
		`{"currency":"JPY","line_items":[{"sku":"S","quantity":9223372036854775807,"price":"1e3","grams":-1,"properties":[{"name":"HS code","value":{"a":1}}]}]}`,
		`{"note_attributes":[{"name":"trade_mode","value":"b2b"},{"name":"incoterm","value":7}],"total_price":true}`,
		`{"channel":"web","buyer":{"identity":{"type":"1","number":"110101199003070038"}},"lines":[{"quantity":-1}]}`,
		`{"buyer": {"name": "Lena\u00adFischer", "email": "lena@example.de"}}` + "\n{}",
		`{"a":` + strings.Repeat(`[`, 200) + strings.Repeat(`]`, 200) + `}`,
	} {
		f.Add([]byte(s))
	}
}

// checkMapped checks what every mapper promises: an error wraps
// ErrMalformed, comes alone and quotes no value of raw; field errors are
// well formed, point at one of roots (any field when roots is empty) and
// never come with an error; a draft is a partner order. Map is
// deterministic.
func checkMapped(t *testing.T, m Mapper, raw []byte, cat *Catalogue, roots ...string) (order.Draft, []order.FieldError, error) {
	t.Helper()
	d, errs, err := m.Map(raw, cat)
	d2, errs2, err2 := m.Map(raw, cat)
	if !reflect.DeepEqual(d, d2) || !reflect.DeepEqual(errs, errs2) || (err == nil) != (err2 == nil) {
		t.Fatal("Map is not deterministic")
	}
	if err != nil {
		if !errors.Is(err, ErrMalformed) || errs != nil || !reflect.DeepEqual(d, order.Draft{}) {
			t.Fatalf("error %v (ErrMalformed: %v) with field errors %v and a draft", err, errors.Is(err, ErrMalformed), errs)
		}
		if v := quotedValue(raw, err.Error()); v != "" {
			t.Fatalf("error %q quotes the payload's value %q", err, v)
		}
		return d, errs, err
	}
	if d.Channel != order.ChannelPartner {
		t.Fatalf("channel %q", d.Channel)
	}
	for _, e := range errs {
		if !knownCode(e.Code) || !strings.HasPrefix(e.Field, "/") || !strings.HasSuffix(e.Message, ".") {
			t.Fatalf("malformed field error %+v", e)
		}
		if len(roots) > 0 && !pointsAt(e.Field, roots) {
			t.Fatalf("field error %+v points outside the payload's fields %v", e, roots)
		}
	}
	return d, errs, err
}

func knownCode(c string) bool {
	switch c {
	case order.CodeRequired, order.CodeInvalid, order.CodeTooLong, order.CodeTooMany,
		order.CodeOutOfRange, order.CodeMismatch, order.CodeNotAllowed:
		return true
	}
	return false
}

// pointsAt reports whether the JSON pointer field starts with one of roots
// ("/line_items" for "/line_items/0/price").
func pointsAt(field string, roots []string) bool {
	for _, r := range roots {
		if field == r || strings.HasPrefix(field, r+"/") {
			return true
		}
	}
	return false
}

// quotedValue returns a string value of raw, shaped like personal data (an
// email, a phone or identity number, a name in another script), that msg
// repeats, or "". Keys do not count (errors name fields), nor values that
// are part of a key.
func quotedValue(raw []byte, msg string) string {
	keys, values := jsonStrings(raw)
	for _, v := range values {
		if len(v) < 6 || !strings.Contains(msg, v) || !personalShape(v) {
			continue
		}
		partOfKey := false
		for _, k := range keys {
			partOfKey = partOfKey || strings.Contains(k, v)
		}
		if !partOfKey {
			return v
		}
	}
	return ""
}

// personalShape: an '@', six digits in a row, or a letter outside ASCII,
// none of which an error's own words (field names, JSON kinds, byte
// offsets of a small payload) hold.
func personalShape(v string) bool {
	run := 0
	for _, r := range v {
		switch {
		case r == '@', r >= utf8.RuneSelf && r != utf8.RuneError:
			return true
		case r >= '0' && r <= '9':
			if run++; run >= 6 {
				return true
			}
		default:
			run = 0
		}
	}
	return false
}

// jsonStrings returns the object keys and the string values of raw, as far
// as raw is JSON.
func jsonStrings(raw []byte) (keys, values []string) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	type level struct{ object, wantKey bool }
	var stack []level
	for {
		tok, err := dec.Token()
		if err != nil {
			return keys, values
		}
		top := len(stack) - 1
		switch tok := tok.(type) {
		case json.Delim:
			switch tok {
			case '{', '[':
				if top >= 0 && stack[top].object {
					stack[top].wantKey = true // this value ends a key-value pair
				}
				stack = append(stack, level{object: tok == '{', wantKey: tok == '{'})
			default:
				stack = stack[:top]
			}
			continue
		case string:
			if top >= 0 && stack[top].object && stack[top].wantKey {
				keys = append(keys, tok)
				stack[top].wantKey = false
				continue
			}
			values = append(values, tok)
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// shopifyRoots are the top-level fields of a Shopify order the mapper
// reads, which its field errors point into.
var shopifyRoots = []string{"/currency", "/shipping_address", "/line_items", "/note_attributes",
	"/total_shipping_price_set", "/shipping_lines", "/subtotal_price", "/total_price", "/total_tax"}

// mapperGuarantees are the fields of a draft whose rules the Shopify mapper
// checks itself (it reports them on the payload's fields instead): when it
// returns a draft without field errors, Validate never finds fault with
// these. The rest (names, addresses, weights beyond the limit, a total of
// zero …) is Validate's to report.
func mapperGuarantees(field string) bool {
	switch field {
	case "/channel", "/tradeMode", "/fulfilment", "/incoterm", "/currency", "/lines",
		"/payment/method", "/payment/token", "/total", "/total/currency", "/gift", "/quoteId":
		return true
	}
	if strings.HasPrefix(field, "/shipping/") || strings.HasPrefix(field, "/insurance") {
		return true
	}
	if rest, ok := strings.CutPrefix(field, "/lines/"); ok {
		_, f, _ := strings.Cut(rest, "/")
		switch f {
		case "hsCode", "quantity", "unitPrice/amount", "unitPrice/currency", "lineTotal", "lineTotal/amount", "lineTotal/currency":
			return true
		}
	}
	return false
}

// FuzzShopifyMap: a Shopify payload maps without a panic; a draft mapped
// without field errors has one line per line item (at most MaxLines), each
// priced consistently in the order's currency with an HS code and an
// origin, a total of its lines and shipping, and passes Validate on every
// rule the mapper checks itself (see mapperGuarantees).
func FuzzShopifyMap(f *testing.F) {
	addSamples(f, filepath.Join("..", "..", "events", "partners", "shopify-orders-create.json"))
	cat := fuzzCatalogue(f)
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, errs, err := checkMapped(t, shopifyMapper{}, raw, cat, shopifyRoots...)
		if err != nil || errs != nil {
			return
		}
		var in struct {
			LineItems []json.RawMessage `json:"line_items"`
		}
		_ = json.Unmarshal(raw, &in)
		if len(d.Lines) != len(in.LineItems) || len(d.Lines) < 1 || len(d.Lines) > order.MaxLines {
			t.Fatalf("%d lines for %d line items", len(d.Lines), len(in.LineItems))
		}
		sum := int64(0)
		for i, l := range d.Lines {
			if l.Quantity < 1 || l.UnitPrice.Currency != d.Currency || l.LineTotal.Currency != d.Currency ||
				l.UnitPrice.Amount < 0 || l.LineTotal.Amount != l.UnitPrice.Amount*l.Quantity ||
				!validHSCode(l.HSCode) || l.OriginCountry == "" || l.WeightGrams <= 0 {
				t.Fatalf("line %d mapped inconsistently: %+v", i, l)
			}
			sum += l.LineTotal.Amount
		}
		if d.Shipping != nil {
			sum += d.Shipping.Amount
		}
		if d.Total.Amount != sum || d.Total.Currency != d.Currency || d.Payment.Method != order.PaymentPartnerAccount {
			t.Fatalf("total %v for lines and shipping of %d, payment %q", d.Total, sum, d.Payment.Method)
		}
		for _, e := range checkValidated(t, d) {
			if mapperGuarantees(e.Field) {
				t.Fatalf("a draft mapped without field errors fails a rule the mapper checks: %+v", e)
			}
		}
	})
}

// FuzzNativeMap: a native payload maps without a panic and without field
// errors; what maps is exactly the payload's strict decoding with the
// channel set to partner, which then passes Validate or is refused with
// well-formed problems.
func FuzzNativeMap(f *testing.F) {
	samples, _ := filepath.Glob(filepath.Join("..", "..", "events", "orders", "*.json"))
	addSamples(f, append(samples, filepath.Join("..", "..", "events", "partners", "native-order.json"))...)
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, errs, err := checkMapped(t, nativeMapper{}, raw, nil)
		if err != nil {
			return
		}
		if errs != nil {
			t.Fatalf("the native mapper reported field errors: %v", errs)
		}
		var plain order.Draft
		if err := json.Unmarshal(raw, &plain); err != nil {
			t.Fatalf("mapped a payload encoding/json refuses: %v", err)
		}
		plain.Channel = order.ChannelPartner
		if !reflect.DeepEqual(d, plain) {
			t.Fatalf("mapped\n %+v\nthe payload decodes to\n %+v", d, plain)
		}
		checkValidated(t, d)
	})
}

// checkValidated validates a mapped draft: either it passes, or its
// problems are well formed, as the API answers them.
func checkValidated(t *testing.T, d order.Draft) []order.FieldError {
	t.Helper()
	errs := d.Validate()
	for _, e := range errs {
		if !knownCode(e.Code) || !strings.HasPrefix(e.Field, "/") || !strings.HasSuffix(e.Message, ".") {
			t.Fatalf("malformed validation problem %+v", e)
		}
	}
	return errs
}
