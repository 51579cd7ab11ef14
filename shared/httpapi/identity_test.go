package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/workers"
)

// The identity number of events/orders/b2c-cn-import.json's buyer
// (fictitious), and how the API shows it.
const (
	sampleIDNumber = "110101199003070038"
	maskedIDNumber = "**************0038"
)

// syncBuffer is a log sink shared by the API and the worker.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tasksAnswered stands in for Step Functions' task-token calls.
type tasksAnswered struct{ answers []string }

func (t *tasksAnswered) SucceedTask(_ context.Context, token, output string) error {
	t.answers = append(t.answers, token+" "+output)
	return nil
}

func (t *tasksAnswered) FailTask(_ context.Context, token, name, cause string) error {
	t.answers = append(t.answers, token+" "+name+" "+cause)
	return nil
}

func (*tasksAnswered) Heartbeat(context.Context, string) error { return nil }

// A retail import into China carries its buyer's identity number from the
// request to the store and into China's customs messages, and shows it in
// no response — the order as placed, replayed, read, listed, cancelled, and
// the operators' view, before and after customs stored its declaration —
// nor in any log line of the API or the customs worker. Responses show it
// masked.
func TestIdentityNumberIsNeverShown(t *testing.T) {
	ctx := context.Background()
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := memstore.New()
	authn, err := auth.NewLocalHS256(secret)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Auth: authn, Workflow: &enqueueRecorder{},
		Quoter: customs.Default(), Quotes: store, Logger: log}))
	t.Cleanup(srv.Close)
	h := &harness{t: t, srv: srv, store: store, tasks: &taskRecorder{}, queue: &enqueueRecorder{}, clock: &clock{}}
	doc := loadOpenAPI(t)
	orderSchema := doc.Paths["/v1/orders/{id}"]["get"].Responses["200"].Content["application/json"].Schema
	var bodies []string
	shown := func(what string, r response, status int) map[string]any {
		t.Helper()
		wantStatus(t, r, status)
		if strings.Contains(string(r.body), sampleIDNumber) || strings.Contains(string(r.body), sampleIDNumber[6:14]) {
			t.Fatalf("%s shows the identity number:\n%s", what, r.body)
		}
		bodies = append(bodies, string(r.body))
		return r.json(t)
	}
	buyerIdentity := func(what string, o map[string]any) {
		t.Helper()
		id, _ := o["buyer"].(map[string]any)["identity"].(map[string]any)
		if id["type"] != "1" || id["number"] != maskedIDNumber {
			t.Fatalf("%s shows the identity as %v, want type 1 and %s", what, id, maskedIDNumber)
		}
	}

	body := sample(t, "b2c-cn-import.json")
	placed := shown("the accepted order", h.post("wang", "cn-import-1", body), http.StatusAccepted)
	buyerIdentity("the accepted order", placed)
	if placed["fx"] == nil || placed["fx"].(map[string]any)["to"] != "CNY" {
		t.Fatalf("no renminbi rate locked at intake: %v", placed["fx"])
	}
	id := placed["orderId"].(string)
	replayed := h.post("wang", "cn-import-1", body)
	if replayed.header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("the retry was not replayed")
	}
	shown("the replayed order", replayed, http.StatusAccepted)
	got := shown("the order", h.do(http.MethodGet, "/v1/orders/"+id, "wang", nil, nil), http.StatusOK)
	buyerIdentity("the order", got)
	doc.conforms(t, "GET /v1/orders/{id}", orderSchema, got)

	stored, err := store.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Buyer.Identity == nil || stored.Buyer.Identity.Number != sampleIDNumber {
		t.Fatalf("the store holds %v: the declaration needs the number itself", stored.Buyer.Identity)
	}

	// The workflow reserves stock and authorises the payment; the customs
	// worker declares the order and keeps China's messages with it.
	stored.Charge = &order.Charge{ID: "ch_" + id, Status: order.ChargeAuthorized, Amount: stored.ChargeAmount()}
	for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized} {
		ev, err := stored.Transition(st, "", "workflow", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := store.SaveTransition(ctx, stored, ev); err != nil {
			t.Fatal(err)
		}
	}
	tasks := &tasksAnswered{}
	w := workers.NewCustoms(&steps.Steps{Orders: store, Logger: log}, tasks, &workers.BrokerSimulator{}, log)
	msg, _ := json.Marshal(workers.TaskMessage{OrderID: id, TaskToken: "t-customs"})
	if resp, _ := w.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: string(msg)}}}); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the customs worker failed: %+v\n%s", resp, logs.String())
	}
	cleared, err := store.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	docs, err := store.CustomsDocuments(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if cleared.Status != order.StatusCustomsCleared || len(docs.Messages) != 4 {
		t.Fatalf("status %s, %d messages, answers %v\n%s", cleared.Status, len(docs.Messages), tasks.answers, logs.String())
	}
	for _, m := range docs.Messages {
		if m.Type != "CEB511" && !strings.Contains(m.XML, ">"+sampleIDNumber+"<") {
			t.Errorf("%s does not carry the identity number", m.Type)
		}
	}
	if !bytes.Contains(docs.Declaration, []byte(sampleIDNumber)) {
		t.Fatal("the stored declaration no longer repeats the number: this test no longer shows that the views mask it")
	}

	got = shown("the cleared order", h.do(http.MethodGet, "/v1/orders/"+id, "wang", nil, nil), http.StatusOK)
	buyerIdentity("the cleared order", got)
	// The owner's view carries no declaration (the filing is the merchant's
	// and the operators' business); the operators' view masks it.
	if c, _ := got["customs"].(map[string]any); c == nil || c["declaration"] != nil || c["supervisionMode"] != nil || c["assessed"] == nil {
		t.Errorf("the owner's customs view: %v, want the assessed charges only", got["customs"])
	}
	doc.conforms(t, "GET /v1/orders/{id}", orderSchema, got)
	shown("the order list", h.do(http.MethodGet, "/v1/orders", "wang", nil, nil), http.StatusOK)
	opsGet := func(path string) response {
		return h.do(http.MethodGet, path, "", nil, map[string]string{"Authorization": "Bearer " + opsToken(t, "olga")})
	}
	detail := shown("the operators' view", opsGet("/v1/ops/orders/"+id), http.StatusOK)
	buyerIdentity("the operators' view", detail["order"].(map[string]any))
	decl, _ := detail["order"].(map[string]any)["customs"].(map[string]any)["declaration"].(map[string]any)
	china, _ := decl["china"].(map[string]any)
	for _, f := range []struct{ doc, field string }{{"Order", "BuyerIDNumber"}, {"Payment", "PayerIDNumber"}, {"Inventory", "BuyerIDNumber"}} {
		if v := china[f.doc].(map[string]any)[f.field]; v != maskedIDNumber {
			t.Errorf("the declaration's %s.%s shows %v, want %s", f.doc, f.field, v, maskedIDNumber)
		}
	}
	doc.conforms(t, "GET /v1/ops/orders/{id}", doc.Paths["/v1/ops/orders/{id}"]["get"].Responses["200"].Content["application/json"].Schema, detail)
	shown("the operators' list of declarations", opsGet("/v1/ops/orders/"+id+"/declarations"), http.StatusOK)
	// GET /v1/ops/orders/{id}/declarations/{type} is the exception: it serves
	// the CEB message itself, as it is submitted, identity number included;
	// each download is recorded, who and when, in the audit log.
	if dl := opsGet("/v1/ops/orders/" + id + "/declarations/CEB311"); dl.status != http.StatusOK || !strings.Contains(string(dl.body), sampleIDNumber) {
		t.Fatalf("the CEB311 download: %d", dl.status)
	}
	audit := regexp.MustCompile(`"msg":"identity number disclosed","audit":"customs-message-download","operator":"olga","orderId":"` + id + `","messageType":"CEB311","at":"[^"]+"`)
	if !audit.MatchString(logs.String()) {
		t.Errorf("the download is not in the audit log:\n%s", logs.String())
	}
	cancelled := shown("the cancelled order", h.do(http.MethodPost, "/v1/orders/"+id+"/cancel", "wang", nil, nil), http.StatusAccepted)
	buyerIdentity("the cancelled order", cancelled)

	if strings.Contains(logs.String(), sampleIDNumber) || strings.Contains(logs.String(), sampleIDNumber[6:14]) {
		t.Fatalf("the identity number is in the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"orderId":"`+id+`"`) {
		t.Fatal("nothing was logged about the order: the log check checks nothing")
	}
	if len(bodies) != 8 {
		t.Fatalf("%d responses checked", len(bodies))
	}
}

// The other samples, and orders that are not retail imports into China,
// carry no identity at all: the API refuses one.
func TestIdentityOnlyForRetailImportsIntoChina(t *testing.T) {
	h := newHarness(t, memstore.New())
	var d map[string]any
	if err := json.Unmarshal(sample(t, "mobile-b2c-de.json"), &d); err != nil {
		t.Fatal(err)
	}
	d["buyer"].(map[string]any)["identity"] = map[string]any{"type": "1", "number": sampleIDNumber}
	body, _ := json.Marshal(d)
	p := wantProblem(t, h.post("lena", "de-with-identity", body), http.StatusUnprocessableEntity, "/problems/validation-failed")
	errs := p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "/buyer/identity" || errs[0].(map[string]any)["code"] != "not_allowed" {
		t.Fatalf("errors %v", errs)
	}

	var cn map[string]any
	if err := json.Unmarshal(sample(t, "b2c-cn-import.json"), &cn); err != nil {
		t.Fatal(err)
	}
	delete(cn["buyer"].(map[string]any), "identity")
	body, _ = json.Marshal(cn)
	p = wantProblem(t, h.post("wang", "cn-without-identity", body), http.StatusUnprocessableEntity, "/problems/validation-failed")
	errs = p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "/buyer/identity" || errs[0].(map[string]any)["code"] != "required" {
		t.Fatalf("errors %v", errs)
	}

	cn["buyer"].(map[string]any)["identity"] = map[string]any{"type": "1", "number": sampleIDNumber[:17] + "9"}
	body, _ = json.Marshal(cn)
	r := h.post("wang", "cn-bad-checksum", body)
	p = wantProblem(t, r, http.StatusUnprocessableEntity, "/problems/validation-failed")
	errs = p["errors"].([]any)
	if len(errs) != 1 || errs[0].(map[string]any)["field"] != "/buyer/identity/number" || errs[0].(map[string]any)["code"] != "invalid" {
		t.Fatalf("errors %v", errs)
	}
	if strings.Contains(string(r.body), sampleIDNumber[:17]) {
		t.Fatalf("the problem quotes the number: %s", r.body)
	}
}
