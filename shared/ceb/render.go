package ceb

import (
	"bytes"
	"fmt"
	"math/big"
	"strconv"

	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/money"
)

// LineExtra is what a goods line needs that the order does not hold.
type LineExtra struct {
	// LegalQty and LegalUnit are the quantity in the tariff line's legal
	// (first) unit of measure: qty1 and unit1, required in CEB603 and CEB621.
	// LegalQty is a decimal string ("1.5"). It must agree with the line: the
	// declared quantity when LegalUnit is the declared unit, the line's net
	// weight when it is 千克 (035) or 克 (036).
	LegalQty  string
	LegalUnit string // JGS-20 code or a units.json alias
	// SecondQty and SecondUnit are the quantity in the tariff line's second
	// legal unit (qty2, unit2), for the lines whose tariff line has one:
	// both or neither, checked like LegalQty.
	SecondQty  string
	SecondUnit string
	// ItemRecordNo is the goods' number in the bonded account book, required
	// for 1210.
	ItemRecordNo string
	// BarCode is the goods' bar code; CEB603 writes "无" when empty.
	BarCode string
	// Name is the goods' Chinese name as registered for customs (商品名称,
	// itemName and gname), and Model the declaration elements the tariff
	// line asks for (规格型号 gmodel: 品名、品牌、型号、成分… separated by
	// "|"). Customs expects both in Chinese; empty: the order line's title.
	Name  string
	Model string
}

// name and model are line gnum's customs name and declaration elements,
// from the catalogue (Options.Lines) or else the declaration's.
func (r *renderer) name(gnum int, declared string) string {
	if n := r.o.Lines[gnum].Name; n != "" {
		return n
	}
	return declared
}

func (r *renderer) model(gnum int, declared string) string {
	if m := r.o.Lines[gnum].Model; m != "" {
		return m
	}
	return declared
}

// Options are the deployment and per-order values the declaration does not
// hold.
type Options struct {
	// DXPID is the transmitting enterprise's China E-Port data exchange id
	// (BaseTransfer dxpId), required.
	DXPID string
	// Transfer is the transmitting enterprise (copCode, copName). Zero: the
	// document's sender — the e-commerce enterprise for orders, the payment
	// company for payments, the logistics company for waybills, the
	// declaring agent for inventories.
	Transfer chinacustoms.Enterprise
	// Signer signs each message; nil: Unsigned.
	Signer Signer
	// TrafMode is the JGS-20 transport mode code (trafMode), required for
	// inventories (e.g. "5" air, "2" sea, "4" road, "6" post — choose from the
	// operator's routing).
	TrafMode string
	// TrafNo and VoyageNo are the means of transport crossing the border
	// (vessel or aircraft name or number, CEB603 trafName, CEB621 trafNo) and
	// its voyage or flight number (voyageNo). Required with the waybill's
	// BillNo for a direct-purchase import (9610 CEB621, "直购进口必填");
	// optional for exports, where customs allows them to follow in the
	// master/sub waybill list; not written for bonded imports (1210,
	// "保税进口免填").
	TrafNo   string
	VoyageNo string
	// POD is the port of destination code for exports (CEB603 POD, 3–4).
	POD string
	// WrapType is the JGS-20 packing type code (wrapType), required in CEB603.
	WrapType string
	// StatisticsFlag is CEB603 statisticsFlag: "A" simplified declaration
	// (the default) or "B" consolidated.
	StatisticsFlag string
	// DepartureCountry is the ISO country the goods ship from, for a 9610
	// import inventory (CEB621 country), which the order does not say.
	DepartureCountry string
	// Lines holds, by gnum, what each inventory line needs beyond the order.
	Lines map[int]LineExtra
}

// Render renders d as its four messages, in the order order, payment,
// waybill, inventory: CEB303, CEB403, CEB505, CEB603 for exports; CEB311,
// CEB411, CEB511, CEB621 for imports. A B2B export declared on a customs
// declaration form (d.DeclarationForm) has no CEB603. It first runs d.Check and this
// package's own consistency checks, and renders nothing when any fails. Each
// message is passed through opts.Signer.
func Render(d *chinacustoms.Declaration, opts Options) ([]Message, error) {
	if d == nil {
		return nil, fieldErr("declaration", "is nil")
	}
	if err := d.Check(); err != nil {
		return nil, fmt.Errorf("ceb: the declaration is inconsistent: %w", err)
	}
	if err := consistency(d); err != nil {
		return nil, err
	}
	if opts.DXPID == "" {
		return nil, fieldErr("BaseTransfer.dxpId", "Options.DXPID is required")
	}
	r := &renderer{d: d, o: opts}
	var fns []func() (string, []byte, error)
	switch d.Direction {
	case chinacustoms.Export:
		fns = []func() (string, []byte, error){r.ceb303, r.ceb403, r.ceb505, r.ceb603}
		if d.DeclarationForm {
			// The goods go on a customs declaration form (H2018), not the
			// inventory list: the order, payment and waybill still go here.
			fns = fns[:3]
		}
	case chinacustoms.Import:
		if d.Order.Currency != chinacustoms.Renminbi {
			return nil, fieldErr("CEB311 OrderHead.currency", "retail-import messages carry renminbi, the declaration is in "+d.Order.Currency)
		}
		fns = []func() (string, []byte, error){r.ceb311, r.ceb411, r.ceb511, r.ceb621}
	default:
		return nil, fieldErr("declaration.Direction", fmt.Sprintf("unknown direction %q", d.Direction))
	}
	signer := opts.Signer
	if signer == nil {
		signer = Unsigned{}
	}
	var out []Message
	for _, f := range fns {
		typ, x, err := f()
		if err != nil {
			return nil, err
		}
		signed, err := signer.Sign(typ, x)
		if err != nil {
			return nil, fmt.Errorf("ceb: sign %s: %w", typ, err)
		}
		out = append(out, Message{Type: typ, XML: signed})
	}
	return out, nil
}

// consistency checks what customs matches between the messages, beyond
// d.Check: one order number, goods value = Σ line totals, line totals =
// price × qty, the amount paid, the waybill number and the currency.
func consistency(d *chinacustoms.Declaration) error {
	o, p, w, inv := &d.Order, &d.Payment, &d.Waybill, &d.Inventory
	for _, s := range []struct{ field, v string }{
		{"payment.orderNo", p.OrderNo}, {"waybill.orderNo", w.OrderNo}, {"inventory.orderNo", inv.OrderNo},
	} {
		if s.v != o.OrderNo {
			return fieldErr(s.field, "differs from the order's orderNo")
		}
	}
	if w.LogisticsNo != inv.LogisticsNo {
		return fieldErr("inventory.logisticsNo", "differs from the waybill's logisticsNo")
	}
	for _, s := range []struct{ field, v string }{
		{"payment.currency", p.Currency}, {"waybill.currency", w.Currency}, {"inventory.currency", inv.Currency},
	} {
		if s.v != o.Currency {
			return fieldErr(s.field, fmt.Sprintf("is %s, the order is in %s", s.v, o.Currency))
		}
	}
	if len(o.Lines) != len(inv.Lines) {
		return fieldErr("inventory.lines", fmt.Sprintf("%d lines, the order has %d", len(inv.Lines), len(o.Lines)))
	}
	sum := money.New(0, o.Currency)
	for i, l := range o.Lines {
		t, err := l.Price.Mul(l.Qty)
		if err != nil || t != l.TotalPrice {
			return fieldErr(fmt.Sprintf("order.lines[%d].totalPrice", l.GNum), fmt.Sprintf("amount mismatch: %v is not price × qty", l.TotalPrice))
		}
		if il := inv.Lines[i]; il.TotalPrice != l.TotalPrice || il.Price != l.Price || il.Qty != l.Qty {
			return fieldErr(fmt.Sprintf("inventory.lines[%d].totalPrice", l.GNum), "amount mismatch with the order line")
		}
		if sum, err = sum.Add(l.TotalPrice); err != nil {
			return fieldErr("order.goodsValue", err.Error())
		}
	}
	if sum != o.GoodsValue {
		return fieldErr("order.goodsValue", fmt.Sprintf("amount mismatch: %v, the lines total %v", o.GoodsValue, sum))
	}
	if d.Direction == chinacustoms.Import && p.AmountPaid != o.ActualPaid {
		return fieldErr("payment.amountPaid", fmt.Sprintf("amount mismatch: %v, the order's acturalPaid is %v", p.AmountPaid, o.ActualPaid))
	}
	if w.Freight != inv.Freight || w.InsuredFee != inv.InsuredFee {
		return fieldErr("inventory.freight", "amount mismatch with the waybill's freight or insured fee")
	}
	return nil
}

type renderer struct {
	d *chinacustoms.Declaration
	o Options
}

func (r *renderer) start(typ string) *writer {
	w := &writer{msg: typ}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&w.b, `<ceb:%sMessage xmlns:ceb="%s" guid="%s" version="1.0">`+"\n", typ, Namespace, GUID(r.d.Order.OrderNo, typ, "message"))
	w.indent = 1
	return w
}

func (r *renderer) finish(w *writer, sender chinacustoms.Enterprise) (string, []byte, error) {
	if r.o.Transfer != (chinacustoms.Enterprise{}) {
		sender = r.o.Transfer
	}
	w.scope = "BaseTransfer"
	w.open("BaseTransfer")
	w.str("copCode", sender.Code, 1, 18)
	w.str("copName", sender.Name, 1, 100)
	w.str("dxpMode", "DXP", 3, 3)
	w.str("dxpId", r.o.DXPID, 1, 30)
	w.close("BaseTransfer")
	fmt.Fprintf(&w.b, "</ceb:%sMessage>\n", w.msg)
	if w.err != nil {
		return "", nil, w.err
	}
	return w.msg, bytes.Clone(w.b.Bytes()), nil
}

// head writes guid, appType, appTime, appStatus of an entity.
func (r *renderer) head(w *writer) {
	w.str("guid", GUID(r.d.Order.OrderNo, w.msg, "entity"), 36, 36)
	w.str("appType", "1", 1, 1)
	w.str("appTime", appTime(r.d.Inventory.DeclaredAt), 14, 14)
	w.str("appStatus", "2", 1, 1)
}

func (w *writer) currency(name, iso string) {
	c, err := CurrencyCode(w.field(name), iso)
	w.code(name, c, err, 3)
}

func (w *writer) country(name, iso string) {
	c, err := CountryCode(w.field(name), iso)
	w.code(name, c, err, 3)
}

func (w *writer) unit(name, u string) {
	c, err := UnitCode(w.field(name), u)
	w.code(name, c, err, 3)
}

func (w *writer) office(name, c string) {
	v, err := customsOfficeCode(w.field(name), c)
	w.code(name, v, err, 4)
}

func lineScope(list string, gnum int) string { return list + "[" + strconv.Itoa(gnum) + "]" }

func (r *renderer) ceb303() (string, []byte, error) {
	o := &r.d.Order
	w := r.start("CEB303")
	w.open("Order")
	w.scope = "OrderHead"
	w.open("OrderHead")
	r.head(w)
	w.str("orderType", o.OrderType, 1, 1)
	w.str("orderNo", o.OrderNo, 1, 60)
	w.str("ebpCode", o.Platform.Code, 1, 18)
	w.str("ebpName", o.Platform.Name, 1, 100)
	w.str("ebcCode", o.ECommerce.Code, 1, 18)
	w.str("ebcName", o.ECommerce.Name, 1, 100)
	w.amount("goodsValue", o.GoodsValue, o.Currency)
	w.amount("freight", o.Freight, o.Currency)
	w.currency("currency", o.Currency)
	w.close("OrderHead")
	for _, l := range o.Lines {
		w.scope = lineScope("OrderList", l.GNum)
		w.open("OrderList")
		w.int("gnum", int64(l.GNum), 5)
		w.str("itemNo", l.ItemNo, 1, 30)
		w.str("itemName", r.name(l.GNum, l.ItemName), 1, 250)
		w.opt("barCode", r.o.Lines[l.GNum].BarCode, 50)
		w.unit("unit", l.Unit)
		w.currency("currency", o.Currency)
		w.int("qty", l.Qty, 14)
		w.amount("price", l.Price, o.Currency)
		w.amount("totalPrice", l.TotalPrice, o.Currency)
		w.close("OrderList")
	}
	w.close("Order")
	return r.finish(w, o.ECommerce)
}

func (r *renderer) ceb403() (string, []byte, error) {
	p := &r.d.Payment
	w := r.start("CEB403")
	w.scope = "Receipts"
	w.open("Receipts")
	r.head(w)
	w.str("ebpCode", p.Platform.Code, 1, 18)
	w.str("ebpName", p.Platform.Name, 1, 100)
	w.str("ebcCode", p.ECommerce.Code, 1, 18)
	w.str("ebcName", p.ECommerce.Name, 1, 100)
	w.str("orderNo", p.OrderNo, 1, 60)
	w.opt("payCode", p.Company.Code, 18)
	w.str("payName", p.Company.Name, 1, 100)
	w.opt("payNo", p.TransactionID, 60)
	w.amount("charge", p.AmountPaid, p.Currency)
	w.currency("currency", p.Currency)
	w.str("accountingDate", appTime(p.PaidAt), 14, 14)
	w.close("Receipts")
	return r.finish(w, p.Company)
}

func (r *renderer) ceb505() (string, []byte, error) {
	b := &r.d.Waybill
	w := r.start("CEB505")
	w.scope = "Logistics"
	w.open("Logistics")
	r.head(w)
	w.str("logisticsCode", b.Logistics.Code, 1, 18)
	w.str("logisticsName", b.Logistics.Name, 1, 100)
	w.str("logisticsNo", b.LogisticsNo, 1, 32)
	w.amount("freight", b.Freight, b.Currency)
	w.amount("insuredFee", b.InsuredFee, b.Currency)
	w.currency("currency", b.Currency)
	w.kg("grossWeight", b.GrossWeightGrams)
	w.int("packNo", int64(b.PackNo), 9)
	w.str("goodsInfo", b.GoodsInfo, 1, 200)
	w.opt("ebcCode", b.ECommerce.Code, 18)
	w.opt("ebcName", b.ECommerce.Name, 100)
	w.close("Logistics")
	return r.finish(w, b.Logistics)
}

// JGS-20 units of measure whose quantity is a weight: a legal quantity in
// one of them is the line's net weight (the declaration rules fill the
// quantity in 千克 with the net weight).
const (
	unitKilogram = "035" // 千克
	unitGram     = "036" // 克
)

// legalQty is an inventory line's quantities in its tariff line's legal
// units of measure, the units as JGS-20 codes.
type legalQty struct {
	qty1, unit1 string
	qty2, unit2 string // empty when the tariff line has no second unit
}

// legalQuantities reads and checks the legal quantities of inventory line l
// from Options.Lines, recording problems on w under qty1, unit1, qty2,
// unit2.
func (r *renderer) legalQuantities(w *writer, l chinacustoms.InventoryLine) legalQty {
	x := r.o.Lines[l.GNum]
	declared, _ := UnitCode("", l.Unit) // an unmapped unit is reported where unit is written
	var q legalQty
	q.qty1, q.unit1 = r.legalPair(w, l, declared, "qty1", "unit1", x.LegalQty, x.LegalUnit, "LegalQty", "LegalUnit")
	if x.SecondQty != "" || x.SecondUnit != "" {
		q.qty2, q.unit2 = r.legalPair(w, l, declared, "qty2", "unit2", x.SecondQty, x.SecondUnit, "SecondQty", "SecondUnit")
		if q.unit2 != "" && q.unit2 == q.unit1 {
			w.fail("unit2", "the second legal unit is the first one (unit1) again")
		}
	}
	return q
}

// legalPair checks one legal quantity and unit. A quantity in the declared
// unit must be the declared quantity; one in 千克 or 克 must be the line's
// net weight, which it defaults to when empty.
func (r *renderer) legalPair(w *writer, l chinacustoms.InventoryLine, declared, qtyField, unitField, qty, unit, qtyOpt, unitOpt string) (string, string) {
	code, uerr := "", error(nil)
	if unit != "" {
		code, uerr = UnitCode(w.field(unitField), unit)
	}
	weight := code == unitKilogram || code == unitGram
	if qty == "" && weight && l.NetWeightGrams > 0 {
		if code == unitKilogram {
			qty = formatDecimal(l.NetWeightGrams, 3)
		} else {
			qty = strconv.FormatInt(l.NetWeightGrams, 10)
		}
	}
	switch {
	case qty == "":
		w.fail(qtyField, "legal quantity is required (Options.Lines[gnum]."+qtyOpt+")")
	case !decimalOK(qty):
		w.fail(qtyField, fmt.Sprintf("%q is not a decimal of at most 19 digits, 5 decimals", qty))
	}
	switch {
	case unit == "":
		w.fail(unitField, "legal unit is required (Options.Lines[gnum]."+unitOpt+")")
	case uerr != nil:
		w.fail(unitField, uerr.(*FieldError).Problem)
	}
	if code == "" || !decimalOK(qty) {
		return qty, code
	}
	v, _ := new(big.Rat).SetString(qty)
	switch {
	case code == declared:
		if v.Cmp(new(big.Rat).SetInt64(l.Qty)) != 0 {
			w.fail(qtyField, fmt.Sprintf("quantity mismatch: %s in the declared unit %s, the line declares %d", qty, code, l.Qty))
		}
	case weight && l.NetWeightGrams > 0:
		want, shown := new(big.Rat).SetFrac64(l.NetWeightGrams, 1000), formatDecimal(l.NetWeightGrams, 3)+" kg"
		if code == unitGram {
			want, shown = new(big.Rat).SetInt64(l.NetWeightGrams), strconv.FormatInt(l.NetWeightGrams, 10)+" g"
		}
		if v.Cmp(want) != 0 {
			w.fail(qtyField, fmt.Sprintf("quantity mismatch: %s, the line's net weight is %s", qty, shown))
		}
	}
	return qty, code
}

func decimalOK(s string) bool {
	digits, frac, dot := 0, 0, false
	for i, c := range s {
		switch {
		case c == '.' && !dot && i > 0:
			dot = true
		case c >= '0' && c <= '9':
			digits++
			if dot {
				frac++
			}
		default:
			return false
		}
	}
	return digits > 0 && digits <= 19 && frac <= 5 && s[len(s)-1] != '.'
}

func (r *renderer) ceb603() (string, []byte, error) {
	inv := &r.d.Inventory
	w := r.start("CEB603")
	w.open("Inventory")
	w.scope = "InventoryHead"
	w.open("InventoryHead")
	r.head(w)
	w.office("customsCode", inv.CustomsCode)
	w.str("ebpCode", inv.Platform.Code, 1, 18)
	w.str("ebpName", inv.Platform.Name, 1, 100)
	w.str("orderNo", inv.OrderNo, 1, 60)
	w.str("logisticsCode", inv.Logistics.Code, 1, 18)
	w.str("logisticsName", inv.Logistics.Name, 1, 100)
	w.str("logisticsNo", inv.LogisticsNo, 1, 32)
	w.str("copNo", inv.CopNo, 1, 30)
	w.opt("preNo", inv.PreNo, 18)
	w.opt("invtNo", inv.InvtNo, 20)
	w.str("ieFlag", inv.IEFlag, 1, 1)
	w.office("portCode", inv.PortCode)
	w.str("ieDate", appDate(inv.DeclaredAt), 8, 8)
	sf := r.o.StatisticsFlag
	if sf == "" {
		sf = "A"
	}
	if sf != "A" && sf != "B" {
		w.fail("statisticsFlag", "must be A or B")
	}
	w.str("statisticsFlag", sf, 1, 1)
	w.str("agentCode", inv.Agent.Code, 1, 18)
	w.str("agentName", inv.Agent.Name, 1, 100)
	w.str("ebcCode", inv.ECommerce.Code, 1, 18)
	w.str("ebcName", inv.ECommerce.Name, 1, 100)
	w.str("ownerCode", inv.Owner.Code, 1, 18)
	w.str("ownerName", inv.Owner.Name, 1, 100)
	if inv.TradeMode == chinacustoms.Mode1210 {
		w.str("iacCode", inv.BondedWarehouse.Code, 1, 18)
		w.str("iacName", inv.BondedWarehouse.Name, 1, 100)
		w.str("emsNo", inv.EMSNo, 1, 30)
	}
	w.str("tradeMode", string(inv.TradeMode), 4, 4)
	w.str("trafMode", r.o.TrafMode, 1, 1)
	// The means of transport, voyage and bill may follow in the master/sub
	// waybill list (CEB607): written when known.
	w.opt("trafName", r.o.TrafNo, 100)
	w.opt("voyageNo", r.o.VoyageNo, 32)
	w.opt("billNo", r.d.Waybill.BillNo, 37)
	w.country("country", inv.Country)
	w.str("POD", r.o.POD, 3, 4)
	w.amount("freight", inv.Freight, inv.Currency)
	w.currency("fCurrency", inv.Currency)
	w.str("fFlag", "3", 1, 1) // 3: total price
	w.amount("insuredFee", inv.InsuredFee, inv.Currency)
	w.currency("iCurrency", inv.Currency)
	w.str("iFlag", "3", 1, 1)
	w.str("wrapType", r.o.WrapType, 1, 1)
	w.int("packNo", int64(inv.PackNo), 9)
	w.kg("grossWeight", inv.GrossWeightGrams)
	w.kg("netWeight", inv.NetWeightGrams)
	w.close("InventoryHead")
	for _, l := range inv.Lines {
		w.scope = lineScope("InventoryList", l.GNum)
		x := r.o.Lines[l.GNum]
		w.open("InventoryList")
		w.int("gnum", int64(l.GNum), 5)
		w.str("itemNo", l.ItemNo, 1, 20)
		rec := l.ItemRecordNo
		if rec == "" {
			rec = x.ItemRecordNo
		}
		if inv.TradeMode == chinacustoms.Mode1210 && rec == "" {
			w.fail("itemRecordNo", "is required for 1210 (Options.Lines[gnum].ItemRecordNo)")
		}
		w.opt("itemRecordNo", rec, 30)
		w.opt("itemName", r.name(l.GNum, l.ItemName), 250)
		w.str("gcode", l.GCode, 10, 10)
		w.str("gname", r.name(l.GNum, l.GName), 1, 250)
		w.str("gmodel", r.model(l.GNum, l.GModel), 1, 250)
		bc := x.BarCode
		if bc == "" {
			bc = "无"
		}
		w.str("barCode", bc, 1, 50)
		w.country("country", l.DestinationCountry)
		w.currency("currency", inv.Currency)
		w.int("qty", l.Qty, 14)
		q := r.legalQuantities(w, l)
		w.raw("qty1", q.qty1)
		if q.unit2 != "" {
			w.raw("qty2", q.qty2)
		}
		w.unit("unit", l.Unit)
		w.str("unit1", q.unit1, 3, 3)
		if q.unit2 != "" {
			w.str("unit2", q.unit2, 3, 3)
		}
		w.amount("price", l.Price, inv.Currency)
		w.amount("totalPrice", l.TotalPrice, inv.Currency)
		w.close("InventoryList")
	}
	w.close("Inventory")
	return r.finish(w, inv.Agent)
}

func personal(p chinacustoms.Personal) string { return string(p) }

func (r *renderer) ceb311() (string, []byte, error) {
	o := &r.d.Order
	w := r.start("CEB311")
	w.open("Order")
	w.scope = "OrderHead"
	w.open("OrderHead")
	r.head(w)
	w.str("orderType", o.OrderType, 1, 1)
	w.str("orderNo", o.OrderNo, 1, 60)
	w.str("ebpCode", o.Platform.Code, 1, 18)
	w.str("ebpName", o.Platform.Name, 1, 100)
	w.str("ebcCode", o.ECommerce.Code, 1, 18)
	w.str("ebcName", o.ECommerce.Name, 1, 100)
	w.amount("goodsValue", o.GoodsValue, o.Currency)
	w.amount("freight", o.Freight, o.Currency)
	w.amount("discount", o.Discount, o.Currency)
	w.amount("taxTotal", o.TaxTotal, o.Currency)
	w.amount("acturalPaid", o.ActualPaid, o.Currency)
	w.currency("currency", o.Currency)
	w.str("buyerRegNo", personal(o.BuyerRegNo), 1, 60)
	w.str("buyerName", personal(o.BuyerName), 1, 60)
	w.str("buyerTelephone", personal(o.BuyerTelephone), 1, 30)
	w.str("buyerIdType", o.BuyerIDType, 1, 1)
	w.str("buyerIdNumber", personal(o.BuyerIDNumber), 1, 60)
	w.opt("payCode", o.Payment.Code, 18)
	w.opt("payName", o.Payment.Name, 100)
	w.opt("payTransactionId", o.PayTransactionID, 60)
	w.str("consignee", personal(o.Consignee), 1, 100)
	w.str("consigneeTelephone", personal(o.ConsigneeTelephone), 1, 50)
	w.str("consigneeAddress", personal(o.ConsigneeAddress), 1, 200)
	w.close("OrderHead")
	for _, l := range o.Lines {
		w.scope = lineScope("OrderList", l.GNum)
		w.open("OrderList")
		w.int("gnum", int64(l.GNum), 4) // N4
		w.opt("itemNo", l.ItemNo, 30)
		w.str("itemName", r.name(l.GNum, l.ItemName), 1, 250)
		w.str("gmodel", r.model(l.GNum, l.GModel), 1, 510)
		w.opt("barCode", r.o.Lines[l.GNum].BarCode, 50)
		w.unit("unit", l.Unit)
		w.int("qty", l.Qty, 14)
		w.amount("price", l.Price, o.Currency)
		w.amount("totalPrice", l.TotalPrice, o.Currency)
		w.currency("currency", o.Currency)
		w.country("country", l.OriginCountry)
		w.close("OrderList")
	}
	w.close("Order")
	return r.finish(w, o.ECommerce)
}

func (r *renderer) ceb411() (string, []byte, error) {
	p := &r.d.Payment
	w := r.start("CEB411")
	w.open("Payment")
	w.scope = "PaymentHead"
	w.open("PaymentHead")
	r.head(w)
	w.str("payCode", p.Company.Code, 1, 18)
	w.str("payName", p.Company.Name, 1, 100)
	w.str("payTransactionId", p.TransactionID, 1, 60)
	w.str("orderNo", p.OrderNo, 1, 60)
	w.str("ebpCode", p.Platform.Code, 1, 18)
	w.str("ebpName", p.Platform.Name, 1, 100)
	w.str("payerIdType", p.PayerIDType, 1, 1)
	w.str("payerIdNumber", personal(p.PayerIDNumber), 1, 60)
	w.str("payerName", personal(p.PayerName), 1, 60)
	w.opt("telephone", personal(p.Telephone), 60)
	w.amount("amountPaid", p.AmountPaid, p.Currency)
	w.currency("currency", p.Currency)
	w.str("payTime", appTime(p.PaidAt), 14, 14)
	w.close("PaymentHead")
	w.close("Payment")
	return r.finish(w, p.Company)
}

func (r *renderer) ceb511() (string, []byte, error) {
	b := &r.d.Waybill
	w := r.start("CEB511")
	w.open("Logistics")
	w.scope = "LogisticsHead"
	w.open("LogisticsHead")
	r.head(w)
	w.str("logisticsCode", b.Logistics.Code, 1, 18)
	w.str("logisticsName", b.Logistics.Name, 1, 100)
	w.str("logisticsNo", b.LogisticsNo, 1, 60)
	w.opt("billNo", b.BillNo, 37)
	w.str("orderNo", b.OrderNo, 1, 60)
	w.amount("freight", b.Freight, b.Currency)
	w.amount("insuredFee", b.InsuredFee, b.Currency)
	w.currency("currency", b.Currency)
	w.kg("weight", b.GrossWeightGrams)
	w.int("packNo", int64(b.PackNo), 9)
	w.opt("goodsInfo", b.GoodsInfo, 200)
	w.str("consignee", personal(b.Consignee), 1, 100)
	w.str("consigneeAddress", personal(b.ConsigneeAddress), 1, 200)
	w.str("consigneeTelephone", personal(b.ConsigneeTelephone), 1, 50)
	w.close("LogisticsHead")
	w.close("Logistics")
	return r.finish(w, b.Logistics)
}

func (r *renderer) ceb621() (string, []byte, error) {
	inv := &r.d.Inventory
	w := r.start("CEB621")
	w.open("Inventory")
	w.scope = "InventoryHead"
	w.open("InventoryHead")
	r.head(w)
	w.str("orderNo", inv.OrderNo, 1, 60)
	w.str("ebpCode", inv.Platform.Code, 1, 18)
	w.str("ebpName", inv.Platform.Name, 1, 100)
	w.str("ebcCode", inv.ECommerce.Code, 1, 18)
	w.str("ebcName", inv.ECommerce.Name, 1, 100)
	w.str("logisticsNo", inv.LogisticsNo, 1, 60)
	w.str("logisticsCode", inv.Logistics.Code, 1, 18)
	w.str("logisticsName", inv.Logistics.Name, 1, 100)
	w.opt("copNo", inv.CopNo, 20)
	w.opt("preNo", inv.PreNo, 18)
	w.str("assureCode", inv.AssureCode, 1, 30)
	if inv.TradeMode == chinacustoms.Mode1210 {
		w.str("emsNo", inv.EMSNo, 1, 30)
	}
	w.opt("invtNo", inv.InvtNo, 18)
	w.str("ieFlag", inv.IEFlag, 1, 1)
	w.str("declTime", appDate(inv.DeclaredAt), 8, 8)
	w.office("customsCode", inv.CustomsCode)
	w.office("portCode", inv.PortCode)
	w.str("buyerIdType", inv.BuyerIDType, 1, 1)
	w.str("buyerIdNumber", personal(inv.BuyerIDNumber), 1, 60)
	w.str("buyerName", personal(inv.BuyerName), 1, 60)
	w.str("buyerTelephone", personal(inv.BuyerTelephone), 1, 30)
	w.str("consigneeAddress", personal(inv.ConsigneeAddress), 1, 200)
	w.str("agentCode", inv.Agent.Code, 1, 18)
	w.str("agentName", inv.Agent.Name, 1, 100)
	if inv.TradeMode == chinacustoms.Mode1210 {
		w.str("areaCode", inv.BondedWarehouse.Code, 1, 18)
		w.str("areaName", inv.BondedWarehouse.Name, 1, 100)
	}
	w.str("tradeMode", string(inv.TradeMode), 4, 4)
	w.str("trafMode", r.o.TrafMode, 1, 1)
	if inv.TradeMode == chinacustoms.Mode9610 {
		// Direct-purchase imports must name the means of transport, the
		// voyage and the bill of lading or master air waybill (直购进口必填);
		// bonded imports leave them out (保税进口免填).
		w.str("trafNo", r.o.TrafNo, 1, 100)
		w.str("voyageNo", r.o.VoyageNo, 1, 32)
		w.str("billNo", r.d.Waybill.BillNo, 1, 37)
	}
	country := inv.Country
	if country == "" {
		country = r.o.DepartureCountry
	}
	if country == "" {
		w.fail("country", "the departure country is required (Options.DepartureCountry)")
	}
	w.country("country", country)
	w.amount("freight", inv.Freight, inv.Currency)
	w.amount("insuredFee", inv.InsuredFee, inv.Currency)
	w.currency("currency", inv.Currency)
	w.opt("wrapType", r.o.WrapType, 1)
	w.int("packNo", int64(inv.PackNo), 9)
	w.kg("grossWeight", inv.GrossWeightGrams)
	w.kg("netWeight", inv.NetWeightGrams)
	w.close("InventoryHead")
	for _, l := range inv.Lines {
		w.scope = lineScope("InventoryList", l.GNum)
		x := r.o.Lines[l.GNum]
		w.open("InventoryList")
		w.int("gnum", int64(l.GNum), 4) // N4
		rec := l.ItemRecordNo
		if rec == "" {
			rec = x.ItemRecordNo
		}
		if inv.TradeMode == chinacustoms.Mode1210 && rec == "" {
			w.fail("itemRecordNo", "is required for 1210 (Options.Lines[gnum].ItemRecordNo)")
		}
		w.opt("itemRecordNo", rec, 30)
		w.opt("itemNo", l.ItemNo, 20)
		w.opt("itemName", r.name(l.GNum, l.ItemName), 250)
		w.str("gcode", l.GCode, 10, 10)
		w.str("gname", r.name(l.GNum, l.GName), 1, 250)
		w.str("gmodel", r.model(l.GNum, l.GModel), 1, 510)
		bc := x.BarCode
		if bc == "" {
			bc = "无" // 没有条码填“无”
		}
		w.str("barCode", bc, 1, 50)
		w.country("country", l.OriginCountry)
		w.currency("currency", inv.Currency)
		w.int("qty", l.Qty, 14)
		w.unit("unit", l.Unit)
		q := r.legalQuantities(w, l)
		w.raw("qty1", q.qty1)
		w.str("unit1", q.unit1, 3, 3)
		if q.unit2 != "" {
			w.raw("qty2", q.qty2)
			w.str("unit2", q.unit2, 3, 3)
		}
		w.amount("price", l.Price, inv.Currency)
		w.amount("totalPrice", l.TotalPrice, inv.Currency)
		w.close("InventoryList")
	}
	w.close("Inventory")
	return r.finish(w, inv.Agent)
}
