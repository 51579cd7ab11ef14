package workers

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/order"
)

// Simulated outside parties for the local stack and the tests. Their outcome
// is driven by the order, so a demo can show every path:
//
//	customs broker   a declaration that fails Check   refused: declaration_incomplete
//	                 HS 3004… (medicaments)          refused: licence_required
//	                 HS 2402… (cigars, cigarettes)   refused: excise_goods_not_declared
//	                 consignee "Customs Refusal …"   refused: consignee_not_registered
//	                 SKU SIM-CUSTOMS-FAIL-<n>        fails n times, then clears
//	warehouse        SKU SIM-CANNOT-SHIP             refused: warehouse_cannot_ship
//	                 SKU SIM-WAREHOUSE-FAIL-<n>      fails n times, then ships
//
// Both are keyed by order id: asking twice gives the same answer.

// ErrSimulatedOutage is the simulators' transient failure.
var ErrSimulatedOutage = errors.New("simulated outage")

type failCounter struct {
	mu    sync.Mutex
	tries map[string]int
}

// fail reports whether this attempt for an order must fail, given a SKU
// prefix whose suffix says how many attempts fail.
func (f *failCounter) fail(orderID string, skus []string, prefix string) bool {
	limit := 0
	for _, sku := range skus {
		if n, ok := strings.CutPrefix(sku, prefix); ok {
			limit, _ = strconv.Atoi(n)
		}
	}
	if limit == 0 {
		return false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tries == nil {
		f.tries = map[string]int{}
	}
	f.tries[orderID]++
	return f.tries[orderID] <= limit
}

// BrokerSimulator is a customs broker.
type BrokerSimulator struct {
	Latency time.Duration
	fails   failCounter
}

// Clear files the declaration: it refuses what a broker would send back
// (see customs.Declaration.Check) and what the authority refuses.
func (b *BrokerSimulator) Clear(ctx context.Context, d *customs.Declaration) (string, error) {
	if err := sleep(ctx, b.Latency); err != nil {
		return "", err
	}
	if b.fails.fail(d.OrderID, skus(d), "SIM-CUSTOMS-FAIL-") {
		return "", ErrSimulatedOutage
	}
	for _, l := range d.Lines {
		switch {
		case strings.HasPrefix(l.HSCode, "3004"):
			return "", &Refused{Reason: "licence_required"}
		case strings.HasPrefix(l.HSCode, "2402"):
			return "", &Refused{Reason: "excise_goods_not_declared"}
		}
	}
	if strings.HasPrefix(strings.ToLower(d.Consignee.Name), "customs refusal") {
		return "", &Refused{Reason: "consignee_not_registered"}
	}
	if err := d.Check(); err != nil {
		return "", &Refused{Reason: "declaration_incomplete"}
	}
	return "CD-" + d.OrderID, nil
}

func skus(d *customs.Declaration) []string {
	out := make([]string, len(d.Lines))
	for i, l := range d.Lines {
		out[i] = l.SKU
	}
	return out
}

// WarehouseSimulator is an overseas warehouse and its carrier.
type WarehouseSimulator struct {
	Latency time.Duration
	fails   failCounter
}

// Ship hands the goods to the carrier.
func (w *WarehouseSimulator) Ship(ctx context.Context, o *order.Order) (string, error) {
	if err := sleep(ctx, w.Latency); err != nil {
		return "", err
	}
	lines := make([]string, len(o.Lines))
	for i, l := range o.Lines {
		lines[i] = l.SKU
	}
	if w.fails.fail(o.ID, lines, "SIM-WAREHOUSE-FAIL-") {
		return "", ErrSimulatedOutage
	}
	for _, l := range o.Lines {
		if l.SKU == "SIM-CANNOT-SHIP" {
			return "", &Refused{Reason: "warehouse_cannot_ship"}
		}
	}
	return WaybillNumber(o), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
