package capacity

import (
	"fmt"
	"math"
	"sort"
)

// Plan is, on paper from the measured figures, what a target rate of an
// even mix of the sample paths needs: which quotas to raise, how many
// cells (accounts or Regions, each with its own table, queues and state
// machine) and what it costs.
type Plan struct {
	OrdersPerSecond float64   `json:"ordersPerSecond"`
	Mix             Figures   `json:"mix"`
	Rows            []PlanRow `json:"quotas"`
	// CellsAtDefaults is how many cells carry the rate with every quota at
	// its default; CellsIfRaised how many once every raisable quota is
	// raised, with the data model as it is (the per-partition limits are
	// not raisable: a key's traffic splits only across cells or shards);
	// CellsIfSharded how many with the hot keys write-sharded and every
	// quota at its default.
	CellsAtDefaults int `json:"cellsAtDefaultQuotas"`
	CellsIfRaised   int `json:"cellsIfRaisableQuotasRaised"`
	CellsIfSharded  int `json:"cellsIfHotKeysSharded"`
	// MonthlyUSD is a 30-day month at the rate, by line of the bill; the
	// same whatever the number of cells (every line is priced per request).
	MonthlyUSD      map[string]float64 `json:"monthlyUSD"`
	MonthlyUSDTotal float64            `json:"monthlyUSDTotal"`
}

// PlanRow is one quota at the target rate.
type PlanRow struct {
	QuotaLoad
	Needed float64 `json:"needed"` // of the quota's unit, per second, at the target rate
	Action string  `json:"action"`
}

// plan works out what rate orders/s of an even mix of paths needs.
func plan(paths []Figures, rate float64, prices *Prices) Plan {
	m := mix(paths, prices)
	p := Plan{OrdersPerSecond: rate, Mix: m, CellsAtDefaults: 1, CellsIfRaised: 1, CellsIfSharded: 1, MonthlyUSD: map[string]float64{}}
	for _, q := range m.Quotas {
		row := PlanRow{QuotaLoad: q, Needed: rate * q.PerOrder}
		cells := int(math.Ceil(row.Needed / q.Limit))
		p.CellsAtDefaults = max(p.CellsAtDefaults, cells)
		switch {
		case row.Needed <= q.Limit:
			row.Action = "fits"
		case q.Raisable:
			p.CellsIfSharded = max(p.CellsIfSharded, cells)
			row.Action = fmt.Sprintf("raise to %s/s (%.1f× the default), or %d cells", num(row.Needed), row.Needed/q.Limit, cells)
		default:
			p.CellsIfRaised = max(p.CellsIfRaised, cells)
			row.Action = fmt.Sprintf("cannot be raised: spread over %d keys (write sharding) or %d cells", cells, cells)
		}
		p.Rows = append(p.Rows, row)
	}
	ordersPerMonth := rate * 86400 * 30
	for line, usd := range m.CostPer1000 {
		p.MonthlyUSD[line] = usd * ordersPerMonth / 1000
		p.MonthlyUSDTotal += p.MonthlyUSD[line]
	}
	return p
}

// mix is the figures of an even mix of the paths: the average per order,
// each partition key's load summed over the paths that write it.
func mix(paths []Figures, prices *Prices) Figures {
	n := float64(len(paths))
	m := Figures{Name: "even mix", WriteUnitsBy: map[string]float64{}, ReadUnitsBy: map[string]float64{},
		DynamoDBCalls: map[string]float64{}, StepFunctionsAPI: map[string]float64{}, SQSRequests: map[string]float64{},
		LambdaInvocations: map[string]float64{}, LambdaMillis: map[string]float64{}, CostPer1000: map[string]float64{}}
	writes, reads := map[KeyLoad]float64{}, map[KeyLoad]float64{}
	for _, f := range paths {
		m.Orders += f.Orders
		m.WriteUnits += f.WriteUnits / n
		m.ReadUnits += f.ReadUnits / n
		m.OwnWriteUnits += f.OwnWriteUnits / n
		m.StateTransitions += f.StateTransitions / n
		m.LambdaGBSeconds += f.LambdaGBSeconds / n
		m.ConcurrencySeconds += f.ConcurrencySeconds / n
		m.SQSBilled += f.SQSBilled / n
		m.SNSPublishes += f.SNSPublishes / n
		m.APIRequests += f.APIRequests / n
		m.EPortReceipts += f.EPortReceipts / n
		m.CostPer1000Total += f.CostPer1000Total / n
		for _, pair := range []struct{ to, from map[string]float64 }{{m.WriteUnitsBy, f.WriteUnitsBy}, {m.ReadUnitsBy, f.ReadUnitsBy},
			{m.DynamoDBCalls, f.DynamoDBCalls}, {m.StepFunctionsAPI, f.StepFunctionsAPI}, {m.SQSRequests, f.SQSRequests},
			{m.LambdaInvocations, f.LambdaInvocations}, {m.CostPer1000, f.CostPer1000}} {
			for k, v := range pair.from {
				pair.to[k] += v / n
			}
		}
		for _, k := range f.TopWriteKeys {
			writes[KeyLoad{Index: k.Index, Key: k.Key}] += k.UnitsPerOrder / n
		}
		if f.HottestReadKey.Key != "" {
			reads[KeyLoad{Index: f.HottestReadKey.Index, Key: f.HottestReadKey.Key}] += f.HottestReadKey.UnitsPerOrder / n
		}
	}
	m.TopWriteKeys = ranked(writes)
	if len(m.TopWriteKeys) > 0 {
		m.HottestWriteKey = m.TopWriteKeys[0]
	}
	m.TopWriteKeys = m.TopWriteKeys[:min(len(m.TopWriteKeys), 8)]
	if r := ranked(reads); len(r) > 0 {
		m.HottestReadKey = r[0]
	}
	m.Quotas = quotaLoads(&m, prices)
	if len(m.Quotas) > 0 {
		m.Binding = m.Quotas[0]
	}
	return m
}

func ranked(loads map[KeyLoad]float64) []KeyLoad {
	var out []KeyLoad
	for k, v := range loads {
		k.UnitsPerOrder = v
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UnitsPerOrder != out[j].UnitsPerOrder {
			return out[i].UnitsPerOrder > out[j].UnitsPerOrder
		}
		return out[i].String() < out[j].String()
	})
	return out
}

// num writes a figure with thousands separators and sensible precision.
func num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return commas(fmt.Sprintf("%.0f", v))
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	case math.Abs(v) >= 0.1:
		return fmt.Sprintf("%.2f", v)
	default:
		return fmt.Sprintf("%.3g", v)
	}
}

func commas(s string) string {
	neg := s != "" && s[0] == '-'
	if neg {
		s = s[1:]
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}
