package customs

import (
	"testing"

	"github.com/xborder/xborder/shared/fx"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

// jpEngine is the embedded rules with one more Japanese tariff line at 14 %,
// the rate of Japan Customs' worked example (HS 1905 is a stand-in).
func jpEngine(t *testing.T) *Engine {
	t.Helper()
	files, err := LoadRules(embeddedRules, "rules")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Destination == "JP" {
			f.Duties = append(f.Duties, DutyRule{Rule: Rule{ID: "test.jp.14", Source: "test: Customs Answer 1111 example rate", From: "2019-10-01"}, HS: "1905", Rate: "14"})
		}
	}
	e, err := New(files, fx.Default())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func taxOf(q *Quote, rule string, assessed bool) int64 {
	list := q.Taxes
	if assessed {
		list = q.Assessment.Taxes
	}
	for _, x := range list {
		if x.Rule == rule {
			return x.Amount.Amount
		}
	}
	return -1
}

// TestJapanCustomsWorkedExample follows Japan Customs, Customs Answer No.
// 1111 "Calculation Method of Amount of Tariff Duty, Consumption Tax, etc."
// (customs.go.jp/english/c-answer_e/imtsukan/1111_e.htm), item A: CIF
// ¥534,795, duty 14 %, consumption tax 7.8 %:
//
//	duty:  534,000 × 0.14 = 74,760 → 74,700
//	tax:   534,795 + 74,700 = 609,495 → 609,000 × 0.078 = 47,502 → 47,500
//	local: 47,500 × 22 ÷ 78 = 13,397 (yen fractions dropped) → 13,300 alone
//
// (B2B: no personal-use 60 % valuation; CIF = the goods, no shipping.)
func TestJapanCustomsWorkedExample(t *testing.T) {
	e := jpEngine(t)
	c := cart("JP", "JPY", "2026-11-30", order.TradeB2B, 0, ln("190590", 534795, 1, "FR"))
	q, err := e.Quote(c)
	if err != nil {
		t.Fatal(err)
	}
	a := q.Assessment
	if a.Duty != money.New(74700, "JPY") || taxOf(q, "jp.consumption-tax.national", true) != 47500 ||
		taxOf(q, "jp.consumption-tax.local", true) != 13300 || a.Tax != money.New(60800, "JPY") {
		t.Fatalf("duty %v taxes %+v", a.Duty, a.Taxes)
	}
	if q.Totals.Duty.Amount != 74700 || q.Totals.Tax.Amount != 60800 || q.Totals.LandedTotal.Amount != 534795+74700+60800 {
		t.Fatalf("totals %+v", q.Totals)
	}
	checkInvariants(t, c, q)
}

// TestJapanCustomsWorkedExampleTwoItems: the example's two items A (CIF
// ¥534,795) and B (CIF ¥126,258), both at 14 %. The declaration's duty is
// the sum of the items' duties before rounding, rounded down to ¥100:
// 74,760 + 17,640 = 92,400 (Customs Answer 1111: "① + ①' 92,400 yen"),
// not 74,700 + 17,600 = 92,300; each item's consumption tax base takes its
// duty rounded down to ¥100 (126,258 + 17,600 = 143,858, as in the example).
// The example taxes item B at the reduced 6.24 %, which the rules do not
// model; at 7.8 %: B 143,000 × 0.078 = 11,154; A 47,502; total 58,656 →
// 58,600; local 47,500 × 22/78 = 13,397 + 11,100 × 22/78 = 3,130 → 16,527 →
// 16,500.
func TestJapanCustomsWorkedExampleTwoItems(t *testing.T) {
	e := jpEngine(t)
	c := cart("JP", "JPY", "2026-11-30", order.TradeB2B, 0, ln("190590", 534795, 1, "FR"), ln("190510", 126258, 1, "FR"))
	q, err := e.Quote(c)
	if err != nil {
		t.Fatal(err)
	}
	a := q.Assessment
	if a.Duty.Amount != 92400 || taxOf(q, "jp.consumption-tax.national", true) != 58600 || taxOf(q, "jp.consumption-tax.local", true) != 16500 {
		t.Fatalf("duty %v taxes %+v", a.Duty, a.Taxes)
	}
	if a.Lines[0].Duty.Amount+a.Lines[1].Duty.Amount != 92400 || a.Lines[0].Duty.Amount != 74760 {
		t.Fatalf("assessed lines %+v", a.Lines)
	}
	checkInvariants(t, c, q)
}

// The legal rounding is in yen; a cart in another currency converts the
// rounded yen: a EUR cart of €3,000 of goods on 2026-11-30 (1 EUR = ¥179.20)
// is ¥537,600: duty 14 % × 537,000 = 75,180 → ¥75,100; tax base 612,700 →
// 612,000 × 7.8 % = 47,736 → ¥47,700; local 47,700 × 22/78 = 13,453 →
// ¥13,400. In euros: 75,100 ÷ 179.20 = 419.08; (47,700 + 13,400) ÷ 179.20 =
// 340.96 (266.18 + 74.78).
func TestJapanRoundingInYenForAEuroCart(t *testing.T) {
	e := jpEngine(t)
	c := cart("JP", "EUR", "2026-11-30", order.TradeB2B, 0, ln("190590", 300000, 1, "FR"))
	q, err := e.Quote(c)
	if err != nil {
		t.Fatal(err)
	}
	a := q.Assessment
	if a.Duty.Amount != 75100 || taxOf(q, "jp.consumption-tax.national", true) != 47700 || taxOf(q, "jp.consumption-tax.local", true) != 13400 {
		t.Fatalf("assessment duty %v taxes %+v", a.Duty, a.Taxes)
	}
	if q.Totals.Duty.Amount != 41908 || q.Totals.Tax.Amount != 34096 ||
		taxOf(q, "jp.consumption-tax.national", false) != 26618 || taxOf(q, "jp.consumption-tax.local", false) != 7478 {
		t.Fatalf("totals %+v taxes %+v", q.Totals, q.Taxes)
	}
	checkInvariants(t, c, q)
}

// Under ¥1,000 of base there is no tax, and under ¥100 of duty no duty
// (Act on General Rules for National Taxes, Articles 118(1), 119(1)).
func TestJapanSmallAmountsAreNotCollected(t *testing.T) {
	e := jpEngine(t)
	// ¥999 of goods at 14 %: base ¥0 → no duty, no tax.
	q, err := e.Quote(cart("JP", "JPY", "2026-11-30", order.TradeB2B, 0, ln("190590", 999, 1, "FR")))
	if err != nil {
		t.Fatal(err)
	}
	if q.Totals.Duty.Amount != 0 || q.Totals.Tax.Amount != 0 {
		t.Fatalf("¥999: duty %v tax %v", q.Totals.Duty, q.Totals.Tax)
	}
	// ¥1,500 at 6.7 % (HS 6404): 1,000 × 0.067 = 67 → no duty; tax base
	// 1,500 → 1,000 × 7.8 % = 78 → ¥0.
	q, err = e.Quote(cart("JP", "JPY", "2026-11-30", order.TradeB2B, 0, ln("640419", 1500, 1, "VN")))
	if err != nil {
		t.Fatal(err)
	}
	if q.Totals.Duty.Amount != 0 || q.Totals.Tax.Amount != 0 {
		t.Fatalf("¥1,500: duty %v tax %v", q.Totals.Duty, q.Totals.Tax)
	}
}
