package customs

import (
	"errors"
	"math/bits"
	"strings"
)

// The engine's arithmetic: non-negative fixed-point amounts held in 128 bits,
// in minor units of a currency with twelve more decimal places, multiplied
// by small exact fractions (rates, factors, shares, exchange rates). Sums and
// products by decimal rates are exact; a division leaves at most 10⁻¹² of a
// minor unit behind, far below anything rounding to a cent can see. It
// allocates nothing, which is what lets a quote take microseconds.

// fixedScale is 10¹²: one minor unit.
const fixedScale = 1_000_000_000_000

// errTooLarge reports an amount beyond what a quote can hold (about 10¹⁸
// minor units after every factor), which valid carts never reach.
var errTooLarge = errors.New("customs: amounts too large to quote")

// fixed is a non-negative amount: value / 10¹² minor units.
type fixed struct{ hi, lo uint64 }

// ratio is an exact non-negative fraction n/d.
type ratio struct{ n, d uint64 }

var unit = ratio{1, 1}

// minorUnits is m minor units as a fixed amount.
func minorUnits(m int64) fixed {
	if m <= 0 {
		return fixed{}
	}
	hi, lo := bits.Mul64(uint64(m), fixedScale)
	return fixed{hi, lo}
}

func (a fixed) cmp(b fixed) int {
	switch {
	case a.hi < b.hi || a.hi == b.hi && a.lo < b.lo:
		return -1
	case a == b:
		return 0
	}
	return 1
}

// calc carries the first overflow of a chain of operations.
type calc struct{ err error }

func (c *calc) add(a, b fixed) fixed {
	lo, carry := bits.Add64(a.lo, b.lo, 0)
	hi, over := bits.Add64(a.hi, b.hi, carry)
	if over != 0 {
		c.err = errTooLarge
	}
	return fixed{hi, lo}
}

// mul returns a × r.n / r.d, truncated.
func (c *calc) mul(a fixed, r ratio) fixed {
	if r.d == 0 {
		c.err = errTooLarge
		return fixed{}
	}
	if r.n == r.d {
		return a
	}
	// a × n: three words.
	h1, l0 := bits.Mul64(a.lo, r.n)
	h2, l1 := bits.Mul64(a.hi, r.n)
	l1, carry := bits.Add64(l1, h1, 0)
	w2 := h2 + carry
	// ÷ d, word by word.
	if w2 >= r.d {
		c.err = errTooLarge
		return fixed{}
	}
	q1, rem := bits.Div64(w2, l1, r.d)
	q0, _ := bits.Div64(rem, l0, r.d)
	return fixed{q1, q0}
}

// split is a into whole minor units and what is left (in 10⁻¹² units).
func (c *calc) split(a fixed) (int64, uint64) {
	if a.hi >= fixedScale {
		c.err = errTooLarge
		return 0, 0
	}
	q, r := bits.Div64(a.hi, a.lo, fixedScale)
	if q > 1<<62 {
		c.err = errTooLarge
	}
	return int64(q), r
}

// round is a in whole minor units, half away from zero.
func (c *calc) round(a fixed) int64 {
	q, r := c.split(a)
	if r >= fixedScale/2 {
		q++
	}
	return q
}

// parseRatio reads a non-negative decimal ("12", "9.975", "0.6") as a ratio.
func parseRatio(s string) (ratio, bool) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole)+len(frac) > 15 {
		return ratio{}, false
	}
	n, d := uint64(0), uint64(1)
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			ch := part[i]
			if ch < '0' || ch > '9' {
				return ratio{}, false
			}
			n = n*10 + uint64(ch-'0')
		}
	}
	for range frac {
		d *= 10
	}
	return ratio{n, d}, true
}

// times is r × s, when it fits in 64 bits (the fractions here are small).
func (r ratio) times(s ratio) ratio {
	n, nok := mul64(r.n, s.n)
	d, dok := mul64(r.d, s.d)
	if !nok || !dok {
		g := gcd(r.n, s.d)
		h := gcd(s.n, r.d)
		n, _ = mul64(r.n/g, s.n/h)
		d, _ = mul64(r.d/h, s.d/g)
	}
	return ratio{n, d}
}

func (r ratio) inverse() ratio { return ratio{r.d, r.n} }

func (r ratio) isOne() bool { return r.n == r.d }

func mul64(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	if a == 0 {
		return 1
	}
	return a
}

// pow10 is 10ⁿ for the small n of currency exponents.
func pow10(n int) uint64 {
	p := uint64(1)
	for range n {
		p *= 10
	}
	return p
}
