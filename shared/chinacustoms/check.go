package chinacustoms

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"github.com/xborder/xborder/shared/money"
)

// Retail-import limits of China: a transaction of at most ¥5,000 and at most
// ¥26,000 per person per year go through the cross-border retail channel at
// 0 % duty and 70 % of import VAT and consumption tax. A transaction over
// ¥5,000 (and within the annual limit) whose order is a single item may
// still go through it, taxed in full at the general-trade rates. Source:
// Ministry of Finance, GACC and State Taxation Administration notice
// 财关税〔2018〕49号, in force from 2019-01-01 (see domain.md, "Import side").
// The annual limit is per buyer across orders, which one declaration cannot
// see: only the single transaction is checked against it here.
var (
	retailImportPerTransaction = money.New(5_000_00, Renminbi)
	retailImportAnnual         = money.New(26_000_00, Renminbi)
)

// ErrOverRetailLimit: a retail import into China over the ¥5,000
// per-transaction limit that may not go through the retail channel.
var ErrOverRetailLimit = errors.New("chinacustoms: over the retail-import transaction limit")

// LimitError is a retail import into China over the per-transaction limit
// that the single-item exception does not cover. It wraps
// ErrOverRetailLimit.
type LimitError struct {
	// GoodsValue is the order's goods value, in CNY.
	GoodsValue money.Money
	// Limit is the limit exceeded: ¥5,000 per transaction, or for a single
	// item ¥26,000 a year.
	Limit money.Money
	// Items is how many items (pieces) the order holds.
	Items int64
}

// Error states the goods value, the limit exceeded and the item count.
func (e *LimitError) Error() string {
	if e.Items == 1 {
		return fmt.Sprintf("%v: goods value %v is over the %v annual limit, which even a single item may not exceed",
			ErrOverRetailLimit, e.GoodsValue, e.Limit)
	}
	return fmt.Sprintf("%v: goods value %v is over the %v limit and the order holds %d items (only a single item may exceed it, taxed in full)",
		ErrOverRetailLimit, e.GoodsValue, e.Limit, e.Items)
}

// Unwrap returns ErrOverRetailLimit.
func (e *LimitError) Unwrap() error { return ErrOverRetailLimit }

// retailImportLimit applies the retail-import limits to d, for both 9610
// direct-purchase and 1210 bonded imports: fullTax when the single-item
// exception lets the order through over ¥5,000, a LimitError when nothing
// does. Exports, and goods values not in CNY (which Check reports as a
// currency mismatch), pass.
func retailImportLimit(d *Declaration) (fullTax bool, err *LimitError) {
	g := d.Order.GoodsValue
	if d.Direction != Import || g.Currency != Renminbi || g.Amount <= retailImportPerTransaction.Amount {
		return false, nil
	}
	var items int64
	for _, l := range d.Order.Lines {
		items += l.Qty
	}
	switch {
	case items != 1:
		return false, &LimitError{GoodsValue: g, Limit: retailImportPerTransaction, Items: items}
	case g.Amount > retailImportAnnual.Amount:
		return false, &LimitError{GoodsValue: g, Limit: retailImportAnnual, Items: items}
	}
	return true, nil
}

// Said is what one source says about a field: a document ("order",
// "payment", "waybill", "inventory") or a figure derived from one ("order Σ
// lines totalPrice").
type Said struct {
	Source string
	// Value is the value as text: strings quoted, amounts as "12.34 EUR",
	// weights in grams; "[withheld]" for personal data.
	Value string
}

// Mismatch is one field on which the documents disagree.
type Mismatch struct {
	// Field is the specification's field name, with lines[n] for the goods
	// line whose gnum is n: "orderNo", "lines[2].gcode".
	Field string
	// Said lists what each source says.
	Said []Said
	// Personal is set when the values are personal data: Said then holds
	// "[withheld]" and only the sources tell which documents differ.
	Personal bool
}

// String says the field and what each source says, personal values withheld.
func (m Mismatch) String() string {
	var sb strings.Builder
	sb.WriteString(m.Field)
	sb.WriteString(" (")
	for i, s := range m.Said {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(s.Source)
		if !m.Personal {
			sb.WriteString(" ")
			sb.WriteString(s.Value)
		}
	}
	if m.Personal {
		sb.WriteString(" differ; personal data withheld")
	}
	sb.WriteString(")")
	return sb.String()
}

// MismatchError lists every field on which a declaration's documents
// disagree.
type MismatchError struct {
	OrderNo    string
	Mismatches []Mismatch
}

// Error lists every mismatch, personal values withheld.
func (e *MismatchError) Error() string {
	var sb strings.Builder
	fields := "fields"
	if len(e.Mismatches) == 1 {
		fields = "field"
	}
	fmt.Fprintf(&sb, "chinacustoms: the documents of order %s disagree on %d %s: ", e.OrderNo, len(e.Mismatches), fields)
	for i, m := range e.Mismatches {
		if i > 0 {
			sb.WriteString("; ")
		}
		sb.WriteString(m.String())
	}
	return sb.String()
}

// Fields returns the fields that disagree, in the order Check found them.
func (e *MismatchError) Fields() []string {
	f := make([]string, len(e.Mismatches))
	for i, m := range e.Mismatches {
		f[i] = m.Field
	}
	return f
}

// Check applies the three-document match as customs does and reports every
// disagreement at once, as a *MismatchError:
//
//   - the same orderNo on the order, the payment, the waybill and the
//     inventory; the declaration's orderType, tradeMode and ieFlag on the
//     order and the inventory; the same platform and e-commerce enterprise
//     codes wherever they appear;
//   - one currency on every document and every amount, CNY for imports;
//   - goodsValue = Σ the order's line totals = Σ the inventory's;
//     acturalPaid = goodsValue + freight + taxTotal − discount; the
//     payment's amount = acturalPaid;
//   - the inventory's lines = the order's, matched by gnum: itemNo, gcode
//     (the HS code), qty, unit, price, totalPrice, origin country;
//   - the inventory's waybill number, logistics company, freight, insured
//     fee, packNo and gross weight = the waybill's, and its net weight no
//     more than the gross weight;
//   - the consignee's name, telephone and address on the order and the
//     waybill (and for imports the buyer on the order, the payer and the
//     inventory's buyer) agree, compared without regard to case and spaces
//     (telephones by their digits);
//   - for retail imports into China the ¥5,000 per-transaction limit on the
//     goods value: over it, a single item passes with Declaration.FullTax
//     set, anything else is a *LimitError (ErrOverRetailLimit). A FullTax
//     flag that disagrees with the rule is a mismatch.
//
// When both disagreements and the limit fail, the error joins the
// *MismatchError and the *LimitError: errors.As finds either.
func (d *Declaration) Check() error {
	if d == nil {
		return fmt.Errorf("%w: no declaration", ErrInvalidInput)
	}
	c := &checker{}
	o, p, w, inv := &d.Order, &d.Payment, &d.Waybill, &d.Inventory

	c.same("orderNo", str("order", o.OrderNo), str("payment", p.OrderNo), str("waybill", w.OrderNo), str("inventory", inv.OrderNo))
	c.same("orderType", str("declaration", d.OrderType), str("order", o.OrderType))
	c.same("tradeMode", str("declaration", string(d.Mode)), str("inventory", string(inv.TradeMode)))
	c.same("ieFlag", str("declaration", d.Direction.IEFlag()), str("inventory", inv.IEFlag))
	c.same("ebpCode", str("order", o.Platform.Code), str("payment", p.Platform.Code), str("inventory", inv.Platform.Code))
	c.same("ebcCode", str("order", o.ECommerce.Code), str("payment", p.ECommerce.Code), str("inventory", inv.ECommerce.Code))

	c.currencies(d)

	orderLines, invLines := money.New(0, o.Currency), money.New(0, inv.Currency)
	var err error
	for _, l := range o.Lines {
		if orderLines, err = orderLines.Add(l.TotalPrice); err != nil {
			break
		}
	}
	orderSum := amountOrErr(orderLines, err)
	for _, l := range inv.Lines {
		if invLines, err = invLines.Add(l.TotalPrice); err != nil {
			break
		}
	}
	invSum := amountOrErr(invLines, err)
	c.same("goodsValue", amt("order", o.GoodsValue), Said{"order Σ lines totalPrice", orderSum}, Said{"inventory Σ lines totalPrice", invSum})
	paid, err := actualPaid(*o)
	c.same("acturalPaid", amt("order", o.ActualPaid), Said{"order goodsValue + freight + taxTotal − discount", amountOrErr(paid, err)})
	c.same("amountPaid", amt("order acturalPaid", o.ActualPaid), amt("payment", p.AmountPaid))

	c.lines(o.Lines, inv.Lines)

	c.same("logisticsNo", str("waybill", w.LogisticsNo), str("inventory", inv.LogisticsNo))
	c.same("logisticsCode", str("waybill", w.Logistics.Code), str("inventory", inv.Logistics.Code))
	c.same("freight (logistics)", amt("waybill", w.Freight), amt("inventory", inv.Freight))
	c.same("insuredFee", amt("waybill", w.InsuredFee), amt("inventory", inv.InsuredFee))
	c.same("packNo", num("waybill", int64(w.PackNo)), num("inventory", int64(inv.PackNo)))
	c.same("grossWeight", grams("waybill", w.GrossWeightGrams), grams("inventory", inv.GrossWeightGrams))
	if inv.NetWeightGrams > w.GrossWeightGrams {
		c.add(Mismatch{Field: "netWeight", Said: []Said{
			grams("inventory netWeight", inv.NetWeightGrams), grams("waybill grossWeight, which is less", w.GrossWeightGrams)}})
	}

	c.samePerson("consignee", normName, personal("order", o.Consignee), personal("waybill", w.Consignee))
	c.samePerson("consigneeTelephone", normPhone, personal("order", o.ConsigneeTelephone), personal("waybill", w.ConsigneeTelephone))
	addresses := []personalSaid{personal("order", o.ConsigneeAddress), personal("waybill", w.ConsigneeAddress)}
	if d.Direction == Import {
		addresses = append(addresses, personal("inventory", inv.ConsigneeAddress))
		c.samePerson("buyerName", normName, personal("order", o.BuyerName), personal("payment payerName", p.PayerName), personal("inventory", inv.BuyerName))
		c.samePerson("buyerIdNumber", normName, personal("order", o.BuyerIDNumber), personal("payment payerIdNumber", p.PayerIDNumber), personal("inventory", inv.BuyerIDNumber))
		c.samePerson("buyerTelephone", normPhone, personal("order", o.BuyerTelephone), personal("inventory", inv.BuyerTelephone))
	}
	c.samePerson("consigneeAddress", normName, addresses...)

	fullTax, limitErr := retailImportLimit(d)
	c.same("fullTax", str("declaration", strconv.FormatBool(d.FullTax)), str("single-item rule over ¥5,000", strconv.FormatBool(fullTax)))

	var errs []error
	if len(c.list) > 0 {
		errs = append(errs, &MismatchError{OrderNo: o.OrderNo, Mismatches: c.list})
	}
	if limitErr != nil {
		errs = append(errs, limitErr)
	}
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

// checker collects mismatches.
type checker struct{ list []Mismatch }

func (c *checker) add(m Mismatch) { c.list = append(c.list, m) }

// same records a mismatch when the sources do not all say the same.
func (c *checker) same(field string, said ...Said) {
	for _, s := range said[1:] {
		if s.Value != said[0].Value {
			c.add(Mismatch{Field: field, Said: said})
			return
		}
	}
}

// currencies checks one currency across the documents and every amount.
func (c *checker) currencies(d *Declaration) {
	o, p, w, inv := &d.Order, &d.Payment, &d.Waybill, &d.Inventory
	docs := []Said{str("order", o.Currency), str("payment", p.Currency), str("waybill", w.Currency), str("inventory", inv.Currency)}
	if d.Direction == Import {
		docs = append(docs, str("retail-import rule", Renminbi))
	}
	c.same("currency", docs...)

	amount := func(doc, docCurrency, field string, m money.Money) {
		if m.Currency != docCurrency {
			c.add(Mismatch{Field: field + " currency", Said: []Said{str(doc+" currency", docCurrency), str(doc+" "+field, m.Currency)}})
		}
	}
	for _, a := range []struct {
		field string
		m     money.Money
	}{{"goodsValue", o.GoodsValue}, {"freight", o.Freight}, {"discount", o.Discount}, {"taxTotal", o.TaxTotal}, {"acturalPaid", o.ActualPaid}} {
		amount("order", o.Currency, a.field, a.m)
	}
	for _, l := range o.Lines {
		amount("order", o.Currency, lineField(l.GNum, "price"), l.Price)
		amount("order", o.Currency, lineField(l.GNum, "totalPrice"), l.TotalPrice)
	}
	amount("payment", p.Currency, "amountPaid", p.AmountPaid)
	amount("waybill", w.Currency, "freight", w.Freight)
	amount("waybill", w.Currency, "insuredFee", w.InsuredFee)
	amount("inventory", inv.Currency, "freight", inv.Freight)
	amount("inventory", inv.Currency, "insuredFee", inv.InsuredFee)
	for _, l := range inv.Lines {
		amount("inventory", inv.Currency, lineField(l.GNum, "price"), l.Price)
		amount("inventory", inv.Currency, lineField(l.GNum, "totalPrice"), l.TotalPrice)
	}
}

// lines compares the inventory's lines with the order's, matched by gnum.
func (c *checker) lines(ord []OrderLine, inv []InventoryLine) {
	c.same("lines (count)", num("order", int64(len(ord))), num("inventory", int64(len(inv))))
	byGNum := make(map[int]*InventoryLine, len(inv))
	for i := range inv {
		l := &inv[i]
		if _, dup := byGNum[l.GNum]; dup {
			c.add(Mismatch{Field: lineField(l.GNum, "gnum"), Said: []Said{str("inventory", "appears more than once")}})
			continue
		}
		byGNum[l.GNum] = l
	}
	seen := make(map[int]bool, len(ord))
	for _, ol := range ord {
		seen[ol.GNum] = true
		il, ok := byGNum[ol.GNum]
		if !ok {
			c.add(Mismatch{Field: lineField(ol.GNum, "gnum"), Said: []Said{str("order", "has the line"), str("inventory", "has no such line")}})
			continue
		}
		f := func(name string) string { return lineField(ol.GNum, name) }
		c.same(f("itemNo"), str("order", ol.ItemNo), str("inventory", il.ItemNo))
		c.same(f("gcode"), str("order HS code", ol.HSCode), str("inventory", il.GCode))
		c.same(f("qty"), num("order", ol.Qty), num("inventory", il.Qty))
		c.same(f("unit"), str("order", ol.Unit), str("inventory", il.Unit))
		c.same(f("price"), amt("order", ol.Price), amt("inventory", il.Price))
		c.same(f("totalPrice"), amt("order", ol.TotalPrice), amt("inventory", il.TotalPrice))
		c.same(f("country"), str("order origin", ol.OriginCountry), str("inventory origin", il.OriginCountry))
	}
	for i := range inv {
		il := &inv[i]
		if !seen[il.GNum] && byGNum[il.GNum] == il {
			c.add(Mismatch{Field: lineField(il.GNum, "gnum"), Said: []Said{str("order", "has no such line"), str("inventory", "has the line")}})
		}
	}
}

// personalSaid is a personal value from a source, compared but never shown.
type personalSaid struct {
	source string
	value  Personal
}

func personal(source string, v Personal) personalSaid { return personalSaid{source, v} }

// samePerson records a mismatch, without the values, when the sources'
// normalised values differ.
func (c *checker) samePerson(field string, norm func(string) string, said ...personalSaid) {
	first := norm(string(said[0].value))
	for _, s := range said[1:] {
		if norm(string(s.value)) != first {
			m := Mismatch{Field: field, Personal: true}
			for _, s := range said {
				m.Said = append(m.Said, Said{Source: s.source, Value: withheld})
			}
			c.add(m)
			return
		}
	}
}

// normName folds case and drops white space (full-width spaces included),
// so that "Li  Wei" and "li wei" compare equal.
func normName(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
}

// normPhone keeps a telephone number's digits.
func normPhone(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}

func lineField(gnum int, name string) string { return "lines[" + strconv.Itoa(gnum) + "]." + name }

func str(source, v string) Said             { return Said{source, strconv.Quote(v)} }
func amt(source string, m money.Money) Said { return Said{source, m.String()} }
func num(source string, n int64) Said       { return Said{source, strconv.FormatInt(n, 10)} }
func grams(source string, g int64) Said     { return Said{source, strconv.FormatInt(g, 10) + " g"} }

func amountOrErr(m money.Money, err error) string {
	if err != nil {
		return "cannot be summed (" + err.Error() + ")"
	}
	return m.String()
}
