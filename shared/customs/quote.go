package customs

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Cart is what a landed-cost quote is computed for: an order's lines and
// where they go, before or after the order exists.
type Cart struct {
	Lines []order.Line
	// Destination is the consignee's country (ISO 3166-1 alpha-2); Region
	// its province or state where taxes differ by region (Canada's HST).
	Destination string
	Region      string
	// Currency is the shopper's currency: every amount of the cart is in it,
	// and so is every amount of the quote.
	Currency  string
	Shipping  money.Money
	Insurance money.Money
	TradeMode order.TradeMode
	Incoterm  order.Incoterm
	// Date is the order's date: the rules in force on it apply.
	Date time.Time
	// IOSSNumber is the seller's EU Import One-Stop Shop number, if any.
	IOSSNumber string
	// Gift: a bona fide gift from one private person to another (C2C only).
	Gift bool
	// The route: the country the parcel ships from ("" when unknown: taken
	// as an import), the fulfilment, the warehouse and the carrier
	// (courier when empty). Where it ships from decides the regime (an
	// import, a domestic supply, an intra-EU distance sale) and some
	// thresholds (Canada's CUSMA courier relief).
	ShipFrom   string
	Fulfilment order.Fulfilment
	Warehouse  string
	Carrier    order.Carrier
	// RouteAssumed: ShipFrom and Warehouse are where the stock step would
	// take the goods from, not what the caller said.
	RouteAssumed bool
}

// carrier is the cart's carrier, courier by default.
func (c *Cart) carrier() order.Carrier {
	if c.Carrier == "" {
		return order.CarrierCourier
	}
	return c.Carrier
}

func (c *Cart) region() string { return strings.ToUpper(strings.TrimSpace(c.Region)) }

// CartOf is the cart of an order, as the customs step recomputes it.
func CartOf(o *order.Order) Cart {
	c := Cart{
		Lines: o.Lines, Destination: o.Destination(), Region: o.Consignee.Address.Region,
		Currency: o.Currency, TradeMode: o.TradeMode, Incoterm: o.Incoterm, Date: o.CreatedAt,
		Shipping: money.New(0, o.Currency), Insurance: money.New(0, o.Currency), Gift: o.Gift,
		ShipFrom: o.ShipFrom, Fulfilment: o.Fulfilment, Warehouse: o.Warehouse, Carrier: o.Carrier,
	}
	if o.Shipping != nil {
		c.Shipping = *o.Shipping
	}
	if o.Insurance != nil {
		c.Insurance = *o.Insurance
	}
	c.IOSSNumber = o.Buyer.IOSSNumber
	if c.IOSSNumber == "" {
		c.IOSSNumber = o.Consignee.IOSSNumber
	}
	if c.Incoterm == "" {
		c.Incoterm = order.IncotermDDP
	}
	return c
}

// LineQuote is one line's duty and tax.
type LineQuote struct {
	SKU    string `json:"sku"`
	HSCode string `json:"hsCode"`
	// HSLevelUsed is how many digits of the HS code the duty rate was found
	// at (10, 8, 6, 4 or 2); 0 when no rate was found (the quote is then an
	// estimate).
	HSLevelUsed int `json:"hsLevelUsed"`
	// DutyRate is the tariff rate in percent ("12", "16.5").
	DutyRate string `json:"dutyRate"`
	// DutyRule is the rule that set the line's duty: a tariff entry, or a
	// flat duty that replaces it.
	DutyRule     string      `json:"dutyRule,omitempty"`
	CustomsValue money.Money `json:"customsValue"`
	Duty         money.Money `json:"duty"`
	Tax          money.Money `json:"tax"`
}

// Totals of a quote, in the shopper's currency.
type Totals struct {
	Goods        money.Money `json:"goods"`
	Shipping     money.Money `json:"shipping"`
	Insurance    money.Money `json:"insurance"`
	CustomsValue money.Money `json:"customsValue"`
	Duty         money.Money `json:"duty"`
	Tax          money.Money `json:"tax"`
	Fees         money.Money `json:"fees"`
	// LandedTotal = goods + shipping + insurance + duty + tax + fees.
	LandedTotal money.Money `json:"landedTotal"`
}

// Relief reports a duty or tax relief threshold and whether the cart is
// within it.
type Relief struct {
	Applied bool `json:"applied"`
	// Threshold in the destination's currency.
	Threshold *money.Money `json:"threshold,omitempty"`
	Rule      string       `json:"rule,omitempty"`
}

// Fee is a flat charge on the consignment.
type Fee struct {
	Rule        string      `json:"rule"`
	Description string      `json:"description,omitempty"`
	Count       int         `json:"count"`
	Amount      money.Money `json:"amount"`
}

// TaxApplied is an import VAT/GST charged on the cart.
type TaxApplied struct {
	Rule string `json:"rule"`
	Name string `json:"name"`
	// Rate in percent ("19"), or the fraction of its base ("22/78").
	Rate   string      `json:"rate"`
	Amount money.Money `json:"amount"`
}

// FX is the reference rate a quote used: 1 From = Rate To, published on Date.
type FX struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Rate   string `json:"rate"`
	Date   string `json:"date"`
	Source string `json:"source,omitempty"`
}

// Assessment is the customs side of a quote, in the destination's
// currency: what a declaration carries.
type Assessment struct {
	Currency     string      `json:"currency"`
	CustomsValue money.Money `json:"customsValue"`
	Intrinsic    money.Money `json:"intrinsicValue"`
	Duty         money.Money `json:"duty"`
	Tax          money.Money `json:"tax"`
	// Taxes are the taxes one by one (Japan's national and local
	// consumption taxes are assessed and declared apart).
	Taxes      []TaxApplied    `json:"taxes,omitempty"`
	Fees       money.Money     `json:"fees"`
	Lines      []AssessedLine  `json:"lines"`
	Valuation  string          `json:"valuation"`
	Collection Collection      `json:"collection"`
	Incoterm   order.Incoterm  `json:"incoterm"`
	TradeMode  order.TradeMode `json:"tradeMode"`
}

// AssessedLine is one line of the assessment.
type AssessedLine struct {
	SKU          string      `json:"sku"`
	HSCode       string      `json:"hsCode"`
	CustomsValue money.Money `json:"customsValue"`
	Duty         money.Money `json:"duty"`
	Tax          money.Money `json:"tax"`
}

// Quote is the landed cost of a cart: every cent with the rule behind it.
type Quote struct {
	// QuoteID and ExpiresAt are set when the quote is issued and stored.
	QuoteID   string    `json:"quoteId,omitempty"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
	// OrderDate is the day whose rules apply (YYYY-MM-DD, UTC).
	OrderDate   string          `json:"orderDate"`
	Destination string          `json:"destination"`
	Territory   string          `json:"territory"`
	Currency    string          `json:"currency"`
	TradeMode   order.TradeMode `json:"tradeMode"`
	Incoterm    order.Incoterm  `json:"incoterm"`
	// Route is where the parcel ships from, and Regime whether it crosses
	// a customs border on the way: an import, a domestic supply, an
	// intra-EU distance sale.
	Route      Route        `json:"route"`
	Regime     Regime       `json:"regime"`
	Collection Collection   `json:"collection"`
	Lines      []LineQuote  `json:"lines"`
	Totals     Totals       `json:"totals"`
	Fees       []Fee        `json:"fees"`
	Taxes      []TaxApplied `json:"taxes"`
	DutyRelief Relief       `json:"dutyRelief"`
	TaxRelief  Relief       `json:"taxRelief"`
	// DueAtCheckout is what the shopper pays the seller: everything under
	// DDP; under DAP the goods, shipping and the tax collected at the sale.
	DueAtCheckout money.Money `json:"dueAtCheckout"`
	// DueOnDelivery is what the buyer pays the carrier on import (DAP).
	DueOnDelivery money.Money `json:"dueOnDelivery"`
	FX            FX          `json:"fx"`
	Rules         []RuleRef   `json:"rules"`
	// Estimate is true when some figure is not certain; Reasons say why.
	Estimate        bool       `json:"estimate"`
	EstimateReasons []string   `json:"estimateReasons,omitempty"`
	Notes           []string   `json:"notes,omitempty"`
	Assessment      Assessment `json:"assessment"`
}

// Charges is what a quote asks the shopper to pay at checkout on top of the
// goods, shipping and insurance.
func (q *Quote) Charges() money.Money {
	extra := q.DueAtCheckout.Amount - q.Totals.Goods.Amount - q.Totals.Shipping.Amount - q.Totals.Insurance.Amount
	return money.New(extra, q.Currency)
}

// CartHash fingerprints what a quote depends on — destination and region,
// currency, lines (SKU, HS code, origin, quantity, unit price), shipping,
// insurance, trade mode, incoterm, IOSS number, gift and the order's day —
// so that an order can be matched to the quote it accepts.
func CartHash(c Cart) string {
	h := sha256.New()
	inc := c.Incoterm
	if inc == "" {
		inc = order.IncotermDDP
	}
	day := ""
	if !c.Date.IsZero() {
		day = c.Date.UTC().Format(time.DateOnly)
	}
	fmt.Fprintf(h, "%s|%s|%s|%d|%d|%s|%s|%s|%t|%s|%d|%s|%s\n", c.Destination, c.region(), c.Currency, c.Shipping.Amount,
		c.Insurance.Amount, c.TradeMode, inc, c.IOSSNumber, c.Gift, day, len(c.Lines), c.ShipFrom, c.carrier())
	for _, l := range c.Lines {
		fmt.Fprintf(h, "%q|%s|%s|%d|%d|%s\n", l.SKU, l.HSCode, l.OriginCountry, l.Quantity, l.UnitPrice.Amount, l.UnitPrice.Currency)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Record is the quote in the form an order records it.
func (q *Quote) Record(at time.Time) *order.LandedCharges {
	rules := make([]string, len(q.Rules))
	for i, r := range q.Rules {
		rules[i] = r.ID
	}
	// An import is the regime an empty one means: the order item, written
	// at every step, does not carry it.
	regime := string(q.Regime)
	if q.Regime == RegimeImport {
		regime = ""
	}
	return &order.LandedCharges{Duty: q.Totals.Duty, Tax: q.Totals.Tax, Fees: q.Totals.Fees, Collection: string(q.Collection), Regime: regime,
		AtCheckout: q.Charges(), OnDelivery: q.DueOnDelivery, LandedTotal: q.Totals.LandedTotal, Estimate: q.Estimate,
		Rules: rules, At: at.UTC()}
}

// OrderFX is the quote's exchange rate in the form an order records it.
func (q *Quote) OrderFX() *order.FXRate {
	return &order.FXRate{From: q.FX.From, To: q.FX.To, Rate: q.FX.Rate, Date: q.FX.Date, Source: q.FX.Source}
}
