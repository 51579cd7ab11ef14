package customs

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Declaration is what the customs step files with the broker: the import
// declaration for the destination, built from the order and its assessed
// landed cost, and — when Chinese customs is involved — China's export or
// retail-import declaration with its three documents and inventory list.
type Declaration struct {
	Reference   string          `json:"reference"`
	OrderID     string          `json:"orderId"`
	FiledAt     time.Time       `json:"filedAt"`
	Destination string          `json:"destination"`
	Territory   string          `json:"territory"`
	TradeMode   order.TradeMode `json:"tradeMode"`
	Incoterm    order.Incoterm  `json:"incoterm"`
	Collection  Collection      `json:"collection"`
	IOSSNumber  string          `json:"iossNumber,omitempty"`
	Gift        bool            `json:"gift,omitempty"`
	// Consignee is who imports the goods; the name stays out of logs.
	Consignee DeclaredParty `json:"consignee"`
	// Invoice is the order's total in its own currency.
	Invoice money.Money    `json:"invoice"`
	Lines   []DeclaredLine `json:"lines"`
	// Assessment is in the destination's currency.
	Assessment Assessment `json:"assessment"`
	FX         FX         `json:"fx"`
	Rules      []string   `json:"rules"`
	Estimate   bool       `json:"estimate,omitempty"`
	Reasons    []string   `json:"estimateReasons,omitempty"`
	// China is China's declaration, when the goods leave or enter China as
	// cross-border e-commerce.
	China *chinacustoms.Declaration `json:"china,omitempty"`
}

// DeclaredParty is the importer of record as declared.
type DeclaredParty struct {
	Name    string `json:"name"`
	Country string `json:"country"`
	// VATNumber or BusinessRegistration identify a business importer.
	VATNumber            string `json:"vatNumber,omitempty"`
	BusinessRegistration string `json:"businessRegistration,omitempty"`
}

// DeclaredLine is one tariff item of the declaration.
type DeclaredLine struct {
	Item          int         `json:"item"`
	SKU           string      `json:"sku"`
	Description   string      `json:"description"`
	HSCode        string      `json:"hsCode"`
	HSLevelUsed   int         `json:"hsLevelUsed"`
	OriginCountry string      `json:"originCountry"`
	Quantity      int64       `json:"quantity"`
	NetMassGrams  int64       `json:"netMassGrams"`
	Invoice       money.Money `json:"invoice"`
	CustomsValue  money.Money `json:"customsValue"`
	DutyRate      string      `json:"dutyRate"`
	DutyRule      string      `json:"dutyRule,omitempty"`
	Duty          money.Money `json:"duty"`
	Tax           money.Money `json:"tax"`
}

// Declare builds the declaration of an order from its recomputed quote.
// china, when not nil, is China's side (see chinacustoms.Build).
func Declare(o *order.Order, q *Quote, china *chinacustoms.Declaration, now time.Time) *Declaration {
	d := &Declaration{Reference: "XBD-" + o.ID, OrderID: o.ID, FiledAt: now.UTC(), Destination: q.Destination,
		Territory: q.Territory, TradeMode: o.TradeMode, Incoterm: q.Incoterm, Collection: q.Collection, Gift: o.Gift,
		Consignee: DeclaredParty{Name: o.Consignee.Name, Country: o.Destination(), VATNumber: o.Consignee.VATNumber,
			BusinessRegistration: o.Buyer.BusinessRegistration},
		Invoice: o.Total, Assessment: q.Assessment, FX: q.FX, Estimate: q.Estimate, Reasons: q.EstimateReasons, China: china}
	d.IOSSNumber = CartOf(o).IOSSNumber
	for _, r := range q.Rules {
		d.Rules = append(d.Rules, r.ID)
	}
	for i, l := range o.Lines {
		lq, al := q.Lines[i], q.Assessment.Lines[i]
		d.Lines = append(d.Lines, DeclaredLine{Item: i + 1, SKU: l.SKU, Description: l.Title, HSCode: l.HSCode,
			HSLevelUsed: lq.HSLevelUsed, OriginCountry: l.OriginCountry, Quantity: l.Quantity,
			NetMassGrams: l.WeightGrams * l.Quantity, Invoice: l.LineTotal, CustomsValue: al.CustomsValue,
			DutyRate: lq.DutyRate, DutyRule: lq.DutyRule, Duty: al.Duty, Tax: al.Tax})
	}
	return d
}

// ErrDeclaration reports a declaration a broker would send back.
var ErrDeclaration = errors.New("customs: declaration is not fit to file")

// Check is what a broker checks before filing: every line classified and
// valued, the lines adding up to the totals, the parties and numbers the
// regime needs, and China's three documents in agreement. It lists every
// problem at once.
func (d *Declaration) Check() error {
	var problems []string
	if d.Consignee.Name == "" || d.Consignee.Country == "" {
		problems = append(problems, "the consignee's name and country are required")
	}
	if len(d.Lines) == 0 || len(d.Lines) != len(d.Assessment.Lines) {
		problems = append(problems, "the lines do not match the assessment")
	}
	var value, duty, tax int64
	for _, l := range d.Lines {
		if len(l.HSCode) < 6 {
			problems = append(problems, fmt.Sprintf("item %d: an HS code of at least 6 digits is required", l.Item))
		}
		if l.OriginCountry == "" {
			problems = append(problems, fmt.Sprintf("item %d: the country of origin is required", l.Item))
		}
		if l.CustomsValue.Currency != d.Assessment.Currency || l.Duty.Currency != d.Assessment.Currency {
			problems = append(problems, fmt.Sprintf("item %d: amounts must be in %s", l.Item, d.Assessment.Currency))
		}
		value, duty, tax = value+l.CustomsValue.Amount, duty+l.Duty.Amount, tax+l.Tax.Amount
	}
	a := d.Assessment
	if value != a.CustomsValue.Amount || duty != a.Duty.Amount || tax != a.Tax.Amount {
		problems = append(problems, fmt.Sprintf("the items (value %d, duty %d, tax %d) do not add up to the totals (%d, %d, %d)",
			value, duty, tax, a.CustomsValue.Amount, a.Duty.Amount, a.Tax.Amount))
	}
	if d.Collection == CollectionIOSS && d.IOSSNumber == "" {
		problems = append(problems, "an IOSS declaration needs the seller's IOSS number")
	}
	if d.TradeMode == order.TradeB2B && d.Consignee.VATNumber == "" && d.Consignee.BusinessRegistration == "" {
		problems = append(problems, "a business import needs the importer's VAT number or registration")
	}
	if d.China != nil {
		if err := d.China.Check(); err != nil {
			problems = append(problems, "China: "+err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrDeclaration, strings.Join(problems, "; "))
	}
	return nil
}
