package ceb

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/chinacustoms"
)

var receiptAt = time.Date(2026, 3, 14, 10, 15, 30, 250*int(time.Millisecond), time.UTC)

// TestReceiptsValidateAndParseBack writes, for every mode and message, the
// receipt the E-Port would send, checks it against the official schema and
// reads it back.
func TestReceiptsValidateAndParseBack(t *testing.T) {
	lint := xmllint(t)
	for _, fx := range fixtures {
		t.Run(fx.dir, func(t *testing.T) {
			d := build(t, fx.order(t))
			xsd := "export.xsd"
			if fx.direction == chinacustoms.Import {
				xsd = "import.xsd"
			}
			for _, msgType := range fx.types {
				typ := ReceiptType(msgType)
				want, err := AnswerFor(d, msgType)
				if err != nil {
					t.Fatal(err)
				}
				want.Status, want.Time, want.Info = 800, receiptAt, "放行 released"
				if strings.HasPrefix(typ, "CEB6") {
					want.PreNo, want.InvtNo = "I20260314000000001", "514120261000000001"[:18]
				}
				x, err := RenderReceipt(typ, []Return{want})
				if err != nil {
					t.Fatalf("RenderReceipt(%s): %v", typ, err)
				}
				validate(t, lint, xsd, fx.dir+"-"+typ, x)
				got, err := ParseReceipt(x)
				if err != nil {
					t.Fatalf("ParseReceipt(%s): %v\n%s", typ, err, x)
				}
				if got.Type != typ || got.Answers != msgType || len(got.Returns) != 1 || len(got.GUID) != 36 {
					t.Fatalf("%s parsed as %s answering %s with %d returns", typ, got.Type, got.Answers, len(got.Returns))
				}
				r := got.Returns[0]
				if !r.Time.Equal(receiptAt) {
					t.Errorf("%s returnTime %v, want %v", typ, r.Time, receiptAt)
				}
				r.Time = want.Time
				if r != want {
					t.Errorf("%s read back\n got %+v\nwant %+v", typ, r, want)
				}
				if ref := r.Ref(); ref == "" || (r.OrderNo != "" && ref != RefOrderNo+d.Order.OrderNo) {
					t.Errorf("%s Ref() = %q", typ, ref)
				}
			}
		})
	}
}

func TestReturnRefNamesTheDocument(t *testing.T) {
	d := build(t, fixtures[0].order(t))
	refs := map[string]string{}
	for _, m := range exportTypes {
		r, err := AnswerFor(d, m)
		if err != nil {
			t.Fatal(err)
		}
		refs[m] = r.Ref()
	}
	want := map[string]string{
		"CEB303": "orderNo:ORD-9610-EXPORT", "CEB403": "orderNo:ORD-9610-EXPORT",
		"CEB505": "logisticsNo:" + d.Waybill.LogisticsNo, "CEB603": "orderNo:ORD-9610-EXPORT",
	}
	for m, ref := range want {
		if refs[m] != ref {
			t.Errorf("receipt of %s names %q, want %q", m, refs[m], ref)
		}
	}
	imp := build(t, fixtures[3].order(t))
	for m, want := range map[string]string{"CEB411": RefPayNo + imp.Payment.TransactionID, "CEB621": RefCopNo + imp.Inventory.CopNo, "CEB511": RefLogisticsNo + imp.Waybill.LogisticsNo} {
		r, _ := AnswerFor(imp, m)
		if r.Ref() != want {
			t.Errorf("receipt of %s names %q, want %q", m, r.Ref(), want)
		}
	}
	got := strings.Join(Refs(imp), " ")
	for _, want := range []string{RefLogisticsNo + imp.Waybill.LogisticsNo, RefPayNo + imp.Payment.TransactionID, RefCopNo + imp.Inventory.CopNo} {
		if !strings.Contains(got, want) {
			t.Errorf("Refs = %q, missing %q", got, want)
		}
	}
}

func TestStatusMeaning(t *testing.T) {
	for status, want := range map[int]Outcome{
		1: OutcomePending, 2: OutcomePending, 3: OutcomePending, 4: OutcomeFailed, 100: OutcomeRejected,
		120: OutcomePending, 300: OutcomePending, 399: OutcomeCleared, 500: OutcomeHeld, 502: OutcomeHeld,
		599: OutcomeHeld, 700: OutcomeReturned, 800: OutcomeReleased, 899: OutcomeReleased,
		-1: OutcomeFailed, -301010: OutcomeFailed, 42: OutcomeUnknown,
	} {
		meaning, got := StatusMeaning(status)
		if got != want || meaning == "" {
			t.Errorf("StatusMeaning(%d) = %q, %s; want %s", status, meaning, got, want)
		}
	}
	if m, _ := StatusMeaning(800); !strings.Contains(m, "released") {
		t.Errorf("800 means %q", m)
	}
}

const goodReceipt = `<?xml version="1.0" encoding="UTF-8"?>
<ceb:CEB304Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E01" version="1.0">
	<ceb:OrderReturn>
		<ceb:guid>4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E02</ceb:guid>
		<ceb:ebpCode>DEMOEBP001</ceb:ebpCode>
		<ceb:ebcCode>DEMO00000000EBC001</ceb:ebcCode>
		<ceb:orderNo>ORD-1</ceb:orderNo>
		<ceb:returnStatus>100</ceb:returnStatus>
		<ceb:returnTime>20260314181530250</ceb:returnTime>
		<ceb:returnInfo>[Code:1300;Desc:订单商品价格与申报不符]</ceb:returnInfo>
	</ceb:OrderReturn>
</ceb:CEB304Message>
`

func TestParseReceiptReadsARejection(t *testing.T) {
	r, err := ParseReceipt([]byte(goodReceipt))
	if err != nil {
		t.Fatal(err)
	}
	ret := r.Returns[0]
	if ret.Status != 100 || ret.OrderNo != "ORD-1" || !strings.Contains(ret.Info, "价格") || !ret.Time.Equal(time.Date(2026, 3, 14, 10, 15, 30, 250e6, time.UTC)) {
		t.Errorf("parsed %+v", ret)
	}
	if _, o := StatusMeaning(ret.Status); o != OutcomeRejected {
		t.Errorf("100 is %s", o)
	}
}

func TestParseReceiptRefuses(t *testing.T) {
	long := strings.Repeat("退", 1001)
	for name, tc := range map[string]struct{ xml, field string }{
		"not xml":         {"not xml at all", "document"},
		"truncated":       {goodReceipt[:200], "document"},
		"trailing":        {goodReceipt + "<x/>", "document"},
		"other namespace": {strings.ReplaceAll(goodReceipt, "http://www.chinaport.gov.cn/ceb", "urn:other"), "document"},
		"a declaration":   {strings.ReplaceAll(goodReceipt, "CEB304Message", "CEB303Message"), "document"},
		"wrong entity":    {strings.ReplaceAll(goodReceipt, "OrderReturn", "InventoryReturn"), "CEB304 OrderReturn[1]"},
		"no returns": {`<ceb:CEB304Message xmlns:ceb="http://www.chinaport.gov.cn/ceb" guid="4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E01" version="1.0"></ceb:CEB304Message>`,
			"CEB304 OrderReturn"},
		"short guid":      {strings.Replace(goodReceipt, `guid="4CDE1D46-9E2B-4C0A-8D16-1F6A1D0C5E01"`, `guid="X"`, 1), "CEB304 guid"},
		"no status":       {strings.Replace(goodReceipt, "<ceb:returnStatus>100</ceb:returnStatus>", "", 1), "CEB304 OrderReturn[1].returnStatus"},
		"status not int":  {strings.Replace(goodReceipt, ">100<", ">1OO<", 1), "CEB304 OrderReturn[1].returnStatus"},
		"time short":      {strings.Replace(goodReceipt, "20260314181530250", "20260314181530", 1), "CEB304 OrderReturn[1].returnTime"},
		"time not a date": {strings.Replace(goodReceipt, "20260314181530250", "20261314181530250", 1), "CEB304 OrderReturn[1].returnTime"},
		"no orderNo":      {strings.Replace(goodReceipt, "<ceb:orderNo>ORD-1</ceb:orderNo>", "", 1), "CEB304 OrderReturn[1].orderNo"},
		"info too long":   {strings.Replace(goodReceipt, "[Code:1300;Desc:订单商品价格与申报不符]", long, 1), "CEB304 OrderReturn[1].returnInfo"},
		"entity":          {strings.Replace(goodReceipt, "ORD-1", "&xxe;", 1), "document"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseReceipt([]byte(tc.xml))
			var re *ReceiptError
			if !errors.As(err, &re) || !errors.Is(err, ErrBadReceipt) {
				t.Fatalf("err = %v, want a *ReceiptError", err)
			}
			if re.Field != tc.field {
				t.Errorf("field %q, want %q (%v)", re.Field, tc.field, err)
			}
		})
	}
}

func TestRenderReceiptRefuses(t *testing.T) {
	if _, err := RenderReceipt("CEB303", []Return{{}}); err == nil {
		t.Error("CEB303 rendered as a receipt")
	}
	if _, err := RenderReceipt("CEB304", nil); err == nil {
		t.Error("a receipt without returns rendered")
	}
	_, err := RenderReceipt("CEB304", []Return{{GUID: strings.Repeat("A", 36), EbpCode: "E", EbcCode: "C", Time: receiptAt}})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "CEB304 OrderReturn[1].orderNo" {
		t.Errorf("err = %v, want orderNo named", err)
	}
	if _, err := AnswerFor(build(t, fixtures[0].order(t)), "CEB304"); err == nil {
		t.Error("AnswerFor a receipt type")
	}
}

func FuzzParseReceipt(f *testing.F) {
	f.Add([]byte(goodReceipt))
	f.Add([]byte(strings.ReplaceAll(goodReceipt, "OrderReturn", "InventoryReturn")))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReceipt(data)
		if err != nil {
			if !errors.Is(err, ErrBadReceipt) {
				t.Fatalf("error %v is not ErrBadReceipt", err)
			}
			return
		}
		if len(r.Returns) == 0 || len(r.Returns) > maxReturns {
			t.Fatalf("%d returns accepted", len(r.Returns))
		}
		for _, ret := range r.Returns {
			if ret.Ref() == "" || ret.Time.IsZero() {
				t.Fatalf("accepted a return without a reference or time: %+v", ret)
			}
		}
	})
}
