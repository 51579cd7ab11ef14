package screening

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// decodeStrict decodes one JSON document from data into v, refusing unknown
// fields (a misspelt "aliases" must not silently drop every alias) and
// trailing data, and naming the line and column of a syntax or type error.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return errors.New("empty file")
		case errors.As(err, &syn):
			return fmt.Errorf("invalid JSON at %s: %w", position(data, syn.Offset-1), err)
		case errors.As(err, &typ):
			return fmt.Errorf("wrong type at %s: field %q must be %s, not %s", position(data, typ.Offset), typ.Field, typ.Type, typ.Value)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return errors.New("invalid JSON: the file ends too early")
		}
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return fmt.Errorf("invalid JSON at %s: data after the end of the document", position(data, dec.InputOffset()))
	}
	return nil
}

// position is "line L, column C" of the byte at offset off in data.
func position(data []byte, off int64) string {
	off = max(0, min(off, int64(len(data))))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := len(before) - bytes.LastIndexByte(before, '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// parseDay parses a YYYY-MM-DD date into a comparable yyyymmdd number.
func parseDay(s string) (int, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date of the form YYYY-MM-DD", s)
	}
	return dayOf(t), nil
}

// dayOf is the calendar date of t, in t's own location, as yyyymmdd.
func dayOf(t time.Time) int {
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d
}

// countryCode reports whether s is an ISO 3166-1 alpha-2 shaped code: two
// upper-case ASCII letters.
func countryCode(s string) bool {
	return len(s) == 2 && 'A' <= s[0] && s[0] <= 'Z' && 'A' <= s[1] && s[1] <= 'Z'
}

// must returns v, or panics with err: for the embedded data, which tests
// prove valid.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
