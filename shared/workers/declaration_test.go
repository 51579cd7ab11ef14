package workers

import (
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
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// clear runs the customs worker on one order and returns it as stored, with
// what Step Functions was told.
func clearOne(t *testing.T, f *fixture, o *order.Order) (*order.Order, string) {
	t.Helper()
	w := NewCustoms(f.s, f.tasks, &BrokerSimulator{}, slog.New(slog.DiscardHandler))
	resp, _ := w.Handle(context.Background(), batch(TaskMessage{OrderID: o.ID, TaskToken: "t-" + o.ID}))
	if len(resp.BatchItemFailures) != 0 {
		t.Fatalf("the message failed: %+v", resp)
	}
	got, err := f.store.GetOrder(context.Background(), o.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got, f.tasks.answers[len(f.tasks.answers)-1]
}

func TestCustomsFilesTheDeclarationAndRecordsTheAssessment(t *testing.T) {
	f := newFixture()
	// CN → DE by direct mail, B2C, DDP, no quote: €89.97 + €4.99 shipping.
	o := f.newOrder(t, 11, order.StatusPaymentAuthorized, onDay)
	got, answer := clearOne(t, f, o)
	if got.Status != order.StatusCustomsCleared || answer != "t-"+o.ID+` success {"declaration":"CD-`+o.ID+`"}` {
		t.Fatalf("status %s, answer %q", got.Status, answer)
	}
	rec := got.Customs
	if rec == nil || rec.Assessed == nil {
		t.Fatalf("no assessment recorded: %+v", rec)
	}
	// Under €150 after 2026-07-01: €3 for each of the two subheadings instead
	// of duty; VAT 19 % × (CIF 94.96 + 6) = 19.1824.
	if rec.Assessed.Duty.Amount != 0 || rec.Assessed.Fees != money.New(600, "EUR") || rec.Assessed.Tax != money.New(1918, "EUR") ||
		rec.Assessed.AtCheckout != money.New(2518, "EUR") {
		t.Fatalf("assessed %+v", rec.Assessed)
	}
	// DDP without a quote: the shopper paid the total only; the VAT is the merchant's.
	if rec.MerchantCost == nil || *rec.MerchantCost != money.New(2518, "EUR") {
		t.Fatalf("merchant cost %v", rec.MerchantCost)
	}
	if rec.SupervisionMode != "9610" {
		t.Fatalf("supervision mode %q: goods shipped from China to a shopper are 9610", rec.SupervisionMode)
	}
	if rec.DeclaredAt.IsZero() {
		t.Fatal("the order does not note that its declaration is stored")
	}
	var d customs.Declaration
	if err := json.Unmarshal(docsOf(t, f, o.ID).Declaration, &d); err != nil {
		t.Fatal(err)
	}
	if err := d.Check(); err != nil {
		t.Fatalf("the stored declaration does not pass its own check: %v", err)
	}
	if d.OrderID != o.ID || len(d.Lines) != 2 || d.Lines[1].HSCode != "8518300000" || d.Assessment.Tax != money.New(1918, "EUR") {
		t.Fatalf("declaration %+v", d)
	}
	if d.China == nil || d.China.Order.OrderNo != o.ID || d.China.Waybill.LogisticsNo != WaybillNumber(o) || d.China.Inventory.TradeMode != "9610" {
		t.Fatalf("china declaration %+v", d.China)
	}
}

func TestCustomsKeepsTheQuotedPriceUnderDDP(t *testing.T) {
	cases := []struct {
		name           string
		quotedAtCheck  int64
		wantMerchant   int64
		wantNoMerchant bool
	}{
		{"the quote matched the assessment", 2518, 0, true},
		{"the quote was lower: the merchant pays the difference", 2000, 518, false},
		{"the quote was higher: no merchant cost", 3000, 0, true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			o := f.newOrder(t, 20+i, order.StatusPaymentAuthorized, func(o *order.Order) {
				onDay(o)
				o.QuoteID = "Q"
				o.Customs = &order.CustomsRecord{QuoteID: "Q", Quoted: &order.LandedCharges{Tax: money.New(tc.quotedAtCheck, "EUR"),
					AtCheckout: money.New(tc.quotedAtCheck, "EUR")}}
				o.Charge.Amount = o.ChargeAmount()
			})
			got, _ := clearOne(t, f, o)
			rec := got.Customs
			if rec.Quoted.AtCheckout.Amount != tc.quotedAtCheck || rec.Assessed.AtCheckout.Amount != 2518 {
				t.Fatalf("both figures must stay on the order: quoted %v assessed %v", rec.Quoted.AtCheckout, rec.Assessed.AtCheckout)
			}
			switch {
			case tc.wantNoMerchant && rec.MerchantCost != nil:
				t.Fatalf("merchant cost %v, want none", rec.MerchantCost)
			case !tc.wantNoMerchant && (rec.MerchantCost == nil || rec.MerchantCost.Amount != tc.wantMerchant):
				t.Fatalf("merchant cost %v, want %d", rec.MerchantCost, tc.wantMerchant)
			}
			if got.Charge.Amount != o.Charge.Amount {
				t.Fatal("customs must not change what the shopper was charged")
			}
		})
	}
}

func TestCustomsRefusesWhatChinaWouldRefuse(t *testing.T) {
	cases := []struct {
		name   string
		change func(o *order.Order)
		reason string
	}{
		{"the payment record disagrees with the order", func(o *order.Order) { o.Charge.Amount.Amount -= 100 }, "three_documents_mismatch"},
		{"retail import into China over ¥5,000 with two items", func(o *order.Order) {
			toChina(o)
			o.Lines[0].UnitPrice, o.Lines[0].LineTotal = money.New(300000, "CNY"), money.New(600000, "CNY")
			o.Total = money.New(600000+4999+499, "CNY")
			o.Charge.Amount = o.Total
		}, "over_retail_import_limit"},
		{"a destination without customs rules", func(o *order.Order) {
			o.Consignee.Address.Country, o.Buyer.Address.Country = "BR", "BR"
		}, "destination_not_supported"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture()
			o := f.newOrder(t, 30+i, order.StatusPaymentAuthorized, func(o *order.Order) { onDay(o); tc.change(o) })
			got, answer := clearOne(t, f, o)
			if want := "t-" + o.ID + " CustomsRejected " + tc.reason; answer != want {
				t.Fatalf("answer %q, want %q", answer, want)
			}
			if got.Status != order.StatusPaymentAuthorized {
				t.Fatal("a refusal leaves the status to compensation")
			}
		})
	}
}

// onDay dates the order 2026-11-24, so the rules in force are known.
func onDay(o *order.Order) { o.CreatedAt = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC) }

// toChina makes the fixture's order a retail import into China, in CNY.
func toChina(o *order.Order) {
	o.Currency = "CNY"
	o.Consignee.Address = order.Address{Line1: "1 Nanjing Rd", City: "Shanghai", Country: "CN"}
	o.Buyer.Address = o.Consignee.Address
	o.Buyer.VATNumber = ""
	for i := range o.Lines {
		o.Lines[i].OriginCountry = "JP"
		o.Lines[i].UnitPrice.Currency, o.Lines[i].LineTotal.Currency = "CNY", "CNY"
	}
	s := money.New(499, "CNY")
	o.Shipping = &s
	o.Total = money.New(9496, "CNY")
	o.Charge.Amount = o.Total
}

func TestCustomsDeclaresARetailImportIntoChina(t *testing.T) {
	f := newFixture()
	o := f.newOrder(t, 40, order.StatusPaymentAuthorized, func(o *order.Order) { onDay(o); toChina(o) })
	got, answer := clearOne(t, f, o)
	if got.Status != order.StatusCustomsCleared {
		t.Fatalf("answer %q", answer)
	}
	var d customs.Declaration
	_ = json.Unmarshal(docsOf(t, f, got.ID).Declaration, &d)
	if got.Customs.SupervisionMode != "9610" || d.China == nil || d.China.Inventory.IEFlag != "I" || d.China.Order.Currency != "CNY" {
		t.Fatalf("mode %q china %+v", got.Customs.SupervisionMode, d.China)
	}
	// ¥94.96 CIF: no duty, VAT 13 % × 70 % = 8.64136, withheld at the sale.
	if got.Customs.Assessed.Tax != money.New(864, "CNY") || got.Customs.Assessed.Collection != "POINT_OF_SALE" {
		t.Fatalf("assessed %+v", got.Customs.Assessed)
	}
}

// The customs step renders China's CEB messages of a 9610 export and keeps
// them with the order; each is valid against the official schema.
func TestCustomsKeepsTheCEBMessages(t *testing.T) {
	f := newFixture()
	o := f.newOrder(t, 50, order.StatusPaymentAuthorized, onDay)
	got, _ := clearOne(t, f, o)
	var types []string
	for _, m := range docsOf(t, f, got.ID).Messages {
		types = append(types, m.Type)
		if _, err := os.Stat("/usr/bin/xmllint"); err != nil {
			t.Fatal("xmllint is missing: run `make tools` (make test installs libxml2-utils)")
		}
		path := filepath.Join(t.TempDir(), m.Type+".xml")
		if err := os.WriteFile(path, []byte(m.XML), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("xmllint", "--noout", "--schema", "../../testdata/ceb/xsd/export.xsd", path).CombinedOutput()
		if err != nil {
			t.Fatalf("%s does not validate: %v\n%s", m.Type, err, out)
		}
		// CEB505 (the waybill) names the waybill number; the others the order.
		if want := o.ID; (m.Type == "CEB505" && !strings.Contains(m.XML, WaybillNumber(o))) || (m.Type != "CEB505" && !strings.Contains(m.XML, want)) {
			t.Fatalf("%s does not carry the order or waybill number", m.Type)
		}
	}
	if strings.Join(types, ",") != "CEB303,CEB403,CEB505,CEB603" {
		t.Fatalf("messages %v", types)
	}
}
