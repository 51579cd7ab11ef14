package partner

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestLoadDemoCatalogue(t *testing.T) {
	c, err := LoadCatalogueFile("../../localstack/catalogue.json")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := c.Product("INFUSER-STEEL")
	if !ok || p != (Product{SKU: "INFUSER-STEEL", HSCode: "732393", OriginCountry: "CN", WeightGrams: 60}) {
		t.Fatalf("INFUSER-STEEL: %+v %v", p, ok)
	}
	if _, ok := c.Product("infuser-steel"); ok {
		t.Fatal("SKUs are matched exactly, case included")
	}
	if _, ok := c.Product("DRIPPER-CER-WHT"); ok {
		t.Fatal("the Shopify sample's first line takes its HS code from a line property, not the catalogue")
	}
}

func TestCatalogueSource(t *testing.T) {
	raw := `{"products": [{"sku": "A-1", "hsCode": "610910"}]}`
	sm := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{"xborder/catalogue": secretString(raw)}}
	c, err := LoadCatalogueSource(context.Background(), "secretsmanager:xborder/catalogue", sm)
	if err != nil || c.Len() != 1 {
		t.Fatalf("%v %d", err, c.Len())
	}
	sm.values["xborder/catalogue"] = secretString(`{"products": [{"sku": "A-1", "hsCode": "61"}]}`)
	if _, err := LoadCatalogueSource(context.Background(), "secretsmanager:xborder/catalogue", sm); err == nil ||
		!strings.Contains(err.Error(), "secret xborder/catalogue") || !strings.Contains(err.Error(), "hsCode") {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadCatalogueSource(context.Background(), "file:../../localstack/catalogue.json", nil); err != nil {
		t.Fatal(err)
	}
}

func TestNilCatalogue(t *testing.T) {
	var c *Catalogue
	if _, ok := c.Product("INFUSER-STEEL"); ok || c.Len() != 0 {
		t.Fatal("the nil catalogue is empty")
	}
}

func TestLoadCatalogueRules(t *testing.T) {
	for _, tc := range []struct{ name, raw, want string }{
		{"bad JSON", `{"products": [`, "unexpected EOF"},
		{"unknown field", `{"products": [{"sku": "A", "hsCode": "610910", "title": "T-shirt"}]}`, `unknown field "title"`},
		{"data after the object", `{"products": []} []`, "data after"},
		{"null entry", `{"products": [null]}`, "products[0]: null"},
		{"no sku", `{"products": [{"hsCode": "610910"}]}`, "products[0] (): sku must be"},
		{"sku with a space", `{"products": [{"sku": "A 1", "hsCode": "610910"}]}`, "sku must be"},
		{"sku too long", `{"products": [{"sku": "` + strings.Repeat("A", 65) + `", "hsCode": "610910"}]}`, "sku must be"},
		{"duplicate sku", `{"products": [{"sku": "A", "hsCode": "610910"}, {"sku": "A", "hsCode": "610990"}]}`, "products[1] (A): sku listed twice"},
		{"no HS code", `{"products": [{"sku": "A"}]}`, "hsCode must be 6 to 10 digits"},
		{"HS code too short", `{"products": [{"sku": "A", "hsCode": "61091"}]}`, "hsCode must be"},
		{"HS code too long", `{"products": [{"sku": "A", "hsCode": "61091000001"}]}`, "hsCode must be"},
		{"HS code with dots", `{"products": [{"sku": "A", "hsCode": "6109.10"}]}`, "hsCode must be"},
		{"unknown country", `{"products": [{"sku": "A", "hsCode": "610910", "originCountry": "XX"}]}`, `originCountry "XX"`},
		{"lower-case country", `{"products": [{"sku": "A", "hsCode": "610910", "originCountry": "cn"}]}`, `originCountry "cn"`},
		{"negative weight", `{"products": [{"sku": "A", "hsCode": "610910", "weightGrams": -1}]}`, "weightGrams"},
		{"weight too large", `{"products": [{"sku": "A", "hsCode": "610910", "weightGrams": 1000001}]}`, "weightGrams"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := LoadCatalogue(strings.NewReader(tc.raw))
			if err == nil || !strings.Contains(err.Error(), tc.want) || c != nil {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
		})
	}
	c, err := LoadCatalogue(strings.NewReader(`{"products": [{"sku": "A.1_b-2", "hsCode": "6109100010"}, {"sku": "B", "hsCode": "610910", "originCountry": "VN", "weightGrams": 1000000}]}`))
	if err != nil || c.Len() != 2 {
		t.Fatalf("%v", err)
	}
	if p, _ := c.Product("A.1_b-2"); p.OriginCountry != "" || p.WeightGrams != 0 {
		t.Fatalf("%+v", p)
	}
}
