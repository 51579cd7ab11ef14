package customs

import (
	"math/big"
	"math/rand/v2"
	"testing"
)

func TestFixedArithmeticAgreesWithBigRat(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		m := rng.Int64N(1 << 50)
		r := ratio{rng.Uint64N(1<<40) + 1, rng.Uint64N(1<<40) + 1}
		var k calc
		got := k.mul(minorUnits(m), r)
		if k.err != nil {
			continue
		}
		// floor(m × 10¹² × n / d) exactly.
		want := new(big.Int).Mul(big.NewInt(m), big.NewInt(fixedScale))
		want.Mul(want, new(big.Int).SetUint64(r.n))
		want.Quo(want, new(big.Int).SetUint64(r.d))
		g := new(big.Int).Lsh(new(big.Int).SetUint64(got.hi), 64)
		g.Or(g, new(big.Int).SetUint64(got.lo))
		if g.Cmp(want) != 0 {
			t.Fatalf("%d × %d/%d: got %s, want %s", m, r.n, r.d, g, want)
		}
	}
}

func TestFixedRoundsHalfAwayFromZeroAndReportsOverflow(t *testing.T) {
	var k calc
	// 150.01 × 12 % = 18.0012 → 18 (minor units here: 15001 × 0.12 = 1800.12)
	if got := k.round(k.mul(minorUnits(15001), ratio{12, 100})); got != 1800 {
		t.Fatalf("1800.12 rounds to %d", got)
	}
	if got := k.round(k.mul(minorUnits(1), ratio{1, 2})); got != 1 {
		t.Fatalf("0.5 rounds to %d", got)
	}
	if got := k.round(k.mul(minorUnits(1), ratio{49, 100})); got != 0 {
		t.Fatalf("0.49 rounds to %d", got)
	}
	if k.err != nil {
		t.Fatal(k.err)
	}
	big := minorUnits(1 << 62)
	k.mul(big, ratio{1 << 40, 1})
	if k.err == nil {
		t.Fatal("an overflowing product must be reported")
	}
}

func TestParseRatio(t *testing.T) {
	for s, want := range map[string]ratio{"12": {12, 1}, "9.975": {9975, 1000}, "0.6": {6, 10}, "0": {0, 1}} {
		if got, ok := parseRatio(s); !ok || got != want {
			t.Errorf("%q → %v %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "-1", "1e3", "1.2.3", ".5", "12345678901234567"} {
		if _, ok := parseRatio(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}
