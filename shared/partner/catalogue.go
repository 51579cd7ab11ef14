package partner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/order"
)

// Product is what the catalogue knows of one SKU for customs: its HS code,
// country of origin and the weight of one unit. A partner payload's own
// values (a line property, a weight) win over the catalogue's.
type Product struct {
	SKU    string `json:"sku"`
	HSCode string `json:"hsCode"`
	// OriginCountry is ISO 3166-1 alpha-2; empty if the catalogue does not
	// know it.
	OriginCountry string `json:"originCountry,omitempty"`
	// WeightGrams is one unit's weight; 0 if the catalogue does not know it.
	WeightGrams int64 `json:"weightGrams,omitempty"`
}

// Catalogue is the product catalogue partner formats look SKUs up in. The
// nil *Catalogue is empty.
type Catalogue struct {
	bySKU map[string]Product
}

// Product finds a SKU (exactly, case included).
func (c *Catalogue) Product(sku string) (Product, bool) {
	if c == nil {
		return Product{}, false
	}
	p, ok := c.bySKU[sku]
	return p, ok
}

// Len is how many products the catalogue holds.
func (c *Catalogue) Len() int {
	if c == nil {
		return 0
	}
	return len(c.bySKU)
}

// validSKU: 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-'. (A loop, not a
// regular expression: a bounded repetition compiles to a program of
// thousands of instructions, a millisecond of every cold start.)
func validSKU(s string) bool {
	if len(s) < 1 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// LoadCatalogue reads a catalogue shaped {"products": [{"sku", "hsCode",
// "originCountry", "weightGrams"}]} and checks every entry, reporting every
// problem at once: sku 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-', each SKU
// once; hsCode 6 to 10 digits (required); originCountry an ISO 3166-1
// alpha-2 code if given; weightGrams 0 (unknown) to order.MaxWeightGrams.
// Unknown fields are refused.
func LoadCatalogue(r io.Reader) (*Catalogue, error) { return loadCatalogue(r, "catalogue") }

// LoadCatalogueFile reads a catalogue from a file (see LoadCatalogue).
func LoadCatalogueFile(path string) (*Catalogue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("partner: catalogue: %w", err)
	}
	defer f.Close()
	return loadCatalogue(f, "catalogue "+path)
}

// loadCatalogue is LoadCatalogue, its errors prefixed with what (where the
// catalogue came from).
func loadCatalogue(r io.Reader, what string) (*Catalogue, error) {
	var f struct {
		Products []*Product `json:"products"`
	}
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("partner: %s: %w", what, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("partner: %s: data after the JSON object", what)
	}
	c := &Catalogue{bySKU: make(map[string]Product, len(f.Products))}
	var errs []error
	for i, p := range f.Products {
		if p == nil {
			errs = append(errs, fmt.Errorf("products[%d]: null", i))
			continue
		}
		bad := func(format string, args ...any) {
			errs = append(errs, fmt.Errorf("products[%d] (%s): %s", i, p.SKU, fmt.Sprintf(format, args...)))
		}
		if !validSKU(p.SKU) {
			bad("sku must be 1 to 64 of A-Z, a-z, 0-9, '.', '_' and '-'")
		} else if _, dup := c.bySKU[p.SKU]; dup {
			bad("sku listed twice")
		}
		if !validHSCode(p.HSCode) {
			bad("hsCode must be 6 to 10 digits")
		}
		if p.OriginCountry != "" && !country.Valid(p.OriginCountry) {
			bad("originCountry %q is not an ISO 3166-1 alpha-2 code", p.OriginCountry)
		}
		if p.WeightGrams < 0 || p.WeightGrams > order.MaxWeightGrams {
			bad("weightGrams must be from 0 (unknown) to %d", order.MaxWeightGrams)
		}
		if _, dup := c.bySKU[p.SKU]; !dup {
			c.bySKU[p.SKU] = *p
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("partner: %s: %w", what, errors.Join(errs...))
	}
	return c, nil
}
