// Package stock picks the warehouse that fulfils an order and reserves its
// goods there. Reservations are keyed by order, so reserving twice reserves
// once and releasing twice releases once.
package stock

import (
	"errors"
	"sort"

	"github.com/xborder/xborder/shared/country"
	"github.com/xborder/xborder/shared/order"
)

// Warehouse is a place stock is held.
type Warehouse struct {
	ID      string
	Country string
	// Kind is the fulfilment mode it serves.
	Kind order.Fulfilment
	// Serves lists destination countries it ships to; "EU" stands for every
	// member state; empty means anywhere.
	Serves []string
}

// Warehouses is the network: overseas warehouses near the shoppers, the
// origin warehouse that mails direct from China, and a bonded warehouse for
// retail imports into China.
var Warehouses = []Warehouse{
	{ID: "DE-FRA-1", Country: "DE", Kind: order.FulfilOverseasWarehouse, Serves: []string{"EU"}},
	{ID: "US-LAX-1", Country: "US", Kind: order.FulfilOverseasWarehouse, Serves: []string{"US", "CA"}},
	{ID: "GB-LHR-1", Country: "GB", Kind: order.FulfilOverseasWarehouse, Serves: []string{"GB"}},
	{ID: "AU-SYD-1", Country: "AU", Kind: order.FulfilOverseasWarehouse, Serves: []string{"AU", "NZ"}},
	{ID: "CN-SZX-1", Country: "CN", Kind: order.FulfilDirectMail},
	{ID: "CN-SZX-SUPPLIER", Country: "CN", Kind: order.FulfilSupplierDirect},
	{ID: "CN-NGB-BONDED", Country: "CN", Kind: order.FulfilBondedWarehouse, Serves: []string{"CN"}},
}

func serves(w Warehouse, dest string) bool {
	if len(w.Serves) == 0 {
		return w.Country != dest
	}
	for _, s := range w.Serves {
		if s == dest || (s == "EU" && country.InEU(dest)) {
			return true
		}
	}
	return false
}

// Candidates lists, best first, the warehouses that may fulfil o: those of
// its fulfilment mode that ship to its destination, a warehouse in the
// destination country before the others.
func Candidates(o *order.Order) []Warehouse {
	dest := o.Destination()
	var out []Warehouse
	for _, w := range Warehouses {
		if w.Kind == o.Fulfilment && serves(w, dest) {
			out = append(out, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Country == dest && out[j].Country != dest })
	return out
}

// Predict is the warehouse the stock step tries first for an order of
// fulfilment f to dest: where the order is taken to ship from before its
// stock is reserved — at intake and in a quote. ok is false when no
// warehouse of that fulfilment serves dest.
func Predict(f order.Fulfilment, dest string) (w Warehouse, ok bool) {
	c := Candidates(&order.Order{Draft: order.Draft{Fulfilment: f, Consignee: order.Party{Address: order.Address{Country: dest}}}})
	if len(c) == 0 {
		return Warehouse{}, false
	}
	return c[0], true
}

// Item is a quantity of one SKU.
type Item struct {
	SKU      string
	Quantity int64
}

// Items sums an order's lines per SKU, in first-seen order.
func Items(lines []order.Line) []Item {
	items := make([]Item, len(lines))
	for i, l := range lines {
		items[i] = Item{SKU: l.SKU, Quantity: l.Quantity}
	}
	return Sum(items)
}

// ErrOutOfStock: the warehouse cannot cover every item; nothing was reserved.
var ErrOutOfStock = errors.New("stock: out of stock")

// ErrBusy: other reservations kept taking the stock a reservation counted
// on; nothing was reserved, the goods may still be there: retry.
var ErrBusy = errors.New("stock: busy, retry")
