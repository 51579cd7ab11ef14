package chinacustoms

import (
	"fmt"
	"math/big"

	"github.com/xborder/xborder/shared/money"
)

// RateConverter returns a Converter from currency from into the renminbi at
// rate, a positive decimal string ("7.8125": one unit of from is 7.8125
// CNY), such as the rate recorded on an order at intake (order.FXRate's
// Rate, when its To is CNY). Arithmetic is exact; each converted amount is
// rounded once, half away from zero, to the fen, as package fx rounds.
func RateConverter(from, rate string) (Converter, error) {
	fromExp, ok := money.Exponent(from)
	if !ok {
		return nil, fmt.Errorf("%w: %q is not an ISO 4217 currency", ErrInvalidInput, from)
	}
	if !decimalString(rate) {
		return nil, fmt.Errorf("%w: rate %q is not a decimal number such as 7.8125", ErrInvalidInput, rate)
	}
	r, ok := new(big.Rat).SetString(rate)
	if !ok || r.Sign() <= 0 {
		return nil, fmt.Errorf("%w: rate %q must be greater than zero", ErrInvalidInput, rate)
	}
	toExp, _ := money.Exponent(Renminbi)
	// minor units of CNY = minor units of from × rate × 10^(toExp − fromExp)
	factor := new(big.Rat).Set(r)
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(toExp-fromExp))), nil))
	if toExp >= fromExp {
		factor.Mul(factor, scale)
	} else {
		factor.Quo(factor, scale)
	}
	return func(m money.Money) (money.Money, error) {
		if m.Currency != from {
			return money.Money{}, fmt.Errorf("%w: the rate converts %s, not %s", ErrInvalidInput, from, m.Currency)
		}
		v := new(big.Rat).Mul(new(big.Rat).SetInt64(m.Amount), factor)
		n := roundHalfAwayFromZero(v)
		if !n.IsInt64() {
			return money.Money{}, money.ErrOverflow
		}
		return money.New(n.Int64(), Renminbi), nil
	}, nil
}

func roundHalfAwayFromZero(v *big.Rat) *big.Int {
	num := new(big.Int).Abs(v.Num())
	q, rem := new(big.Int).QuoRem(num, v.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(v.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if v.Sign() < 0 {
		q.Neg(q)
	}
	return q
}

// decimalString reports whether s is digits with at most one '.' between
// digits.
func decimalString(s string) bool {
	digits, dot := 0, -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && dot < 0 && i > 0 && i < len(s)-1:
			dot = i
		default:
			return false
		}
	}
	return digits > 0
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
