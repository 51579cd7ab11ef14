// Package screening refuses orders before stock or money is touched: goods
// restricted or prohibited at the destination, and buyers or consignees on a
// denied-party list.
//
// Both are data. The restricted-goods rules (data/restricted-goods.json) give
// per destination HS prefixes and title keywords, each rule with its public
// source and the dates it is in force; the denied-party list
// (data/denied-parties.json) is a sample shaped like an extract of the US
// Consolidated Screening List, to be replaced by the real list through
// LoadFile. Indexes are built once when a file is loaded, so that screening
// an order is a handful of map look-ups. The package is pure Go.
package screening

import (
	"sync"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// Reason is why an order is refused, as its reason code.
type Reason string

// Reasons, as in the failure table of architecture.md.
const (
	RestrictedGoods Reason = "restricted_goods"
	DeniedParty     Reason = "denied_party"
)

// Hit is the rule or list entry that refuses an order. It never holds the
// order's personal data: Matched is what the rule or the list says.
type Hit struct {
	Reason Reason `json:"reason"`
	// EntryID is the rule ("AU.vapes") or list entry matched.
	EntryID string `json:"entryId"`
	// List is the denied-party list ("SDN", "Entity List"), or GoodsList.
	List string `json:"list"`
	// Matched is what matched: "HS 9303" (the rule's prefix), "keyword
	// aerosol", or the listed name or alias of the party.
	Matched string `json:"matched"`
	// Field is a JSON pointer into the order: "/lines/2/hsCode",
	// "/lines/0/title", "/buyer/name", "/consignee/name".
	Field  string `json:"field"`
	Source string `json:"source"`
	// ListDate is the date of the rules file or of the denied-party list.
	ListDate string `json:"listDate,omitempty"`
}

// Screener screens orders against the restricted-goods rules and the
// denied-party list. It is safe for concurrent use.
type Screener struct {
	goods   *GoodsRules
	parties *PartyList
}

// New is a Screener with the given rules and list; either may be nil to skip
// that screen.
func New(goods *GoodsRules, parties *PartyList) *Screener {
	return &Screener{goods: goods, parties: parties}
}

var defaultScreener = sync.OnceValue(func() *Screener {
	return New(DefaultGoods(), DefaultParties())
})

// Default is the Screener of the embedded rules and list, parsed once. It
// panics only if the embedded data is broken, which the tests rule out.
func Default() *Screener { return defaultScreener() }

// Goods is the restricted-goods rules the Screener applies (nil if none).
func (s *Screener) Goods() *GoodsRules { return s.goods }

// Parties is the denied-party list the Screener applies (nil if none).
func (s *Screener) Parties() *PartyList { return s.parties }

// Screen returns nil when o is clean, or the first hit: the goods first, in
// line order, against the rules in force on the date of on for the
// consignee's country; then the buyer's name; then the consignee's.
func (s *Screener) Screen(o *order.Order, on time.Time) *Hit {
	if o == nil {
		return nil
	}
	if h := s.goods.Check(o.Consignee.Address.Country, o.Lines, on); h != nil {
		return h
	}
	if h := s.parties.Check(o.Buyer.Name, "/buyer/name"); h != nil {
		return h
	}
	if o.Consignee.Name == o.Buyer.Name {
		return nil // the same name, already screened
	}
	return s.parties.Check(o.Consignee.Name, "/consignee/name")
}
