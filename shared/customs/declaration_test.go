package customs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func declaredOrder(c Cart) *order.Order {
	total := c.Shipping.Amount
	for _, l := range c.Lines {
		total += l.LineTotal.Amount
	}
	ship := c.Shipping
	return &order.Order{ID: "01KDECLARATION000000000001", CreatedAt: c.Date, Draft: order.Draft{
		TradeMode: c.TradeMode, Incoterm: c.Incoterm, Currency: c.Currency, Lines: c.Lines, Shipping: &ship,
		Total:     money.New(total, c.Currency),
		Buyer:     order.Party{Name: "Buyer", IOSSNumber: c.IOSSNumber, Address: order.Address{Country: c.Destination}},
		Consignee: order.Party{Name: "Consignee", Address: order.Address{Country: c.Destination}},
	}}
}

func TestDeclarationCarriesTheAssessment(t *testing.T) {
	c := cart("DE", "USD", "2026-06-30", order.TradeB2C, 0, ln("610910", 17461, 1, "CN"), ln("851830", 5000, 2, "CN"))
	o := declaredOrder(c)
	q, err := Default().Quote(CartOf(o))
	if err != nil {
		t.Fatal(err)
	}
	d := Declare(o, q, nil, time.Date(2026, 6, 30, 12, 0, 0, 0, time.UTC))
	if err := d.Check(); err != nil {
		t.Fatal(err)
	}
	if d.Assessment.Currency != "EUR" || d.Lines[0].CustomsValue.Currency != "EUR" || d.Lines[1].NetMassGrams != 200 || d.Lines[0].Invoice.Currency != "USD" {
		t.Fatalf("declaration %+v", d)
	}
	if d.FX.From != "USD" || d.FX.To != "EUR" || len(d.Rules) == 0 {
		t.Fatalf("fx %+v rules %v", d.FX, d.Rules)
	}
}

func TestDeclarationCheckListsEveryProblem(t *testing.T) {
	c := cart("DE", "EUR", "2026-06-30", order.TradeB2B, 0, ln("610910", 10000, 1, "CN"))
	c.IOSSNumber = "IM2760000001"
	o := declaredOrder(c)
	q, err := Default().Quote(CartOf(o))
	if err != nil {
		t.Fatal(err)
	}
	d := Declare(o, q, nil, time.Now())
	d.Collection, d.IOSSNumber = CollectionIOSS, ""
	d.Lines[0].Duty.Amount++
	d.Lines[0].OriginCountry = ""
	err = d.Check()
	if !errors.Is(err, ErrDeclaration) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{"IOSS number", "business import", "country of origin", "do not add up"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "Consignee") {
		t.Error("the check must not repeat the consignee's name")
	}
}
