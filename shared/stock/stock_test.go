package stock

import (
	"fmt"
	"testing"

	"github.com/xborder/xborder/shared/order"
)

func TestCandidates(t *testing.T) {
	for _, tc := range []struct {
		fulfil order.Fulfilment
		dest   string
		want   string
	}{
		{order.FulfilOverseasWarehouse, "DE", "[DE-FRA-1]"},
		{order.FulfilOverseasWarehouse, "FR", "[DE-FRA-1]"},
		{order.FulfilOverseasWarehouse, "AU", "[AU-SYD-1]"},
		{order.FulfilOverseasWarehouse, "CA", "[US-LAX-1]"},
		{order.FulfilOverseasWarehouse, "JP", "[]"},
		{order.FulfilDirectMail, "GB", "[CN-SZX-1]"},
		{order.FulfilDirectMail, "CN", "[]"},
		{order.FulfilBondedWarehouse, "CN", "[CN-NGB-BONDED]"},
		{order.FulfilSupplierDirect, "US", "[CN-SZX-SUPPLIER]"},
	} {
		o := &order.Order{Draft: order.Draft{Fulfilment: tc.fulfil, Consignee: order.Party{Address: order.Address{Country: tc.dest}}}}
		var ids []string
		for _, w := range Candidates(o) {
			ids = append(ids, w.ID)
		}
		if got := fmt.Sprint(ids); got != tc.want && !(got == "[]" && tc.want == "[]") {
			t.Errorf("%s to %s: %s, want %s", tc.fulfil, tc.dest, got, tc.want)
		}
	}
}

func TestItemsSumsBySKU(t *testing.T) {
	got := Items([]order.Line{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 3}})
	if fmt.Sprint(got) != "[{A 4} {B 2}]" {
		t.Fatalf("%v", got)
	}
}
