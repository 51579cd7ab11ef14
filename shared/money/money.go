// Package money holds amounts of money as integer minor units of an ISO 4217
// currency. Amounts never pass through floating point.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Money is an amount in the minor units of its currency: cents for EUR,
// yen for JPY (exponent 0), fils for KWD (exponent 3).
type Money struct {
	Amount   int64  `json:"amount" dynamodbav:"amount"`
	Currency string `json:"currency" dynamodbav:"currency"`
}

// ErrOverflow reports arithmetic that does not fit in an int64 of minor units.
var ErrOverflow = errors.New("money: amount overflows int64 minor units")

// ErrCurrencyMismatch reports arithmetic on amounts of different currencies.
var ErrCurrencyMismatch = errors.New("money: currency mismatch")

// New returns amount minor units of currency.
func New(amount int64, currency string) Money { return Money{Amount: amount, Currency: currency} }

// Add returns m + o; both must share a currency.
func (m Money) Add(o Money) (Money, error) {
	if m.Currency != o.Currency {
		return Money{}, fmt.Errorf("%w: %s + %s", ErrCurrencyMismatch, m.Currency, o.Currency)
	}
	if (o.Amount > 0 && m.Amount > math.MaxInt64-o.Amount) || (o.Amount < 0 && m.Amount < math.MinInt64-o.Amount) {
		return Money{}, ErrOverflow
	}
	return Money{Amount: m.Amount + o.Amount, Currency: m.Currency}, nil
}

// Mul returns m × n, or ErrOverflow when the product does not fit in int64.
func (m Money) Mul(n int64) (Money, error) {
	if m.Amount == 0 || n == 0 {
		return Money{Amount: 0, Currency: m.Currency}, nil
	}
	p := m.Amount * n
	if p/n != m.Amount || (m.Amount == -1 && n == math.MinInt64) || (n == -1 && m.Amount == math.MinInt64) {
		return Money{}, ErrOverflow
	}
	return Money{Amount: p, Currency: m.Currency}, nil
}

// String renders the amount in major units with the currency's exponent,
// e.g. "12.34 EUR", "1200 JPY", "1.250 KWD", "-0.05 USD". An unknown currency
// shows the amount in minor units: "12 XYZ". It never panics, for any amount.
func (m Money) String() string {
	var buf [48]byte
	b := buf[:0]
	u := uint64(m.Amount)
	if m.Amount < 0 {
		b = append(b, '-')
		u = -u // two's complement: also right for math.MinInt64
	}
	exp, ok := Exponent(m.Currency)
	if !ok {
		exp = 0
	}
	var digits [24]byte
	d := strconv.AppendUint(digits[:0], u, 10)
	switch {
	case exp == 0:
		b = append(b, d...)
	case len(d) > exp:
		b = append(b, d[:len(d)-exp]...)
		b = append(b, '.')
		b = append(b, d[len(d)-exp:]...)
	default: // less than one major unit: 5 cents is "0.05"
		b = append(b, '0', '.')
		for range exp - len(d) {
			b = append(b, '0')
		}
		b = append(b, d...)
	}
	if m.Currency != "" {
		b = append(b, ' ')
		b = append(b, m.Currency...)
	}
	return string(b)
}
