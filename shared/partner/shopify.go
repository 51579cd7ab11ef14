package partner

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func init() { registerFormat(FormatShopify, shopifyMapper{}) }

// shopifyMapper reads a Shopify orders/create webhook payload (the REST
// Admin API order, see events/partners/shopify-orders-create.json). Fields
// it does not use are ignored, as Shopify sends many; a wrong JSON type in
// one it uses is an error (ErrMalformed).
//
// The order: channel partner; tradeMode B2C, fulfilment direct_mail and
// incoterm DDP unless note attributes trade_mode, fulfilment (or
// fulfillment) or incoterm say otherwise; a note attribute
// business_registration or vat_number goes on the buyer. Payment
// partner_account (the shop collected it), partnerOrderRef the order's name
// ("#1001"), or its id.
//
// Parties: the consignee is shipping_address (name, or first_name and
// last_name), with the order's email and the first phone that is E.164 once
// spaces, dashes, dots, slashes and brackets are dropped (shipping address,
// order, customer); the buyer is customer (name, email, phone) at
// billing_address, or at shipping_address when there is no billing address.
// A phone that is not E.164 is left out when there is an email to reach the
// party by.
//
// Lines, one per line item and in the same order (so /lines/i is
// /line_items/i): sku, title, quantity; unitPrice from price, in minor units
// exactly (the currency's exponent; more non-zero decimals than it has are
// refused, never rounded), less the line's discount_allocations (or
// total_discount) when they spread evenly over the units; weight from grams
// (one unit), else the catalogue; HS code from a line property hs_code
// ("HS code", "hs-code", any case; dots and spaces dropped), else the
// catalogue by SKU; origin from a line property origin_country (or
// country_of_origin), else the catalogue. A line the catalogue and the
// payload leave without an HS code, an origin or a weight is a field error
// naming the line: /line_items/<i>/hs_code, /origin_country, /grams.
//
// Shipping is total_shipping_price_set's shop money, else the sum of
// shipping_lines' prices, less shipping_lines' discount_allocations. The
// total is the lines plus shipping, and must be what Shopify says: that is
// total_price when taxes_included (prices include tax), else total_price
// less total_tax; subtotal_price, when given, must be the lines. A
// disagreement (tips, duties, an unallocated discount) is a field error on
// /total_price or /subtotal_price stating both figures: it is not guessed
// away.
type shopifyMapper struct{}

type shopifyOrder struct {
	ID                    flexText              `json:"id"`
	Name                  string                `json:"name"`
	Email                 string                `json:"email"`
	ContactEmail          string                `json:"contact_email"`
	Phone                 string                `json:"phone"`
	Currency              string                `json:"currency"`
	TotalPrice            flexText              `json:"total_price"`
	SubtotalPrice         flexText              `json:"subtotal_price"`
	TotalTax              flexText              `json:"total_tax"`
	TaxesIncluded         bool                  `json:"taxes_included"`
	TotalShippingPriceSet *shopifyPriceSet      `json:"total_shipping_price_set"`
	ShippingLines         []shopifyShippingLine `json:"shipping_lines"`
	LineItems             []shopifyLineItem     `json:"line_items"`
	Customer              *shopifyCustomer      `json:"customer"`
	ShippingAddress       *shopifyAddress       `json:"shipping_address"`
	BillingAddress        *shopifyAddress       `json:"billing_address"`
	NoteAttributes        []shopifyAttribute    `json:"note_attributes"`
}

type shopifyPriceSet struct {
	ShopMoney *struct {
		Amount       flexText `json:"amount"`
		CurrencyCode string   `json:"currency_code"`
	} `json:"shop_money"`
}

type shopifyShippingLine struct {
	Price               flexText                    `json:"price"`
	DiscountAllocations []shopifyDiscountAllocation `json:"discount_allocations"`
}

type shopifyDiscountAllocation struct {
	Amount flexText `json:"amount"`
}

type shopifyLineItem struct {
	SKU                 string                      `json:"sku"`
	Title               string                      `json:"title"`
	Quantity            int64                       `json:"quantity"`
	Price               flexText                    `json:"price"`
	Grams               int64                       `json:"grams"`
	TotalDiscount       flexText                    `json:"total_discount"`
	DiscountAllocations []shopifyDiscountAllocation `json:"discount_allocations"`
	Properties          []shopifyAttribute          `json:"properties"`
}

type shopifyCustomer struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

type shopifyAddress struct {
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Name         string `json:"name"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	ProvinceCode string `json:"province_code"`
	Zip          string `json:"zip"`
	CountryCode  string `json:"country_code"`
	Phone        string `json:"phone"`
}

// shopifyAttribute is a line property or a note attribute.
type shopifyAttribute struct {
	Name  flexText `json:"name"`
	Value flexText `json:"value"`
}

// flexText is a JSON string, number or boolean as text (a number keeps its
// literal digits: amounts never pass through floating point). null is
// absent; an object or array is present but malformed, which whoever reads
// the field reports.
type flexText struct {
	text      string
	set       bool
	malformed bool
}

func (t *flexText) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0 || string(b) == "null":
		*t = flexText{}
	case b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = flexText{text: s, set: true}
	case b[0] == '{' || b[0] == '[':
		*t = flexText{set: true, malformed: true}
	default: // a number, true or false: the decoder has checked the literal
		*t = flexText{text: string(b), set: true}
	}
	return nil
}

func (shopifyMapper) Map(raw []byte, cat *Catalogue) (order.Draft, []order.FieldError, error) {
	var in shopifyOrder
	if err := decodeJSON(raw, &in, false); err != nil {
		return order.Draft{}, nil, err
	}
	m := shopifyMapping{cur: in.Currency}
	m.exp, m.curOK = money.Exponent(in.Currency)
	switch {
	case in.Currency == "":
		m.add("/currency", order.CodeRequired, "currency is required: the shop's ISO 4217 currency code.")
	case !m.curOK:
		m.add("/currency", order.CodeInvalid, "currency must be an active ISO 4217 code, such as EUR.")
	}

	d := order.Draft{
		Channel:         order.ChannelPartner,
		TradeMode:       order.TradeB2C,
		Fulfilment:      order.FulfilDirectMail,
		Incoterm:        order.IncotermDDP,
		Currency:        in.Currency,
		Payment:         order.Payment{Method: order.PaymentPartnerAccount},
		PartnerOrderRef: strings.TrimSpace(in.Name),
	}
	if d.PartnerOrderRef == "" {
		d.PartnerOrderRef = strings.TrimSpace(in.ID.text)
	}
	m.noteAttributes(&d, in.NoteAttributes)
	m.parties(&d, &in)

	// Every amount is read; the totals are compared only when all are known.
	lines, linesOK := m.lines(&d, in.LineItems, cat)
	shipping, hasShipping, shippingOK := m.shipping(&in)
	if hasShipping {
		s := money.New(shipping, in.Currency)
		d.Shipping = &s
	}
	total := lines + shipping // lines ≤ MaxLines × MaxQuantity × MaxUnitAmount, shipping ≤ 10^18: no overflow
	d.Total = money.New(total, in.Currency)
	if linesOK && shippingOK {
		m.checkTotals(&in, lines, total)
	}
	return d, m.errs, nil
}

// shopifyMapping collects the field errors of one payload.
type shopifyMapping struct {
	cur   string
	exp   int
	curOK bool
	errs  []order.FieldError
}

func (m *shopifyMapping) add(field, code, msg string) {
	m.errs = append(m.errs, order.FieldError{Field: field, Code: code, Message: msg})
}

func (m *shopifyMapping) format(minor int64) string { return money.New(minor, m.cur).String() }

// amount reads a decimal amount in the shop's currency at field into minor
// units; ok is false (and the problem reported) if it cannot be read, or
// if the currency is unknown (reported on /currency).
func (m *shopifyMapping) amount(field string, t flexText, required bool) (int64, bool) {
	if !t.set || (t.text == "" && !t.malformed) {
		if required {
			m.add(field, order.CodeRequired, fieldName(field)+" is required.")
		}
		return 0, false
	}
	if !m.curOK {
		return 0, false
	}
	n, problem := parseMinorUnits(strings.TrimSpace(t.text), m.exp)
	if t.malformed {
		problem = decimalMalformed
	}
	switch problem {
	case decimalOK:
		return n, true
	case decimalNegative:
		m.add(field, order.CodeOutOfRange, fieldName(field)+" must not be negative.")
	case decimalTooPrecise:
		if m.exp == 0 {
			m.add(field, order.CodeInvalid, fieldName(field)+" has decimals, but "+m.cur+" has no minor unit: amounts are never rounded.")
		} else {
			m.add(field, order.CodeInvalid, fieldName(field)+" has more decimals than "+m.cur+" has ("+strconv.Itoa(m.exp)+"): amounts are never rounded.")
		}
	case decimalTooLarge:
		m.add(field, order.CodeOutOfRange, fieldName(field)+" is too large.")
	default:
		example := strings.TrimSuffix(m.format(1999), " "+m.cur)
		m.add(field, order.CodeInvalid, fieldName(field)+" must be a decimal amount in "+m.cur+", such as "+example+".")
	}
	return 0, false
}

func fieldName(field string) string { return field[strings.LastIndexByte(field, '/')+1:] }

// noteAttributes applies the order's note attributes that say how to trade.
func (m *shopifyMapping) noteAttributes(d *order.Draft, attrs []shopifyAttribute) {
	for i, a := range attrs {
		field := "/note_attributes/" + strconv.Itoa(i) + "/value"
		v := strings.TrimSpace(a.Value.text)
		switch attributeKey(a.Name.text) {
		case "trade_mode":
			switch tm := order.TradeMode(strings.ToUpper(v)); tm {
			case order.TradeB2C, order.TradeB2B, order.TradeC2C, order.TradeM2B2C:
				d.TradeMode = tm
			default:
				m.add(field, order.CodeInvalid, "the trade_mode note attribute must be B2C, B2B, C2C or M2B2C.")
			}
		case "fulfilment", "fulfillment":
			switch f := order.Fulfilment(attributeKey(v)); f {
			case order.FulfilDirectMail, order.FulfilOverseasWarehouse, order.FulfilSupplierDirect, order.FulfilBondedWarehouse:
				d.Fulfilment = f
			default:
				m.add(field, order.CodeInvalid, "the fulfilment note attribute must be direct_mail, overseas_warehouse, supplier_direct or bonded_warehouse.")
			}
		case "incoterm":
			switch inc := order.Incoterm(strings.ToUpper(v)); inc {
			case order.IncotermDDP, order.IncotermDAP:
				d.Incoterm = inc
			default:
				m.add(field, order.CodeInvalid, "the incoterm note attribute must be DDP or DAP.")
			}
		case "business_registration":
			d.Buyer.BusinessRegistration = v
		case "vat_number":
			d.Buyer.VATNumber = strings.ToUpper(strings.ReplaceAll(v, " ", ""))
		}
	}
}

// parties maps the buyer and the consignee.
func (m *shopifyMapping) parties(d *order.Draft, in *shopifyOrder) {
	cust := in.Customer
	if cust == nil {
		cust = &shopifyCustomer{}
	}
	email := firstNonEmpty(in.Email, in.ContactEmail, cust.Email)

	ship := in.ShippingAddress
	if ship == nil {
		m.add("/shipping_address", order.CodeRequired, "shipping_address is required: the order is shipped across a border.")
		ship = &shopifyAddress{}
	}
	d.Consignee = order.Party{Name: ship.name(), Email: email, Address: ship.address()}
	d.Consignee.Phone = pickPhone(email != "", ship.Phone, in.Phone, cust.Phone)

	bill := in.BillingAddress
	if bill == nil {
		bill = ship
	}
	buyerEmail := firstNonEmpty(cust.Email, email)
	d.Buyer.Name = firstNonEmpty(joinName(cust.FirstName, cust.LastName), bill.name(), ship.name())
	d.Buyer.Email = buyerEmail
	d.Buyer.Phone = pickPhone(true, cust.Phone, bill.Phone, in.Phone) // the buyer needs no phone
	d.Buyer.Address = bill.address()
}

func (a *shopifyAddress) name() string {
	return firstNonEmpty(strings.TrimSpace(a.Name), joinName(a.FirstName, a.LastName))
}

func (a *shopifyAddress) address() order.Address {
	return order.Address{
		Line1:      strings.TrimSpace(a.Address1),
		Line2:      strings.TrimSpace(a.Address2),
		City:       strings.TrimSpace(a.City),
		Region:     strings.TrimSpace(a.ProvinceCode),
		PostalCode: strings.TrimSpace(a.Zip),
		Country:    strings.ToUpper(strings.TrimSpace(a.CountryCode)),
	}
}

func joinName(first, last string) string {
	return strings.TrimSpace(strings.TrimSpace(first) + " " + strings.TrimSpace(last))
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// pickPhone returns the first candidate that is E.164 once formatting is
// dropped. If none is, it returns the first non-empty candidate as sent (so
// that validation says it is not E.164) — unless canDoWithout, when the party
// has another way to be reached and the phone is left out.
func pickPhone(canDoWithout bool, candidates ...string) string {
	first := ""
	for _, c := range candidates {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if first == "" {
			first = c
		}
		if p, ok := normalizePhone(c); ok {
			return p
		}
	}
	if canDoWithout {
		return ""
	}
	return first
}

// normalizePhone drops spaces, dashes, dots, slashes and brackets; ok if
// what is left is E.164 ('+' and 6 to 15 digits, the first not 0).
func normalizePhone(s string) (string, bool) {
	p := strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '.', '/', '(', ')':
			return -1
		}
		return r
	}, s)
	ok := len(p) >= 7 && len(p) <= 16 && p[0] == '+' && p[1] != '0' && allDigits(p[1:])
	return p, ok
}

// lines maps the line items; it returns the sum of the line totals and
// whether every amount in it is known.
func (m *shopifyMapping) lines(d *order.Draft, items []shopifyLineItem, cat *Catalogue) (int64, bool) {
	switch {
	case len(items) == 0:
		m.add("/line_items", order.CodeRequired, "an order needs at least one line item.")
		return 0, false
	case len(items) > order.MaxLines:
		m.add("/line_items", order.CodeTooMany, "an order has at most "+strconv.Itoa(order.MaxLines)+" line items; only the first ones were mapped.")
		items = items[:order.MaxLines]
	}
	d.Lines = make([]order.Line, len(items))
	sum, sumOK := int64(0), m.curOK
	for i := range items {
		total, ok := m.line(&d.Lines[i], "/line_items/"+strconv.Itoa(i), &items[i], cat)
		sum, sumOK = sum+total, sumOK && ok
	}
	return sum, sumOK
}

// line maps one line item at path; it returns the line total and whether
// it is known.
func (m *shopifyMapping) line(l *order.Line, path string, it *shopifyLineItem, cat *Catalogue) (int64, bool) {
	l.SKU = strings.TrimSpace(it.SKU)
	l.Title = strings.TrimSpace(it.Title)
	l.Quantity = it.Quantity
	if l.SKU == "" {
		m.add(path+"/sku", order.CodeRequired, "sku is required: set a SKU on the product variant (the catalogue is looked up by SKU).")
	}
	qtyOK := it.Quantity >= 1 && it.Quantity <= order.MaxQuantity
	if !qtyOK {
		m.add(path+"/quantity", order.CodeOutOfRange, "quantity must be from 1 to "+strconv.Itoa(order.MaxQuantity)+".")
	}
	unit, ok := m.amount(path+"/price", it.Price, true)
	if ok && unit > order.MaxUnitAmount {
		m.add(path+"/price", order.CodeOutOfRange, "price must be at most "+m.format(order.MaxUnitAmount)+".")
		ok = false
	}
	if ok && qtyOK {
		unit, ok = m.lineDiscount(path, it, unit)
	}

	product, inCatalogue := cat.Product(l.SKU)
	hsCode, origin, hsBad, originBad := m.lineProperties(path, it.Properties)
	switch {
	case hsCode != "":
		l.HSCode = hsCode
	case inCatalogue && product.HSCode != "":
		l.HSCode = product.HSCode
	case !hsBad:
		m.add(path+"/hs_code", order.CodeRequired,
			"no HS code for this line: set hsCode for its SKU in the catalogue, or add a line property hs_code.")
	}
	switch {
	case origin != "":
		l.OriginCountry = origin
	case inCatalogue && product.OriginCountry != "":
		l.OriginCountry = product.OriginCountry
	case !originBad:
		m.add(path+"/origin_country", order.CodeRequired,
			"no country of origin for this line: set originCountry for its SKU in the catalogue, or add a line property origin_country.")
	}
	switch {
	case it.Grams > 0:
		l.WeightGrams = it.Grams
	case it.Grams < 0:
		m.add(path+"/grams", order.CodeOutOfRange, "grams must not be negative.")
	case inCatalogue && product.WeightGrams > 0:
		l.WeightGrams = product.WeightGrams
	default:
		m.add(path+"/grams", order.CodeRequired,
			"no weight for this line: set the variant's weight in Shopify, or weightGrams for its SKU in the catalogue.")
	}

	if !ok || !qtyOK {
		return 0, false
	}
	l.UnitPrice = money.New(unit, m.cur)
	l.LineTotal = money.New(unit*it.Quantity, m.cur) // both bounded: no overflow
	return l.LineTotal.Amount, true
}

// lineDiscount takes the line's discount (its discount_allocations, or
// total_discount) off the unit price, if it spreads evenly over the units.
func (m *shopifyMapping) lineDiscount(path string, it *shopifyLineItem, unit int64) (int64, bool) {
	discount, field, ok := int64(0), path+"/discount_allocations", true
	if len(it.DiscountAllocations) > 0 {
		for j, a := range it.DiscountAllocations {
			n, aok := m.amount(field+"/"+strconv.Itoa(j)+"/amount", a.Amount, true)
			ok = ok && aok
			if discount += n; discount > order.MaxUnitAmount*order.MaxQuantity { // keeps the sum from overflowing
				break
			}
		}
	} else if it.TotalDiscount.set {
		field = path + "/total_discount"
		discount, ok = m.amount(field, it.TotalDiscount, false)
	}
	if !ok {
		return 0, false
	}
	if discount == 0 {
		return unit, true
	}
	gross := unit * it.Quantity // both bounded: no overflow
	switch {
	case discount > gross:
		m.add(field, order.CodeOutOfRange, "the line's discount "+m.format(discount)+" is more than its price "+m.format(gross)+".")
		return 0, false
	case (gross-discount)%it.Quantity != 0:
		m.add(field, order.CodeInvalid, "the line's discount "+m.format(discount)+" does not spread evenly over its "+
			strconv.FormatInt(it.Quantity, 10)+" units; split the line so each unit has one price.")
		return 0, false
	}
	return (gross - discount) / it.Quantity, true
}

// lineProperties finds the hs_code and origin_country properties; hsBad
// and originBad say one is there but malformed (reported on its value).
func (m *shopifyMapping) lineProperties(path string, props []shopifyAttribute) (hsCode, origin string, hsBad, originBad bool) {
	for k, p := range props {
		field := path + "/properties/" + strconv.Itoa(k) + "/value"
		v := strings.TrimSpace(p.Value.text)
		switch attributeKey(p.Name.text) {
		case "hs_code":
			if c := normalizeHSCode(v); validHSCode(c) && !p.Value.malformed {
				hsCode = c
			} else {
				m.add(field, order.CodeInvalid, "the hs_code property must be an HS code of 6 to 10 digits (dots and spaces are dropped).")
				hsBad = true
			}
		case "origin_country", "country_of_origin":
			if c := strings.ToUpper(v); country.Valid(c) && !p.Value.malformed {
				origin = c
			} else {
				m.add(field, order.CodeInvalid, "the origin_country property must be an ISO 3166-1 alpha-2 code, such as CN.")
				originBad = true
			}
		}
	}
	return hsCode, origin, hsBad, originBad
}

// shipping is the shipping charge after its discounts; has says whether
// the payload names one at all, ok whether every amount could be read.
func (m *shopifyMapping) shipping(in *shopifyOrder) (amount int64, has, ok bool) {
	ok = true
	if set := in.TotalShippingPriceSet; set != nil && set.ShopMoney != nil && set.ShopMoney.Amount.set {
		has = true
		field := "/total_shipping_price_set/shop_money"
		amount, ok = m.amount(field+"/amount", set.ShopMoney.Amount, true)
		if c := set.ShopMoney.CurrencyCode; c != "" && m.curOK && c != m.cur {
			m.add(field+"/currency_code", order.CodeMismatch, "the shop money must be in the order's currency "+m.cur+".")
			ok = false
		}
	} else {
		for k, s := range in.ShippingLines {
			has = true
			n, sok := m.amount("/shipping_lines/"+strconv.Itoa(k)+"/price", s.Price, true)
			amount, ok = amount+n, ok && sok && n <= order.MaxShippingAmount
		}
	}
	for k, s := range in.ShippingLines {
		for j, a := range s.DiscountAllocations {
			n, aok := m.amount("/shipping_lines/"+strconv.Itoa(k)+"/discount_allocations/"+strconv.Itoa(j)+"/amount", a.Amount, true)
			amount, ok = amount-n, ok && aok && n <= order.MaxShippingAmount
		}
	}
	if !ok {
		return 0, has, false
	}
	switch {
	case amount < 0:
		m.add("/shipping_lines", order.CodeOutOfRange, "the shipping discounts are more than the shipping price.")
		return 0, has, false
	case amount > order.MaxShippingAmount:
		m.add("/total_shipping_price_set", order.CodeOutOfRange, "shipping must be at most "+m.format(order.MaxShippingAmount)+".")
		return 0, has, false
	}
	return amount, has, true
}

// checkTotals compares the mapped order with Shopify's own figures.
func (m *shopifyMapping) checkTotals(in *shopifyOrder, lines, total int64) {
	if in.SubtotalPrice.set {
		if sub, ok := m.amount("/subtotal_price", in.SubtotalPrice, false); ok && sub != lines {
			m.add("/subtotal_price", order.CodeMismatch, "subtotal_price is "+m.format(sub)+
				", but the line items after their discounts add up to "+m.format(lines)+".")
		}
	}
	price, ok := m.amount("/total_price", in.TotalPrice, true)
	if !ok {
		return
	}
	if in.TaxesIncluded {
		if price != total {
			m.add("/total_price", order.CodeMismatch, "total_price is "+m.format(price)+
				" (taxes included in the prices), but the line items and shipping add up to "+m.format(total)+".")
		}
		return
	}
	tax := int64(0)
	if in.TotalTax.set {
		if tax, ok = m.amount("/total_tax", in.TotalTax, false); !ok {
			return
		}
	}
	if price-tax != total {
		m.add("/total_price", order.CodeMismatch, "total_price "+m.format(price)+" less total_tax "+m.format(tax)+" is "+m.format(price-tax)+
			" (taxes not included in the prices), but the line items and shipping add up to "+m.format(total)+".")
	}
}
