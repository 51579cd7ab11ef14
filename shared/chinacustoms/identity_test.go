package chinacustoms

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/order"
)

var idFields = []string{"order.buyerIdNumber", "payment.payerIdNumber", "inventory.buyerIdNumber"}

// The buyer's identity on the order fills the order's and the inventory's
// buyerIdNumber and the payment's payerIdNumber (the payer is the buyer),
// so none of them is incomplete; without it, or with a document other than
// the resident identity card, all three stay empty and are listed.
func TestBuildTakesTheBuyersIdentity(t *testing.T) {
	for _, tc := range []struct {
		name     string
		identity *order.Identity
		want     string // the number in the three documents; "" for none
	}{
		{"resident identity card", &order.Identity{Type: "1", Number: testIDNumber}, testIDNumber},
		{"check character x, declared X", &order.Identity{Type: "1", Number: "11010119900307002x"}, "11010119900307002X"},
		{"no identity (an order from before it was collected)", nil, ""},
		{"another document", &order.Identity{Type: "2", Number: "E12345678"}, ""},
		{"no number", &order.Identity{Type: "1"}, ""},
	} {
		for _, fixture := range []func(*testing.T) *order.Order{import1210, import9610} {
			o := fixture(t)
			t.Run(tc.name+" "+o.ID, func(t *testing.T) {
				o.Buyer.Identity = tc.identity
				d := mustBuild(t, o)
				for _, got := range []Personal{d.Order.BuyerIDNumber, d.Payment.PayerIDNumber, d.Inventory.BuyerIDNumber} {
					if string(got) != tc.want {
						t.Fatalf("identity numbers %q %q %q, want %q",
							string(d.Order.BuyerIDNumber), string(d.Payment.PayerIDNumber), string(d.Inventory.BuyerIDNumber), tc.want)
					}
				}
				for _, f := range idFields {
					if slices.Contains(d.Incomplete, f) != (tc.want == "") {
						t.Errorf("Incomplete %v: %s listed %v, want %v", d.Incomplete, f, !(tc.want == ""), tc.want == "")
					}
				}
				if d.Order.BuyerIDType != IDTypeIdentityCard || d.Payment.PayerIDType != IDTypeIdentityCard || d.Inventory.BuyerIDType != IDTypeIdentityCard {
					t.Fatal("retail-import messages take type 1 only")
				}
				if err := d.Check(); err != nil {
					t.Fatalf("Check: %v", err)
				}
			})
		}
	}
}

// Check compares the three identity numbers like the other personal data,
// and says so without quoting them.
func TestCheckComparesTheIdentityNumbers(t *testing.T) {
	d := mustBuild(t, import1210(t))
	d.Payment.PayerIDNumber = "11010119900307002X"
	err := d.Check()
	var mm *MismatchError
	if !errors.As(err, &mm) || !slices.Contains(mm.Fields(), "buyerIdNumber") {
		t.Fatalf("Check: %v", err)
	}
	if strings.Contains(err.Error(), testIDNumber) || strings.Contains(err.Error(), "11010119900307002X") {
		t.Fatalf("the error quotes an identity number: %v", err)
	}
}

// The identity number is in the documents, for the messages, and nowhere
// that prints them. (Personal has no MarshalJSON: encoding/json, and so
// slog's JSON handler given a document rather than the declaration, writes
// every Personal value in full.)
func TestIdentityNumberStaysOutOfLogs(t *testing.T) {
	d := mustBuild(t, import9610(t))
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("declared", "declaration", d, "id", d.Order.BuyerIDNumber, "payer", d.Payment.PayerIDNumber)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("declared", "declaration", d, "id", d.Inventory.BuyerIDNumber, "inventory", d.Inventory)
	printed := strings.Join([]string{d.String(), logged.String(),
		fmt.Sprintf("%v %+v %#v %s %q", *d, *d, *d, d.Order.BuyerIDNumber, d.Payment.PayerIDNumber),
		fmt.Sprint(d.Order, d.Payment, d.Waybill, d.Inventory),
	}, "\n")
	if strings.Contains(printed, testIDNumber) || strings.Contains(printed, testIDNumber[6:14]) {
		t.Fatalf("the identity number was printed:\n%s", printed)
	}
}

// order.Draft.RetailImportIntoChina (which requires the buyer's identity at
// intake) and SelectMode (which declares a retail import) agree on every
// trade mode and fulfilment.
func TestIdentityRequiredExactlyForRetailImports(t *testing.T) {
	for _, tm := range []order.TradeMode{order.TradeB2B, order.TradeB2C, order.TradeC2C, order.TradeM2B2C} {
		for _, f := range []order.Fulfilment{order.FulfilOverseasWarehouse, order.FulfilDirectMail, order.FulfilSupplierDirect, order.FulfilBondedWarehouse} {
			for _, dest := range []string{"CN", "DE"} {
				o := &order.Order{Draft: order.Draft{TradeMode: tm, Fulfilment: f,
					Consignee: order.Party{Address: order.Address{Country: dest}}, Lines: []order.Line{{OriginCountry: "JP"}}}}
				dir, involved := DirectionOf(o)
				_, err := SelectMode(dir, tm, f)
				declared := involved && dir == Import && err == nil
				if got := o.RetailImportIntoChina(); got != declared {
					t.Errorf("%s %s to %s: identity required %v, declared as a retail import %v", tm, f, dest, got, declared)
				}
			}
		}
	}
}
