package stock

import (
	"fmt"
	"testing"
)

func TestShardingFor(t *testing.T) {
	s := Sharding{SKUs: map[string]int{"FLASH": 32, "HUGE": 1000, "ONE": 1, "ZERO": 0}}
	for sku, want := range map[string]int{"PLAIN": DefaultShards, "FLASH": 32, "HUGE": MaxShards, "ONE": 1, "ZERO": DefaultShards} {
		if got := s.For(sku); got != want {
			t.Errorf("For(%s) = %d, want %d", sku, got, want)
		}
	}
	if got := (Sharding{Default: -3}).For("X"); got != 1 {
		t.Errorf("a negative default: %d shards, want 1", got)
	}
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		n      int64
		shards int
		want   string
	}{
		{100, 8, "[13 13 13 13 12 12 12 12]"},
		{3, 8, "[1 1 1 0 0 0 0 0]"},
		{0, 2, "[0 0]"},
		{7, 1, "[7]"},
	} {
		if got := fmt.Sprint(Spread(tc.n, tc.shards)); got != tc.want {
			t.Errorf("Spread(%d, %d) = %s, want %s", tc.n, tc.shards, got, tc.want)
		}
	}
}

// TestFirstShardSpreadsOrders: ULID-like order ids land evenly enough on
// the shards that no shard gets twice its share.
func TestFirstShardSpreadsOrders(t *testing.T) {
	const orders, shards = 8000, 8
	counts := make([]int, shards)
	for i := range orders {
		k := FirstShard(fmt.Sprintf("01KORDER%018d", i), "FLASH", shards)
		if k < 0 || k >= shards {
			t.Fatalf("shard %d of %d", k, shards)
		}
		counts[k]++
	}
	for k, n := range counts {
		if n < orders/shards/2 || n > orders/shards*2 {
			t.Errorf("shard %d took %d of %d orders: %v", k, n, orders, counts)
		}
	}
}

func TestTakeFromFirstShards(t *testing.T) {
	items := []Item{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}}
	takes := TakeFromFirstShards("o1", items, map[string]int{"A": 8, "B": 4})
	want := fmt.Sprint([]Take{{"A", FirstShard("o1", "A", 8), 2}, {"B", FirstShard("o1", "B", 4), 1}})
	if fmt.Sprint(takes) != want {
		t.Errorf("takes %v, want %v", takes, want)
	}
	if takes := TakeFromFirstShards("o1", items, map[string]int{"A": 8}); takes != nil {
		t.Errorf("a SKU without shards: %v, want nil", takes)
	}
}

func TestPlan(t *testing.T) {
	first := FirstShard("o1", "A", 4)
	at := func(i int) int { return (first + i) % 4 }
	shards := func(byTurn ...int64) []int64 { // what the shards hold, in the order o1 tries them
		out := make([]int64, len(byTurn))
		for i, n := range byTurn {
			out[at(i)] = n
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		qty   int64
		held  []int64
		want  []Take
		short bool
	}{
		{"whole from the first shard", 2, shards(5, 5, 5, 5), []Take{{"A", at(0), 2}}, false},
		{"whole from the next shard that holds it", 3, shards(1, 2, 3, 9), []Take{{"A", at(2), 3}}, false},
		{"split over the fullest shards", 5, shards(1, 2, 2, 1), []Take{{"A", at(1), 2}, {"A", at(2), 2}, {"A", at(0), 1}}, false},
		{"all of it", 6, shards(1, 2, 2, 1), []Take{{"A", at(1), 2}, {"A", at(2), 2}, {"A", at(0), 1}, {"A", at(3), 1}}, false},
		{"more than all of it", 7, shards(1, 2, 2, 1), nil, true},
		{"negative shards count as empty", 2, shards(-1, 1, 0, 1), []Take{{"A", at(1), 1}, {"A", at(3), 1}}, false},
		{"no shards", 1, nil, nil, true},
	} {
		takes, short := Plan("o1", []Item{{SKU: "A", Quantity: tc.qty}}, map[string][]int64{"A": tc.held})
		if fmt.Sprint(takes) != fmt.Sprint(tc.want) || (short != "") != tc.short {
			t.Errorf("%s: takes %v short %q, want %v short %v", tc.name, takes, short, tc.want, tc.short)
		}
	}
	// An order is planned whole or not at all: the first short item is named.
	held := map[string][]int64{"A": {5}, "B": {1}}
	if takes, short := Plan("o1", []Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}}, held); takes != nil || short != "B" {
		t.Errorf("B short: takes %v short %q", takes, short)
	}
}

func TestSumAndCheckQuantities(t *testing.T) {
	got := Sum([]Item{{SKU: "A", Quantity: 1}, {SKU: "B", Quantity: 2}, {SKU: "A", Quantity: 3}})
	if fmt.Sprint(got) != "[{A 4} {B 2}]" {
		t.Errorf("Sum: %v", got)
	}
	if err := CheckQuantities([]Item{{SKU: "A", Quantity: 1}}); err != nil {
		t.Error(err)
	}
	if err := CheckQuantities([]Item{{SKU: "A", Quantity: 0}}); err == nil {
		t.Error("a quantity of 0 passed")
	}
}
