package order

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Identity is the buyer's identity document, which China's customs requires
// of every cross-border e-commerce retail import (supervision modes 9610 and
// 1210): the buyer (订购人) of CEB311 and CEB621 and the payer of CEB411
// must be one person, named with her real name and her identity number,
// against which customs counts the ¥5,000 single and ¥26,000 annual limits.
//
// The number is personal data: encoding/json, fmt and log/slog write an
// Identity with its number masked (see MaskIDNumber), so the API views and
// the logs never show it, and field errors never quote it. The store keeps
// it as it is (dynamodbav), because the declaration needs it.
type Identity struct {
	// Type is the document type of the CEB code list of buyerIdType and
	// payerIdType: "1" resident identity card (身份证) or "2" other (其它).
	// Retail-import messages are restricted to "1" (限定为身份证), so "1" is
	// the only type accepted.
	Type string `json:"type" dynamodbav:"type"`
	// Number is the 18-character resident identity card number (GB 11643):
	// a 6-digit region code, the birth date (YYYYMMDD), a 3-digit sequence
	// number and an ISO 7064 MOD 11-2 check character (0-9 or X).
	Number string `json:"number" dynamodbav:"number"`
}

// ID document types of the CEB code list (buyerIdType, payerIdType).
const (
	// IDTypeResidentCard is "1", the PRC resident identity card: the only
	// type retail-import messages accept.
	IDTypeResidentCard = "1"
	// IDTypeOther is "2", another document: listed by the specification,
	// but not allowed in retail-import messages.
	IDTypeOther = "2"
)

// MaskIDNumber masks an identity number for display: every character but
// the last four becomes '*' ("**************123X" for 18 characters); a
// number of four characters or fewer is masked entirely.
func MaskIDNumber(n string) string {
	// By character, not byte: a value that is not the ASCII an identity
	// number should be (stored before validation, or a fuzzer's) is never
	// cut inside a character.
	r := []rune(n)
	if len(r) <= 4 {
		return strings.Repeat("*", len(r))
	}
	return strings.Repeat("*", len(r)-4) + string(r[len(r)-4:])
}

// Masked returns a copy of id with its number masked (MaskIDNumber), for
// views; nil stays nil.
func (id *Identity) Masked() *Identity {
	if id == nil {
		return nil
	}
	return &Identity{Type: id.Type, Number: MaskIDNumber(id.Number)}
}

// MarshalJSON writes the identity with its number masked
// ({"type":"1","number":"**************123X"}), so that no JSON the service
// writes — an API view, a replayed response, a log line of a JSON handler —
// carries the number. Decoding is the default: a request gives it in full.
func (id Identity) MarshalJSON() ([]byte, error) {
	type plain Identity // without the method
	return json.Marshal(plain{Type: id.Type, Number: MaskIDNumber(id.Number)})
}

// Format prints the identity with its number masked, for every verb.
func (id Identity) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "{type %s number %s}", id.Type, MaskIDNumber(id.Number))
}

// LogValue logs the type and the masked number, never the number.
func (id Identity) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", id.Type), slog.String("number", MaskIDNumber(id.Number)))
}

// RetailImportIntoChina reports whether d is a cross-border e-commerce
// retail import into China, whose buyer must give her identity: the
// destination is CN and the trade mode B2C, C2C or M2B2C, whatever the
// fulfilment (bonded_warehouse is 1210, the others 9610). A B2B import into
// China is general trade, declared without it. This is the import side of
// chinacustoms.SelectMode, which cannot be called from here (it imports
// this package); a test there keeps the two in agreement.
func (d *Draft) RetailImportIntoChina() bool {
	if d.Destination() != "CN" {
		return false
	}
	switch d.TradeMode {
	case TradeB2C, TradeC2C, TradeM2B2C:
		return true
	}
	return false
}

// NormalizeIDNumber returns n with a lower-case check character 'x'
// written 'X', as the card prints it; anything else is left as it is.
func NormalizeIDNumber(n string) string {
	if len(n) == 18 && n[17] == 'x' {
		return n[:17] + "X"
	}
	return n
}

// residentIDProblem says what is wrong with a resident identity card
// number, or "" when it is well formed: 18 characters, 17 digits and a
// check character 0-9 or X (x is taken for X), a birth date from 1900-01-01
// to today, and the ISO 7064 MOD 11-2 check character. The region code is
// not checked against the list of administrative divisions. The answer
// never quotes the number.
func residentIDProblem(n string, today time.Time) string {
	if len(n) != 18 {
		return "must be 18 characters: 17 digits and a check character (0-9 or X)."
	}
	if !digits(n[:17]) {
		return "must start with 17 digits."
	}
	check := n[17]
	if check == 'x' {
		check = 'X'
	}
	if (check < '0' || check > '9') && check != 'X' {
		return "must end with a check character 0-9 or X."
	}
	if !plausibleBirthDate(n[6:14], today) {
		return "does not hold a plausible birth date (characters 7 to 14, YYYYMMDD)."
	}
	if check != residentIDCheck(n[:17]) {
		return "has a wrong check character: it may be mistyped."
	}
	return ""
}

// residentIDWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 of
// the first 17 digits.
var residentIDWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// residentIDCheck is the check character of 17 digits (GB 11643, ISO 7064
// MOD 11-2).
func residentIDCheck(d17 string) byte {
	sum := 0
	for i := range 17 {
		sum += int(d17[i]-'0') * residentIDWeights[i]
	}
	return "10X98765432"[sum%11]
}

// plausibleBirthDate: YYYYMMDD, a real calendar date from 1900-01-01 to
// today (UTC+14, the earliest time zone, so that no one born today anywhere
// is refused).
func plausibleBirthDate(s string, today time.Time) bool {
	y := int(s[0]-'0')*1000 + int(s[1]-'0')*100 + int(s[2]-'0')*10 + int(s[3]-'0')
	m := int(s[4]-'0')*10 + int(s[5]-'0')
	d := int(s[6]-'0')*10 + int(s[7]-'0')
	if y < 1900 || m < 1 || m > 12 || d < 1 || d > 31 {
		return false
	}
	born := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if born.Day() != d { // 31 April, 29 February of a common year
		return false
	}
	t := today.UTC().Add(14 * time.Hour)
	return !born.After(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))
}
