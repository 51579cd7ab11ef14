// Package fx converts money between currencies at daily reference rates read
// from a data file in the layout of the ECB's euro foreign exchange reference
// rates (eurofxref-hist.csv: one row per publication day, units of each
// currency per euro). Arithmetic is decimal; a converted amount is rounded
// once, to the minor units of the target currency.
package fx

import (
	"bufio"
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/shopspring/decimal"

	"github.com/xborder/xborder/shared/money"
)

//go:embed rates/eurofxref-hist.csv
var embedded []byte

// Source names the embedded rates' publisher.
const Source = "ECB euro foreign exchange reference rates (shared/fx/rates/eurofxref-hist.csv)"

// Errors of the rate table.
var (
	// ErrUnsupportedCurrency: the table publishes no rate for the currency.
	ErrUnsupportedCurrency = errors.New("fx: no reference rate for this currency")
	// ErrNoRate: no rate was published on or before the date asked for.
	ErrNoRate = errors.New("fx: no reference rate published on or before this date")
)

// Table holds the daily reference rates against the euro.
type Table struct {
	days   []day // ascending by date
	source string
	known  map[string]bool
}

type day struct {
	date  string // YYYY-MM-DD
	rates map[string]decimal.Decimal
}

// Rate converts From into To: one major unit of From is Rate major units of
// To, as published on Date (the latest publication day on or before the
// date asked for). A cross rate is kept as the quotient of the two euro
// rates, so conversions divide once, at the end, and are exact whenever the
// result has a finite decimal expansion; Rate shows it to ten places.
type Rate struct {
	From   string          `json:"from"`
	To     string          `json:"to"`
	Rate   decimal.Decimal `json:"rate"`
	Date   string          `json:"date"`
	Source string          `json:"source,omitempty"`
	// num/den is the exact rate: the To and From euro rates.
	num, den decimal.Decimal
}

// divisionPlaces is the precision of the one division of a conversion.
const divisionPlaces = 20

// Apply converts an amount in major units of From into major units of To.
func (r Rate) Apply(major decimal.Decimal) decimal.Decimal {
	if r.den.IsZero() {
		return major.Mul(r.Rate)
	}
	return major.Mul(r.num).DivRound(r.den, divisionPlaces)
}

// Unapply converts an amount in major units of To back into From.
func (r Rate) Unapply(major decimal.Decimal) decimal.Decimal {
	if r.den.IsZero() {
		return major.DivRound(r.Rate, divisionPlaces)
	}
	return major.Mul(r.den).DivRound(r.num, divisionPlaces)
}

var (
	defaultOnce  sync.Once
	defaultTable *Table
	defaultErr   error
)

// Default returns the embedded rate table, parsed once.
func Default() *Table {
	defaultOnce.Do(func() {
		defaultTable, defaultErr = Parse(bytes.NewReader(embedded), Source)
	})
	if defaultErr != nil {
		panic("fx: embedded rates are broken: " + defaultErr.Error()) // a test parses them
	}
	return defaultTable
}

// LoadFile reads a rate file of the same layout, e.g. a fresh ECB download.
func LoadFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fx: %w", err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads rates in the layout of eurofxref-hist.csv: a header
// "Date,USD,JPY,…", then one row per day with a rate or "N/A" per currency.
// Lines starting with '#' are comments.
func Parse(r io.Reader, source string) (*Table, error) {
	t := &Table{source: source, known: map[string]bool{"EUR": true}}
	var header []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(strings.TrimSuffix(text, ","), ",")
		if header == nil {
			if strings.TrimSpace(fields[0]) != "Date" {
				return nil, fmt.Errorf("fx: line %d: the header must start with Date", line)
			}
			for _, f := range fields[1:] {
				code := strings.TrimSpace(f)
				if !money.Valid(code) {
					return nil, fmt.Errorf("fx: line %d: %q is not an ISO 4217 currency", line, code)
				}
				header = append(header, code)
			}
			continue
		}
		if len(fields) != len(header)+1 {
			return nil, fmt.Errorf("fx: line %d: %d fields, the header has %d", line, len(fields), len(header)+1)
		}
		date := strings.TrimSpace(fields[0])
		if _, err := time.Parse(time.DateOnly, date); err != nil {
			return nil, fmt.Errorf("fx: line %d: date %q is not YYYY-MM-DD", line, date)
		}
		d := day{date: date, rates: make(map[string]decimal.Decimal, len(header))}
		for i, f := range fields[1:] {
			f = strings.TrimSpace(f)
			if f == "N/A" || f == "" {
				continue
			}
			v, err := decimal.NewFromString(f)
			if err != nil || !v.IsPositive() {
				return nil, fmt.Errorf("fx: line %d: %s rate %q is not a positive decimal", line, header[i], f)
			}
			d.rates[header[i]] = v
			t.known[header[i]] = true
		}
		t.days = append(t.days, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("fx: read rates: %w", err)
	}
	if len(t.days) == 0 {
		return nil, errors.New("fx: the file holds no rates")
	}
	sort.Slice(t.days, func(i, j int) bool { return t.days[i].date < t.days[j].date })
	for i := 1; i < len(t.days); i++ {
		if t.days[i].date == t.days[i-1].date {
			return nil, fmt.Errorf("fx: %s appears twice", t.days[i].date)
		}
	}
	return t, nil
}

// Supports reports whether the table publishes rates for code (EUR always).
func (t *Table) Supports(code string) bool { return t.known[code] }

// Rate returns the rate from one currency to another in force on date on:
// the latest publication day on or before it on which both were published.
// Cross rates go through the euro: from→to = rate(to)/rate(from).
func (t *Table) Rate(from, to string, on time.Time) (Rate, error) {
	for _, c := range []string{from, to} {
		if !t.Supports(c) {
			return Rate{}, fmt.Errorf("%w: %s", ErrUnsupportedCurrency, c)
		}
	}
	date := on.UTC().Format(time.DateOnly)
	if from == to {
		one := decimal.NewFromInt(1)
		return Rate{From: from, To: to, Rate: one, Date: date, Source: t.source, num: one, den: one}, nil
	}
	i := sort.Search(len(t.days), func(i int) bool { return t.days[i].date > date }) - 1
	for ; i >= 0; i-- {
		d := t.days[i]
		rf, okf := d.euroRate(from)
		rt, okt := d.euroRate(to)
		if okf && okt {
			return Rate{From: from, To: to, Rate: rt.DivRound(rf, 10), Date: d.date, Source: t.source, num: rt, den: rf}, nil
		}
	}
	return Rate{}, fmt.Errorf("%w: %s→%s on %s", ErrNoRate, from, to, date)
}

func (d day) euroRate(code string) (decimal.Decimal, bool) {
	if code == "EUR" {
		return decimal.NewFromInt(1), true
	}
	r, ok := d.rates[code]
	return r, ok
}

// Age is how many days before on the rate was published.
func (r Rate) Age(on time.Time) int {
	d, err := time.Parse(time.DateOnly, r.Date)
	if err != nil {
		return 0
	}
	return int(on.UTC().Truncate(24*time.Hour).Sub(d).Hours() / 24)
}

// Major converts an amount in minor units of the rate's From currency into
// a decimal amount in major units of its To currency (not rounded).
func (r Rate) Major(m money.Money) decimal.Decimal {
	return r.Apply(MajorOf(m))
}

// Convert converts m (in r.From) into r.To, rounded once, half away from zero,
// to the minor units of r.To.
func (r Rate) Convert(m money.Money) (money.Money, error) {
	if m.Currency != r.From {
		return money.Money{}, fmt.Errorf("fx: convert %s with a %s→%s rate: %w", m.Currency, r.From, r.To, money.ErrCurrencyMismatch)
	}
	return Round(r.Major(m), r.To)
}

// Inverse returns the rate from To back to From.
func (r Rate) Inverse() Rate {
	if r.den.IsZero() {
		return Rate{From: r.To, To: r.From, Rate: decimal.NewFromInt(1).DivRound(r.Rate, 10), Date: r.Date, Source: r.Source}
	}
	return Rate{From: r.To, To: r.From, Rate: r.den.DivRound(r.num, 10), Date: r.Date, Source: r.Source, num: r.den, den: r.num}
}

// MajorOf is m in major units, exactly.
func MajorOf(m money.Money) decimal.Decimal {
	exp, _ := money.Exponent(m.Currency)
	return decimal.New(m.Amount, int32(-exp))
}

// Round rounds an amount in major units of currency half away from zero to
// its minor units.
func Round(major decimal.Decimal, currency string) (money.Money, error) {
	exp, ok := money.Exponent(currency)
	if !ok {
		return money.Money{}, fmt.Errorf("fx: %q is not an ISO 4217 currency", currency)
	}
	minor := major.Shift(int32(exp)).Round(0)
	if !minor.IsInteger() || minor.Cmp(maxMinor) > 0 || minor.Cmp(minMinor) < 0 {
		return money.Money{}, money.ErrOverflow
	}
	return money.Money{Amount: minor.IntPart(), Currency: currency}, nil
}

var (
	maxMinor = decimal.NewFromInt(1 << 62)
	minMinor = decimal.NewFromInt(-(1 << 62))
)

// Ratio is the exact rate as a fraction of integers: 1 From = num/den To
// (in major units). ok is false if they do not fit in 64 bits.
func (r Rate) Ratio() (num, den uint64, ok bool) {
	n, d := r.num, r.den
	if d.IsZero() {
		n, d = r.Rate, decimal.NewFromInt(1)
	}
	// n/d = (cn·10^en)/(cd·10^ed); clear the exponents.
	cn, en := n.Coefficient(), n.Exponent()
	cd, ed := d.Coefficient(), d.Exponent()
	if !cn.IsUint64() || !cd.IsUint64() {
		return 0, 0, false
	}
	num, den = cn.Uint64(), cd.Uint64()
	shift := en - ed
	for ; shift > 0; shift-- {
		if num > (1<<63)/10 {
			return 0, 0, false
		}
		num *= 10
	}
	for ; shift < 0; shift++ {
		if den > (1<<63)/10 {
			return 0, 0, false
		}
		den *= 10
	}
	return num, den, num > 0 && den > 0
}
