package order

import (
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/xborder/xborder/shared/money"
)

// FXRate is a reference exchange rate: 1 From is Rate To (a decimal
// string), as published on Date by Source.
type FXRate struct {
	From   string `json:"from" dynamodbav:"from"`
	To     string `json:"to" dynamodbav:"to"`
	Rate   string `json:"rate" dynamodbav:"rate"`
	Date   string `json:"date" dynamodbav:"date"`
	Source string `json:"source,omitempty" dynamodbav:"source,omitempty"`
}

// LandedCharges are an order's duties, taxes and fees in its currency, and
// who pays them when.
type LandedCharges struct {
	Duty money.Money `json:"duty" dynamodbav:"duty"`
	Tax  money.Money `json:"tax" dynamodbav:"tax"`
	Fees money.Money `json:"fees" dynamodbav:"fees"`
	// Collection is IOSS, POINT_OF_SALE or AT_BORDER — or, for a sale that
	// crosses no border, DOMESTIC_SUPPLY or OSS.
	Collection string `json:"collection" dynamodbav:"collection"`
	// Regime is IMPORT, DOMESTIC or INTRA_EU (empty in orders assessed
	// before routes: IMPORT).
	Regime string `json:"regime,omitempty" dynamodbav:"regime,omitempty"`
	// AtCheckout is what the shopper pays at checkout on top of the goods,
	// shipping and insurance; OnDelivery what the buyer pays on import.
	AtCheckout  money.Money `json:"atCheckout" dynamodbav:"atCheckout"`
	OnDelivery  money.Money `json:"onDelivery" dynamodbav:"onDelivery"`
	LandedTotal money.Money `json:"landedTotal" dynamodbav:"landedTotal"`
	Estimate    bool        `json:"estimate,omitempty" dynamodbav:"estimate,omitempty"`
	// Rules are the ids of the rules behind the figures.
	Rules []string  `json:"rules,omitempty" dynamodbav:"rules,omitempty"`
	At    time.Time `json:"at" dynamodbav:"at"`
}

// CustomsRecord is the customs side of an order.
type CustomsRecord struct {
	QuoteID string `json:"quoteId,omitempty" dynamodbav:"quoteId,omitempty"`
	// Quoted is what the accepted quote said; Assessed what the customs
	// step computed with the same engine on the order's date.
	Quoted   *LandedCharges `json:"quoted,omitempty" dynamodbav:"quoted,omitempty"`
	Assessed *LandedCharges `json:"assessed,omitempty" dynamodbav:"assessed,omitempty"`
	// MerchantCost is, under DDP, what the assessed duties, taxes and fees
	// exceed the quoted ones by: the merchant bears it, the shopper never
	// pays more than quoted. Without a quote it is all of them.
	MerchantCost *money.Money `json:"merchantCost,omitempty" dynamodbav:"merchantCost,omitempty"`
	// SupervisionMode is China's customs supervision mode (9610, 9710,
	// 9810, 1210) when Chinese customs declares the goods.
	SupervisionMode string `json:"supervisionMode,omitempty" dynamodbav:"supervisionMode,omitempty"`
	// DeclarationForm is set when China's customs declare a B2B export
	// (9710, 9810) on a customs declaration form (报关单) instead of the
	// inventory list: a consignment over ¥5,000.
	DeclarationForm bool `json:"declarationForm,omitempty" dynamodbav:"declarationForm,omitempty"`
	// DeclaredAt is when the customs step stored the declaration it filed,
	// a document of its own beside the order (CustomsDocuments): zero while
	// there is none.
	DeclaredAt time.Time `json:"declaredAt,omitzero" dynamodbav:"declaredAt,omitempty"`
	// AwaitingChina is set while the customs step waits for China's customs
	// to release the goods (the inventory list's receipt 800) before the
	// workflow goes on; SubmittedAt is when the messages went to the E-Port.
	AwaitingChina bool      `json:"awaitingChina,omitempty" dynamodbav:"awaitingChina,omitempty"`
	SubmittedAt   time.Time `json:"submittedAt,omitzero" dynamodbav:"submittedAt,omitempty"`
	// Resubmits counts the times the customs step submitted the messages
	// again, for the task token it waits on, because their receipts stopped
	// short of a decision (a new token — a redrive — counts from zero);
	// ResubmittedAt is when it last did.
	Resubmits     int       `json:"resubmits,omitempty" dynamodbav:"resubmits,omitempty"`
	ResubmittedAt time.Time `json:"resubmittedAt,omitzero" dynamodbav:"resubmittedAt,omitempty"`
	// NoAnswerAt is when the customs step gave up waiting, past its last
	// resubmission, and failed its task (ChinaCustomsNoAnswer); a new task
	// token clears it.
	NoAnswerAt time.Time `json:"noAnswerAt,omitzero" dynamodbav:"noAnswerAt,omitempty"`
	// ReceiptCount is how many receipts customs had sent when the customs
	// step last read them (it reads them, documents of their own, on every
	// wake, and counts them whenever it writes the order).
	ReceiptCount int `json:"receiptCount,omitempty" dynamodbav:"receiptCount,omitempty"`
	// Decision is the receipt that settled the wait for China's customs, as
	// the receipts recorder noted it once (it wakes the waiting step then);
	// the receipts themselves are documents of their own. Operators see it
	// with the receipts, the order view does not.
	Decision *ChinaDecision `json:"-" dynamodbav:"decision,omitempty"`
}

// CustomsReceipt is one answer to a customs message: its returnStatus,
// what that means, and when customs set it.
type CustomsReceipt struct {
	Type    string `json:"type" dynamodbav:"type"`       // CEB604
	Answers string `json:"answers" dynamodbav:"answers"` // CEB603
	GUID    string `json:"guid" dynamodbav:"guid"`       // the E-Port's guid of the return
	Status  int    `json:"returnStatus" dynamodbav:"returnStatus"`
	Meaning string `json:"meaning" dynamodbav:"meaning"`
	// Outcome is pending, cleared, released, rejected, held, returned,
	// failed or unknown.
	Outcome    string    `json:"outcome" dynamodbav:"outcome"`
	Info       string    `json:"info,omitempty" dynamodbav:"info,omitempty"`
	InvtNo     string    `json:"invtNo,omitempty" dynamodbav:"invtNo,omitempty"`
	PreNo      string    `json:"preNo,omitempty" dynamodbav:"preNo,omitempty"`
	At         time.Time `json:"at" dynamodbav:"at"` // returnTime
	ReceivedAt time.Time `json:"receivedAt" dynamodbav:"receivedAt"`
}

// Key identifies a receipt among an order's: the E-Port resends a receipt,
// and so do operators, with the same type, guid, status and time.
func (r CustomsReceipt) Key() string {
	return r.Type + "#" + r.GUID + "#" + strconv.Itoa(r.Status) + "#" + r.At.UTC().Format(sortableTime)
}

// SortReceipts puts receipts in the order they arrived (and those that
// arrived together in the order customs set them).
func SortReceipts(rs []CustomsReceipt) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case !a.ReceivedAt.Equal(b.ReceivedAt):
			return a.ReceivedAt.Before(b.ReceivedAt)
		case !a.At.Equal(b.At):
			return a.At.Before(b.At)
		}
		return a.Key() < b.Key()
	})
}

// sortableTime is a fixed-width UTC time layout that sorts as text.
const sortableTime = "2006-01-02T15:04:05.000000000Z"

// ChinaDecision is the receipt that settled an order's wait for China's
// customs: a release, or a rejection, failure or return of any message.
type ChinaDecision struct {
	Outcome string    `json:"outcome" dynamodbav:"outcome"` // released, rejected, failed, returned
	Answers string    `json:"answers" dynamodbav:"answers"` // the message it answers: CEB603
	Status  int       `json:"returnStatus" dynamodbav:"returnStatus"`
	At      time.Time `json:"at" dynamodbav:"at"` // when it arrived
}

// CustomsDocuments are what an order's customs clearance filed and what
// came back, kept beside the order rather than in it (they grow with the
// order's life; the order stays small): the declaration the customs step
// filed (JSON), China's messages rendered from it (CEB XML, one per type)
// and customs' receipts, in the order they arrived.
type CustomsDocuments struct {
	Declaration json.RawMessage
	Messages    []CustomsMessage
	Receipts    []CustomsReceipt
}

// ErrReferenceTaken is returned when a reference (a waybill number, a
// payment transaction) already names another order.
var ErrReferenceTaken = errors.New("order: the reference names another order")

// CustomsMessage is one rendered customs message.
type CustomsMessage struct {
	Type string    `json:"type" dynamodbav:"type"`
	XML  string    `json:"-" dynamodbav:"xml"`
	At   time.Time `json:"at" dynamodbav:"at"`
}

// ScreeningHit is the restricted-goods rule or denied-party list entry that
// refused an order.
type ScreeningHit struct {
	Reason  string `json:"reason" dynamodbav:"reason"`
	EntryID string `json:"entryId" dynamodbav:"entryId"`
	List    string `json:"list" dynamodbav:"list"`
	Matched string `json:"matched" dynamodbav:"matched"`
	Field   string `json:"field" dynamodbav:"field"`
	Source  string `json:"source,omitempty" dynamodbav:"source,omitempty"`
}

// ChargeAmount is what the shopper is charged: the total, plus the duties,
// taxes and fees the accepted quote collects at checkout.
func (o *Order) ChargeAmount() money.Money {
	amount := o.Total
	if c := o.Customs; c != nil && c.Quoted != nil && c.Quoted.AtCheckout.Currency == amount.Currency {
		amount.Amount += c.Quoted.AtCheckout.Amount
	}
	return amount
}

// CallbackRecord is what the partner was told of the order: every status
// change up to DeliveredVersion, in order, and every attempt, oldest first.
// It is kept beside the order, not in it.
type CallbackRecord struct {
	DeliveredVersion int64             `json:"deliveredVersion" dynamodbav:"deliveredVersion"`
	Attempts         []CallbackAttempt `json:"attempts,omitempty" dynamodbav:"attempts,omitempty"`
}

// CallbackAttempt is one POST to the partner's callback URL.
type CallbackAttempt struct {
	Version    int64     `json:"version" dynamodbav:"version"`
	Status     Status    `json:"status" dynamodbav:"status"`
	At         time.Time `json:"at" dynamodbav:"at"`
	HTTPStatus int       `json:"httpStatus,omitempty" dynamodbav:"httpStatus,omitempty"`
	Error      string    `json:"error,omitempty" dynamodbav:"error,omitempty"`
	Delivered  bool      `json:"delivered" dynamodbav:"delivered"`
}
