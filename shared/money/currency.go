package money

// Exponent returns the minor-unit exponent of an active ISO 4217 currency
// code (upper case): 2 for EUR and USD, 0 for JPY and KRW, 3 for KWD, 4 for
// CLF. ok is false for anything else, including withdrawn codes (HRK, BGN)
// and the codes without a minor unit (XAU, XDR, XXX).
func Exponent(code string) (exp int, ok bool) {
	exp, ok = exponents[code]
	return exp, ok
}

// Valid reports whether code is an active ISO 4217 currency code with a minor
// unit, that is, one that Exponent knows.
func Valid(code string) bool {
	_, ok := exponents[code]
	return ok
}
