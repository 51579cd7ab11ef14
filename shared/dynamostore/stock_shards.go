package dynamostore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// countTTL is how long a SKU's shard count is remembered. A count only
// grows, so a remembered one is never wrong, only perhaps short of shards
// added since: those are used once it is read again, after countTTL or when
// a reservation finds a shard short and reads them all.
const countTTL = time.Minute

// maxBatchGet is DynamoDB's limit on the keys of one BatchGetItem.
const maxBatchGet = 100

// shardCounts remembers SKUs' shard counts, so that a reservation's first
// attempt is its transaction alone, with no read on the SKU item's key.
type shardCounts struct {
	mu sync.Mutex
	m  map[[2]string]rememberedCount // warehouse, sku
}

type rememberedCount struct {
	n  int
	at time.Time
}

// remember keeps n, or the larger count already known. An unknown SKU (0)
// is not remembered: it is read again until it is stocked.
func (c *shardCounts) remember(warehouse, sku string, n int) {
	if n < 1 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[[2]string]rememberedCount{}
	}
	k := [2]string{warehouse, sku}
	if old, ok := c.m[k]; ok && old.n > n {
		n = old.n
	}
	c.m[k] = rememberedCount{n: n, at: time.Now()}
}

// recall is the count remembered for a SKU within countTTL.
func (c *shardCounts) recall(warehouse, sku string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.m[[2]string{warehouse, sku}]
	if !ok || time.Since(r.at) >= countTTL {
		return 0, false
	}
	return r.n, true
}

// rememberedCounts is each SKU's shard count, remembered or else read
// eventually consistent (a stale count is a smaller one, still valid).
func (s *Stock) rememberedCounts(ctx context.Context, warehouse string, skus []string) (map[string]int, error) {
	counts := map[string]int{}
	var missing []string
	for _, sku := range skus {
		if n, ok := s.counts.recall(warehouse, sku); ok {
			counts[sku] = n
		} else {
			missing = append(missing, sku)
		}
	}
	if len(missing) == 0 {
		return counts, nil
	}
	read, err := s.readCounts(ctx, warehouse, missing, false)
	if err != nil {
		return nil, err
	}
	for sku, n := range read {
		counts[sku] = n
	}
	return counts, nil
}

// readCounts reads the SKU items of distinct skus: each SKU's shard count,
// 0 for a SKU never stocked. It remembers what it read.
func (s *Stock) readCounts(ctx context.Context, warehouse string, skus []string, consistent bool) (map[string]int, error) {
	bySKU := map[string]string{} // PK → SKU
	keys := make([]map[string]types.AttributeValue, len(skus))
	for i, sku := range skus {
		bySKU[skuPK(warehouse, sku)] = sku
		keys[i] = skuKey(warehouse, sku)
	}
	items, err := s.batchGet(ctx, keys, consistent)
	if err != nil {
		return nil, err
	}
	counts := make(map[string]int, len(skus))
	for _, item := range items {
		var it stockSKUItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode stock SKU item: %w", err)
		}
		sku := bySKU[it.PK]
		counts[sku] = it.Shards
		s.counts.remember(warehouse, sku, it.Shards)
	}
	return counts, nil
}

// readShards reads, strongly consistent, what every shard of distinct skus
// holds: shard counts first, then the shards (a missing shard holds 0).
// The shards are read one by one, not as one snapshot; as reservations only
// take and releases only give back, a SKU whose shards sum short was short
// at some moment during the read.
func (s *Stock) readShards(ctx context.Context, warehouse string, skus []string) (map[string][]int64, error) {
	counts, err := s.readCounts(ctx, warehouse, skus, true)
	if err != nil {
		return nil, err
	}
	type place struct {
		sku   string
		shard int
	}
	at := map[string]place{} // PK → its SKU and shard
	var keys []map[string]types.AttributeValue
	out := make(map[string][]int64, len(skus))
	for _, sku := range skus {
		out[sku] = make([]int64, counts[sku])
		for i := range counts[sku] {
			at[shardPK(warehouse, sku, i)] = place{sku, i}
			keys = append(keys, shardKey(warehouse, sku, i))
		}
	}
	items, err := s.batchGet(ctx, keys, true)
	if err != nil {
		return nil, err
	}
	for _, item := range items {
		var it stockShardItem
		if err := attributevalue.UnmarshalMap(item, &it); err != nil {
			return nil, fmt.Errorf("decode stock shard: %w", err)
		}
		p := at[it.PK]
		out[p.sku][p.shard] = it.Available
	}
	return out, nil
}

// batchGet reads distinct keys with BatchGetItem, up to 100 a call, asking
// again for what DynamoDB left unprocessed (throttled) after a jittered
// pause. Items come back in no particular order; missing ones not at all.
func (s *Stock) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, consistent bool) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for start := 0; start < len(keys); start += maxBatchGet {
		req := map[string]types.KeysAndAttributes{s.table: {
			Keys: keys[start:min(start+maxBatchGet, len(keys))], ConsistentRead: aws.Bool(consistent)}}
		for attempt := 1; len(req) > 0; attempt++ {
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, fmt.Errorf("batch get stock: %w", err)
			}
			items = append(items, out.Responses[s.table]...)
			req = out.UnprocessedKeys
			if len(req) == 0 {
				break
			}
			if attempt == maxPlans {
				return nil, fmt.Errorf("batch get stock: keys still unprocessed after %d attempts", attempt)
			}
			if err := pause(ctx, attempt); err != nil {
				return nil, err
			}
		}
	}
	return items, nil
}
