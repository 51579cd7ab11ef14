package partner

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/partners/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var nativePartner = &Partner{ID: "market", Format: FormatNative}

func TestNativeSample(t *testing.T) {
	d, errs, err := nativePartner.Draft(readSample(t, "native-order.json"), nil)
	if err != nil || errs != nil {
		t.Fatalf("%v %v", err, errs)
	}
	eur := func(n int64) money.Money { return money.New(n, "EUR") }
	shipping := eur(590)
	paris := order.Address{Line1: "18 rue des Martyrs", City: "Paris", PostalCode: "75009", Country: "FR"}
	want := order.Draft{
		Channel: order.ChannelPartner, TradeMode: order.TradeB2C, Fulfilment: order.FulfilDirectMail, Incoterm: order.IncotermDDP,
		Currency: "EUR",
		Buyer:    order.Party{Name: "Camille Laurent", Email: "camille.laurent@example.fr", Phone: "+33612345678", Address: paris},
		Consignee: order.Party{Name: "Camille Laurent", Email: "camille.laurent@example.fr", Phone: "+33612345678",
			Address: order.Address{Line1: "18 rue des Martyrs", Line2: "Bâtiment B", City: "Paris", PostalCode: "75009", Country: "FR"}},
		Lines: []order.Line{
			{SKU: "TSHIRT-COTTON-M", Title: "Cotton T-shirt, size M", HSCode: "610910", Quantity: 1, UnitPrice: eur(1999), LineTotal: eur(1999), WeightGrams: 200, OriginCountry: "CN"},
			{SKU: "MUG-PORCELAIN-350", Title: "Porcelain mug, 350 ml", HSCode: "691110", Quantity: 2, UnitPrice: eur(899), LineTotal: eur(1798), WeightGrams: 320, OriginCountry: "CN"},
		},
		Shipping:        &shipping,
		Total:           eur(4387),
		Payment:         order.Payment{Method: order.PaymentPartnerAccount},
		PartnerOrderRef: "MKT-2026-000123",
	}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("got  %+v\nwant %+v", d, want)
	}
	if errs := d.Validate(); errs != nil {
		t.Fatalf("the sample does not validate: %v", errs)
	}
}

func TestNativeChannelIsPartner(t *testing.T) {
	for _, raw := range []string{`{"channel": "web"}`, `{"channel": "mobile"}`, `{}`} {
		d, errs, err := nativePartner.Draft([]byte(raw), nil)
		if err != nil || errs != nil || d.Channel != order.ChannelPartner {
			t.Fatalf("%s: %v %v %q", raw, err, errs, d.Channel)
		}
	}
}

func TestNativeStrict(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"unknown top-level field", `{"channel": "partner", "shopper": "x"}`, `unknown field "shopper"`},
		{"unknown nested field", `{"lines": [{"sku": "A", "colour": "red"}]}`, `unknown field "colour"`},
		{"a number as a string", `{"lines": [{"quantity": "2"}]}`, `field "lines.quantity" must be a JSON number, not a string`},
		{"a phone as a number", `{"buyer": {"phone": 4915112345678}}`, `field "buyer.phone" must be a JSON string, not a number`},
		{"an object for a list", `{"lines": {}}`, `field "lines" must be a JSON array`},
		{"trailing data", `{"channel": "partner"} x`, "single JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, err := nativePartner.Draft([]byte(tc.raw), nil)
			if !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), tc.want) || errs != nil {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
			if strings.Contains(err.Error(), "4915112345678") {
				t.Fatalf("the error holds a value: %v", err)
			}
		})
	}
}

// TestNativeFieldErrorsAreValidations: a native draft that breaks the
// order's rules maps (no field errors) and Validate then names the field
// in the partner's own payload.
func TestNativeFieldErrorsAreValidations(t *testing.T) {
	raw := strings.Replace(string(readSample(t, "native-order.json")), `"hsCode": "610910"`, `"hsCode": "61"`, 1)
	d, errs, err := nativePartner.Draft([]byte(raw), nil)
	if err != nil || errs != nil {
		t.Fatalf("%v %v", err, errs)
	}
	if v := d.Validate(); len(v) != 1 || v[0].Field != "/lines/0/hsCode" {
		t.Fatalf("%v", v)
	}
}
