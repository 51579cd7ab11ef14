package order

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
)

// FieldError is one problem with a submitted order. Field is a JSON-pointer-like
// path into the request ("/lines/0/hsCode"), Code a stable machine-readable
// word, Message a sentence for people. Messages never repeat personal data:
// they may quote codes (a currency, an amount the order should hold) but never
// a name, an address, an email, a phone number or a token.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes of FieldError.
const (
	// CodeRequired: the field is missing, empty or blank.
	CodeRequired = "required"
	// CodeInvalid: the field is present but malformed or not one of the
	// allowed values.
	CodeInvalid = "invalid"
	// CodeTooLong: the text is longer than its limit (counted in characters).
	CodeTooLong = "too_long"
	// CodeTooMany: the list has more entries than allowed.
	CodeTooMany = "too_many"
	// CodeOutOfRange: the number is outside its allowed range.
	CodeOutOfRange = "out_of_range"
	// CodeMismatch: the field disagrees with others (totals, currencies).
	CodeMismatch = "mismatch"
	// CodeNotAllowed: well formed, but a business rule forbids it.
	CodeNotAllowed = "not_allowed"
)

// Limits of an order.
const (
	MaxLines          = 100
	MaxQuantity       = 10_000
	MaxUnitAmount     = 1_000_000_000_000 // minor units
	MaxShippingAmount = MaxUnitAmount     // minor units
	MaxWeightGrams    = 1_000_000
	maxSKU            = 64
	maxTitle          = 200
	maxName           = 100
	maxAddressField   = 100
	maxPostalCode     = 20
	maxEmail          = 254
	maxRef            = 64
	maxToken          = 255
)

// Validate reports every problem with d at once, in the order of the fields
// of Draft (lines in index order); nil means d is valid. It never stops at the
// first problem, but checks at most MaxLines lines: beyond them the too_many
// error stands for the rest. The rules, by field:
//
//   - channel: mobile, partner or web. tradeMode: B2C, B2B, C2C or M2B2C.
//     fulfilment: overseas_warehouse, direct_mail, supplier_direct or
//     bonded_warehouse. incoterm: empty (DDP) or DDP or DAP.
//   - currency: an active ISO 4217 code; every amount in the order (unit
//     prices, line totals, shipping, total) is in that currency (mismatch).
//   - buyer and consignee: name required, at most 100 characters; email
//     optional, a plausible address of at most 254 bytes; phone optional, E.164
//     ('+' and 6 to 15 digits, the first not 0); address line1 and city required, line1, line2,
//     city and region at most 100 characters; postalCode optional, at most 20
//     letters, digits, spaces and '-'; country a required ISO 3166-1 alpha-2
//     code. The consignee needs an email or a phone for the carrier (reported
//     as /consignee/phone required).
//   - vatNumber optional: an EU VAT number (member-state prefix, EL for
//     Greece), XI (Northern Ireland) or GB, then 2 to 13 upper-case letters or
//     digits, no spaces. Other countries' tax numbers go in
//     businessRegistration.
//   - iossNumber optional: "IM" and 10 digits, and only for goods shipped into
//     the EU (not_allowed otherwise).
//   - businessRegistration at most 64 characters; required from the buyer of a
//     B2B order.
//   - identity: required from the buyer of a retail import into China
//     (RetailImportIntoChina: destination CN, trade mode B2C, C2C or M2B2C);
//     not_allowed on the buyer of any other order (it is not needed, so it
//     is not collected) and on the consignee. Its type must be "1", the
//     resident identity card (the CEB code list's "2", other, is
//     not_allowed: retail-import messages take "1" only); its number 18
//     characters, 17 digits and a check character 0-9 or X (a lower-case x
//     is accepted, and Accept stores it as X), with a birth date from
//     1900-01-01 to today and the ISO 7064 MOD 11-2 check character. The
//     messages never quote the number. The buyer's phone is required too:
//     China's order and inventory messages carry it.
//   - lines: 1 to MaxLines. Each: sku required, at most 64 of [A-Za-z0-9._-];
//     title required, at most 200 characters; hsCode 6 to 10 digits; quantity
//     1 to MaxQuantity; unitPrice.amount 0 to MaxUnitAmount; lineTotal equal
//     to unitPrice × quantity (mismatch, stating the expected amount);
//     weightGrams 1 to MaxWeightGrams; originCountry an ISO 3166-1 alpha-2
//     code other than the destination (not_allowed: cross-border only).
//   - shipping and insurance optional, amount 0 to MaxShippingAmount.
//   - total: amount greater than zero and equal to the line totals plus
//     shipping and insurance (mismatch, stating the expected amount).
//   - payment: method "card", token required, at most 255 printable ASCII
//     characters without spaces; or, for partner orders only,
//     "partner_account" without a token.
//   - partnerOrderRef at most 64 characters.
//   - gift only for C2C orders (not_allowed otherwise).
//   - quoteId optional, at most 64 printable ASCII characters; whether it
//     names an issued quote for this cart is checked at intake.
//
// Free-text fields must be valid UTF-8 without control characters (C0, DEL,
// C1), U+FFFD replacement characters, which is what encoding/json leaves
// where a request held invalid UTF-8, or noncharacters (U+FFFE, U+FDD0 …,
// which no text may carry and XML cannot). The buyer's and the consignee's
// names and the line titles, which screening reads, must also be free of
// invisible characters (invalid): format characters such as the soft
// hyphen, zero-width spaces, joiners, the byte order mark and direction
// marks, and other default-ignorable code points such as the Hangul
// fillers; a soft hyphen inside a listed name hides it from a plain
// comparison while a reader sees it whole. A zero-width non-joiner or joiner
// between two letters of a script written with them (Persian names such as
// Ali<ZWNJ>reza in Arabic script, Devanagari conjuncts) and a joiner inside
// an emoji sequence are allowed.
// Look-alike letters of other scripts are not refused: a name may be
// written in any script, and screening reads look-alikes itself. Lengths
// count characters (runes), except for email (bytes, as RFC 5321 counts
// them) and the ASCII-only sku, postal code and token.
//
// Validate allocates nothing for a valid order.
func (d *Draft) Validate() []FieldError {
	v := validator{cur: d.Currency, curOK: money.Valid(d.Currency), dest: d.Consignee.Address.Country}
	v.destOK = country.Valid(v.dest)
	top := at{index: -1}

	switch d.Channel {
	case ChannelMobile, ChannelPartner, ChannelWeb:
	case "":
		v.add(top, "/channel", CodeRequired, "channel is required: mobile, partner or web.")
	default:
		v.add(top, "/channel", CodeInvalid, "channel must be mobile, partner or web.")
	}
	switch d.TradeMode {
	case TradeB2C, TradeB2B, TradeC2C, TradeM2B2C:
	case "":
		v.add(top, "/tradeMode", CodeRequired, "tradeMode is required: B2C, B2B, C2C or M2B2C.")
	default:
		v.add(top, "/tradeMode", CodeInvalid, "tradeMode must be B2C, B2B, C2C or M2B2C.")
	}
	switch d.Fulfilment {
	case FulfilOverseasWarehouse, FulfilDirectMail, FulfilSupplierDirect, FulfilBondedWarehouse:
	case "":
		v.add(top, "/fulfilment", CodeRequired,
			"fulfilment is required: overseas_warehouse, direct_mail, supplier_direct or bonded_warehouse.")
	default:
		v.add(top, "/fulfilment", CodeInvalid,
			"fulfilment must be overseas_warehouse, direct_mail, supplier_direct or bonded_warehouse.")
	}
	switch d.Carrier {
	case "", CarrierCourier, CarrierPost:
	default:
		v.add(top, "/carrier", CodeInvalid, "carrier must be courier (the default) or post.")
	}
	switch d.Incoterm {
	case "", IncotermDDP, IncotermDAP:
	default:
		v.add(top, "/incoterm", CodeInvalid, "incoterm must be DDP (the default: duties prepaid at checkout) or DAP (duties paid by the buyer on delivery).")
	}
	switch {
	case d.Currency == "":
		v.add(top, "/currency", CodeRequired, "currency is required: an ISO 4217 code such as EUR.")
	case !v.curOK:
		v.add(top, "/currency", CodeInvalid, "currency must be an active ISO 4217 code in upper case, such as EUR, USD or JPY.")
	}

	buyerID := identityNotAllowed
	switch {
	case d.RetailImportIntoChina():
		buyerID = identityRequired
	case !v.destOK || !validTradeMode(d.TradeMode):
		buyerID = identityUnknown // reported on /tradeMode or the country already
	}
	v.party(at{base: "/buyer", index: -1}, &d.Buyer, d.TradeMode == TradeB2B, false, buyerID)
	if buyerID == identityRequired && d.Buyer.Phone == "" {
		// China's order and inventory messages carry the buyer's telephone.
		v.add(top, "/buyer/phone", CodeRequired, "buyer.phone is required for retail imports into China (customs declares the buyer's telephone).")
	}
	v.party(at{base: "/consignee", index: -1}, &d.Consignee, false, true, identityConsignee)

	// The total can be checked only when every part of it is known.
	sum, sumOK := int64(0), v.curOK
	lines := d.Lines
	switch {
	case len(lines) == 0:
		v.add(top, "/lines", CodeRequired, "an order needs at least one line.")
		sumOK = false
	case len(lines) > MaxLines:
		v.add(top, "/lines", CodeTooMany, "an order has at most "+strconv.Itoa(MaxLines)+" lines; only the first ones were checked.")
		lines, sumOK = lines[:MaxLines], false
	}
	for i := range lines {
		amount, ok := v.line(at{base: "/lines", index: i}, &lines[i])
		sum, sumOK = sum+amount, sumOK && ok // ≤ MaxLines × MaxUnitAmount × MaxQuantity: no overflow
	}
	for _, charge := range [...]struct {
		field string
		m     *money.Money
	}{{"/shipping", d.Shipping}, {"/insurance", d.Insurance}} {
		if charge.m == nil {
			continue
		}
		amount, ok := v.charge(top, charge.field, *charge.m)
		sum, sumOK = sum+amount, sumOK && ok
	}
	totalOK := true
	if d.Total.Amount <= 0 {
		v.add(top, "/total/amount", CodeOutOfRange, "total amount must be greater than zero.")
		totalOK = false
	}
	totalOK = v.currency(top, "/total/currency", d.Total.Currency) && totalOK
	if totalOK && sumOK && d.Total.Amount != sum {
		v.add(top, "/total", CodeMismatch,
			"total must equal the sum of the line totals plus shipping and insurance: "+v.format(sum)+".")
	}
	if d.Gift && d.TradeMode != TradeC2C && d.TradeMode != "" {
		v.add(top, "/gift", CodeNotAllowed, "only a C2C order can be a gift: a gift is sent by one private person to another.")
	}
	switch {
	case d.QuoteID == "":
	case len(d.QuoteID) > maxRef || !printableASCII(d.QuoteID):
		v.add(top, "/quoteId", CodeInvalid, "quoteId must be the quoteId POST /v1/quotes returned.")
	}

	switch {
	case d.Payment.Method == "":
		v.add(top, "/payment/method", CodeRequired, "payment method is required: card.")
	case d.Payment.Method == PaymentPartnerAccount && d.Channel != ChannelPartner:
		v.add(top, "/payment/method", CodeNotAllowed, "only partner orders can be paid on the partner's account.")
	case d.Payment.Method != "card" && d.Payment.Method != PaymentPartnerAccount:
		v.add(top, "/payment/method", CodeInvalid, "payment method must be card (or partner_account, for partner orders).")
	}
	switch t := d.Payment.Token; {
	case d.Payment.Method == PaymentPartnerAccount:
		if t != "" {
			v.add(top, "/payment/token", CodeNotAllowed, "an order paid on the partner's account carries no payment token.")
		}
	case t == "":
		v.add(top, "/payment/token", CodeRequired, "payment token is required: the token from the payment provider, never card data.")
	case len(t) > maxToken:
		v.add(top, "/payment/token", CodeTooLong, "payment token must be at most "+strconv.Itoa(maxToken)+" characters.")
	case !printableASCII(t):
		v.add(top, "/payment/token", CodeInvalid, "payment token must be printable ASCII without spaces.")
	}
	v.text(top, "/partnerOrderRef", d.PartnerOrderRef, maxRef, false)
	return v.errs
}

// ValidateLines checks order lines alone, as in Validate, for a cart in
// currency shipped to destination (a quote request has no parties). Fields
// are reported under base ("/lines"). It returns the sum of the line totals
// and whether every line is right.
func ValidateLines(currency, destination, base string, lines []Line) ([]FieldError, int64, bool) {
	v := validator{cur: currency, curOK: money.Valid(currency), dest: destination}
	v.destOK = country.Valid(destination)
	sum, ok := int64(0), v.curOK
	switch {
	case len(lines) == 0:
		v.add(at{index: -1}, base, CodeRequired, "at least one line is needed.")
		ok = false
	case len(lines) > MaxLines:
		v.add(at{index: -1}, base, CodeTooMany, "at most "+strconv.Itoa(MaxLines)+" lines; only the first ones were checked.")
		lines, ok = lines[:MaxLines], false
	}
	for i := range lines {
		amount, lineOK := v.line(at{base: base, index: i}, &lines[i])
		sum, ok = sum+amount, ok && lineOK
	}
	return v.errs, sum, ok
}

// ValidateCharge checks a shipping or insurance charge in currency.
func ValidateCharge(currency, field string, m money.Money) []FieldError {
	v := validator{cur: currency, curOK: money.Valid(currency)}
	v.charge(at{index: -1}, field, m)
	return v.errs
}

// charge checks a shipping or insurance charge; it reports its amount and
// whether it can be added up with the others.
func (v *validator) charge(a at, field string, m money.Money) (int64, bool) {
	ok := true
	if m.Amount < 0 || m.Amount > MaxShippingAmount {
		v.add(a, field+"/amount", CodeOutOfRange,
			name(field)+" amount must be from 0 to "+strconv.FormatInt(MaxShippingAmount, 10)+" minor units.")
		ok = false
	}
	ok = v.currency(a, field+"/currency", m.Currency) && ok
	return m.Amount, ok
}

// validator collects problems. Paths and messages are built only when a
// problem is found, so a valid order costs no allocation.
type validator struct {
	errs   []FieldError
	cur    string // the order's currency
	curOK  bool   // cur is a valid ISO 4217 code
	dest   string // the destination country
	destOK bool   // dest is a valid ISO 3166-1 alpha-2 code
}

// at locates a group of fields: base ("/buyer", "/lines") and, in a list,
// the index (-1 otherwise).
type at struct {
	base  string
	index int
}

func (a at) path(field string) string {
	if a.index < 0 {
		return a.base + field
	}
	return a.base + "/" + strconv.Itoa(a.index) + field
}

func (v *validator) add(a at, field, code, msg string) {
	v.errs = append(v.errs, FieldError{Field: a.path(field), Code: code, Message: msg})
}

// name is the last segment of a field path, to start a message with.
func name(field string) string { return field[strings.LastIndexByte(field, '/')+1:] }

// format renders minor units in the order's currency, or as bare minor units
// when the currency is unknown (it may be anything a client sent).
func (v *validator) format(amount int64) string {
	if v.curOK {
		return money.New(amount, v.cur).String()
	}
	return strconv.FormatInt(amount, 10) + " minor units"
}

// currency checks that an amount is in the order's currency; it reports
// whether the amount can be added up with the others.
func (v *validator) currency(a at, field, c string) bool {
	if !v.curOK {
		return false // already reported on /currency
	}
	switch {
	case c == v.cur:
		return true
	case c == "":
		v.add(a, field, CodeRequired, "currency is required: the order's currency, "+v.cur+".")
	case money.Valid(c):
		v.add(a, field, CodeMismatch, "every amount must be in the order's currency "+v.cur+", not "+c+".")
	default:
		v.add(a, field, CodeMismatch, "every amount must be in the order's currency "+v.cur+".")
	}
	return false
}

// line checks one order line. It returns the line total and whether it is
// right and in the order's currency, so that it can be added to the total.
func (v *validator) line(a at, l *Line) (int64, bool) {
	switch {
	case l.SKU == "":
		v.add(a, "/sku", CodeRequired, "sku is required.")
	case !skuChars(l.SKU):
		v.add(a, "/sku", CodeInvalid, "sku may hold only letters A-Z and a-z, digits, '.', '_' and '-'.")
	case len(l.SKU) > maxSKU:
		v.add(a, "/sku", CodeTooLong, "sku must be at most "+strconv.Itoa(maxSKU)+" characters.")
	}
	v.visibleText(a, "/title", l.Title, maxTitle, true)
	switch {
	case l.HSCode == "":
		v.add(a, "/hsCode", CodeRequired, "hsCode is required for customs: 6 to 10 digits of the Harmonized System.")
	case len(l.HSCode) < 6 || len(l.HSCode) > 10 || !digits(l.HSCode):
		v.add(a, "/hsCode", CodeInvalid, "hsCode must be 6 to 10 digits, without dots or spaces.")
	}
	qtyOK := l.Quantity >= 1 && l.Quantity <= MaxQuantity
	if !qtyOK {
		v.add(a, "/quantity", CodeOutOfRange, "quantity must be from 1 to "+strconv.Itoa(MaxQuantity)+".")
	}
	unitOK := l.UnitPrice.Amount >= 0 && l.UnitPrice.Amount <= MaxUnitAmount
	if !unitOK {
		v.add(a, "/unitPrice/amount", CodeOutOfRange,
			"unitPrice amount must be from 0 to "+strconv.FormatInt(MaxUnitAmount, 10)+" minor units.")
	}
	unitOK = v.currency(a, "/unitPrice/currency", l.UnitPrice.Currency) && unitOK

	totalOK := true
	if l.LineTotal.Amount < 0 {
		v.add(a, "/lineTotal/amount", CodeOutOfRange, "lineTotal amount must not be negative.")
		totalOK = false
	}
	totalOK = v.currency(a, "/lineTotal/currency", l.LineTotal.Currency) && totalOK
	if qtyOK && l.UnitPrice.Amount >= 0 && l.UnitPrice.Amount <= MaxUnitAmount {
		// Both factors are bounded: the product fits in int64.
		if want := l.UnitPrice.Amount * l.Quantity; l.LineTotal.Amount >= 0 && l.LineTotal.Amount != want {
			v.add(a, "/lineTotal", CodeMismatch, "lineTotal must equal unitPrice × quantity: "+v.format(want)+".")
			totalOK = false
		}
	} else {
		totalOK = false
	}

	if l.WeightGrams < 1 || l.WeightGrams > MaxWeightGrams {
		v.add(a, "/weightGrams", CodeOutOfRange, "weightGrams must be from 1 to "+strconv.Itoa(MaxWeightGrams)+".")
	}
	switch {
	case l.OriginCountry == "":
		v.add(a, "/originCountry", CodeRequired, "originCountry is required: an ISO 3166-1 alpha-2 code such as CN.")
	case !country.Valid(l.OriginCountry):
		v.add(a, "/originCountry", CodeInvalid, "originCountry must be an ISO 3166-1 alpha-2 code in upper case, such as CN.")
	case l.OriginCountry == v.dest:
		v.add(a, "/originCountry", CodeNotAllowed,
			"origin and destination are the same country; this pipeline handles cross-border orders only.")
	}
	return l.LineTotal.Amount, totalOK && unitOK
}

// identityRule says whether a party must, may or must not give an identity.
type identityRule int

const (
	// identityNotAllowed: the buyer of an order that is not a retail import
	// into China; its identity is not needed, so not collected.
	identityNotAllowed identityRule = iota
	// identityRequired: the buyer of a retail import into China.
	identityRequired
	// identityUnknown: the trade mode or the destination is invalid (and
	// reported), so whether the identity is needed cannot be told; what is
	// given is checked.
	identityUnknown
	// identityConsignee: only the buyer's identity is declared.
	identityConsignee
)

func validTradeMode(tm TradeMode) bool {
	switch tm {
	case TradeB2C, TradeB2B, TradeC2C, TradeM2B2C:
		return true
	}
	return false
}

// identity checks a party's identity document under rule. Messages never
// quote the number.
func (v *validator) identity(a at, id *Identity, rule identityRule) {
	switch {
	case id == nil && rule == identityRequired:
		v.add(a, "/identity", CodeRequired, "identity is required for retail imports into China: "+
			"the buyer's resident identity card (type 1 and its number), which customs checks against the payer's.")
		return
	case id == nil:
		return
	case rule == identityConsignee:
		v.add(a, "/identity", CodeNotAllowed, "only the buyer's identity is declared; the consignee's is not collected.")
		return
	case rule == identityNotAllowed:
		v.add(a, "/identity", CodeNotAllowed, "an identity is collected only from the buyer of a retail import into China "+
			"(destination CN, trade mode B2C, C2C or M2B2C); leave it out.")
		return
	}
	checkNumber := true
	switch id.Type {
	case IDTypeResidentCard:
	case "":
		v.add(a, "/identity/type", CodeRequired, "identity type is required: 1, the resident identity card.")
	case IDTypeOther:
		v.add(a, "/identity/type", CodeNotAllowed, "retail imports into China accept type 1, the resident identity card, only "+
			"(type 2, another document, is not allowed in their customs messages).")
		checkNumber = false
	default:
		v.add(a, "/identity/type", CodeInvalid, "identity type must be 1, the resident identity card.")
		checkNumber = false
	}
	if !checkNumber {
		return
	}
	if id.Number == "" {
		v.add(a, "/identity/number", CodeRequired, "identity number is required: the 18 characters of the resident identity card.")
	} else if problem := residentIDProblem(id.Number, time.Now()); problem != "" {
		v.add(a, "/identity/number", CodeInvalid, "identity number "+problem)
	}
}

// party checks a buyer or a consignee. needRegistration demands a business
// registration (the buyer of a B2B order); needContact an email or a phone
// (the consignee, for the carrier); idRule says what identity it gives.
func (v *validator) party(a at, p *Party, needRegistration, needContact bool, idRule identityRule) {
	v.visibleText(a, "/name", p.Name, maxName, true)
	switch {
	case p.Email == "":
	case len(p.Email) > maxEmail:
		v.add(a, "/email", CodeTooLong, "email must be at most "+strconv.Itoa(maxEmail)+" characters.")
	case !plausibleEmail(p.Email):
		v.add(a, "/email", CodeInvalid, "email must be an address like name@example.com.")
	}
	switch {
	case p.Phone != "":
		if !e164(p.Phone) {
			v.add(a, "/phone", CodeInvalid, "phone must be in E.164 form: '+', the country code and number, 6 to 15 digits, no spaces.")
		}
	case needContact && p.Email == "":
		v.add(a, "/phone", CodeRequired, "the consignee needs a phone number or an email address, for the carrier.")
	}

	addr := &p.Address
	v.text(a, "/address/line1", addr.Line1, maxAddressField, true)
	v.text(a, "/address/line2", addr.Line2, maxAddressField, false)
	v.text(a, "/address/city", addr.City, maxAddressField, true)
	v.text(a, "/address/region", addr.Region, maxAddressField, false)
	if addr.PostalCode != "" {
		switch {
		case !postalChars(addr.PostalCode):
			v.add(a, "/address/postalCode", CodeInvalid, "postalCode may hold only letters, digits, spaces and '-'.")
		case len(addr.PostalCode) > maxPostalCode:
			v.add(a, "/address/postalCode", CodeTooLong, "postalCode must be at most "+strconv.Itoa(maxPostalCode)+" characters.")
		}
	}
	switch {
	case addr.Country == "":
		v.add(a, "/address/country", CodeRequired, "country is required: an ISO 3166-1 alpha-2 code such as DE.")
	case !country.Valid(addr.Country):
		v.add(a, "/address/country", CodeInvalid, "country must be an ISO 3166-1 alpha-2 code in upper case, such as DE (GB for the United Kingdom).")
	}

	if p.VATNumber != "" && !vatNumber(p.VATNumber) {
		v.add(a, "/vatNumber", CodeInvalid, "vatNumber must be an EU VAT number (member-state prefix, EL for Greece), "+
			"XI (Northern Ireland) or GB, then 2 to 13 upper-case letters or digits, without spaces, e.g. DE123456789.")
	}
	switch n := p.IOSSNumber; {
	case n == "":
	case len(n) != 12 || n[0] != 'I' || n[1] != 'M' || !digits(n[2:]):
		v.add(a, "/iossNumber", CodeInvalid, "iossNumber must be 'IM' followed by 10 digits.")
	case v.destOK && !country.InEU(v.dest):
		v.add(a, "/iossNumber", CodeNotAllowed, "an IOSS number applies only to goods shipped into the EU; this order ships elsewhere.")
	}
	if p.BusinessRegistration == "" && needRegistration {
		v.add(a, "/businessRegistration", CodeRequired, "a B2B order needs the buyer's business registration number.")
	} else {
		v.text(a, "/businessRegistration", p.BusinessRegistration, maxRef, needRegistration)
	}
	v.identity(a, p.Identity, idRule)
}

// text checks a free-text field: present (and not blank) when required, valid
// UTF-8 without control or replacement characters, at most max characters.
func (v *validator) text(a at, field, s string, max int, required bool) {
	if s == "" {
		if required {
			v.add(a, field, CodeRequired, name(field)+" is required.")
		}
		return
	}
	// Fast path: printable ASCII, where bytes are characters.
	i := 0
	for i < len(s) && s[i]-0x20 < 0x7f-0x20 {
		i++
	}
	n, blank, clean := i, s[0] == ' ' || s[0] >= utf8.RuneSelf, true
	if blank && i > 0 {
		blank = strings.TrimLeft(s[:i], " ") == ""
	}
	for i < len(s) {
		n++
		if c := s[i]; c < utf8.RuneSelf {
			i++
			if c < 0x20 || c == 0x7f {
				clean = false
			} else if c != ' ' {
				blank = false
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError || r < 0xa0 || noncharacter(r): // invalid UTF-8, U+FFFD, C1 controls
			clean = false
		case blank && !unicode.IsSpace(r):
			blank = false
		}
	}
	switch {
	case !clean:
		v.add(a, field, CodeInvalid, name(field)+" must be valid UTF-8 text without control characters or noncharacters.")
	case blank && required:
		v.add(a, field, CodeRequired, name(field)+" is required and must not be blank.")
	case n > max:
		v.add(a, field, CodeTooLong, name(field)+" must be at most "+strconv.Itoa(max)+" characters.")
	}
}

// noncharacter reports whether r is one of the 66 code points Unicode
// reserves as never to be interchanged: U+FDD0–U+FDEF and the last two of
// every plane (U+FFFE, U+FFFF, U+1FFFE …). XML cannot carry U+FFFE and
// U+FFFF at all: a name holding one would reach a customs message changed.
func noncharacter(r rune) bool {
	return r >= 0xfdd0 && r <= 0xfdef || r&0xfffe == 0xfffe
}

// visibleText checks a free-text field as text does and, if that finds
// nothing wrong, that it holds no invisible character (see hasInvisible):
// for the names and titles that screening reads.
func (v *validator) visibleText(a at, field, s string, max int, required bool) {
	before := len(v.errs)
	v.text(a, field, s, max, required)
	if len(v.errs) == before && hasInvisible(s) {
		v.add(a, field, CodeInvalid, name(field)+" must not contain invisible characters "+
			"(soft hyphens, zero-width spaces or joiners, direction marks or other formatting characters): write it as it is printed.")
	}
}

// hasInvisible reports whether s holds a character that is not drawn: a
// format character (Cf) or another default-ignorable code point, save a
// zero-width non-joiner or joiner where a script needs one. Variation
// selectors are not refused: they choose a glyph (an emoji's colour, the
// registered form of a kanji in a Japanese name) and are marks, which
// screening drops. ASCII control characters are text's to refuse.
func hasInvisible(s string) bool {
	prev := rune(-1)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r >= utf8.RuneSelf && (unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)) {
			next, _ := utf8.DecodeRuneInString(s[i:])
			if !joinerInPlace(r, prev, next) {
				return true
			}
		}
		prev = r
	}
	return false
}

// joiningScripts are scripts whose spelling uses the zero-width non-joiner
// and joiner: to keep letters apart that would join (Persian, Arabic,
// Syriac, N'Ko, Mongolian) or to choose a conjunct form (the Indic scripts).
var joiningScripts = []*unicode.RangeTable{
	unicode.Arabic, unicode.Syriac, unicode.Nko, unicode.Mongolian,
	unicode.Devanagari, unicode.Bengali, unicode.Gurmukhi, unicode.Gujarati, unicode.Oriya,
	unicode.Tamil, unicode.Telugu, unicode.Kannada, unicode.Malayalam, unicode.Sinhala,
	unicode.Myanmar, unicode.Khmer,
}

// joinerInPlace reports whether r, between prev and next, is a zero-width
// non-joiner or joiner where it belongs: between two characters (letters or
// marks, a virama) of one joining script, or a joiner between the parts of
// an emoji sequence (woman<ZWJ>laptop, a technologist). Anywhere else, as
// inside a Latin name, it only hides a word from a comparison.
func joinerInPlace(r, prev, next rune) bool {
	if r != '\u200c' && r != '\u200d' {
		return false
	}
	if r == '\u200d' && unicode.Is(unicode.So, next) &&
		(unicode.Is(unicode.So, prev) || prev == '\ufe0f' || prev >= 0x1f3fb && prev <= 0x1f3ff) {
		return true
	}
	for _, script := range joiningScripts {
		if unicode.Is(script, prev) && unicode.Is(script, next) {
			return true
		}
	}
	return false
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

// printableASCII: '!' to '~', so no spaces or controls.
func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '!' || s[i] > '~' {
			return false
		}
	}
	return true
}

// e164 is '+' followed by 6 to 15 digits, the first not zero (no country
// calling code starts with 0).
func e164(s string) bool {
	return len(s) >= 7 && len(s) <= 16 && s[0] == '+' && s[1] != '0' && digits(s[1:])
}

// plausibleEmail accepts what a carrier can use: one '@', a local part of 1 to
// 64 bytes, a domain of dot-separated non-empty labels (at least two) that
// neither start nor end with '-', no spaces, controls or characters that need
// quoting. Non-ASCII is allowed if it is valid UTF-8 (internationalised
// addresses). It does not try to be RFC 5321 complete.
func plausibleEmail(s string) bool {
	at := strings.IndexByte(s, '@')
	if at < 1 || at > 64 || at == len(s)-1 || !utf8.ValidString(s) || strings.ContainsRune(s, utf8.RuneError) {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f, c == '@' && i != at,
			c == '<', c == '>', c == '(', c == ')', c == '[', c == ']', c == ',', c == ';', c == ':', c == '\\', c == '"':
			return false
		case c == 0xc2 && i+1 < len(s) && s[i+1] < 0xa0: // U+0080–U+009F, C1 controls
			return false
		}
	}
	local, domain := s[:at], s[at+1:]
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	labels := 0
	for domain != "" {
		label := domain
		if i := strings.IndexByte(domain, '.'); i >= 0 {
			label, domain = domain[:i], domain[i+1:]
			if domain == "" {
				return false // trailing dot
			}
		} else {
			domain = ""
		}
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		labels++
	}
	return labels >= 2
}

// vatNumber: a VAT prefix (an EU member state's ISO code, but EL for Greece;
// XI for Northern Ireland; GB for the United Kingdom) and 2 to 13 upper-case
// letters or digits. Country-specific check digits are not verified: VIES
// (EU) and HMRC (GB) are the authorities for that.
func vatNumber(s string) bool {
	if len(s) < 4 || len(s) > 15 {
		return false
	}
	switch prefix := s[:2]; prefix {
	case "EL", "XI", "GB":
	case "GR":
		return false
	default:
		if !country.InEU(prefix) {
			return false
		}
	}
	for i := 2; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
