package order

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
)

// FieldError is one problem with a submitted order. Field is a JSON-pointer-like
// path into the request ("/lines/0/hsCode"), Code a stable machine-readable
// word, Message a sentence for people. Messages never repeat personal data.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes of FieldError.
const (
	CodeRequired   = "required"
	CodeInvalid    = "invalid"
	CodeTooLong    = "too_long"
	CodeTooMany    = "too_many"
	CodeOutOfRange = "out_of_range"
	CodeMismatch   = "mismatch"
	CodeNotAllowed = "not_allowed"
)

// Limits of an order.
const (
	MaxLines        = 100
	MaxQuantity     = 10_000
	MaxUnitAmount   = 1_000_000_000_000 // minor units
	MaxWeightGrams  = 1_000_000
	maxSKU          = 64
	maxTitle        = 200
	maxName         = 100
	maxAddressField = 100
	maxPostalCode   = 20
	maxEmail        = 254
	maxRef          = 64
	maxToken        = 255
)

type problems []FieldError

func (p *problems) add(field, code, msg string) {
	*p = append(*p, FieldError{Field: field, Code: code, Message: msg})
}

// Validate reports every problem with d at once; nil means valid.
func (d *Draft) Validate() []FieldError {
	var p problems
	p.enum("/channel", string(d.Channel), true, string(ChannelMobile), string(ChannelPartner), string(ChannelWeb))
	p.enum("/tradeMode", string(d.TradeMode), true, string(TradeB2C), string(TradeB2B), string(TradeC2C), string(TradeM2B2C))
	p.enum("/fulfilment", string(d.Fulfilment), true, string(FulfilOverseasWarehouse), string(FulfilDirectMail),
		string(FulfilSupplierDirect), string(FulfilBondedWarehouse))
	p.enum("/incoterm", string(d.Incoterm), false, string(IncotermDDP), string(IncotermDAP))
	currencyOK := money.Valid(d.Currency)
	switch {
	case d.Currency == "":
		p.add("/currency", CodeRequired, "currency is required (ISO 4217, e.g. EUR)")
	case !currencyOK:
		p.add("/currency", CodeInvalid, "currency must be an active ISO 4217 code such as EUR, USD or JPY")
	}

	dest := d.Consignee.Address.Country
	p.party("/buyer", &d.Buyer, dest)
	p.party("/consignee", &d.Consignee, dest)
	if d.Consignee.Email == "" && d.Consignee.Phone == "" {
		p.add("/consignee/phone", CodeRequired, "the consignee needs a phone number or an email address for the carrier")
	}
	if d.TradeMode == TradeB2B && d.Buyer.BusinessRegistration == "" {
		p.add("/buyer/businessRegistration", CodeRequired, "a B2B order needs the buyer's business registration")
	}

	sum := money.Money{Currency: d.Currency}
	sumOK := currencyOK
	switch n := len(d.Lines); {
	case n == 0:
		p.add("/lines", CodeRequired, "an order needs at least one line")
	case n > MaxLines:
		p.add("/lines", CodeTooMany, "an order has at most "+strconv.Itoa(MaxLines)+" lines")
	}
	for i := range d.Lines {
		if !p.line("/lines/"+strconv.Itoa(i), &d.Lines[i], d.Currency, currencyOK, dest) {
			sumOK = false
			continue
		}
		var err error
		if sum, err = sum.Add(d.Lines[i].LineTotal); err != nil {
			sumOK = false
		}
	}
	if d.Shipping != nil {
		if p.amount("/shipping", *d.Shipping, d.Currency, currencyOK, false) {
			var err error
			if sum, err = sum.Add(*d.Shipping); err != nil {
				sumOK = false
			}
		} else {
			sumOK = false
		}
	}
	if p.amount("/total", d.Total, d.Currency, currencyOK, true) && sumOK && d.Total.Amount != sum.Amount {
		p.add("/total", CodeMismatch, fmt.Sprintf("total must equal the sum of the line totals plus shipping: %s", sum))
	}

	switch {
	case d.Payment.Method == "":
		p.add("/payment/method", CodeRequired, "payment method is required (card)")
	case d.Payment.Method != "card":
		p.add("/payment/method", CodeInvalid, "payment method must be card")
	}
	switch {
	case d.Payment.Token == "":
		p.add("/payment/token", CodeRequired, "a payment token from the payment provider is required")
	case len(d.Payment.Token) > maxToken:
		p.add("/payment/token", CodeTooLong, "the payment token is longer than "+strconv.Itoa(maxToken)+" characters")
	case !printableASCII(d.Payment.Token):
		p.add("/payment/token", CodeInvalid, "the payment token must be printable ASCII without spaces")
	}
	p.text("/partnerOrderRef", d.PartnerOrderRef, maxRef, false)
	if len(p) == 0 {
		return nil
	}
	return p
}

// enum checks that v is one of allowed (or empty, when not required).
func (p *problems) enum(path, v string, required bool, allowed ...string) {
	if v == "" && !required {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	list := strings.Join(allowed, ", ")
	if v == "" {
		p.add(path, CodeRequired, path[1:]+" is required: one of "+list)
		return
	}
	p.add(path, CodeInvalid, path[1:]+" must be one of "+list)
}

// line checks one order line; it reports whether its total can be summed.
func (p *problems) line(path string, l *Line, cur string, curOK bool, dest string) bool {
	if p.text(path+"/sku", l.SKU, maxSKU, true) && !skuChars(l.SKU) {
		p.add(path+"/sku", CodeInvalid, "sku may hold letters, digits, '.', '_' and '-' only")
	}
	p.text(path+"/title", l.Title, maxTitle, true)
	switch {
	case l.HSCode == "":
		p.add(path+"/hsCode", CodeRequired, "an HS code (6 to 10 digits) is required for customs")
	case len(l.HSCode) < 6 || len(l.HSCode) > 10 || !digits(l.HSCode):
		p.add(path+"/hsCode", CodeInvalid, "an HS code is 6 to 10 digits, without dots or spaces")
	}
	qtyOK := l.Quantity >= 1 && l.Quantity <= MaxQuantity
	if !qtyOK {
		p.add(path+"/quantity", CodeOutOfRange, "quantity must be from 1 to "+strconv.Itoa(MaxQuantity))
	}
	unitOK := p.amount(path+"/unitPrice", l.UnitPrice, cur, curOK, false)
	if unitOK && l.UnitPrice.Amount > MaxUnitAmount {
		p.add(path+"/unitPrice/amount", CodeOutOfRange, "unit price is too large")
		unitOK = false
	}
	totalOK := p.amount(path+"/lineTotal", l.LineTotal, cur, curOK, false)
	if qtyOK && unitOK && totalOK {
		want, err := l.UnitPrice.Mul(l.Quantity)
		if err != nil || want.Amount != l.LineTotal.Amount {
			p.add(path+"/lineTotal", CodeMismatch, fmt.Sprintf("lineTotal must equal unitPrice × quantity: %s", want))
			totalOK = false
		}
	}
	if l.WeightGrams < 1 || l.WeightGrams > MaxWeightGrams {
		p.add(path+"/weightGrams", CodeOutOfRange, "weightGrams must be from 1 to "+strconv.Itoa(MaxWeightGrams))
	}
	switch {
	case l.OriginCountry == "":
		p.add(path+"/originCountry", CodeRequired, "the country of origin is required (ISO 3166-1 alpha-2)")
	case !country.Valid(l.OriginCountry):
		p.add(path+"/originCountry", CodeInvalid, "originCountry must be an ISO 3166-1 alpha-2 code such as CN")
	case l.OriginCountry == dest:
		p.add(path+"/originCountry", CodeNotAllowed, "origin and destination are the same country; this pipeline handles cross-border orders only")
	}
	return totalOK
}

// amount checks a Money in the order's currency; positive demands > 0.
func (p *problems) amount(path string, m money.Money, cur string, curOK, positive bool) bool {
	ok := true
	if curOK && m.Currency != cur {
		if m.Currency == "" {
			p.add(path+"/currency", CodeRequired, "currency is required and must be the order's currency "+cur)
		} else {
			p.add(path+"/currency", CodeMismatch, "every amount must be in the order's currency "+cur)
		}
		ok = false
	}
	switch {
	case m.Amount < 0:
		p.add(path+"/amount", CodeOutOfRange, "amount must not be negative")
		ok = false
	case positive && m.Amount == 0:
		p.add(path+"/amount", CodeOutOfRange, "amount must be greater than zero")
		ok = false
	}
	return ok && curOK
}

// party checks a buyer or consignee.
func (p *problems) party(path string, pt *Party, dest string) {
	p.text(path+"/name", pt.Name, maxName, true)
	if pt.Email != "" && (len(pt.Email) > maxEmail || !plausibleEmail(pt.Email)) {
		p.add(path+"/email", CodeInvalid, "email must be a valid address of at most "+strconv.Itoa(maxEmail)+" characters")
	}
	if pt.Phone != "" && !e164(pt.Phone) {
		p.add(path+"/phone", CodeInvalid, "phone must be in E.164 form: '+' and 6 to 15 digits")
	}
	a := &pt.Address
	p.text(path+"/address/line1", a.Line1, maxAddressField, true)
	p.text(path+"/address/line2", a.Line2, maxAddressField, false)
	p.text(path+"/address/city", a.City, maxAddressField, true)
	p.text(path+"/address/region", a.Region, maxAddressField, false)
	if p.text(path+"/address/postalCode", a.PostalCode, maxPostalCode, false) && !postalChars(a.PostalCode) {
		p.add(path+"/address/postalCode", CodeInvalid, "postalCode may hold letters, digits, spaces and '-' only")
	}
	switch {
	case a.Country == "":
		p.add(path+"/address/country", CodeRequired, "country is required (ISO 3166-1 alpha-2)")
	case !country.Valid(a.Country):
		p.add(path+"/address/country", CodeInvalid, "country must be an ISO 3166-1 alpha-2 code such as DE")
	}
	if pt.VATNumber != "" && !vatNumber(pt.VATNumber) {
		p.add(path+"/vatNumber", CodeInvalid, "vatNumber must be a country prefix and 2 to 13 letters or digits, e.g. DE123456789")
	}
	switch {
	case pt.IOSSNumber == "":
	case len(pt.IOSSNumber) != 12 || pt.IOSSNumber[:2] != "IM" || !digits(pt.IOSSNumber[2:]):
		p.add(path+"/iossNumber", CodeInvalid, "iossNumber is 'IM' followed by 10 digits")
	case country.Valid(dest) && !country.InEU(dest):
		p.add(path+"/iossNumber", CodeNotAllowed, "an IOSS number applies only to goods shipped into the EU")
	}
	p.text(path+"/businessRegistration", pt.BusinessRegistration, maxRef, false)
}

// text checks a free-text field: presence, length in characters, valid UTF-8
// without control characters. It reports whether the value is acceptable.
func (p *problems) text(path, s string, max int, required bool) bool {
	if s == "" {
		if required {
			p.add(path, CodeRequired, path[1:]+" is required")
			return false
		}
		return true
	}
	if utf8.RuneCountInString(s) > max {
		p.add(path, CodeTooLong, "at most "+strconv.Itoa(max)+" characters")
		return false
	}
	if !utf8.ValidString(s) {
		p.add(path, CodeInvalid, "must be valid UTF-8")
		return false
	}
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r < 0xa0) {
			p.add(path, CodeInvalid, "must not contain control characters")
			return false
		}
	}
	return true
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

func skuChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func postalChars(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != ' ' && c != '-' {
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// e164 is '+' followed by 6 to 15 digits, the first not zero.
func e164(s string) bool {
	return len(s) >= 7 && len(s) <= 16 && s[0] == '+' && s[1] != '0' && digits(s[1:])
}

// plausibleEmail: one '@', a non-empty local part, a dotted domain, no spaces.
func plausibleEmail(s string) bool {
	at := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '@':
			if at >= 0 {
				return false
			}
			at = i
		case c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';' || c == '"':
			return false
		}
	}
	if at < 1 || at > 64 || at == len(s)-1 {
		return false
	}
	domain := s[at+1:]
	dot := -1
	for i := 0; i < len(domain); i++ {
		if domain[i] == '.' {
			if i == 0 || i == len(domain)-1 || i == dot+1 {
				return false
			}
			dot = i
		}
	}
	return dot > 0
}

// vatNumber: a two-letter prefix (EU member states use their ISO code, Greece
// EL, Northern Ireland XI) then 2 to 13 letters or digits.
func vatNumber(s string) bool {
	if len(s) < 4 || len(s) > 15 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z' {
		return false
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
