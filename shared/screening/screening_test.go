package screening

import (
	"testing"

	"github.com/xborder/xborder/shared/order"
)

func TestCheck(t *testing.T) {
	base := func() *order.Order {
		return &order.Order{Draft: order.Draft{
			Buyer: order.Party{Name: "Lena Fischer"}, Consignee: order.Party{Name: "Lena Fischer"},
			Lines: []order.Line{{HSCode: "610910"}},
		}}
	}
	if hit, ok := Check(base()); !ok {
		t.Fatalf("clean order refused: %s", hit)
	}
	o := base()
	o.Lines = append(o.Lines, order.Line{HSCode: "9303200000"})
	if hit, ok := Check(o); ok || hit != RestrictedGoods {
		t.Fatalf("firearm: %s %v", hit, ok)
	}
	o = base()
	o.Consignee.Name = "  ACME, Sanctioned-Trading  Co."
	if hit, ok := Check(o); ok || hit != DeniedParty {
		t.Fatalf("denied party: %s %v", hit, ok)
	}
}
