package ceb

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/money"
)

// writer writes a message's elements, checking each value against the
// schema's constraints; the first problem is kept in err.
type writer struct {
	msg    string // "CEB303"
	scope  string // "OrderHead", "OrderList[2]"
	b      bytes.Buffer
	indent int
	err    error
}

func (w *writer) field(name string) string {
	if w.scope == "" {
		return w.msg + " " + name
	}
	return w.msg + " " + w.scope + "." + name
}

func (w *writer) fail(name, problem string) {
	if w.err == nil {
		w.err = fieldErr(w.field(name), problem)
	}
}

func (w *writer) pad() { w.b.WriteString(strings.Repeat("\t", w.indent)) }

func (w *writer) open(name string) {
	w.pad()
	w.b.WriteString("<ceb:" + name + ">\n")
	w.indent++
}

func (w *writer) close(name string) {
	w.indent--
	w.pad()
	w.b.WriteString("</ceb:" + name + ">\n")
}

func (w *writer) raw(name, v string) {
	w.pad()
	w.b.WriteString("<ceb:" + name + ">")
	_ = xml.EscapeText(&w.b, []byte(v))
	w.b.WriteString("</ceb:" + name + ">\n")
}

// str writes a required string of min..max characters (the schema's
// minLength/maxLength, or length when min == max).
func (w *writer) str(name, v string, min, max int) {
	n := utf8.RuneCountInString(v)
	switch {
	case v == "" && min > 0:
		w.fail(name, "is required")
	case min == max && n != max:
		w.fail(name, fmt.Sprintf("must be %d characters, not %d", max, n))
	case n > max:
		w.fail(name, fmt.Sprintf("is %d characters, the schema allows %d", n, max))
	case n < min:
		w.fail(name, fmt.Sprintf("is %d characters, the schema needs at least %d", n, min))
	}
	if strings.ContainsAny(v, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f") {
		w.fail(name, "contains control characters")
	}
	w.raw(name, v)
}

// opt writes an optional string: nothing when empty.
func (w *writer) opt(name, v string, max int) {
	if v == "" {
		return
	}
	w.str(name, v, 1, max)
}

// amount writes an N19,5 amount in currency cur (ISO), with the currency's
// own minor-unit decimals (2 for most, 0 for JPY and KRW).
func (w *writer) amount(name string, m money.Money, cur string) {
	if m.Currency != cur {
		w.fail(name, fmt.Sprintf("is in %s, the document is in %s", m.Currency, cur))
	}
	exp, ok := money.Exponent(m.Currency)
	if !ok {
		w.fail(name, fmt.Sprintf("unknown currency %q", m.Currency))
	}
	if m.Amount < 0 {
		w.fail(name, "is negative")
	}
	w.decimal(name, m.Amount, exp)
}

// decimal writes v × 10^-exp as a decimal of at most 19 digits, 5 after the
// point.
func (w *writer) decimal(name string, v int64, exp int) {
	if exp > 5 {
		w.fail(name, fmt.Sprintf("needs %d decimals, the schema allows 5", exp))
	}
	s := formatDecimal(v, exp)
	if d := strings.Count(s, "") - 1 - strings.Count(s, ".") - strings.Count(s, "-"); d > 19 {
		w.fail(name, "has more than 19 digits")
	}
	w.raw(name, s)
}

func formatDecimal(v int64, exp int) string {
	neg := v < 0
	u := strconv.FormatUint(absU(v), 10)
	if exp > 0 {
		for len(u) <= exp {
			u = "0" + u
		}
		u = u[:len(u)-exp] + "." + u[len(u)-exp:]
	}
	if neg {
		u = "-" + u
	}
	return u
}

func absU(v int64) uint64 {
	if v < 0 {
		return uint64(-(v + 1)) + 1
	}
	return uint64(v)
}

// kg writes grams as kilograms with 3 decimals.
func (w *writer) kg(name string, grams int64) {
	if grams <= 0 {
		w.fail(name, "weight must be positive")
	}
	w.decimal(name, grams, 3)
}

// int writes an integer of at most digits digits.
func (w *writer) int(name string, v int64, digits int) {
	s := strconv.FormatInt(v, 10)
	if len(strings.TrimPrefix(s, "-")) > digits {
		w.fail(name, fmt.Sprintf("has more than %d digits", digits))
	}
	w.raw(name, s)
}

// code writes a mapped code, failing with the mapping's error.
func (w *writer) code(name string, mapped string, err error, length int) {
	if err != nil {
		if w.err == nil {
			w.err = fieldErr(w.field(name), err.(*FieldError).Problem)
		}
		return
	}
	w.str(name, mapped, length, length)
}
