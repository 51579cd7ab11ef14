package customs

import (
	"math/bits"
	"slices"
)

// Legal rounding (RoundingRule): amounts rounded down in the destination's
// currency, the way a customs office assesses them, before the quote
// converts them into the cart's currency.

// floorTo rounds a down to a multiple of step minor units; step 0 leaves a
// as it is, step 1 truncates it to a minor unit.
func floorTo(k *calc, a fixed, step int64) fixed {
	if step <= 0 {
		return a
	}
	whole, _ := k.split(a)
	return minorUnits(whole / step * step)
}

// apportion splits total (whole minor units) over the lines in proportion to
// their parts (whole minor units, total ≤ their sum), by largest remainder,
// so that the lines add up to the total.
func apportion(k *calc, total fixed, parts []fixed) []fixed {
	out := make([]fixed, len(parts))
	t, _ := k.split(total)
	ps := make([]uint64, len(parts))
	var sum uint64
	for i, p := range parts {
		w, _ := k.split(p)
		ps[i] = uint64(w)
		sum += ps[i]
	}
	if t <= 0 || sum == 0 {
		return out
	}
	if uint64(t) > sum {
		k.err = errTooLarge // the total is never more than its parts
		return out
	}
	type rem struct {
		i int
		r uint64
	}
	rems := make([]rem, len(parts))
	given := uint64(0)
	shares := make([]uint64, len(parts))
	for i, p := range ps {
		hi, lo := bits.Mul64(uint64(t), p)
		q, r := bits.Div64(hi, lo, sum) // hi < sum since t ≤ sum
		shares[i], rems[i] = q, rem{i, r}
		given += q
	}
	slices.SortStableFunc(rems, func(a, b rem) int { return cmpDesc(a.r, b.r) })
	for j := 0; given < uint64(t) && j < len(rems); j++ {
		shares[rems[j].i]++
		given++
	}
	for i, s := range shares {
		out[i] = minorUnits(int64(s))
	}
	return out
}
