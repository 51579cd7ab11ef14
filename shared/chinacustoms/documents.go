package chinacustoms

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/xborder/xborder/shared/money"
)

// Personal is personal data: a name, a telephone number, an address, an
// identity number. fmt prints it as "[withheld]" with every verb, and
// log/slog logs it so, which keeps it out of logs, String methods and
// errors; string(p) is the value, for the message renderer.
type Personal string

const withheld = "[withheld]"

// String returns "[withheld]", never the value.
func (Personal) String() string { return withheld }

// Format prints "[withheld]" for every verb, %#v and %d included.
func (Personal) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(withheld)) }

// LogValue logs "[withheld]".
func (Personal) LogValue() slog.Value { return slog.StringValue(withheld) }

// IDTypeIdentityCard is buyerIdType/payerIdType "1", the resident identity
// card (身份证): the only value CEB311, CEB411 and CEB621 allow.
const IDTypeIdentityCard = "1"

// UnitPiece is the JGS-20 unit-of-measure code 011, 件 (piece), in which the
// order's quantities are declared (unit). Source: the customs unit-of-measure
// code table (计量单位代码) as reproduced in public customs software (e.g.
// github.com/ryanrong95/HXT, DeclarationBase.cs); verify against the GACC
// edition of JGS-20.
const UnitPiece = "011"

// Order is the e-commerce platform's order: CEB303 (export) or CEB311
// (import), head and lines. Amounts are in Currency (the renminbi for
// imports).
type Order struct {
	// OrderType: "E", "B" or "W" for exports (Mode.OrderType), "I" for
	// imports.
	OrderType string // orderType
	// OrderNo is the order's id (for 9810 the warehouse booking number).
	OrderNo   string     // orderNo
	Platform  Enterprise // ebpCode, ebpName
	ECommerce Enterprise // ebcCode, ebcName
	// GoodsValue is the price of the goods, Σ line totalPrice, without
	// freight.
	GoodsValue money.Money // goodsValue
	// Freight is the order's freight and other charges (运杂费): its shipping
	// plus its insurance charge, which CEB311 has no field of its own for.
	Freight money.Money // freight
	// Discount is the non-cash deduction (points, vouchers): always zero, the
	// order has none. CEB311 only.
	Discount money.Money // discount
	// TaxTotal is the tax the enterprise collected with the payment (DDP),
	// zero when none. CEB311 only.
	TaxTotal money.Money // taxTotal
	// ActualPaid is goodsValue + freight + taxTotal − discount, what the
	// payment record must show. CEB311 only (the message spells it
	// acturalPaid).
	ActualPaid money.Money // acturalPaid
	// Currency is an ISO 4217 code; the renderer maps it to JGS-20.
	Currency string // currency
	// BuyerRegNo is the buyer's account on the platform: the order's
	// customer id. CEB311 only, as are the buyer fields below.
	BuyerRegNo     Personal // buyerRegNo
	BuyerName      Personal // buyerName
	BuyerTelephone Personal // buyerTelephone
	// BuyerIDType is IDTypeIdentityCard for imports, empty for exports.
	BuyerIDType string // buyerIdType
	// BuyerIDNumber is empty: the order carries no identity number, and this
	// package never invents one. Declaration.Incomplete lists it.
	BuyerIDNumber Personal // buyerIdNumber
	// Payment and PayTransactionID name the payment (CEB311, optional
	// there).
	Payment          Enterprise // payCode, payName
	PayTransactionID string     // payTransactionId
	// Consignee fields must agree with the waybill's. CEB311 only; kept for
	// exports too, for the check.
	Consignee          Personal // consignee
	ConsigneeTelephone Personal // consigneeTelephone
	ConsigneeAddress   Personal // consigneeAddress
	// ConsigneeCountry is the destination, ISO 3166-1 alpha-2 (in no
	// message).
	ConsigneeCountry string
	Lines            []OrderLine
}

// OrderLine is one goods line of the order (订单商品表体).
type OrderLine struct {
	// GNum numbers the lines from 1; the inventory line with the same GNum
	// declares the same goods.
	GNum     int    // gnum
	ItemNo   string // itemNo: the SKU
	ItemName string // itemName: the order line's title
	// GModel describes the goods for classification (CEB311): the title.
	GModel string // gmodel
	// HSCode is the 10-digit customs code (see HSCode10); the order messages
	// do not carry it, the inventory's gcode must equal it.
	HSCode string
	Unit   string // unit: UnitPiece
	Qty    int64  // qty
	// Price and TotalPrice are in the order's Currency; TotalPrice = Price ×
	// Qty.
	Price      money.Money // price
	TotalPrice money.Money // totalPrice
	// OriginCountry is ISO 3166-1 alpha-2 (CEB311 country; not in CEB303).
	OriginCountry string // country
}

// Payment is the payment company's record: CEB403 receipt of payment
// (export) or CEB411 payment (import).
type Payment struct {
	Company Enterprise // payCode, payName
	// TransactionID is the payment provider's charge id.
	TransactionID string     // payNo (CEB403), payTransactionId (CEB411)
	OrderNo       string     // orderNo
	Platform      Enterprise // ebpCode, ebpName
	ECommerce     Enterprise // ebcCode, ebcName (CEB403)
	// Payer fields are CEB411 only; the identity number is empty (see
	// Order.BuyerIDNumber).
	PayerIDType   string      // payerIdType
	PayerIDNumber Personal    // payerIdNumber
	PayerName     Personal    // payerName
	Telephone     Personal    // telephone
	AmountPaid    money.Money // charge (CEB403), amountPaid (CEB411)
	Currency      string      // currency
	PaidAt        time.Time   // accountingDate (CEB403), payTime (CEB411)
}

// Waybill is the logistics company's waybill: CEB505 (export) or CEB511
// (import).
type Waybill struct {
	Logistics   Enterprise // logisticsCode, logisticsName
	LogisticsNo string     // logisticsNo
	// BillNo is the bill of lading or master air waybill (CEB511, optional).
	BillNo string // billNo
	// OrderNo links the waybill to the order (CEB511 orderNo; CEB505 has no
	// such field, customs links them through the inventory).
	OrderNo    string      // orderNo
	Freight    money.Money // freight
	InsuredFee money.Money // insuredFee
	Currency   string      // currency
	// GrossWeightGrams is in grams; the messages want kilograms.
	GrossWeightGrams int64  // grossWeight (CEB505), weight (CEB511)
	PackNo           int    // packNo: parcels under the waybill
	GoodsInfo        string // goodsInfo
	// Consignee fields are CEB511's; kept for exports too, for the check.
	Consignee          Personal // consignee (the specification's table misspells it consingee)
	ConsigneeAddress   Personal // consigneeAddress
	ConsigneeTelephone Personal // consigneeTelephone
	// ConsigneeCountry is the destination, ISO 3166-1 alpha-2 (in no
	// message).
	ConsigneeCountry string
	ECommerce        Enterprise // ebcCode, ebcName (CEB505, optional)
}

// Inventory is the inventory list declared to customs (申报清单): CEB603
// (export) or CEB621 (import).
type Inventory struct {
	// CopNo is the enterprise's own number for the list: the order id for
	// CEB603 (30 characters); for CEB621 (20) ImportCopNo of it.
	CopNo string // copNo
	// PreNo is assigned by the China E-Port: empty until then.
	PreNo string // preNo
	// InvtNo is assigned by customs on acceptance: empty until then.
	InvtNo      string     // invtNo
	IEFlag      string     // ieFlag: "E" or "I"
	OrderNo     string     // orderNo
	Platform    Enterprise // ebpCode, ebpName
	ECommerce   Enterprise // ebcCode, ebcName
	Logistics   Enterprise // logisticsCode, logisticsName
	LogisticsNo string     // logisticsNo
	Agent       Enterprise // agentCode, agentName
	// Owner is the producer or seller (CEB603): the e-commerce enterprise.
	Owner Enterprise // ownerCode, ownerName
	// AssureCode is the guarantor of the tax (CEB621): the e-commerce
	// enterprise's code.
	AssureCode string // assureCode
	// BondedWarehouse and EMSNo are for 1210 only.
	BondedWarehouse Enterprise // iacCode, iacName (CEB603); areaCode, areaName (CEB621)
	EMSNo           string     // emsNo
	CustomsCode     string     // customsCode
	PortCode        string     // portCode
	// DeclaredAt is when the list is declared; the renderer formats it in
	// China Standard Time.
	DeclaredAt time.Time // appTime; declTime (CEB621); ieDate (CEB603)
	TradeMode  Mode      // tradeMode
	// Country is, for exports, the destination (运抵国); for imports, the
	// country of departure (起运国): CN for bonded imports, unknown (empty,
	// listed in Declaration.Incomplete) for direct-purchase imports, since
	// the order does not say where it ships from. ISO 3166-1 alpha-2.
	Country string // country
	// Buyer fields are CEB621 only.
	BuyerIDType      string      // buyerIdType
	BuyerIDNumber    Personal    // buyerIdNumber
	BuyerName        Personal    // buyerName
	BuyerTelephone   Personal    // buyerTelephone
	ConsigneeAddress Personal    // consigneeAddress
	Freight          money.Money // freight: the logistics company's
	InsuredFee       money.Money // insuredFee
	// Currency is the list's currency (CEB621 currency, CEB603 fCurrency and
	// iCurrency, and the lines' currency).
	Currency         string // currency
	PackNo           int    // packNo
	GrossWeightGrams int64  // grossWeight (kg in the message)
	NetWeightGrams   int64  // netWeight (kg in the message)
	Lines            []InventoryLine
}

// InventoryLine is one goods line of the inventory list (清单表体).
type InventoryLine struct {
	GNum   int    // gnum: the order line's
	ItemNo string // itemNo
	// ItemRecordNo is the goods' number in the bonded account book, required
	// for 1210; unknown here (empty, listed in Declaration.Incomplete).
	ItemRecordNo string // itemRecordNo
	ItemName     string // itemName
	// GCode is the 10-digit customs code (HSCode10 of the order line).
	GCode  string // gcode
	GName  string // gname
	GModel string // gmodel
	// BarCode is empty: the order has none (CEB603 wants "无" then).
	BarCode string // barCode
	// OriginCountry is the goods' origin (CEB621 country).
	OriginCountry string // country (CEB621)
	// DestinationCountry is where they go (CEB603 country).
	DestinationCountry string // country (CEB603)
	Qty                int64  // qty
	Unit               string // unit: UnitPiece
	// LegalQty and LegalUnit are the quantity in the tariff line's legal
	// unit of measure, which depends on the 10-digit code and is not known
	// here: zero and empty, listed in Declaration.Incomplete.
	LegalQty   int64       // qty1
	LegalUnit  string      // unit1
	Price      money.Money // price
	TotalPrice money.Money // totalPrice
	// NetWeightGrams is the line's goods weight, weightGrams × quantity. It
	// is not a message field: the message carries the head's gross and net
	// weights only.
	NetWeightGrams int64
}

// Declaration is everything China customs receives for one order: the three
// documents of the three-document match and the inventory list.
type Declaration struct {
	Direction Direction
	Mode      Mode
	// OrderType is the order's orderType: Mode.OrderType for exports,
	// OrderTypeImport for imports.
	OrderType string
	Order     Order
	Payment   Payment
	Waybill   Waybill
	Inventory Inventory
	// SourceCurrency is the order's own currency. The documents are in it
	// for exports, and in the renminbi for imports, converted with
	// PaymentInput.ToCNY.
	SourceCurrency string
	// FullTax is set on a retail import over the ¥5,000 per-transaction
	// limit that may still go through the retail channel because the order
	// is a single item: it is then taxed in full, at the general-trade rates
	// of duty, import VAT and consumption tax, instead of the retail-import
	// rates.
	FullTax bool
	// DeclarationForm is set on a B2B export (9710, 9810) that is declared
	// on a customs declaration form (报关单, through the H2018 system)
	// instead of the inventory list: over ¥5,000 a consignment (GACC
	// announcement 2020 No. 75; RequireDeclarationForm), or — which this
	// package cannot tell — needing a licence, inspection or export duty.
	// Its order, payment and waybill messages are still sent.
	DeclarationForm bool
	// Incomplete lists what the messages require that neither the order nor
	// the inputs supply (identity numbers, legal units of measure, bonded
	// account item numbers, ...), as "document.field" paths. A declaration
	// with entries here can be checked but not yet submitted.
	Incomplete []string
	// CreatedAt is when the declaration was built.
	CreatedAt time.Time
}

// String summarises d without personal data: mode, order number, line
// count, amounts and waybill number.
func (d *Declaration) String() string {
	if d == nil {
		return "chinacustoms.Declaration(nil)"
	}
	s := fmt.Sprintf("%s %s %s order %s: %d lines, goods %v, paid %v, waybill %s",
		d.Mode, d.Direction, d.OrderType, d.Order.OrderNo, len(d.Order.Lines),
		d.Order.GoodsValue, d.Order.ActualPaid, d.Waybill.LogisticsNo)
	if d.FullTax {
		s += ", taxed in full"
	}
	if d.DeclarationForm {
		s += ", declared on a declaration form"
	}
	if len(d.Incomplete) > 0 {
		s += fmt.Sprintf(", %d fields incomplete", len(d.Incomplete))
	}
	return s
}

// LogValue logs d's summary without personal data.
func (d *Declaration) LogValue() slog.Value {
	if d == nil {
		return slog.StringValue("nil")
	}
	return slog.GroupValue(
		slog.String("mode", string(d.Mode)),
		slog.String("direction", string(d.Direction)),
		slog.String("orderType", d.OrderType),
		slog.String("orderNo", d.Order.OrderNo),
		slog.Int("lines", len(d.Order.Lines)),
		slog.String("goodsValue", d.Order.GoodsValue.String()),
		slog.String("actualPaid", d.Order.ActualPaid.String()),
		slog.String("logisticsNo", d.Waybill.LogisticsNo),
		slog.Bool("fullTax", d.FullTax),
		slog.Int("incomplete", len(d.Incomplete)),
	)
}
