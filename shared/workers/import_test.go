package workers

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/order"
)

// sampleIDNumber is the fictitious identity number of the buyer of
// events/orders/b2c-cn-import.json.
const sampleIDNumber = "110101199003070038"

// cnImport stores the sample retail import into China (events/orders/
// b2c-cn-import.json) as intake accepts it — validated, with the USD → CNY
// rate locked on 2026-11-24 — and moves it to PAYMENT_AUTHORIZED. change,
// if not nil, alters the draft before it is validated.
func cnImport(t *testing.T, f *fixture, n int, change func(d *order.Draft)) *order.Order {
	t.Helper()
	raw, err := os.ReadFile("../../events/orders/b2c-cn-import.json")
	if err != nil {
		t.Fatal(err)
	}
	var d order.Draft
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&d)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("the sample is not a valid order: %+v", errs)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	fx, err := customs.Default().LockRate(d.Currency, d.Destination(), at)
	if err != nil {
		t.Fatal(err)
	}
	return f.newOrder(t, n, order.StatusPaymentAuthorized, func(o *order.Order) {
		accepted, _ := order.Accept(d, o.ID, o.CustomerID, "customer:"+o.CustomerID, at)
		accepted.FX = fx
		accepted.Charge = &order.Charge{ID: "ch_" + o.ID, Status: order.ChargeAuthorized, Amount: accepted.Total}
		*o = *accepted
	})
}

// clearLogged runs the customs worker on one order, logging at debug level
// into the returned buffer, and returns the order as stored.
func clearLogged(t *testing.T, f *fixture, o *order.Order) (*order.Order, string, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.s.Logger = log
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, log)
	resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-" + o.ID}))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the message failed: %+v\n%s", resp, logs.String())
	}
	got, err := f.store.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got, f.tasks.answers[len(f.tasks.answers)-1], &logs
}

// The sample retail import into China (1210, through the bonded
// warehouse: the one fulfilment that reaches China in the stock network)
// clears customs with its four CEB messages, each carrying the identity
// number where the message has one (the buyer's in CEB311 and CEB621, the
// payer's — the same person — in CEB411), valid against the official schema
// (CEB621 with a placeholder signature: the operator's signer adds the real
// one). The number is stored, and logged nowhere.
func TestCustomsRendersTheMessagesOfARetailImportIntoChina(t *testing.T) {
	f := newFixture()
	o := cnImport(t, f, 60, nil)
	got, answer, logs := clearLogged(t, f, o)
	if got.Status != order.StatusCustomsCleared || answer != "t-"+o.ID+` success {"declaration":"CD-`+o.ID+`"}` {
		t.Fatalf("status %s, answer %q\n%s", got.Status, answer, logs)
	}
	if got.Customs.SupervisionMode != "1210" || got.Buyer.Identity == nil || got.Buyer.Identity.Number != sampleIDNumber {
		t.Fatalf("mode %q, identity stored %v", got.Customs.SupervisionMode, got.Buyer.Identity)
	}
	var types []string
	for _, m := range docsOf(t, f, got.ID).Messages {
		types = append(types, m.Type)
		var want []string
		switch m.Type {
		case "CEB311", "CEB621":
			want = []string{"<ceb:buyerIdType>1</ceb:buyerIdType>", "<ceb:buyerIdNumber>" + sampleIDNumber + "</ceb:buyerIdNumber>", "<ceb:buyerName>王小明</ceb:buyerName>"}
		case "CEB411":
			want = []string{"<ceb:payerIdType>1</ceb:payerIdType>", "<ceb:payerIdNumber>" + sampleIDNumber + "</ceb:payerIdNumber>", "<ceb:payerName>王小明</ceb:payerName>"}
		case "CEB511":
			if strings.Contains(m.XML, sampleIDNumber) {
				t.Error("the waybill carries no identity number")
			}
		}
		for _, w := range want {
			if !strings.Contains(m.XML, w) {
				t.Errorf("%s lacks %s", m.Type, w)
			}
		}
		validateImport(t, m.Type, m.XML)
	}
	if strings.Join(types, ",") != "CEB311,CEB411,CEB511,CEB621" {
		t.Fatalf("messages %v\n%s", types, logs)
	}
	if strings.Contains(logs.String(), sampleIDNumber) || strings.Contains(logs.String(), sampleIDNumber[6:14]) {
		t.Fatalf("the identity number is in the log:\n%s", logs)
	}
}

// An import stored without an identity (placed before intake required it)
// still clears on the declaration; its messages are not rendered, and the
// log names the missing field.
func TestCustomsWithoutIdentityRendersNoImportMessages(t *testing.T) {
	f := newFixture()
	o := cnImport(t, f, 70, nil)
	o.Buyer.Identity = nil
	if err := f.store.SaveTransition(context.Background(), o, o.Note("identity_removed_for_test", "test", time.Now())); err != nil {
		t.Fatal(err)
	}
	got, _, logs := clearLogged(t, f, o)
	if got.Status != order.StatusCustomsCleared || len(docsOf(t, f, got.ID).Messages) != 0 {
		t.Fatalf("status %s, %d messages", got.Status, len(docsOf(t, f, got.ID).Messages))
	}
	if !strings.Contains(logs.String(), "buyerIdNumber") {
		t.Fatalf("the log does not name the missing field:\n%s", logs)
	}
}

// placeholderSignature is a schema-shaped ds:Signature with empty values,
// NOT a signature: import.xsd requires one in CEB621, which ceb.Unsigned
// (the worker's signer by default) leaves out.
const placeholderSignature = `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
	`<ds:CanonicalizationMethod Algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315"/>` +
	`<ds:SignatureMethod Algorithm="http://www.w3.org/2000/09/xmldsig#rsa-sha1"/>` +
	`<ds:Reference URI=""><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/><ds:DigestValue></ds:DigestValue></ds:Reference>` +
	`</ds:SignedInfo><ds:SignatureValue></ds:SignatureValue></ds:Signature>` + "\n"

// validateImport checks a message against the official import.xsd.
func validateImport(t *testing.T, typ, x string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is missing: run `make tools` (make test installs libxml2-utils)")
	}
	if typ == "CEB621" {
		end := "</ceb:CEB621Message>"
		i := strings.LastIndex(x, end)
		if i < 0 {
			t.Fatalf("CEB621 does not end with %s", end)
		}
		x = x[:i] + placeholderSignature + x[i:]
	}
	path := filepath.Join(t.TempDir(), typ+".xml")
	if err := os.WriteFile(path, []byte(x), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("xmllint", "--noout", "--schema", "../../testdata/ceb/xsd/import.xsd", path).CombinedOutput()
	if err != nil {
		t.Errorf("%s does not validate against import.xsd: %v\n%s", typ, err, out)
	}
}

// A direct-purchase import (9610: the parcel flies in from abroad) renders
// its four messages too, with the flight, the master air waybill and the
// departure country CEB621 requires of it, and a copNo that fits CEB621's
// 20 characters; the simulated E-Port's receipts, CEB622 named by that
// copNo alone, come back to the order.
func TestCustomsRendersADirectPurchaseImportAndItsReceipts(t *testing.T) {
	f := newFixture()
	o := cnImport(t, f, 80, func(d *order.Draft) { d.Fulfilment = order.FulfilDirectMail })
	w, eport := gatedCustoms(t, f)
	if resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-" + o.ID})); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failed: %+v", resp)
	}
	eport.Drain()
	got, _ := f.store.GetOrder(context.Background(), o.ID)
	if got.Customs.SupervisionMode != "9610" || len(docsOf(t, f, got.ID).Messages) != 4 {
		t.Fatalf("mode %q with %d messages", got.Customs.SupervisionMode, len(docsOf(t, f, got.ID).Messages))
	}
	inv := docsOf(t, f, got.ID).Messages[3]
	for _, want := range []string{"<ceb:trafNo>DEMO AIRLINE</ceb:trafNo>", "<ceb:billNo>XBM", "<ceb:copNo>" + o.ID[len(o.ID)-20:] + "</ceb:copNo>"} {
		if !strings.Contains(inv.XML, want) {
			t.Errorf("CEB621 lacks %s", want)
		}
	}
	for _, m := range docsOf(t, f, got.ID).Messages {
		validateImport(t, m.Type, m.XML)
	}
	outcomes := map[string]string{}
	for _, r := range docsOf(t, f, got.ID).Receipts {
		outcomes[r.Type] = r.Outcome
	}
	if outcomes["CEB312"] != "cleared" || outcomes["CEB412"] != "cleared" || outcomes["CEB512"] != "cleared" || outcomes["CEB622"] != "released" {
		t.Fatalf("latest outcomes %v", outcomes)
	}
	if got.Status != order.StatusCustomsCleared {
		t.Fatalf("status %s after the release", got.Status)
	}
}

// storeSample stores a sample order of events/orders as intake accepts it,
// moved to PAYMENT_AUTHORIZED.
func storeSample(t *testing.T, f *fixture, n int, file string, change func(d *order.Draft)) *order.Order {
	t.Helper()
	raw, err := os.ReadFile("../../events/orders/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var d order.Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(&d)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("%s is not a valid order: %+v", file, errs)
	}
	at := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	return f.newOrder(t, n, order.StatusPaymentAuthorized, func(o *order.Order) {
		accepted, _ := order.Accept(d, o.ID, o.CustomerID, "customer:"+o.CustomerID, at)
		accepted.Charge = &order.Charge{ID: "ch_" + o.ID, Status: order.ChargeAuthorized, Amount: accepted.Total}
		*o = *accepted
	})
}

// A B2B export (9710) over ¥5,000 goes on a customs declaration form: its
// order, payment and waybill messages are rendered, no inventory list; one
// within ¥5,000 gets all four.
func TestCustomsSendsLargeB2BExportsToADeclarationForm(t *testing.T) {
	f := newFixture()
	large := storeSample(t, f, 90, "b2b-us.json", nil) // USD 13,400 of goods
	small := storeSample(t, f, 91, "b2b-us.json", func(d *order.Draft) {
		d.Lines = d.Lines[1:2] // ten chargers, USD 450 of goods: about ¥3,200
		d.Lines[0].Quantity, d.Lines[0].LineTotal.Amount = 10, 45000
		d.Total.Amount = 45000 + d.Shipping.Amount
	})
	for _, tc := range []struct {
		o     *order.Order
		form  bool
		types string
	}{{large, true, "CEB303,CEB403,CEB505"}, {small, false, "CEB303,CEB403,CEB505,CEB603"}} {
		got, _, logs := clearLogged(t, f, tc.o)
		var types []string
		for _, m := range docsOf(t, f, got.ID).Messages {
			types = append(types, m.Type)
		}
		if got.Customs.SupervisionMode != "9710" || got.Customs.DeclarationForm != tc.form || strings.Join(types, ",") != tc.types {
			t.Errorf("%s: mode %s, form %v, messages %v\n%s", tc.o.ID, got.Customs.SupervisionMode, got.Customs.DeclarationForm, types, logs)
		}
	}
}
