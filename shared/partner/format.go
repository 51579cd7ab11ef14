package partner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/xborder/xborder/shared/order"
)

// Mapper turns one partner format's payload into an order draft.
//
// Map returns field errors (JSON-pointer paths into the partner's own
// payload, such as "/line_items/1/hs_code") for a payload that is well
// formed but cannot be mapped, and an error wrapping ErrMalformed only for
// a payload that is not that format's JSON at all. A draft that comes back
// without field errors has still to be validated (order.Draft.Validate):
// Map checks what it needs to map, not every rule of an order. A mapper
// never puts personal data (names, addresses, emails, phones) into field
// errors or errors: paths, codes and amounts only. The API's webhook hands
// Map only a payload it has checked as it checks every JSON body (UTF-8,
// one object, no key twice in an object, not nested too deep), so Map does
// not check those again.
type Mapper interface {
	Map(raw []byte, cat *Catalogue) (order.Draft, []order.FieldError, error)
}

// mappers is every format a partner may be configured with. Each format's
// file registers itself from init, so adding a format is one file (and its
// tests); Parse accepts exactly the formats registered here.
var mappers = map[Format]Mapper{}

func registerFormat(f Format, m Mapper) {
	if _, dup := mappers[f]; dup {
		panic("partner: format " + string(f) + " registered twice")
	}
	mappers[f] = m
}

// Formats lists the formats a partner may be configured with.
func Formats() []Format {
	fs := make([]Format, 0, len(mappers))
	for f := range mappers {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
	return fs
}

func formatList() string {
	fs := Formats()
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = string(f)
	}
	return strings.Join(s, ", ")
}

// ErrMalformed is wrapped by the error Draft returns for a payload that is
// not the partner's format at all (not JSON, a wrong JSON type, an unknown
// field of the native format). The full message is meant for the partner: it
// names fields and JSON offsets, never values.
var ErrMalformed = errors.New("malformed payload")

// Draft maps a payload in the partner's format into an order draft; cat
// (which may be nil) supplies what the payload lacks, such as HS codes by
// SKU. See Mapper for what the results mean: field errors for a payload that
// cannot be mapped, an error wrapping ErrMalformed for one that is not the
// format's JSON. The draft always has channel partner; it is meaningful only
// without field errors, and must then still pass order.Draft.Validate.
func (p *Partner) Draft(raw []byte, cat *Catalogue) (order.Draft, []order.FieldError, error) {
	m, ok := mappers[p.Format]
	if !ok { // Parse accepts only registered formats: a Partner built by hand.
		return order.Draft{}, nil, fmt.Errorf("partner %s: format %q has no mapper (one of %s)", p.ID, p.Format, formatList())
	}
	return m.Map(raw, cat)
}

// decodeJSON decodes exactly one JSON value from raw into v. strict refuses
// fields v does not have. Errors wrap ErrMalformed and name the field or
// the offset, never a value.
func decodeJSON(raw []byte, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %s", ErrMalformed, describeJSONError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: the body must hold a single JSON object", ErrMalformed)
	}
	return nil
}

func describeJSONError(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "malformed JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		if typ.Field != "" {
			// Value is "string", "bool" or "number 12.5": keep the kind only,
			// a number may be a phone number.
			got, _, _ := strings.Cut(typ.Value, " ")
			return fmt.Sprintf("field %q must be a JSON %s, not a %s", typ.Field, jsonKind(typ.Type.Kind().String()), got)
		}
		return "the body must be a JSON object"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or truncated JSON"
	}
	// DisallowUnknownFields: `json: unknown field "x"`; a field's own
	// UnmarshalJSON errors are written to name no value either.
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return goKind
}

// decimalProblem is why a decimal amount cannot be read into minor units.
type decimalProblem int

const (
	decimalOK         decimalProblem = iota
	decimalMalformed                 // not digits with an optional decimal point
	decimalNegative                  // a leading '-'
	decimalTooPrecise                // non-zero digits beyond the currency's exponent
	decimalTooLarge                  // does not fit in int64 minor units
)

// parseMinorUnits reads a non-negative decimal amount in major units ("19.99",
// "1999", "0.5") into minor units of a currency with exponent exp, exactly:
// no floating point. Trailing zeros beyond the exponent are exact and
// accepted ("1999.00" JPY is 1999); any other digit beyond it is refused,
// never rounded.
func parseMinorUnits(s string, exp int) (int64, decimalProblem) {
	if strings.HasPrefix(s, "-") {
		if _, p := parseMinorUnits(s[1:], exp); p == decimalMalformed || p == decimalNegative {
			return 0, decimalMalformed
		}
		return 0, decimalNegative
	}
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" || (dot && frac == "") || !allDigits(whole) || (dot && !allDigits(frac)) {
		return 0, decimalMalformed
	}
	if len(frac) > exp {
		if strings.Trim(frac[exp:], "0") != "" {
			return 0, decimalTooPrecise
		}
		frac = frac[:exp]
	}
	digits := strings.TrimLeft(whole+frac+strings.Repeat("0", exp-len(frac)), "0")
	if digits == "" {
		return 0, decimalOK
	}
	if len(digits) > 18 { // 10^18 - 1 fits in int64
		return 0, decimalTooLarge
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, decimalMalformed
	}
	return n, decimalOK
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// attributeKey normalizes the name of a line property or note attribute for
// matching: case, surrounding spaces, a leading '_' (Shopify hides such
// properties from the shopper) and the separators ' ', '-' and '_' do not
// count, so "HS code", "hs-code", "_hs_code" and "HS_Code" are all "hs_code".
func attributeKey(name string) string {
	name = strings.TrimLeft(strings.TrimSpace(name), "_")
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		switch r {
		case ' ', '-', '_':
			sep = b.Len() > 0
			continue
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// normalizeHSCode drops the dots and spaces HS codes are often written with
// ("6912.00", "8518 30"); whether the rest is 6 to 10 digits is for the
// caller to check.
func normalizeHSCode(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '.' || r == ' ' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
}

func validHSCode(s string) bool { return len(s) >= 6 && len(s) <= 10 && allDigits(s) }
