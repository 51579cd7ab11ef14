package dynamostore

import "sync"

// maxSettled bounds the facts a store remembers.
const maxSettled = 4096

// settled remembers what the table holds that never changes once written:
// the order a reference names (PutReferences keeps the first) and the
// customs messages (written once, PutCustomsDocuments). A receipt from
// China's customs reads both, nine or more times per order; a warm Lambda
// answers the second read and on from memory. Absences are not remembered:
// they can end. It is safe for concurrent use.
type settled struct {
	mu     sync.Mutex
	byKey  map[string]any
	oldest []string
}

func newSettled() *settled { return &settled{byKey: map[string]any{}} }

func (c *settled) get(key string) (any, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.byKey[key]
	return v, ok
}

func (c *settled) put(key string, v any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; !ok {
		c.oldest = append(c.oldest, key)
	}
	c.byKey[key] = v
	for len(c.oldest) > maxSettled {
		delete(c.byKey, c.oldest[0])
		c.oldest = c.oldest[1:]
	}
}
