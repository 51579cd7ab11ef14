package stack

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/stock"
)

// StockPutter sets a SKU's stock.
type StockPutter interface {
	Put(ctx context.Context, warehouse, sku string, available int64) error
	Available(ctx context.Context, warehouse, sku string) (int64, error)
}

// SeedStock stocks every warehouse with the SKUs of the sample orders in
// dirs (events/orders, events/demo) and the simulators' SKUs, where it has
// none. SKUs that start with OUT-OF-STOCK stay empty, so the demo shows that path.
func SeedStock(ctx context.Context, s StockPutter, quantity int64, dirs ...string) error {
	skus := map[string]bool{"SIM-CANNOT-SHIP": true}
	var files []string
	for _, dir := range dirs {
		f, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		files = append(files, f...)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		// Orders (lines), Shopify payloads (line_items), catalogues (products).
		var d struct {
			Lines     []order.Line           `json:"lines"`
			LineItems []struct{ SKU string } `json:"line_items"`
			Products  []struct{ SKU string } `json:"products"`
		}
		if json.Unmarshal(b, &d) != nil {
			continue
		}
		for _, l := range d.Lines {
			skus[l.SKU] = true
		}
		for _, l := range append(d.LineItems, d.Products...) {
			if l.SKU != "" {
				skus[l.SKU] = true
			}
		}
	}
	for _, w := range stock.Warehouses {
		for sku := range skus {
			if len(sku) >= 12 && sku[:12] == "OUT-OF-STOCK" {
				continue
			}
			if n, err := s.Available(ctx, w.ID, sku); err != nil || n > 0 {
				if err != nil {
					return err
				}
				continue
			}
			if err := s.Put(ctx, w.ID, sku, quantity); err != nil {
				return err
			}
		}
	}
	return nil
}
