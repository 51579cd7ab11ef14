package customs

import (
	"strconv"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// Codes of field errors that are particular to carts.
const (
	// CodeUnsupported: well formed, but the engine has no rules or rates for it.
	CodeUnsupported = "unsupported"
)

// ValidateCart reports every problem with a cart at once, as field errors
// whose paths are those of the quote request (/lines/0/hsCode,
// /consigneeCountry, /currency, …); nil means the engine can quote it.
func (e *Engine) ValidateCart(c *Cart) []order.FieldError {
	var errs []order.FieldError
	add := func(field, code, msg string) {
		errs = append(errs, order.FieldError{Field: field, Code: code, Message: msg})
	}
	switch {
	case c.Currency == "":
		add("/currency", order.CodeRequired, "currency is required: an ISO 4217 code such as EUR.")
	case !money.Valid(c.Currency):
		add("/currency", order.CodeInvalid, "currency must be an active ISO 4217 code in upper case, such as EUR.")
	case !e.SupportsCurrency(c.Currency):
		add("/currency", CodeUnsupported, "no reference exchange rate is published for "+c.Currency+"; quote in a currency such as EUR, USD, GBP or JPY.")
	}
	switch {
	case c.Destination == "":
		add("/consigneeCountry", order.CodeRequired, "consigneeCountry is required: an ISO 3166-1 alpha-2 code such as DE.")
	case !country.Valid(c.Destination):
		add("/consigneeCountry", order.CodeInvalid, "consigneeCountry must be an ISO 3166-1 alpha-2 code in upper case, such as DE (GB for the United Kingdom).")
	case !e.Supports(c.Destination):
		add("/consigneeCountry", CodeUnsupported, "landed cost cannot be quoted for "+c.Destination+" yet; destinations covered: "+joinCodes(e.Countries())+".")
	}
	switch c.TradeMode {
	case order.TradeB2C, order.TradeB2B, order.TradeC2C, order.TradeM2B2C:
	case "":
		add("/tradeMode", order.CodeRequired, "tradeMode is required: B2C, B2B, C2C or M2B2C.")
	default:
		add("/tradeMode", order.CodeInvalid, "tradeMode must be B2C, B2B, C2C or M2B2C.")
	}
	switch c.Incoterm {
	case "", order.IncotermDDP, order.IncotermDAP:
	default:
		add("/incoterm", order.CodeInvalid, "incoterm must be DDP (duties prepaid at checkout) or DAP (duties paid by the buyer on delivery).")
	}
	if c.Gift && c.TradeMode != order.TradeC2C && c.TradeMode != "" {
		add("/gift", order.CodeNotAllowed, "only a C2C cart can be a gift: a gift is sent by one private person to another.")
	}
	switch n := c.IOSSNumber; {
	case n == "":
	case len(n) != 12 || n[:2] != "IM" || !allDigits(n[2:]):
		add("/iossNumber", order.CodeInvalid, "iossNumber must be 'IM' followed by 10 digits.")
	case country.Valid(c.Destination) && !country.InEU(c.Destination):
		add("/iossNumber", order.CodeNotAllowed, "an IOSS number applies only to goods shipped into the EU.")
	}
	lineErrs, _, _ := order.ValidateLines(c.Currency, c.Destination, "/lines", c.Lines)
	errs = append(errs, lineErrs...)
	errs = append(errs, order.ValidateCharge(c.Currency, "/shipping", c.Shipping)...)
	errs = append(errs, order.ValidateCharge(c.Currency, "/insurance", c.Insurance)...)
	return errs
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func joinCodes(cs []string) string {
	out := ""
	for i, c := range cs {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	if len(cs) == 0 {
		return "none"
	}
	return out + " (" + strconv.Itoa(len(cs)) + ")"
}
