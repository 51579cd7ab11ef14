package opsconsole_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/opsconsole"
)

// fakeOps serves the ops API's contract (/v1/ops/…) from memory, next to
// the console, for the page's own browser test.
type fakeOps struct {
	mu       sync.Mutex
	orders   map[string]*fakeOrder
	dlq      []map[string]any
	redrives map[string]int
	cancels  map[string]int
	replays  []string
	xmlReads int
	now      time.Time
}

type fakeOrder struct {
	order   map[string]any
	history []map[string]any
	exec    map[string]any
	steps   []map[string]any
	actions []string
	// decls are the order's CEB messages (GET …/declarations), xml their
	// text by type.
	decls []map[string]any
	xml   map[string]string
	// after a redrive, the order moves on by one step per read.
	redriven int
	conflict string // a redrive answers 409 with this detail
}

const (
	stalled1   = "01JSTALLED0000000000000001"
	stalled2   = "01JSTALLED0000000000000002"
	rejected   = "01JREJECTED000000000000001"
	declined   = "01JDECLINED000000000000001"
	hostile    = "01JHOSTILE0000000000000001"
	stalledNew = "01JSTALLED0000000000000003"
	china      = "01JCHINA000000000000000001"
	hostileTxt = `<img src=x onerror="window.__xss=1">`
)

// fakeToken is an unsigned JWT-shaped token (the fake checks it as a
// string; the page only reads its claims for display).
func fakeToken(sub string, groups ...string) string {
	enc := base64.RawURLEncoding
	claims, _ := json.Marshal(map[string]any{"sub": sub, "cognito:groups": groups, "exp": time.Now().Add(time.Hour).Unix()})
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(claims) + ".c2ln"
}

var (
	opsToken      = fakeToken("olivia", "ops")
	customerToken = fakeToken("carl")
)

func newFakeOps() *fakeOps {
	f := &fakeOps{orders: map[string]*fakeOrder{}, redrives: map[string]int{}, cancels: map[string]int{}, now: time.Now().UTC()}
	at := func(min int) string { return f.now.Add(time.Duration(min) * time.Minute).Format(time.RFC3339Nano) }
	step := func(name, status string, start, end int, extra ...any) map[string]any {
		s := map[string]any{"name": name, "status": status, "start": at(start), "end": at(end), "durationMs": (end - start) * 60000, "attempts": 1}
		for i := 0; i+1 < len(extra); i += 2 {
			s[extra[i].(string)] = extra[i+1]
		}
		return s
	}
	order := func(id, status, reason string, extra map[string]any) map[string]any {
		o := map[string]any{"orderId": id, "customerId": "cust-42", "status": status, "reason": reason, "version": 3,
			"tradeMode": "B2C", "channel": "mobile", "fulfilment": "direct_mail", "currency": "EUR",
			"total":     map[string]any{"amount": 12999, "currency": "EUR"},
			"payment":   map[string]any{"method": "card", "token": "tok_transient_5"},
			"consignee": map[string]any{"name": "Erika Muster", "address": map[string]any{"line1": "Hauptstr. 1", "city": "Berlin", "country": "DE"}},
			"lines": []any{map[string]any{"sku": "EARBUDS-BT5", "title": "Wireless earbuds", "hsCode": "851830", "quantity": 1,
				"unitPrice": map[string]any{"amount": 12999, "currency": "EUR"}, "lineTotal": map[string]any{"amount": 12999, "currency": "EUR"}, "originCountry": "CN"}},
			"createdAt": at(-40), "updatedAt": at(-30), "statusSince": at(-30)}
		for k, v := range extra {
			o[k] = v
		}
		return o
	}
	hist := func(to ...string) []map[string]any {
		var h []map[string]any
		from := ""
		for i, s := range to {
			h = append(h, map[string]any{"version": i + 1, "at": at(-40 + i), "from": from, "to": s, "actor": "workflow"})
			from = s
		}
		h[0]["actor"] = "customer:cust-42"
		return h
	}
	authFailed := step("AuthorizePayment", "failed", -35, -30, "error", "TransientError",
		"cause", `{"errorMessage":"payment provider unavailable (simulated: tok_transient_5)","errorType":"TransientError"}`, "attempts", 5)
	f.orders[stalled1] = &fakeOrder{
		order:   order(stalled1, "STALLED", "TransientError", map[string]any{"stockReserved": true, "warehouse": "DE-BER-1"}),
		history: hist("RECEIVED", "STOCK_RESERVED", "STALLED"),
		exec: map[string]any{"executionArn": "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + stalled1, "status": "FAILED",
			"startDate": at(-40), "stopDate": at(-30), "error": "TransientError", "cause": "payment provider unavailable", "redriveCount": 0},
		steps:   []map[string]any{step("Screen", "succeeded", -40, -40), step("ReserveStock", "succeeded", -40, -39), authFailed},
		actions: []string{"redrive", "cancel"},
	}
	f.orders[stalled2] = &fakeOrder{
		order:   order(stalled2, "STALLED", "TransientError", map[string]any{"tradeMode": "B2B", "channel": "web", "partnerId": "e2e-shop"}),
		history: hist("RECEIVED", "STOCK_RESERVED", "STALLED"),
		exec:    map[string]any{"executionArn": "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + stalled2, "status": "FAILED", "startDate": at(-20), "stopDate": at(-19), "error": "TransientError"},
		steps:   []map[string]any{step("Screen", "succeeded", -20, -20), step("ReserveStock", "failed", -20, -19, "error", "TransientError", "cause", "DynamoDB throttled", "attempts", 5)},
		actions: []string{"redrive", "cancel"}, conflict: "The execution is not redrivable: it is running again already.",
	}
	f.orders[rejected] = &fakeOrder{
		order: order(rejected, "REJECTED", "denied_party", map[string]any{"screening": map[string]any{"reason": "denied_party", "entryId": "DPL-0042",
			"list": "denied-parties", "matched": "ACME TRADING LTD", "field": "/consignee/name", "source": "Consolidated screening list extract, 2025-01-15"}}),
		history: hist("RECEIVED", "REJECTED"),
		exec:    map[string]any{"executionArn": "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + rejected, "status": "SUCCEEDED", "startDate": at(-40), "stopDate": at(-40)},
		steps:   []map[string]any{step("Screen", "caught", -40, -40, "error", "OrderRejected", "cause", "denied_party"), step("Compensate", "succeeded", -40, -40)},
		actions: []string{},
	}
	f.orders[declined] = &fakeOrder{
		order:   order(declined, "PAYMENT_DECLINED", "card_declined", nil),
		history: hist("RECEIVED", "STOCK_RESERVED", "PAYMENT_DECLINED"),
		exec:    map[string]any{"executionArn": "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + declined, "status": "SUCCEEDED", "startDate": at(-40), "stopDate": at(-39)},
		steps: []map[string]any{step("Screen", "succeeded", -40, -40), step("ReserveStock", "succeeded", -40, -40),
			step("AuthorizePayment", "caught", -40, -39, "error", "PaymentDeclined", "cause", "card_declined"), step("Compensate", "succeeded", -39, -39)},
		actions: []string{},
	}
	f.orders[hostile] = &fakeOrder{
		order: order(hostile, "FAILED", hostileTxt, map[string]any{"lines": []any{map[string]any{"sku": "<b>SKU</b>", "title": `<script>window.__xss=2</script>`,
			"hsCode": "851830", "quantity": 1, "lineTotal": map[string]any{"amount": 100, "currency": "JPY"}, "originCountry": "CN"}},
			"total": map[string]any{"amount": 1999, "currency": "JPY"}}),
		history: hist("RECEIVED", "FAILED"),
		exec:    nil,
		steps:   []map[string]any{step("Screen", "failed", -40, -40, "error", `<b>bold</b>`, "cause", `<img src=x onerror="window.__xss=3">`)},
		actions: []string{},
	}
	receipt := func(typ, answers string, status int, outcome, meaning, info string, min int) map[string]any {
		return map[string]any{"type": typ, "answers": answers, "guid": "4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02", "returnStatus": status,
			"meaning": meaning, "outcome": outcome, "info": info, "at": at(min), "receivedAt": at(min)}
	}
	decl := func(typ, latest string, receipts ...map[string]any) map[string]any {
		r := []any{}
		for _, x := range receipts {
			r = append(r, x)
		}
		return map[string]any{"type": typ, "bytes": 2210, "at": at(-39), "latest": latest, "receipts": r,
			"links": map[string]any{"xml": "/v1/ops/orders/" + china + "/declarations/" + typ}}
	}
	f.orders[china] = &fakeOrder{
		order:   order(china, "DISPATCHED", "", map[string]any{"customs": map[string]any{"supervisionMode": "9610"}, "trackingNumber": "XB00000001DE"}),
		history: hist("RECEIVED", "STOCK_RESERVED", "PAYMENT_AUTHORIZED", "CUSTOMS_CLEARED", "PAYMENT_CAPTURED", "DISPATCHED"),
		exec: map[string]any{"executionArn": "arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + china, "status": "SUCCEEDED",
			"startDate": at(-40), "stopDate": at(-38)},
		actions: []string{},
		decls: []map[string]any{
			decl("CEB303", "cleared", receipt("CEB304", "CEB303", 120, "pending", "stored by customs (海关入库)", "入库", -39),
				receipt("CEB304", "CEB303", 399, "cleared", "cleared by customs (海关审结)", "审结", -38)),
			decl("CEB603", "held", receipt("CEB604", "CEB603", 500, "held", "held for inspection (查验)", hostileTxt, -37)),
		},
		xml: map[string]string{
			"CEB303": `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ceb:CEB303Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0"><ceb:itemName>` +
				hostileTxt + `</ceb:itemName></ceb:CEB303Message>`,
			"CEB603": `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<ceb:CEB603Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="G" version="1.0"/>`,
		},
	}
	f.dlq = []map[string]any{{"messageId": "m-1", "body": `{"orderId":"` + stalled1 + `","step":"customs"}`, "receiveCount": 5, "sentAt": at(-60)}}
	return f
}

func (f *fakeOps) addStalled() {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := *f.orders[stalled2]
	o.order = map[string]any{}
	for k, v := range f.orders[stalled2].order {
		o.order[k] = v
	}
	o.order["orderId"] = stalledNew
	o.order["updatedAt"] = time.Now().UTC().Format(time.RFC3339Nano)
	o.order["statusSince"] = o.order["updatedAt"]
	f.orders[stalledNew] = &o
}

// serve mounts the console and the fake API on one origin, as the API does.
func (f *fakeOps) serve() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /ops/", opsconsole.Handler())
	mux.HandleFunc("/v1/ops/", f.api)
	return mux
}

func problem(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"type": "/problems/" + strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "-")),
		"title": http.StatusText(status), "status": status, "detail": detail})
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeOps) api(w http.ResponseWriter, r *http.Request) {
	switch r.Header.Get("Authorization") {
	case "Bearer " + opsToken:
	case "Bearer " + customerToken:
		problem(w, http.StatusForbidden, "The ops API is for members of the ops group.")
		return
	default:
		problem(w, http.StatusUnauthorized, "A valid bearer token is required.")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	p := strings.TrimPrefix(r.URL.Path, "/v1/ops")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	switch {
	case r.Method == http.MethodGet && p == "/summary":
		counts := map[string]int{}
		for _, s := range []string{"RECEIVED", "STOCK_RESERVED", "PAYMENT_AUTHORIZED", "CUSTOMS_CLEARED", "PAYMENT_CAPTURED", "DISPATCHED",
			"DELIVERED", "STALLED", "REJECTED", "PAYMENT_DECLINED", "CUSTOMS_REJECTED", "CANCELLED", "FAILED"} {
			counts[s] = 0
		}
		counts["DELIVERED"] = 40
		for _, o := range f.orders {
			counts[o.order["status"].(string)]++
		}
		reply(w, 200, map[string]any{"counts": counts, "stuck": 1, "at": time.Now().UTC(),
			"dlqs": []any{map[string]any{"queue": "customs-requests", "depth": len(f.dlq)}, map[string]any{"queue": "orders-accepted", "depth": 0}}})
	case r.Method == http.MethodGet && p == "/orders":
		reply(w, 200, map[string]any{"orders": f.list(func(o *fakeOrder) bool { return o.order["status"] == r.URL.Query().Get("status") })})
	case r.Method == http.MethodGet && p == "/orders/stuck":
		reply(w, 200, map[string]any{"orders": f.list(func(o *fakeOrder) bool { return o.order["orderId"] == stalled1 })})
	case r.Method == http.MethodGet && len(parts) == 2 && parts[0] == "orders":
		o, ok := f.orders[parts[1]]
		if !ok {
			problem(w, 404, "No such order.")
			return
		}
		f.advance(o)
		decls := []map[string]any{}
		if o.decls != nil {
			decls = o.decls
		}
		reply(w, 200, map[string]any{"order": o.order, "history": o.history, "execution": o.exec, "steps": o.steps, "actions": o.actions,
			"declarations": decls})
	case r.Method == http.MethodGet && len(parts) == 4 && parts[0] == "orders" && parts[2] == "declarations":
		o, ok := f.orders[parts[1]]
		if !ok || o.xml[parts[3]] == "" {
			problem(w, 404, "No "+parts[3]+" message for this order.")
			return
		}
		f.xmlReads++
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
		_, _ = w.Write([]byte(o.xml[parts[3]]))
	case r.Method == http.MethodPost && len(parts) == 3 && parts[0] == "orders" && (parts[2] == "redrive" || parts[2] == "cancel"):
		o, ok := f.orders[parts[1]]
		if !ok {
			problem(w, 404, "No such order.")
			return
		}
		if parts[2] == "cancel" {
			f.cancels[parts[1]]++
			reply(w, 202, map[string]any{"orderId": parts[1]})
			return
		}
		f.redrives[parts[1]]++
		if o.conflict != "" {
			problem(w, http.StatusConflict, o.conflict)
			return
		}
		o.redriven = 1
		o.actions = []string{}
		reply(w, 202, map[string]any{"orderId": parts[1], "executionArn": o.exec["executionArn"]})
	case r.Method == http.MethodGet && p == "/dlqs":
		reply(w, 200, map[string]any{"dlqs": []any{
			map[string]any{"queue": "customs-requests", "dlqUrl": "/000000000000/customs-requests-dlq", "depth": len(f.dlq), "sourceUrl": "/000000000000/customs-requests"},
			map[string]any{"queue": "orders-accepted", "dlqUrl": "/000000000000/orders-accepted-dlq", "depth": 0, "sourceUrl": "/000000000000/orders-accepted"}}})
	case r.Method == http.MethodGet && len(parts) == 3 && parts[0] == "dlqs" && parts[2] == "messages":
		reply(w, 200, map[string]any{"messages": f.dlq})
	case r.Method == http.MethodPost && len(parts) == 5 && parts[0] == "dlqs" && parts[4] == "replay":
		for i, m := range f.dlq {
			if m["messageId"] == parts[3] {
				f.dlq = append(f.dlq[:i], f.dlq[i+1:]...)
				f.replays = append(f.replays, parts[1]+"/"+parts[3])
				reply(w, 202, map[string]any{})
				return
			}
		}
		problem(w, 404, "No such message in "+parts[1]+".")
	default:
		problem(w, 404, fmt.Sprintf("No route %s %s in the fake.", r.Method, p))
	}
}

func (f *fakeOps) list(keep func(*fakeOrder) bool) []any {
	var out []map[string]any
	for _, o := range f.orders {
		if !keep(o) {
			continue
		}
		m := o.order
		out = append(out, map[string]any{"orderId": m["orderId"], "status": m["status"], "reason": m["reason"], "tradeMode": m["tradeMode"],
			"channel": m["channel"], "partnerId": m["partnerId"], "destination": "DE", "total": m["total"], "createdAt": m["createdAt"], "statusSince": m["statusSince"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i]["statusSince"].(string) > out[j]["statusSince"].(string) })
	res := make([]any, len(out))
	for i := range out {
		res[i] = out[i]
	}
	return res
}

// advance moves a redriven order on: running again, then dispatched.
func (f *fakeOps) advance(o *fakeOrder) {
	if o.redriven == 0 || o.order["status"] == "DISPATCHED" {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	o.redriven++
	if o.redriven == 2 {
		o.exec["status"], o.exec["redriveCount"], o.exec["stopDate"] = "RUNNING", 1, nil
		o.steps = append(o.steps, map[string]any{"name": "AuthorizePayment", "status": "running", "start": now, "attempts": 1})
		return
	}
	last := o.steps[len(o.steps)-1]
	last["status"], last["end"], last["durationMs"] = "succeeded", now, 850
	for _, n := range []string{"Customs", "CapturePayment", "Dispatch"} {
		o.steps = append(o.steps, map[string]any{"name": n, "status": "succeeded", "start": now, "end": now, "durationMs": 120, "attempts": 1})
	}
	o.exec["status"], o.exec["stopDate"] = "SUCCEEDED", now
	o.order["status"], o.order["reason"], o.order["trackingNumber"] = "DISPATCHED", "", "TRK-0001"
	o.order["charge"] = map[string]any{"id": "pi_sim_1", "status": "captured", "amount": o.order["total"], "captured": o.order["total"]}
	o.history = append(o.history, map[string]any{"version": len(o.history) + 1, "at": now, "from": "STALLED", "to": "DISPATCHED", "reason": "redriven", "actor": "ops:olivia"})
}
