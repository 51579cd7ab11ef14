package chinacustoms

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Renminbi is the ISO 4217 code of the renminbi, the currency of every
// retail-import message.
const Renminbi = "CNY"

// Converter converts an amount into the renminbi, at the FX rate recorded on
// the order, rounding once. It returns an error when it cannot.
type Converter func(money.Money) (money.Money, error)

// PaymentInput is what the payment provider says about the order's payment.
type PaymentInput struct {
	// TransactionID is the provider's charge id (payNo, payTransactionId).
	// Empty: the order's Charge.ID.
	TransactionID string
	// Amount is what the provider charged. Nil: the order's Charge.Amount.
	Amount *money.Money
	// PaidAt is when the payment was made (authorised): required.
	PaidAt time.Time
	// PayerName is who paid. Empty: the order's buyer.
	PayerName string
	// Tax is the tax collected with the payment (DDP), in the order's
	// currency. Nil: what the order's accepted quote collected at checkout
	// (o.Customs.Quoted.AtCheckout: duties, taxes and fees), else none. It is
	// part of what the buyer actually pays (taxTotal).
	Tax *money.Money
	// ToCNY converts the order's amounts into the renminbi for a retail
	// import into China (whose messages carry renminbi only). Build applies
	// it to every amount not already in CNY: unit prices, freight, insured
	// fee and tax; line totals, the goods value and the amount paid follow
	// from those by exact integer arithmetic. Required for an import whose
	// order is not in CNY; unused for exports.
	ToCNY Converter
}

// WaybillInput is what the logistics company says about the parcel.
type WaybillInput struct {
	// LogisticsNo is the waybill number (logisticsNo). Empty: the order's
	// TrackingNumber; one of them is required.
	LogisticsNo string
	// BillNo is the bill of lading or master air waybill (billNo), optional.
	BillNo string
	// Freight is what the logistics company charges. Nil: the order's
	// shipping charge (zero when the order has none).
	Freight *money.Money
	// InsuredFee is the insurance charged. Nil: the order's insurance
	// charge, zero when it has none.
	InsuredFee *money.Money
	// GrossWeightGrams is the parcel's weight with its packing. Zero: the
	// goods' weight, Σ weightGrams × quantity (the order line's weightGrams
	// is taken to be the weight of one unit).
	GrossWeightGrams int64
	// Packages is the number of parcels under the waybill (packNo). Zero: 1.
	// Retail imports allow 1 only.
	Packages int
}

// Errors of Build.
var (
	// ErrInvalidInput: the order or the inputs lack something the
	// declaration needs, or contradict each other.
	ErrInvalidInput = errors.New("chinacustoms: invalid input")
	// ErrInvalidHSCode: an HS code that cannot become a 10-digit customs
	// code.
	ErrInvalidHSCode = errors.New("chinacustoms: invalid HS code")
	// ErrNoRenminbiConversion: a retail import into China priced in another
	// currency and no PaymentInput.ToCNY to convert it.
	ErrNoRenminbiConversion = errors.New("chinacustoms: retail-import amounts must be in CNY and no conversion was given")
)

// Field lengths of the specification that Build enforces.
const (
	maxOrderNo           = 60 // orderNo C..60
	maxExportLogisticsNo = 32 // CEB505, CEB603 logisticsNo C..32
	maxImportLogisticsNo = 60 // CEB511, CEB621 logisticsNo C..60
	maxExportCopNo       = 30 // CEB603 copNo C..30, required
	maxImportCopNo       = 20 // CEB621 copNo C..20 (optional there, required in its receipt CEB622)
	maxGoodsInfo         = 200
)

// ImportCopNo is the enterprise's number for an import inventory list
// (CEB621 copNo, at most 20 characters): the order id when it fits, else its
// last 20 characters — for the pipeline's ULIDs, 4 characters of the
// millisecond and all 16 of the randomness, so two orders share one only by
// an 80-bit coincidence (and the reference index refuses a second taker).
// Customs answers the list by it (CEB622 requires it).
func ImportCopNo(orderID string) string {
	r := []rune(orderID)
	if len(r) <= maxImportCopNo {
		return orderID
	}
	return string(r[len(r)-maxImportCopNo:])
}

// HSCode10 returns the 10-digit Chinese customs code (商品编码, gcode) for an
// HS code: dots and spaces are removed, the rest must be 6 to 10 digits, and
// a shorter code is padded with zeros on the right ("610910" becomes
// "6109100000"; padded reports that it was). A padded code keeps the
// Harmonized System heading but need not be a line of China's tariff.
func HSCode10(hs string) (code string, padded bool, err error) {
	s := strings.NewReplacer(".", "", " ", "").Replace(hs)
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false, fmt.Errorf("%w: %q has characters other than digits", ErrInvalidHSCode, hs)
		}
	}
	switch {
	case len(s) < 6:
		return "", false, fmt.Errorf("%w: %q has %d digits, at least 6 (the Harmonized System subheading) are needed", ErrInvalidHSCode, hs, len(s))
	case len(s) > 10:
		return "", false, fmt.Errorf("%w: %q has %d digits, China's customs codes have 10", ErrInvalidHSCode, hs, len(s))
	case len(s) < 10:
		return s + strings.Repeat("0", 10-len(s)), true, nil
	}
	return s, false, nil
}

// Build builds the declaration of o: the supervision mode (SelectMode on
// DirectionOf), the platform's order, the payment record, the waybill and
// the inventory list, and checks them with Check, returning its error (with
// a nil declaration) when they disagree. Enterprise codes come from parties,
// which must be valid for the mode; now is when the list is declared.
//
// Exports are declared in the order's currency. Imports into China are
// declared in the renminbi: an order in another currency needs
// pay.ToCNY (else ErrNoRenminbiConversion). When the provider charged the
// order's own total in its own currency, the payment record carries the
// order's converted actualPaid, so that converting the parts and the whole
// separately cannot make them differ by a rounding fen.
//
// The buyer's identity number (buyerIdNumber of the order and the
// inventory, payerIdNumber of the payment: customs requires the buyer and
// the payer to be one person) is the order's o.Buyer.Identity, when it is a
// resident identity card (type "1", the only one retail-import messages
// take); without it the three stay empty and are listed in
// Declaration.Incomplete, with the other fields the order cannot supply.
func Build(o *order.Order, pay PaymentInput, ship WaybillInput, parties Parties, now time.Time) (*Declaration, error) {
	if o == nil {
		return nil, fmt.Errorf("%w: no order", ErrInvalidInput)
	}
	d, err := build(o, pay, ship, parties, now)
	if err != nil {
		return nil, fmt.Errorf("build the customs declaration of order %s: %w", o.ID, err)
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("check the customs declaration of order %s: %w", o.ID, err)
	}
	return d, nil
}

// builder carries what every part of a declaration needs.
type builder struct {
	o          *order.Order
	dir        Direction
	mode       Mode
	currency   string // the documents' currency
	toCNY      Converter
	incomplete []string
}

func build(o *order.Order, pay PaymentInput, ship WaybillInput, parties Parties, now time.Time) (*Declaration, error) {
	dir, ok := DirectionOf(o)
	if !ok {
		return nil, ErrNotChinaCustoms
	}
	mode, err := SelectMode(dir, o.TradeMode, o.Fulfilment)
	if err != nil {
		return nil, err
	}
	if err := parties.Validate(dir, mode); err != nil {
		return nil, err
	}
	if o.ID == "" || utf8.RuneCountInString(o.ID) > maxOrderNo {
		return nil, fmt.Errorf("%w: the order id must be 1 to %d characters (orderNo)", ErrInvalidInput, maxOrderNo)
	}
	if len(o.Lines) == 0 {
		return nil, fmt.Errorf("%w: the order has no lines", ErrInvalidInput)
	}
	b := &builder{o: o, dir: dir, mode: mode, currency: o.Currency}
	if dir == Import && o.Currency != Renminbi {
		if pay.ToCNY == nil {
			return nil, fmt.Errorf("%w: the order is in %s", ErrNoRenminbiConversion, o.Currency)
		}
		b.currency, b.toCNY = Renminbi, pay.ToCNY
	}

	d := &Declaration{Direction: dir, Mode: mode, SourceCurrency: o.Currency, CreatedAt: now}
	if dir == Import {
		d.OrderType = OrderTypeImport
	} else {
		d.OrderType = mode.OrderType()
	}
	if d.Order, err = b.order(d.OrderType, pay, parties); err != nil {
		return nil, err
	}
	if d.Payment, err = b.payment(pay, parties, &d.Order); err != nil {
		return nil, err
	}
	if d.Waybill, err = b.waybill(ship, parties, &d.Order); err != nil {
		return nil, err
	}
	if d.Inventory, err = b.inventory(parties, &d.Order, &d.Waybill, now); err != nil {
		return nil, err
	}
	d.Incomplete = b.incomplete
	d.FullTax, _ = retailImportLimit(d) // a limit error is Check's to report
	return d, nil
}

// convert returns m in the documents' currency: as it is when it already is
// (or when there is no conversion, for Check to report), else through ToCNY.
func (b *builder) convert(what string, m money.Money) (money.Money, error) {
	if m.Currency == b.currency || b.toCNY == nil {
		return m, nil
	}
	c, err := b.toCNY(m)
	if err != nil {
		return money.Money{}, fmt.Errorf("convert %s from %s to CNY: %w", what, m.Currency, err)
	}
	if c.Currency != Renminbi {
		return money.Money{}, fmt.Errorf("%w: converting %s gave %s, not CNY", ErrInvalidInput, what, c.Currency)
	}
	return c, nil
}

func (b *builder) missing(path string) { b.incomplete = append(b.incomplete, path) }

// buyerID is the buyer's resident identity card number from the order, for
// the field at path; without one (or with another kind of document, which
// retail-import messages do not take) it is empty and path is missing.
func (b *builder) buyerID(path string) Personal {
	id := b.o.Buyer.Identity
	if id == nil || id.Type != IDTypeIdentityCard || id.Number == "" {
		b.missing(path)
		return ""
	}
	return Personal(order.NormalizeIDNumber(id.Number))
}

func (b *builder) order(orderType string, pay PaymentInput, parties Parties) (Order, error) {
	o := b.o
	doc := Order{
		OrderType:          orderType,
		OrderNo:            o.ID,
		Platform:           parties.Platform,
		ECommerce:          parties.ECommerce,
		Currency:           b.currency,
		Discount:           money.New(0, b.currency),
		Payment:            parties.Payment,
		Consignee:          Personal(o.Consignee.Name),
		ConsigneeTelephone: Personal(o.Consignee.Phone),
		ConsigneeAddress:   Personal(formatAddress(o.Consignee.Address)),
		ConsigneeCountry:   o.Consignee.Address.Country,
	}
	if b.dir == Import {
		doc.BuyerRegNo = Personal(o.CustomerID)
		doc.BuyerName = Personal(o.Buyer.Name)
		doc.BuyerTelephone = Personal(o.Buyer.Phone)
		doc.BuyerIDType = IDTypeIdentityCard
		doc.BuyerIDNumber = b.buyerID("order.buyerIdNumber")
		if o.Buyer.Phone == "" {
			b.missing("order.buyerTelephone")
		}
		if o.Consignee.Phone == "" {
			b.missing("order.consigneeTelephone")
		}
	}

	goods := money.New(0, b.currency)
	for i, l := range o.Lines {
		hs, _, err := HSCode10(l.HSCode)
		if err != nil {
			return Order{}, fmt.Errorf("lines[%d]: %w", i+1, err)
		}
		price, err := b.convert(fmt.Sprintf("lines[%d] unit price", i+1), l.UnitPrice)
		if err != nil {
			return Order{}, err
		}
		total := l.LineTotal
		if price != l.UnitPrice { // converted: the total follows from the converted price
			if total, err = price.Mul(l.Quantity); err != nil {
				return Order{}, fmt.Errorf("lines[%d] total: %w", i+1, err)
			}
		}
		if goods, err = goods.Add(total); err != nil {
			return Order{}, fmt.Errorf("goods value: %w", err)
		}
		doc.Lines = append(doc.Lines, OrderLine{
			GNum: i + 1, ItemNo: l.SKU, ItemName: l.Title, GModel: l.Title, HSCode: hs,
			Unit: UnitPiece, Qty: l.Quantity, Price: price, TotalPrice: total, OriginCountry: l.OriginCountry,
		})
	}
	doc.GoodsValue = goods

	charges, err := orZero(o.Shipping, o.Currency).Add(orZero(o.Insurance, o.Currency))
	if err != nil {
		return Order{}, fmt.Errorf("%w: shipping and insurance: %w", ErrInvalidInput, err)
	}
	if doc.Freight, err = b.convert("freight", charges); err != nil {
		return Order{}, err
	}
	if doc.TaxTotal, err = b.convert("tax", taxCollected(o, pay.Tax)); err != nil {
		return Order{}, err
	}
	if doc.ActualPaid, err = actualPaid(doc); err != nil {
		return Order{}, fmt.Errorf("%w: amount paid: %w", ErrInvalidInput, err)
	}
	return doc, nil
}

// actualPaid is goodsValue + freight + taxTotal − discount.
func actualPaid(o Order) (money.Money, error) {
	paid, err := o.GoodsValue.Add(o.Freight)
	if err == nil {
		paid, err = paid.Add(o.TaxTotal)
	}
	if err == nil && o.Discount.Amount != 0 {
		if o.Discount.Amount == math.MinInt64 {
			return money.Money{}, money.ErrOverflow
		}
		paid, err = paid.Add(money.New(-o.Discount.Amount, o.Discount.Currency))
	}
	return paid, err
}

func (b *builder) payment(pay PaymentInput, parties Parties, ord *Order) (Payment, error) {
	o := b.o
	id, amount := pay.TransactionID, pay.Amount
	if c := o.Charge; c != nil {
		switch c.Status {
		case order.ChargeVoided, order.ChargeRefunded:
			return Payment{}, fmt.Errorf("%w: the order's charge is %s: there is no payment to declare", ErrInvalidInput, c.Status)
		}
		switch {
		case id == "":
			id = c.ID
		case id != c.ID:
			return Payment{}, fmt.Errorf("%w: the payment's transaction id differs from the order's charge", ErrInvalidInput)
		}
		switch {
		case amount == nil:
			amount = &c.Amount
		case *amount != c.Amount:
			return Payment{}, fmt.Errorf("%w: the payment amount %v differs from the order's charge %v", ErrInvalidInput, *amount, c.Amount)
		}
	}
	switch {
	case id == "":
		return Payment{}, fmt.Errorf("%w: the payment transaction id is required (no charge on the order)", ErrInvalidInput)
	case amount == nil:
		return Payment{}, fmt.Errorf("%w: the payment amount is required (no charge on the order)", ErrInvalidInput)
	case pay.PaidAt.IsZero():
		return Payment{}, fmt.Errorf("%w: the payment time is required", ErrInvalidInput)
	}

	paid, err := b.convert("amount paid", *amount)
	if err != nil {
		return Payment{}, err
	}
	if b.toCNY != nil && amount.Currency == o.Currency {
		// The provider charged in the order's currency: when it charged
		// exactly what the order comes to, the renminbi amount is the
		// order's, not a separately rounded conversion of the whole.
		if src, err := sourcePaid(o, pay.Tax); err == nil && src == *amount {
			paid = ord.ActualPaid
		}
	}
	doc := Payment{
		Company:       parties.Payment,
		TransactionID: id,
		OrderNo:       o.ID,
		Platform:      parties.Platform,
		ECommerce:     parties.ECommerce,
		PayerName:     Personal(o.Buyer.Name),
		AmountPaid:    paid,
		Currency:      b.currency,
		PaidAt:        pay.PaidAt,
	}
	if pay.PayerName != "" {
		doc.PayerName = Personal(pay.PayerName)
	}
	if b.dir == Import {
		doc.PayerIDType = IDTypeIdentityCard
		doc.PayerIDNumber = b.buyerID("payment.payerIdNumber") // the payer is the buyer
		doc.Telephone = Personal(o.Buyer.Phone)
	}
	ord.PayTransactionID = id
	return doc, nil
}

// sourcePaid is what the order comes to in its own currency: Σ line totals
// + shipping + insurance + tax.
func sourcePaid(o *order.Order, tax *money.Money) (money.Money, error) {
	sum, err := orZero(o.Shipping, o.Currency).Add(orZero(o.Insurance, o.Currency))
	for _, l := range o.Lines {
		if err != nil {
			return money.Money{}, err
		}
		sum, err = sum.Add(l.LineTotal)
	}
	if err != nil {
		return money.Money{}, err
	}
	return sum.Add(taxCollected(o, tax))
}

// taxCollected is the tax collected with the payment: tax when given, else
// the duties, taxes and fees the accepted quote collected at checkout, else
// zero, in the order's currency.
func taxCollected(o *order.Order, tax *money.Money) money.Money {
	switch {
	case tax != nil:
		return *tax
	case o.Customs != nil && o.Customs.Quoted != nil && o.Customs.Quoted.AtCheckout.Currency == o.Currency:
		return o.Customs.Quoted.AtCheckout
	}
	return money.New(0, o.Currency)
}

func (b *builder) waybill(ship WaybillInput, parties Parties, ord *Order) (Waybill, error) {
	o := b.o
	no := ship.LogisticsNo
	if no == "" {
		no = o.TrackingNumber
	}
	maxNo := maxExportLogisticsNo
	if b.dir == Import {
		maxNo = maxImportLogisticsNo
	}
	if no == "" || utf8.RuneCountInString(no) > maxNo {
		return Waybill{}, fmt.Errorf("%w: the waybill number is required, at most %d characters (logisticsNo)", ErrInvalidInput, maxNo)
	}
	packs := ship.Packages
	switch {
	case packs == 0:
		packs = 1
	case packs < 0:
		return Waybill{}, fmt.Errorf("%w: %d packages", ErrInvalidInput, packs)
	case packs > 1 && b.dir == Import:
		return Waybill{}, fmt.Errorf("%w: a retail-import waybill holds one parcel (packNo 1), not %d", ErrInvalidInput, packs)
	}
	net, err := netWeight(o.Lines)
	if err != nil {
		return Waybill{}, err
	}
	gross := ship.GrossWeightGrams
	switch {
	case gross == 0:
		gross = net
	case gross < 0:
		return Waybill{}, fmt.Errorf("%w: gross weight %d g", ErrInvalidInput, gross)
	}
	freight := orZero(o.Shipping, o.Currency)
	if ship.Freight != nil {
		freight = *ship.Freight
	}
	if freight, err = b.convert("waybill freight", freight); err != nil {
		return Waybill{}, err
	}
	insured := orZero(o.Insurance, o.Currency)
	if ship.InsuredFee != nil {
		insured = *ship.InsuredFee
	}
	insured, err = b.convert("insured fee", insured)
	if err != nil {
		return Waybill{}, err
	}
	doc := Waybill{
		Logistics:          parties.Logistics,
		LogisticsNo:        no,
		BillNo:             ship.BillNo,
		OrderNo:            o.ID,
		Freight:            freight,
		InsuredFee:         insured,
		Currency:           b.currency,
		GrossWeightGrams:   gross,
		PackNo:             packs,
		GoodsInfo:          goodsInfo(ord.Lines),
		Consignee:          Personal(o.Consignee.Name),
		ConsigneeAddress:   Personal(formatAddress(o.Consignee.Address)),
		ConsigneeTelephone: Personal(o.Consignee.Phone),
		ConsigneeCountry:   o.Consignee.Address.Country,
		ECommerce:          parties.ECommerce,
	}
	if b.dir == Import && o.Consignee.Phone == "" {
		b.missing("waybill.consigneeTelephone")
	}
	return doc, nil
}

func (b *builder) inventory(parties Parties, ord *Order, wb *Waybill, now time.Time) (Inventory, error) {
	o := b.o
	inv := Inventory{
		IEFlag:      b.dir.IEFlag(),
		OrderNo:     o.ID,
		Platform:    parties.Platform,
		ECommerce:   parties.ECommerce,
		Logistics:   parties.Logistics,
		LogisticsNo: wb.LogisticsNo,
		Agent:       parties.Agent,
		CustomsCode: parties.CustomsCode,
		PortCode:    parties.PortCode,
		DeclaredAt:  now,
		TradeMode:   b.mode,
		Freight:     wb.Freight,
		InsuredFee:  wb.InsuredFee,
		Currency:    b.currency,
		PackNo:      wb.PackNo,
	}
	if b.mode == Mode1210 {
		inv.BondedWarehouse = parties.BondedWarehouse
		inv.EMSNo = parties.BondedAccountNo
		b.missing("inventory.lines[*].itemRecordNo")
	}
	switch b.dir {
	case Export:
		if utf8.RuneCountInString(o.ID) > maxExportCopNo {
			return Inventory{}, fmt.Errorf("%w: the order id is longer than the %d characters of copNo", ErrInvalidInput, maxExportCopNo)
		}
		inv.CopNo = o.ID
		inv.Owner = parties.ECommerce
		inv.Country = o.Consignee.Address.Country
	case Import:
		inv.CopNo = ImportCopNo(o.ID)
		inv.AssureCode = parties.ECommerce.Code
		inv.BuyerIDType = IDTypeIdentityCard
		inv.BuyerIDNumber = b.buyerID("inventory.buyerIdNumber")
		inv.BuyerName = Personal(o.Buyer.Name)
		inv.BuyerTelephone = Personal(o.Buyer.Phone)
		inv.ConsigneeAddress = Personal(formatAddress(o.Consignee.Address))
		if o.Buyer.Phone == "" {
			b.missing("inventory.buyerTelephone")
		}
		if b.mode == Mode1210 {
			inv.Country = China // bonded imports leave the zone, in China
		} else {
			b.missing("inventory.country")
		}
	}
	for i, l := range ord.Lines {
		hs, padded, err := HSCode10(o.Lines[i].HSCode)
		if err != nil {
			return Inventory{}, fmt.Errorf("lines[%d]: %w", i+1, err)
		}
		if padded && b.dir == Import {
			// Imports are classified to the 10-digit tariff line; exports
			// under simplified declaration only to the heading.
			b.missing(fmt.Sprintf("inventory.lines[%d].gcode", l.GNum))
		}
		w, err := mulWeight(o.Lines[i])
		if err != nil {
			return Inventory{}, err
		}
		il := InventoryLine{
			GNum: l.GNum, ItemNo: l.ItemNo, ItemName: l.ItemName, GCode: hs, GName: l.ItemName, GModel: l.GModel,
			OriginCountry: l.OriginCountry, Qty: l.Qty, Unit: l.Unit, Price: l.Price, TotalPrice: l.TotalPrice,
			NetWeightGrams: w,
		}
		if b.dir == Export {
			il.DestinationCountry = o.Consignee.Address.Country
		}
		inv.Lines = append(inv.Lines, il)
	}
	b.missing("inventory.lines[*].qty1")
	b.missing("inventory.lines[*].unit1")
	net, err := netWeight(o.Lines)
	if err != nil {
		return Inventory{}, err
	}
	inv.NetWeightGrams = net
	inv.GrossWeightGrams = wb.GrossWeightGrams
	return inv, nil
}

// netWeight is Σ weightGrams × quantity.
func netWeight(lines []order.Line) (int64, error) {
	var sum int64
	for _, l := range lines {
		w, err := mulWeight(l)
		if err != nil {
			return 0, err
		}
		if sum > math.MaxInt64-w {
			return 0, fmt.Errorf("%w: the order's weight overflows", ErrInvalidInput)
		}
		sum += w
	}
	return sum, nil
}

func mulWeight(l order.Line) (int64, error) {
	if l.WeightGrams < 0 || l.Quantity < 0 {
		return 0, fmt.Errorf("%w: negative weight or quantity", ErrInvalidInput)
	}
	if l.Quantity != 0 && l.WeightGrams > math.MaxInt64/l.Quantity {
		return 0, fmt.Errorf("%w: a line's weight overflows", ErrInvalidInput)
	}
	return l.WeightGrams * l.Quantity, nil
}

// goodsInfo summarises the goods for the carrier: "title ×qty; …", cut to
// the 200 characters of goodsInfo.
func goodsInfo(lines []OrderLine) string {
	var sb strings.Builder
	for i, l := range lines {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(l.ItemName)
		sb.WriteString(" ×")
		sb.WriteString(strconv.FormatInt(l.Qty, 10))
	}
	s := sb.String()
	if utf8.RuneCountInString(s) > maxGoodsInfo {
		r := []rune(s)
		s = string(r[:maxGoodsInfo-1]) + "…"
	}
	return s
}

// formatAddress writes an address on one line, its parts separated by ", ".
func formatAddress(a order.Address) string {
	var parts []string
	for _, p := range []string{a.Line1, a.Line2, a.City, a.Region, a.PostalCode, a.Country} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

func orZero(m *money.Money, currency string) money.Money {
	if m == nil {
		return money.New(0, currency)
	}
	return *m
}
