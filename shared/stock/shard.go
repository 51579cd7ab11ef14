package stock

import (
	"cmp"
	"fmt"
	"hash/fnv"
	"slices"
)

// A SKU's stock is kept in shards: counters a store can write independently
// (in DynamoDB, items under partition keys of their own), so that a flash
// sale on one SKU is not held to one counter's write limit. Putting stock
// spreads it evenly over the shards; a reservation takes each line from one
// shard, picked by hashing the order id, and only when that shard is short
// from another shard, or from several (see Plan).

// DefaultShards is how many shards a SKU's stock is spread over unless
// Sharding says otherwise. In DynamoDB a reservation writes 2 units to the
// shard it takes from, so 8 shards take about 8 × 1,000 ÷ 2 = 4,000
// reservations/s of one SKU (BENCHMARKS.md, hot-sku).
const DefaultShards = 8

// MaxShards bounds a SKU's shards: putting stock writes every shard and the
// SKU's own item in one transaction of at most 100 items.
const MaxShards = 64

// Sharding is the setting that says over how many shards a SKU's stock is
// spread when it is put. A store keeps, per SKU, the most shards it was ever
// put with: the count only grows, so a reservation working from a count read
// earlier still takes from shards that exist and are counted.
type Sharding struct {
	// Default is the shard count of a SKU not in SKUs; 0 means DefaultShards.
	Default int
	// SKUs gives hot SKUs (a flash sale) more shards, or any SKU fewer.
	SKUs map[string]int
}

// For is the shard count of sku, brought into 1..MaxShards.
func (s Sharding) For(sku string) int {
	n, ok := s.SKUs[sku]
	if !ok {
		n = s.Default
	}
	if n == 0 {
		n = DefaultShards
	}
	return min(max(n, 1), MaxShards)
}

// Spread splits n over shards counters as evenly as possible: every shard
// holds n ÷ shards, and the first n mod shards one more.
func Spread(n int64, shards int) []int64 {
	out := make([]int64, shards)
	for i := range out {
		out[i] = n / int64(shards)
		if int64(i) < n%int64(shards) {
			out[i]++
		}
	}
	return out
}

// Sum merges items of the same SKU, in first-seen order, so that a
// reservation touches each SKU's shards once.
func Sum(items []Item) []Item {
	idx := map[string]int{}
	var out []Item
	for _, it := range items {
		if i, ok := idx[it.SKU]; ok {
			out[i].Quantity += it.Quantity
			continue
		}
		idx[it.SKU] = len(out)
		out = append(out, it)
	}
	return out
}

// CheckQuantities refuses a quantity below one: taking it would add stock.
func CheckQuantities(items []Item) error {
	for _, it := range items {
		if it.Quantity < 1 {
			return fmt.Errorf("stock: quantity %d of %s: must be at least 1", it.Quantity, it.SKU)
		}
	}
	return nil
}

// Take is a quantity of one SKU taken from one of its shards. A reservation
// records its takes, so that a release gives back to the same shards.
type Take struct {
	SKU      string `dynamodbav:"sku"`
	Shard    int    `dynamodbav:"shard"`
	Quantity int64  `dynamodbav:"quantity"`
}

// FirstShard is the shard an order's line of sku tries first: a hash of the
// order id and the SKU, so that orders spread evenly over the shards and a
// retried reservation tries the same shard again.
func FirstShard(orderID, sku string, shards int) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(orderID))
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(sku))
	return int(h.Sum32() % uint32(shards))
}

// TakeFromFirstShards is a reservation's first attempt, made without reading
// any shard: each item whole from its FirstShard. shards holds each SKU's
// shard count; nil when a SKU has none (it was never stocked).
func TakeFromFirstShards(orderID string, items []Item, shards map[string]int) []Take {
	takes := make([]Take, 0, len(items))
	for _, it := range items {
		n := shards[it.SKU]
		if n < 1 {
			return nil
		}
		takes = append(takes, Take{SKU: it.SKU, Shard: FirstShard(orderID, it.SKU, n), Quantity: it.Quantity})
	}
	return takes
}

// Plan chooses the shards an order's items are taken from, given what each
// SKU's shards hold (available[sku][shard]); items must be summed by SKU.
// Each item is taken whole from the first shard, going round from its
// FirstShard, that holds it all; when no shard does but the shards together
// do, the item is split over the fullest shards, as few as cover it, in the
// same transaction. short names the first item the shards together cannot
// cover; then takes is nil.
func Plan(orderID string, items []Item, available map[string][]int64) (takes []Take, short string) {
	for _, it := range items {
		line := planItem(orderID, it, available[it.SKU])
		if line == nil {
			return nil, it.SKU
		}
		takes = append(takes, line...)
	}
	return takes, ""
}

// planItem takes one item from shards: whole from one shard if one holds it,
// else split over the fullest; nil when they together hold less.
func planItem(orderID string, it Item, shards []int64) []Take {
	n := len(shards)
	if n == 0 {
		return nil
	}
	first := FirstShard(orderID, it.SKU, n)
	for i := range n {
		if k := (first + i) % n; shards[k] >= it.Quantity {
			return []Take{{SKU: it.SKU, Shard: k, Quantity: it.Quantity}}
		}
	}
	// Fullest first; among equals, in the order they would have been tried.
	order := make([]int, n)
	for i := range order {
		order[i] = (first + i) % n
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(shards[b], shards[a]) })
	var takes []Take
	left := it.Quantity
	for _, k := range order {
		if left == 0 || shards[k] <= 0 {
			break
		}
		q := min(shards[k], left)
		takes = append(takes, Take{SKU: it.SKU, Shard: k, Quantity: q})
		left -= q
	}
	if left > 0 {
		return nil
	}
	return takes
}
