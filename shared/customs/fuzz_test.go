package customs

import (
	"testing"

	"github.com/xborder/xborder/shared/order"
)

// FuzzQuote: for any valid cart the quote adds up, in both currencies, and
// the engine never panics.
func FuzzQuote(f *testing.F) {
	f.Add("DE", "EUR", int64(15000), int64(1), int64(1000), "610910", false, uint8(0))
	f.Add("JP", "USD", int64(9999), int64(3), int64(0), "420221", false, uint8(1))
	f.Add("CA", "CAD", int64(4001), int64(1), int64(99), "6109100010", true, uint8(2))
	f.Add("CN", "CNY", int64(495001), int64(1), int64(5000), "330499", false, uint8(3))
	e := Default()
	modes := []order.TradeMode{order.TradeB2C, order.TradeB2B, order.TradeC2C, order.TradeM2B2C}
	dests := e.Countries()
	f.Fuzz(func(t *testing.T, dest, cur string, unit, qty, ship int64, hs string, gift bool, pick uint8) {
		if !e.Supports(dest) {
			dest = dests[int(pick)%len(dests)]
		}
		tm := modes[int(pick)%len(modes)]
		origin := "CN"
		if dest == "CN" {
			origin = "US"
		}
		c := cart(dest, cur, "2026-11-30", tm, ship, ln(hs, unit, qty, origin), ln("851713", unit/3, 1, "US"))
		c.Gift = gift && tm == order.TradeC2C
		if dest == "US" {
			c.Lines[1].OriginCountry = "MX"
		}
		if errs := e.ValidateCart(&c); errs != nil {
			return
		}
		q, err := e.Quote(c)
		if err != nil {
			t.Fatalf("a valid cart is not quoted: %v", err)
		}
		checkInvariants(t, c, q)
	})
}
