package partnersim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinagoods"
	"github.com/xborder/xborder/shared/partnerlink"
)

// EPort is China's E-Port and customs behind the enterprise's data
// exchange connector: each message gets 120 (stored by customs) and 399
// (cleared), the inventory list also 800 (released); a message whose goods
// name (itemName) is not Chinese gets 120 and then 100 (rejected). The
// receipts are read off the message itself, as customs reads it, and each
// is posted to the callbackUrl as a ceb.receipt notification, Delay after
// the submission (500 ms when zero), in order. A message submitted again
// (same guid) is answered again with the receipts decided for it: a
// status query.
type EPort struct {
	*base
	delay  time.Duration
	mu     sync.Mutex
	byGUID map[string]*cebAnswer
}

// cebAnswer is one message and its receipts, as the journal keeps them.
type cebAnswer struct {
	GUID     string    `json:"guid"`
	OrderNo  string    `json:"orderNo"`
	Type     string    `json:"type"`
	Receipts []string  `json:"receipts"`
	Callback string    `json:"callback"`
	At       time.Time `json:"at"`
}

// NewEPort starts an E-Port's state: the receipts decided, and those not
// delivered yet, which it delivers now.
func NewEPort(c Config) (*EPort, error) {
	b, err := c.base()
	if err != nil {
		return nil, err
	}
	delay := c.Delay
	if delay <= 0 {
		delay = 500 * time.Millisecond
	}
	e := &EPort{base: b, delay: delay, byGUID: map[string]*cebAnswer{}}
	sent, err := open(b, c, func(a cebAnswer) { e.byGUID[a.GUID] = &a })
	if err != nil {
		return nil, err
	}
	for _, a := range e.byGUID {
		var left []note
		for _, n := range e.notesOf(a, a.At) {
			if !sent[n.ID] {
				left = append(left, n)
			}
		}
		b.notes.send(left...)
	}
	return e, nil
}

// notesOf are a's receipts as notifications, due at at, delivered in order.
func (e *EPort) notesOf(a *cebAnswer, at time.Time) []note {
	var out []note
	for i, x := range a.Receipts {
		body, _ := json.Marshal(partnerlink.Notification{Type: partnerlink.NotifyCEBReceipt, XML: x})
		out = append(out, note{ID: a.GUID + ":" + strconv.Itoa(i), URL: a.Callback, Body: body, At: at})
	}
	return out
}

func (e *EPort) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _, ok := e.verified(w, r)
	if !ok {
		return
	}
	var sub partnerlink.CEBSubmission
	if err := decode(body, &sub); err != nil || sub.OrderNo == "" || len(sub.Messages) == 0 || sub.CallbackURL == "" {
		problem(w, http.StatusBadRequest, "invalid_request", "want a CEBSubmission with an orderNo, a callbackUrl and messages")
		return
	}
	due := e.now().Add(e.delay)
	var answers []*cebAnswer
	e.mu.Lock()
	for _, m := range sub.Messages {
		a, known := e.byGUID[m.GUID]
		if !known {
			receipts, err := decideReceipts(sub.OrderNo, m, e.now())
			if err != nil {
				e.mu.Unlock()
				problem(w, http.StatusBadRequest, "invalid_message", err.Error())
				return
			}
			a = &cebAnswer{GUID: m.GUID, OrderNo: sub.OrderNo, Type: m.Type, Receipts: receipts, Callback: sub.CallbackURL, At: due.UTC()}
			if err := e.j.append(a); err != nil {
				e.mu.Unlock()
				problem(w, http.StatusServiceUnavailable, "unavailable", "state not kept: try again")
				return
			}
			e.byGUID[m.GUID] = a
		}
		answers = append(answers, a)
	}
	e.mu.Unlock()
	// The receipts of the submission in order: message by message.
	var notes []note
	for _, a := range answers {
		notes = append(notes, e.notesOf(a, due)...)
	}
	e.notes.send(notes...)
	answer(w, http.StatusAccepted, partnerlink.CEBAnswer{Accepted: len(sub.Messages)})
}

// Close stops the deliveries and closes the journal.
func (e *EPort) Close() {
	e.notes.close()
	e.j.close()
}

var (
	itemNames = regexp.MustCompile(`<ceb:itemName>([^<]*)</ceb:itemName>`)
	fields    = map[string]*regexp.Regexp{}
)

// field is the first value of element name in a message.
func field(xml, name string) string {
	re, ok := fields[name]
	if !ok {
		re = regexp.MustCompile(`<ceb:` + name + `>([^<]*)</ceb:` + name + `>`)
		fields[name] = re
	}
	if m := re.FindStringSubmatch(xml); m != nil {
		return m[1]
	}
	return ""
}

func init() {
	for _, n := range []string{"orderNo", "ebpCode", "ebcCode", "payCode", "payTransactionId", "logisticsCode", "logisticsNo", "agentCode", "copNo", "customsCode"} {
		field("", n)
	}
}

// decideReceipts is customs' answer to one message, read off it.
func decideReceipts(orderNo string, m partnerlink.CEBMessage, at time.Time) ([]string, error) {
	typ := ceb.ReceiptType(m.Type)
	if typ == "" {
		return nil, fmt.Errorf("%s has no receipt", m.Type)
	}
	x := m.XML
	r := ceb.Return{}
	switch typ {
	case "CEB304", "CEB312":
		r.EbpCode, r.EbcCode, r.OrderNo = field(x, "ebpCode"), field(x, "ebcCode"), field(x, "orderNo")
	case "CEB404":
		r.EbcCode, r.OrderNo, r.PayNo = field(x, "ebcCode"), field(x, "orderNo"), field(x, "payTransactionId")
	case "CEB412":
		r.PayCode, r.PayNo = field(x, "payCode"), field(x, "payTransactionId")
	case "CEB506", "CEB512":
		r.LogisticsCode, r.LogisticsNo = field(x, "logisticsCode"), field(x, "logisticsNo")
	case "CEB604":
		r.AgentCode, r.CopNo, r.EbcCode, r.EbpCode, r.OrderNo = field(x, "agentCode"), field(x, "copNo"), field(x, "ebcCode"), field(x, "ebpCode"), field(x, "orderNo")
		r.StatisticsFlag = "A"
	case "CEB622":
		r.CustomsCode, r.EbpCode, r.EbcCode, r.AgentCode, r.CopNo = field(x, "customsCode"), field(x, "ebpCode"), field(x, "ebcCode"), field(x, "agentCode"), field(x, "copNo")
	}
	statuses := []int{120, 399}
	if m.Type == "CEB603" || m.Type == "CEB621" {
		statuses = append(statuses, 800)
	}
	for _, n := range itemNames.FindAllStringSubmatch(x, -1) {
		if !chinagoods.Chinese(n[1]) {
			statuses = []int{120, 100}
			break
		}
	}
	var out []string
	for i, status := range statuses {
		ret := r
		ret.Status, ret.Time = status, at.Add(time.Duration(i)*time.Second)
		if status == 100 {
			ret.Info = "[Code:1302;Desc:商品名称应为中文规范名称] the goods' name must be their Chinese name"
		} else {
			ret.Info, _ = ceb.StatusMeaning(status)
		}
		if typ == "CEB604" || typ == "CEB622" {
			ret.PreNo = "I" + at.UTC().Format("20060102") + fmt.Sprintf("%09d", at.UnixNano()%1e9)
			if status >= 399 {
				dir := "E"
				if typ == "CEB622" {
					dir = "I"
				}
				ret.InvtNo = field(x, "customsCode") + at.UTC().Format("2006") + dir + fmt.Sprintf("%09d", at.UnixNano()%1e9)
			}
		}
		ret.GUID = ceb.GUID(orderNo, m.Type, fmt.Sprintf("return-%d", status))
		raw, err := ceb.RenderReceipt(typ, []ceb.Return{ret})
		if err != nil {
			return nil, fmt.Errorf("the receipt of %s: %w", m.Type, err)
		}
		out = append(out, string(raw))
	}
	return out, nil
}
