package orderevents

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

func TestMessageCarriesNoPersonalData(t *testing.T) {
	o := &order.Order{ID: "01KORDER", CustomerID: "alice", Status: order.StatusStockReserved, Draft: order.Draft{
		Channel: order.ChannelPartner, PartnerOrderRef: "SHOP-1001",
		Buyer:     order.Party{Name: "Lena Fischer", Email: "lena@example.de", Phone: "+4915112345678"},
		Consignee: order.Party{Name: "Lena Fischer", Address: order.Address{Line1: "Bergmannstraße 12", City: "Berlin"}},
	}}
	ev := order.Event{OrderID: o.ID, Version: 2, At: time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC), From: order.StatusReceived, To: order.StatusStockReserved}
	b, _ := json.Marshal(NewMessage(o, ev))
	for _, pii := range []string{"Lena", "lena@", "+49", "Bergmann", "Berlin", "alice"} {
		if strings.Contains(string(b), pii) {
			t.Fatalf("message carries %q: %s", pii, b)
		}
	}
	want := `{"orderId":"01KORDER","version":2,"status":"STOCK_RESERVED","previousStatus":"RECEIVED","channel":"partner","partnerOrderRef":"SHOP-1001","at":"2026-11-24T10:00:00Z"}`
	if string(b) != want {
		t.Fatalf("message\n got  %s\n want %s", b, want)
	}
}
