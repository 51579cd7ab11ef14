package customs

import (
	"testing"

	"github.com/xborder/xborder/shared/order"
)

// tenLineCart is a DE cart of ten lines across the representative headings.
func tenLineCart() Cart {
	hs := []string{"610910", "620342", "640399", "851713", "847130", "330499", "950300", "420221", "850760", "6109100010"}
	var lines []order.Line
	for i, h := range hs {
		lines = append(lines, ln(h, int64(1000+i*737), int64(1+i%3), "CN"))
	}
	return cart("DE", "USD", "2026-11-30", order.TradeB2C, 1299, lines...)
}

// BenchmarkQuote10Lines: one landed-cost quote of a ten-line cart, with a
// currency conversion (USD cart into the EU). Goal: ≥ 50,000 quotes/s on
// one core.
func BenchmarkQuote10Lines(b *testing.B) {
	e := Default()
	c := tenLineCart()
	if errs := e.ValidateCart(&c); errs != nil {
		b.Fatal(errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := e.Quote(c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateAndQuote10Lines adds the cart validation the API runs first.
func BenchmarkValidateAndQuote10Lines(b *testing.B) {
	e := Default()
	c := tenLineCart()
	b.ReportAllocs()
	for b.Loop() {
		if errs := e.ValidateCart(&c); errs != nil {
			b.Fatal(errs)
		}
		if _, err := e.Quote(c); err != nil {
			b.Fatal(err)
		}
	}
}
