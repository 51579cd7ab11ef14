package ceb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/chinacustoms"
)

// A receipt (回执) is the China E-Port's or customs' answer to a declared
// message: CEB304 answers CEB303, CEB404 CEB403, CEB506 CEB505, CEB604
// CEB603; for retail imports CEB312, CEB412, CEB512 and CEB622. Each holds
// up to 100 returns, one per document, with its returnStatus.

// ErrBadReceipt is wrapped by every ReceiptError.
var ErrBadReceipt = errors.New("ceb: unusable receipt")

// ReceiptError names what makes a receipt unusable.
type ReceiptError struct {
	Field   string // e.g. "CEB604 InventoryReturn[1].returnTime"
	Problem string
}

func (e *ReceiptError) Error() string { return "ceb: receipt " + e.Field + ": " + e.Problem }

// Unwrap returns ErrBadReceipt.
func (e *ReceiptError) Unwrap() error { return ErrBadReceipt }

// receiptKind describes one receipt message type.
type receiptKind struct {
	answers string // the message type it answers
	entity  string // the return entity's element
	key     string // the element that names the document when orderNo is absent
}

var receiptKinds = map[string]receiptKind{
	"CEB304": {"CEB303", "OrderReturn", "orderNo"},
	"CEB404": {"CEB403", "ReceiptsReturn", "orderNo"},
	"CEB506": {"CEB505", "LogisticsReturn", "logisticsNo"},
	"CEB604": {"CEB603", "InventoryReturn", "copNo"},
	"CEB312": {"CEB311", "OrderReturn", "orderNo"},
	"CEB412": {"CEB411", "PaymentReturn", "payTransactionId"},
	"CEB512": {"CEB511", "LogisticsReturn", "logisticsNo"},
	"CEB622": {"CEB621", "InventoryReturn", "copNo"},
}

// ReceiptType is the receipt message type that answers msgType ("CEB604"
// for "CEB603"), or "" when it has none.
func ReceiptType(msgType string) string {
	for t, k := range receiptKinds {
		if k.answers == msgType {
			return t
		}
	}
	return ""
}

// Receipt is one parsed receipt message.
type Receipt struct {
	Type    string // "CEB604"
	Answers string // "CEB603"
	GUID    string
	Returns []Return
}

// Return is the answer about one document: the keys that name it (those the
// receipt type carries), its status and when customs set it.
type Return struct {
	GUID string // the E-Port's own guid of the return

	OrderNo     string // orderNo: CEB304, CEB404, CEB604, CEB312
	PayNo       string // payNo (CEB404) or payTransactionId (CEB412)
	LogisticsNo string // CEB506, CEB512
	CopNo       string // CEB604, CEB622
	PreNo       string // the E-Port's pre-entry number: CEB604, CEB622
	InvtNo      string // the inventory's number once customs has it: CEB604, CEB622

	EbpCode, EbcCode, AgentCode, PayCode, LogisticsCode, CustomsCode string
	StatisticsFlag                                                   string // CEB604

	Status int       // returnStatus; below 0: the E-Port could not process the message
	Time   time.Time // returnTime
	Info   string    // returnInfo, e.g. why customs rejected it
}

// Ref is the reference that names the answered document: "orderNo:<no>"
// when the receipt carries the order number, else the receipt type's own
// key ("logisticsNo:<no>", "payNo:<id>", "copNo:<no>").
func (r Return) Ref() string {
	switch {
	case r.OrderNo != "":
		return RefOrderNo + r.OrderNo
	case r.LogisticsNo != "":
		return RefLogisticsNo + r.LogisticsNo
	case r.PayNo != "":
		return RefPayNo + r.PayNo
	case r.CopNo != "":
		return RefCopNo + r.CopNo
	}
	return ""
}

// The kinds of reference a receipt names a document by.
const (
	RefOrderNo     = "orderNo:"
	RefLogisticsNo = "logisticsNo:"
	RefPayNo       = "payNo:"
	RefCopNo       = "copNo:"
)

// Refs are the references by which receipts to the messages of d name their
// documents: the waybill number, the payment transaction and the
// inventory's copNo (the order number names itself).
func Refs(d *chinacustoms.Declaration) []string {
	var refs []string
	for _, r := range []struct{ kind, v string }{
		{RefLogisticsNo, d.Waybill.LogisticsNo}, {RefPayNo, d.Payment.TransactionID}, {RefCopNo, d.Inventory.CopNo},
	} {
		if r.v != "" {
			refs = append(refs, r.kind+r.v)
		}
	}
	return refs
}

// Outcome classifies a returnStatus.
type Outcome string

// The outcomes of a receipt.
const (
	OutcomePending  Outcome = "pending"  // stored, being declared, sent, entered, manual review
	OutcomeCleared  Outcome = "cleared"  // 399 审结: customs accepted the document
	OutcomeReleased Outcome = "released" // 800 放行, 899 结关: the goods may go
	OutcomeRejected Outcome = "rejected" // 100 退单: customs refused the document
	OutcomeHeld     Outcome = "held"     // 500 查验, 501–599 扣留: inspection or detention
	OutcomeReturned Outcome = "returned" // 700 退运
	OutcomeFailed   Outcome = "failed"   // 4, or below 0: the message did not reach customs
	OutcomeUnknown  Outcome = "unknown"  // not in the specification's list
)

type statusMeaning struct {
	meaning string
	outcome Outcome
}

// statusMeanings are the returnStatus values of the 2022-05 specification
// (the CEB604 and CEB622 lists include every value the other receipts use).
var statusMeanings = map[int]statusMeaning{
	1:   {"stored at the E-Port (电子口岸已暂存)", OutcomePending},
	2:   {"being declared at the E-Port (电子口岸申报中)", OutcomePending},
	3:   {"sent to customs (发送海关成功)", OutcomePending},
	4:   {"sending to customs failed (发送海关失败)", OutcomeFailed},
	100: {"rejected by customs (海关退单)", OutcomeRejected},
	120: {"stored by customs (海关入库)", OutcomePending},
	300: {"under manual review (人工审核)", OutcomePending},
	399: {"cleared by customs (海关审结)", OutcomeCleared},
	500: {"held for inspection (查验)", OutcomeHeld},
	501: {"detained, passed to clearance (扣留移送通关)", OutcomeHeld},
	502: {"detained, passed to anti-smuggling (扣留移送缉私)", OutcomeHeld},
	503: {"detained, passed to legal affairs (扣留移送法规)", OutcomeHeld},
	599: {"detained, other (其它扣留)", OutcomeHeld},
	700: {"returned (退运)", OutcomeReturned},
	800: {"released (放行)", OutcomeReleased},
	899: {"customs formalities closed (结关)", OutcomeReleased},
}

// StatusMeaning says what a returnStatus means, and its outcome.
func StatusMeaning(status int) (string, Outcome) {
	if m, ok := statusMeanings[status]; ok {
		return m.meaning, m.outcome
	}
	if status < 0 {
		return "the E-Port could not process the message (异常回执)", OutcomeFailed
	}
	return "status " + strconv.Itoa(status) + " (not in the 2022-05 specification)", OutcomeUnknown
}

// receiptTimeLayout is returnTime's yyyyMMddHHmmss; the milliseconds follow.
const receiptTimeLayout = "20060102150405"

// maxReturns is the schema's maxOccurs of the return entities.
const maxReturns = 100

// rawReturn holds every element a return entity may have.
type rawReturn struct {
	XMLName          xml.Name
	GUID             *string `xml:"guid"`
	CustomsCode      *string `xml:"customsCode"`
	EbpCode          *string `xml:"ebpCode"`
	EbcCode          *string `xml:"ebcCode"`
	AgentCode        *string `xml:"agentCode"`
	PayCode          *string `xml:"payCode"`
	PayNo            *string `xml:"payNo"`
	PayTransactionID *string `xml:"payTransactionId"`
	LogisticsCode    *string `xml:"logisticsCode"`
	LogisticsNo      *string `xml:"logisticsNo"`
	OrderNo          *string `xml:"orderNo"`
	CopNo            *string `xml:"copNo"`
	PreNo            *string `xml:"preNo"`
	InvtNo           *string `xml:"invtNo"`
	StatisticsFlag   *string `xml:"statisticsFlag"`
	ReturnStatus     *string `xml:"returnStatus"`
	ReturnTime       *string `xml:"returnTime"`
	ReturnInfo       *string `xml:"returnInfo"`
}

type rawReceipt struct {
	XMLName xml.Name
	GUID    string      `xml:"guid,attr"`
	Version string      `xml:"version,attr"`
	Returns []rawReturn `xml:",any"`
}

// ParseReceipt reads one receipt message. It refuses, with a *ReceiptError
// naming the field, what is not a CEB receipt, a return of another entity,
// a missing guid, status, time or document key, a status that is not an
// integer, a time not in yyyyMMddHHmmssfff and values over the schema's
// lengths. The document is not validated against the XSD: the checks are
// those this package relies on.
func ParseReceipt(data []byte) (*Receipt, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	var raw rawReceipt
	if err := dec.Decode(&raw); err != nil {
		return nil, &ReceiptError{Field: "document", Problem: "not well-formed XML: " + err.Error()}
	}
	if err := trailing(dec); err != nil {
		return nil, err
	}
	typ, ok := strings.CutSuffix(raw.XMLName.Local, "Message")
	kind, known := receiptKinds[typ]
	switch {
	case raw.XMLName.Space != Namespace:
		return nil, &ReceiptError{Field: "document", Problem: fmt.Sprintf("the root element is not in the CEB namespace %s", Namespace)}
	case !ok || !known:
		return nil, &ReceiptError{Field: "document", Problem: fmt.Sprintf("%s is not a CEB receipt (CEB304, 404, 506, 604, 312, 412, 512, 622)", raw.XMLName.Local)}
	}
	rec := &Receipt{Type: typ, Answers: kind.answers, GUID: raw.GUID}
	p := &receiptParser{typ: typ}
	p.check("guid", &raw.GUID, 36, 36, true)
	switch n := len(raw.Returns); {
	case n == 0:
		p.fail(kind.entity, "the receipt holds no "+kind.entity)
	case n > maxReturns:
		p.fail(kind.entity, fmt.Sprintf("%d returns, the schema allows %d", n, maxReturns))
	}
	for i := range raw.Returns {
		p.scope = kind.entity + "[" + strconv.Itoa(i+1) + "]"
		rr := &raw.Returns[i]
		if rr.XMLName.Local != kind.entity || rr.XMLName.Space != Namespace {
			p.fail("", fmt.Sprintf("%s is not a ceb:%s", rr.XMLName.Local, kind.entity))
			break
		}
		rec.Returns = append(rec.Returns, p.ret(kind, rr))
	}
	if p.err != nil {
		return nil, p.err
	}
	return rec, nil
}

// trailing refuses anything but white space, comments and processing
// instructions after the root element.
func trailing(dec *xml.Decoder) error {
	for {
		tok, err := dec.Token()
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return &ReceiptError{Field: "document", Problem: "not well-formed XML: " + err.Error()}
		}
		switch tok := tok.(type) {
		case xml.Comment, xml.ProcInst:
		case xml.CharData:
			if len(bytes.TrimSpace(tok)) != 0 {
				return &ReceiptError{Field: "document", Problem: "content after the root element"}
			}
		default:
			return &ReceiptError{Field: "document", Problem: "content after the root element"}
		}
	}
}

type receiptParser struct {
	typ, scope string
	err        error
}

func (p *receiptParser) fail(field, problem string) {
	if p.err != nil {
		return
	}
	name := p.typ
	switch {
	case p.scope != "" && field != "":
		name += " " + p.scope + "." + field
	case p.scope != "":
		name += " " + p.scope
	case field != "":
		name += " " + field
	}
	p.err = &ReceiptError{Field: name, Problem: problem}
}

// check reads an element's text (trimmed) and checks its length.
func (p *receiptParser) check(field string, v *string, min, max int, required bool) string {
	if v == nil {
		if required {
			p.fail(field, "is required")
		}
		return ""
	}
	s := strings.TrimSpace(*v)
	n := utf8.RuneCountInString(s)
	switch {
	case s == "" && required:
		p.fail(field, "is required")
	case n > max:
		p.fail(field, fmt.Sprintf("is %d characters, the schema allows %d", n, max))
	case s != "" && n < min:
		p.fail(field, fmt.Sprintf("is %d characters, the schema needs %d", n, min))
	}
	return s
}

func (p *receiptParser) ret(kind receiptKind, rr *rawReturn) Return {
	r := Return{
		GUID:           p.check("guid", rr.GUID, 36, 36, true),
		CustomsCode:    p.check("customsCode", rr.CustomsCode, 4, 4, false),
		EbpCode:        p.check("ebpCode", rr.EbpCode, 1, 18, false),
		EbcCode:        p.check("ebcCode", rr.EbcCode, 1, 18, false),
		AgentCode:      p.check("agentCode", rr.AgentCode, 1, 18, false),
		PayCode:        p.check("payCode", rr.PayCode, 1, 18, false),
		LogisticsCode:  p.check("logisticsCode", rr.LogisticsCode, 1, 18, false),
		OrderNo:        p.check("orderNo", rr.OrderNo, 1, 60, kind.key == "orderNo"),
		LogisticsNo:    p.check("logisticsNo", rr.LogisticsNo, 1, 60, kind.key == "logisticsNo"),
		CopNo:          p.check("copNo", rr.CopNo, 1, 30, kind.key == "copNo"),
		PreNo:          p.check("preNo", rr.PreNo, 1, 18, false),
		InvtNo:         p.check("invtNo", rr.InvtNo, 1, 20, false),
		StatisticsFlag: p.check("statisticsFlag", rr.StatisticsFlag, 1, 1, false),
		Info:           p.check("returnInfo", rr.ReturnInfo, 0, 1000, false),
	}
	r.PayNo = p.check("payNo", rr.PayNo, 1, 60, false)
	if tx := p.check("payTransactionId", rr.PayTransactionID, 1, 60, kind.key == "payTransactionId"); tx != "" {
		r.PayNo = tx
	}
	if s := p.check("returnStatus", rr.ReturnStatus, 1, 10, true); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			p.fail("returnStatus", fmt.Sprintf("%q is not an integer", s))
		}
		r.Status = n
	}
	if s := p.check("returnTime", rr.ReturnTime, 17, 17, true); s != "" {
		t, err := parseReturnTime(s)
		if err != nil {
			p.fail("returnTime", fmt.Sprintf("%q is not yyyyMMddHHmmssfff", s))
		}
		r.Time = t
	}
	return r
}

// parseReturnTime reads yyyyMMddHHmmssfff in China time.
func parseReturnTime(s string) (time.Time, error) {
	if len(s) != 17 {
		return time.Time{}, errors.New("length")
	}
	t, err := time.ParseInLocation(receiptTimeLayout, s[:14], ChinaTime)
	if err != nil {
		return time.Time{}, err
	}
	ms, err := strconv.Atoi(s[14:])
	if err != nil || strings.ContainsAny(s[14:], "+-") {
		return time.Time{}, errors.New("milliseconds")
	}
	return t.Add(time.Duration(ms) * time.Millisecond).UTC(), nil
}

func formatReturnTime(t time.Time) string {
	t = t.In(ChinaTime)
	return t.Format(receiptTimeLayout) + fmt.Sprintf("%03d", t.Nanosecond()/int(time.Millisecond))
}

// AnswerFor is the return that answers message msgType of d, with its keys
// and parties filled in as the E-Port writes them; the caller sets Status,
// Time and Info. Simulators and tests use it to write receipts.
func AnswerFor(d *chinacustoms.Declaration, msgType string) (Return, error) {
	typ := ReceiptType(msgType)
	if typ == "" {
		return Return{}, fmt.Errorf("ceb: %s has no receipt", msgType)
	}
	o, p, w, inv := &d.Order, &d.Payment, &d.Waybill, &d.Inventory
	r := Return{GUID: GUID(o.OrderNo, typ, "return")}
	switch typ {
	case "CEB304", "CEB312":
		r.EbpCode, r.EbcCode, r.OrderNo = o.Platform.Code, o.ECommerce.Code, o.OrderNo
	case "CEB404":
		r.EbcCode, r.OrderNo, r.PayNo = o.ECommerce.Code, o.OrderNo, p.TransactionID
	case "CEB412":
		r.PayCode, r.PayNo = p.Company.Code, p.TransactionID
	case "CEB506", "CEB512":
		r.LogisticsCode, r.LogisticsNo = w.Logistics.Code, w.LogisticsNo
	case "CEB604":
		r.AgentCode, r.CopNo, r.EbcCode, r.EbpCode, r.OrderNo = inv.Agent.Code, inv.CopNo, o.ECommerce.Code, o.Platform.Code, o.OrderNo
		r.StatisticsFlag = "A"
	case "CEB622":
		r.CustomsCode, r.EbpCode, r.EbcCode, r.AgentCode, r.CopNo = inv.CustomsCode, o.Platform.Code, o.ECommerce.Code, inv.Agent.Code, inv.CopNo
	}
	return r, nil
}

// RenderReceipt writes the receipt message typ holding rets, in the
// schema's element order, checking the lengths the schema sets.
func RenderReceipt(typ string, rets []Return) ([]byte, error) {
	kind, ok := receiptKinds[typ]
	if !ok {
		return nil, fieldErr(typ, "is not a CEB receipt type")
	}
	if len(rets) == 0 || len(rets) > maxReturns {
		return nil, fieldErr(typ+" "+kind.entity, fmt.Sprintf("%d returns, the schema allows 1 to %d", len(rets), maxReturns))
	}
	w := &writer{msg: typ}
	w.b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	fmt.Fprintf(&w.b, `<ceb:%sMessage xmlns:ceb="%s" guid="%s" version="1.0">`+"\n", typ, Namespace, GUID(rets[0].GUID, typ, "receipt"))
	w.indent = 1
	for i, r := range rets {
		w.scope = kind.entity + "[" + strconv.Itoa(i+1) + "]"
		w.open(kind.entity)
		w.str("guid", r.GUID, 36, 36)
		switch typ {
		case "CEB304", "CEB312":
			w.str("ebpCode", r.EbpCode, 1, 18)
			w.str("ebcCode", r.EbcCode, 1, 18)
			w.str("orderNo", r.OrderNo, 1, 60)
		case "CEB404":
			w.str("ebcCode", r.EbcCode, 1, 18)
			w.str("orderNo", r.OrderNo, 1, 60)
			w.opt("payNo", r.PayNo, 60)
		case "CEB412":
			w.str("payCode", r.PayCode, 1, 18)
			w.str("payTransactionId", r.PayNo, 1, 60)
		case "CEB506":
			w.str("logisticsCode", r.LogisticsCode, 1, 18)
			w.str("logisticsNo", r.LogisticsNo, 1, 32)
		case "CEB512":
			w.str("logisticsCode", r.LogisticsCode, 1, 18)
			w.str("logisticsNo", r.LogisticsNo, 1, 60)
		case "CEB604":
			w.str("agentCode", r.AgentCode, 1, 18)
			w.str("copNo", r.CopNo, 1, 30)
			w.str("preNo", r.PreNo, 18, 18)
			w.str("invtNo", r.InvtNo, 0, 20)
			w.str("ebcCode", r.EbcCode, 1, 18)
			w.str("ebpCode", r.EbpCode, 1, 18)
			w.str("orderNo", r.OrderNo, 1, 60)
			w.str("statisticsFlag", r.StatisticsFlag, 1, 1)
		case "CEB622":
			w.opt("customsCode", r.CustomsCode, 4)
			w.opt("ebpCode", r.EbpCode, 18)
			w.opt("ebcCode", r.EbcCode, 18)
			w.opt("agentCode", r.AgentCode, 18)
			w.str("copNo", r.CopNo, 1, 20)
			w.str("preNo", r.PreNo, 18, 18)
			if r.InvtNo != "" {
				w.str("invtNo", r.InvtNo, 18, 18)
			}
		}
		w.str("returnStatus", strconv.Itoa(r.Status), 1, 10)
		w.str("returnTime", formatReturnTime(r.Time), 17, 17)
		info := r.Info
		if info == "" {
			info, _ = StatusMeaning(r.Status)
		}
		w.str("returnInfo", info, 1, 1000)
		w.close(kind.entity)
	}
	fmt.Fprintf(&w.b, "</ceb:%sMessage>\n", typ)
	if w.err != nil {
		return nil, w.err
	}
	return bytes.Clone(w.b.Bytes()), nil
}
