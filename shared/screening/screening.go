// Package screening refuses orders before stock or money is touched: goods
// restricted at the destination, and parties on a denied-party list. This is
// a first, small rule set; the customs issue replaces it with per-destination
// data files with sources and dates.
package screening

import (
	"strings"
	"unicode"

	"github.com/xborder/xborder/shared/order"
)

// Hit is why an order is refused, as its reason code.
type Hit string

// Reasons, as in the failure table of architecture.md.
const (
	RestrictedGoods Hit = "restricted_goods"
	DeniedParty     Hit = "denied_party"
)

// restrictedHeadings are HS headings refused for every destination here:
// arms and ammunition (9301–9306), explosives and fireworks (3601–3604).
var restrictedHeadings = []string{"9301", "9302", "9303", "9304", "9305", "9306", "3601", "3602", "3603", "3604"}

// deniedParties is a stand-in for a consolidated screening list (such as the
// US Consolidated Screening List), compared on normalised names.
var deniedParties = []string{"acme sanctioned trading", "blocked entity ltd"}

// Check screens o; ok is false with the reason when it must be refused.
func Check(o *order.Order) (Hit, bool) {
	for _, l := range o.Lines {
		for _, h := range restrictedHeadings {
			if strings.HasPrefix(l.HSCode, h) {
				return RestrictedGoods, false
			}
		}
	}
	for _, name := range []string{o.Buyer.Name, o.Consignee.Name} {
		n := normalise(name)
		for _, d := range deniedParties {
			if strings.Contains(n, d) {
				return DeniedParty, false
			}
		}
	}
	return "", true
}

// normalise lower-cases, drops punctuation and collapses spaces.
func normalise(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
			space = false
		case !space && b.Len() > 0:
			b.WriteByte(' ')
			space = true
		}
	}
	return strings.TrimSpace(b.String())
}
