package capacity

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Partition is one partition key of a table or of one of its global
// secondary indexes: DynamoDB's per-partition limits apply to each.
type Partition struct {
	Table string
	Index string // "" for the table itself
	Key   string
}

// DynamoDB is what the DynamoDB calls consumed, as DynamoDB reported it in
// ConsumedCapacity, and where it went.
type DynamoDB struct {
	// Calls counts the successful calls by operation; Failed the others by
	// operation and error ("PutItem ConditionalCheckFailedException"),
	// which DynamoDB Local reports no capacity for.
	Calls  map[string]int
	Failed map[string]int
	// Units sums ConsumedCapacity.CapacityUnits by operation, as reported
	// call by call.
	Units map[string]float64
	// WriteUnits and ReadUnits split the same units by table and index
	// ("table" or "table/index").
	WriteUnits, ReadUnits map[string]float64
	// Written and Read split them by partition key.
	Written, Read map[Partition]float64
	// Unattributed holds the write units of a table or index ("table/index")
	// that no partition key could be given; UnknownIndexKeys counts the
	// writes whose index key was not known (an update of an item never seen,
	// or an index key set by a function).
	Unattributed     map[string]float64
	UnknownIndexKeys int
	// TransactionIndexExcess is what DynamoDB Local reported for the index
	// writes of transactions beyond what DynamoDB bills, left out of
	// WriteUnits and Written: DynamoDB Local charges them twice, like the
	// table's writes, while DynamoDB propagates a transaction's changes to
	// its global secondary indexes after it commits, as standard writes.
	TransactionIndexExcess float64
	// TransactionTableUnits is what DynamoDB Local reported for the
	// table writes of transactions, and TransactionTableUnitsPerItem what
	// DynamoDB's documented rule gives for the same writes: two units per
	// KB of each item, rounded up item by item (sizes of Puts exact, of
	// the others as last seen). DynamoDB Local reports less for some
	// transactions of several partitions.
	TransactionTableUnits, TransactionTableUnitsPerItem float64
	// TransactionShortfall is what the per-item rule gives beyond what
	// DynamoDB Local reported, counted in WriteUnits and Written: the
	// counts are what DynamoDB bills.
	TransactionShortfall float64
}

func newDynamoDB() DynamoDB {
	return DynamoDB{Calls: map[string]int{}, Failed: map[string]int{}, Units: map[string]float64{},
		WriteUnits: map[string]float64{}, ReadUnits: map[string]float64{},
		Written: map[Partition]float64{}, Read: map[Partition]float64{}, Unattributed: map[string]float64{}}
}

func (d DynamoDB) clone() DynamoDB {
	c := d
	c.Calls, c.Failed, c.Units = maps.Clone(d.Calls), maps.Clone(d.Failed), maps.Clone(d.Units)
	c.WriteUnits, c.ReadUnits = maps.Clone(d.WriteUnits), maps.Clone(d.ReadUnits)
	c.Written, c.Read, c.Unattributed = maps.Clone(d.Written), maps.Clone(d.Read), maps.Clone(d.Unattributed)
	return c
}

// capacityOps are the operations that take ReturnConsumedCapacity.
var capacityOps = map[string]bool{
	"GetItem": true, "PutItem": true, "UpdateItem": true, "DeleteItem": true, "Query": true, "Scan": true,
	"BatchGetItem": true, "BatchWriteItem": true, "TransactWriteItems": true, "TransactGetItems": true,
}

var writeOps = map[string]bool{"PutItem": true, "UpdateItem": true, "DeleteItem": true, "BatchWriteItem": true, "TransactWriteItems": true}

// schema is what the accounting needs of a table: its key attributes and,
// for each global secondary index, its partition key and whether it
// projects every attribute.
type schema struct {
	pk, sk  string
	indexes map[string]index
}

type index struct {
	hash string
	all  bool
}

// shadow is what is known of a stored item from the writes and reads that
// went through the proxy: its size and its indexes' partition keys.
type shadow struct {
	size int
	keys map[string]string // index partition attribute → value
}

// request is the part of a DynamoDB request the accounting reads.
type request struct {
	writeRequest
	IndexName, KeyConditionExpression, ProjectionExpression string
	TransactItems                                           []struct {
		Put, Update, Delete, ConditionCheck, Get *writeRequest
	}
	RequestItems map[string]json.RawMessage
}

type writeRequest struct {
	TableName                 string
	Item, Key                 item
	UpdateExpression          string
	ExpressionAttributeNames  map[string]string
	ExpressionAttributeValues map[string]value
}

// response is the part of a DynamoDB answer the accounting reads.
type response struct {
	ConsumedCapacity json.RawMessage
	Item             item
	Items            []item
	Responses        json.RawMessage
}

type consumed struct {
	TableName     string
	CapacityUnits float64
	Table         struct{ CapacityUnits float64 }
	// GlobalSecondaryIndexes are the units by index.
	GlobalSecondaryIndexes map[string]struct{ CapacityUnits float64 }
}

// consumption reads ConsumedCapacity, an object or an array.
func (p *response) consumption() []consumed {
	if len(p.ConsumedCapacity) == 0 {
		return nil
	}
	var list []consumed
	if json.Unmarshal(p.ConsumedCapacity, &list) == nil {
		return list
	}
	var one consumed
	if json.Unmarshal(p.ConsumedCapacity, &one) == nil {
		return []consumed{one}
	}
	return nil
}

// write is one item a write call writes (or checks, in a transaction).
type write struct {
	table   string
	key     item             // the primary key (Update, Delete, ConditionCheck)
	put     item             // the whole item (Put)
	set     map[string]value // an update's assignments; nil value: set by a function
	removed []string
	delete  bool
}

func (w write) check() bool { return w.put == nil && w.set == nil && w.removed == nil && !w.delete }

func newWrite(r *writeRequest, kind string) write {
	w := write{table: r.TableName, key: r.Key}
	switch kind {
	case "Put":
		w.put = r.Item
	case "Update":
		w.set, w.removed = assignments(r.UpdateExpression, r.ExpressionAttributeNames, r.ExpressionAttributeValues)
	case "Delete":
		w.delete = true
	}
	return w
}

// writes lists what a write call writes.
func (q *request) writes(op string) []write {
	switch op {
	case "PutItem":
		return []write{newWrite(&q.writeRequest, "Put")}
	case "UpdateItem":
		return []write{newWrite(&q.writeRequest, "Update")}
	case "DeleteItem":
		return []write{newWrite(&q.writeRequest, "Delete")}
	case "TransactWriteItems":
		var out []write
		for _, t := range q.TransactItems {
			switch {
			case t.Put != nil:
				out = append(out, newWrite(t.Put, "Put"))
			case t.Update != nil:
				out = append(out, newWrite(t.Update, "Update"))
			case t.Delete != nil:
				out = append(out, newWrite(t.Delete, "Delete"))
			case t.ConditionCheck != nil:
				out = append(out, newWrite(t.ConditionCheck, "ConditionCheck"))
			}
		}
		return out
	case "BatchWriteItem":
		var out []write
		for table, raw := range q.RequestItems {
			var reqs []struct {
				PutRequest    *struct{ Item item }
				DeleteRequest *struct{ Key item }
			}
			_ = json.Unmarshal(raw, &reqs)
			for _, r := range reqs {
				if r.PutRequest != nil {
					out = append(out, write{table: table, put: r.PutRequest.Item})
				} else if r.DeleteRequest != nil {
					out = append(out, write{table: table, key: r.DeleteRequest.Key, delete: true})
				}
			}
		}
		return out
	}
	return nil
}

// ledger is the DynamoDB accounting: the tally, and the shadows of the
// stored items that attribute index writes to index keys.
type ledger struct {
	tally   DynamoDB
	shadows map[string]shadow // by table, partition key and sort key
	// trace, when set, gets one line per successful write call: what it
	// wrote, item by item, and the units DynamoDB reported for it.
	trace io.Writer
}

func newLedger() *ledger { return &ledger{tally: newDynamoDB(), shadows: map[string]shadow{}} }

func (l *ledger) failed(op, errType string) { l.tally.Failed[op+" "+errType]++ }

// record accounts for one successful call; schemas has the schema of every
// table the call names.
func (l *ledger) record(op string, q *request, p *response, schemas map[string]*schema) {
	l.tally.Calls[op]++
	writes := q.writes(op)
	for _, c := range p.consumption() {
		l.tally.Units[op] += c.CapacityUnits
		s := schemas[c.TableName]
		if s == nil {
			l.tally.Unattributed[c.TableName] += c.CapacityUnits
			continue
		}
		if writeOps[op] {
			var mine []write
			for _, w := range writes {
				if w.table == c.TableName {
					mine = append(mine, w)
				}
			}
			l.attributeWrites(c, s, mine, op == "TransactWriteItems")
		} else {
			l.attributeReads(op, c, s, q)
		}
	}
	if l.trace != nil && writeOps[op] {
		l.traceWrite(op, writes, p.consumption(), schemas)
	}
	for _, w := range writes {
		if s := schemas[w.table]; s != nil {
			l.remember(w, s)
		}
	}
	if !writeOps[op] && q.ProjectionExpression == "" {
		l.see(op, q, p, schemas)
	}
}

// attributeWrites gives a call's table units to the partition keys it
// wrote, in proportion to their items' sizes (exact for Puts, the last size
// seen for the others), and each index's units to the index keys the items
// left and entered; a transaction's index units count once (see
// TransactionIndexExcess).
func (l *ledger) attributeWrites(c consumed, s *schema, ws []write, transaction bool) {
	weights := make([]float64, len(ws))
	for i, w := range ws {
		weights[i] = l.weight(w, s)
	}
	// A transaction is counted as DynamoDB bills it, two units per KB of
	// each item, where DynamoDB Local reports less (it does for some
	// transactions of several partitions).
	tableUnits := c.Table.CapacityUnits
	if transaction {
		l.tally.TransactionTableUnits += c.Table.CapacityUnits
		rule := 0.0
		for _, w := range weights {
			rule += 2 * w
		}
		l.tally.TransactionTableUnitsPerItem += rule
		if rule > tableUnits {
			l.tally.TransactionShortfall += rule - tableUnits
			tableUnits = rule
		}
	}
	l.tally.WriteUnits[c.TableName] += tableUnits
	if len(ws) == 0 {
		l.tally.Unattributed[c.TableName] += tableUnits
	}
	for i, units := range share(tableUnits, weights) {
		l.tally.Written[Partition{Table: c.TableName, Key: l.key(ws[i], s).pk}] += units
	}
	for name, g := range c.GlobalSecondaryIndexes {
		units := g.CapacityUnits
		if transaction {
			units /= 2
			l.tally.TransactionIndexExcess += units
		}
		label := c.TableName + "/" + name
		l.tally.WriteUnits[label] += units
		var parts []Partition
		var pw []float64
		for i, w := range ws {
			if w.check() {
				continue
			}
			old, now, known := l.indexKeys(w, s, s.indexes[name].hash)
			if !known {
				l.tally.UnknownIndexKeys++
				continue
			}
			for _, k := range []string{old, now} {
				if k != "" {
					parts, pw = append(parts, Partition{Table: c.TableName, Index: name, Key: k}), append(pw, weights[i])
				}
				if old == now {
					break // rewritten in place
				}
			}
		}
		if len(parts) == 0 {
			l.tally.Unattributed[label] += units
		}
		for i, u := range share(units, pw) {
			l.tally.Written[parts[i]] += u
		}
	}
}

// attributeReads gives a read call's units to the partition key it read.
func (l *ledger) attributeReads(op string, c consumed, s *schema, q *request) {
	l.tally.ReadUnits[c.TableName] += c.Table.CapacityUnits
	total := c.Table.CapacityUnits
	for name, g := range c.GlobalSecondaryIndexes {
		l.tally.ReadUnits[c.TableName+"/"+name] += g.CapacityUnits
		total += g.CapacityUnits
	}
	var keys []Partition
	switch op {
	case "GetItem":
		keys = []Partition{{Table: c.TableName, Key: q.Key[s.pk].text()}}
	case "Query", "Scan":
		hash := s.pk
		if q.IndexName != "" {
			hash = s.indexes[q.IndexName].hash
		}
		k := "(scan)"
		if op == "Query" {
			k = equalityValue(q.KeyConditionExpression, hash, q.ExpressionAttributeNames, q.ExpressionAttributeValues)
		}
		keys = []Partition{{Table: c.TableName, Index: q.IndexName, Key: k}}
	case "BatchGetItem":
		var r struct{ Keys []item }
		_ = json.Unmarshal(q.RequestItems[c.TableName], &r)
		for _, k := range r.Keys {
			keys = append(keys, Partition{Table: c.TableName, Key: k[s.pk].text()})
		}
	case "TransactGetItems":
		for _, t := range q.TransactItems {
			if t.Get != nil && t.Get.TableName == c.TableName {
				keys = append(keys, Partition{Table: c.TableName, Key: t.Get.Key[s.pk].text()})
			}
		}
	}
	if len(keys) == 0 {
		keys = []Partition{{Table: c.TableName, Index: q.IndexName, Key: "(unknown)"}}
	}
	for _, k := range keys {
		l.tally.Read[k] += total / float64(len(keys))
	}
}

// itemKey names a stored item.
type itemKey struct{ table, pk, sk string }

func (l *ledger) key(w write, s *schema) itemKey {
	k := w.key
	if w.put != nil {
		k = w.put
	}
	return itemKey{w.table, k[s.pk].text(), k[s.sk].text()}
}

func (k itemKey) String() string { return k.table + "\x00" + k.pk + "\x00" + k.sk }

// weight is an item's share of a call: its size in write units.
func (l *ledger) weight(w write, s *schema) float64 {
	if w.put != nil {
		return writeUnits(w.put.size())
	}
	if sh, ok := l.shadows[l.key(w, s).String()]; ok {
		return writeUnits(sh.size)
	}
	return 1
}

// indexKeys is the index partition key (attribute hash) of the item before
// and after the write; known is false when the one after cannot be told
// (set by a function). An item never seen is taken to have been absent:
// every write of the measured stack goes through the proxy, and the items
// written around it (the seeded stock) carry no index key.
func (l *ledger) indexKeys(w write, s *schema, hash string) (old, now string, known bool) {
	old = l.shadows[l.key(w, s).String()].keys[hash]
	switch {
	case w.put != nil:
		return old, w.put[hash].text(), true
	case w.delete:
		return old, "", true
	}
	if v, ok := w.set[hash]; ok {
		return old, v.text(), v != nil
	}
	for _, r := range w.removed {
		if r == hash {
			return old, "", true
		}
	}
	return old, old, true
}

// remember updates the shadow of the item a write wrote.
func (l *ledger) remember(w write, s *schema) {
	k := l.key(w, s).String()
	switch {
	case w.put != nil:
		l.shadows[k] = newShadow(w.put, s)
	case w.delete:
		delete(l.shadows, k)
	case w.set != nil || w.removed != nil:
		sh, ok := l.shadows[k]
		if !ok {
			sh = shadow{size: w.key.size(), keys: map[string]string{}}
		}
		for _, ix := range s.indexes {
			if v, ok := w.set[ix.hash]; ok {
				if v == nil {
					delete(sh.keys, ix.hash)
				} else {
					sh.keys[ix.hash] = v.text()
				}
			}
		}
		for _, r := range w.removed {
			delete(sh.keys, r)
		}
		if !ok {
			for _, v := range w.set {
				sh.size += v.size()
			}
		}
		l.shadows[k] = sh
	}
}

func newShadow(it item, s *schema) shadow {
	sh := shadow{size: it.size(), keys: map[string]string{}}
	for _, ix := range s.indexes {
		if v, ok := it[ix.hash]; ok {
			sh.keys[ix.hash] = v.text()
		}
	}
	return sh
}

// see updates the shadows of the whole items a read returned.
func (l *ledger) see(op string, q *request, p *response, schemas map[string]*schema) {
	keep := func(table string, items ...item) {
		s := schemas[table]
		if s == nil || (q.IndexName != "" && !s.indexes[q.IndexName].all) {
			return
		}
		for _, it := range items {
			if _, ok := it[s.pk]; ok {
				l.shadows[itemKey{table, it[s.pk].text(), it[s.sk].text()}.String()] = newShadow(it, s)
			}
		}
	}
	switch op {
	case "GetItem":
		if p.Item != nil {
			keep(q.TableName, p.Item)
		}
	case "Query", "Scan":
		keep(q.TableName, p.Items...)
	case "BatchGetItem":
		var r map[string][]item
		_ = json.Unmarshal(p.Responses, &r)
		for table, items := range r {
			keep(table, items...)
		}
	case "TransactGetItems":
		var r []struct{ Item item }
		_ = json.Unmarshal(p.Responses, &r)
		for i, it := range r {
			if i < len(q.TransactItems) && q.TransactItems[i].Get != nil && it.Item != nil {
				keep(q.TransactItems[i].Get.TableName, it.Item)
			}
		}
	}
}

// share splits total in proportion to weights.
func share(total float64, weights []float64) []float64 {
	sum := 0.0
	for _, w := range weights {
		sum += w
	}
	out := make([]float64, len(weights))
	for i, w := range weights {
		if sum > 0 {
			out[i] = total * w / sum
		}
	}
	return out
}

// traceWrite writes one line for a write call: the operation, the units
// reported (table, then each index), and each item written with its kind,
// key, size as last known and the attributes an update set.
func (l *ledger) traceWrite(op string, ws []write, cs []consumed, schemas map[string]*schema) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s", op)
	for _, c := range cs {
		fmt.Fprintf(&b, " units=%g", c.Table.CapacityUnits)
		for _, name := range slices.Sorted(maps.Keys(c.GlobalSecondaryIndexes)) {
			fmt.Fprintf(&b, " %s=%g", name, c.GlobalSecondaryIndexes[name].CapacityUnits)
		}
	}
	for _, w := range ws {
		s := schemas[w.table]
		if s == nil {
			continue
		}
		k := l.key(w, s)
		kind := "check"
		switch {
		case w.put != nil:
			var big []string
			for _, name := range slices.Sorted(maps.Keys(w.put)) {
				if n := len(name) + w.put[name].size(); n >= 64 {
					big = append(big, fmt.Sprintf("%s:%d", name, n))
				}
			}
			kind = fmt.Sprintf("put(%dB; %s)", w.put.size(), strings.Join(big, ","))
		case w.delete:
			kind = "delete"
		case w.set != nil || w.removed != nil:
			kind = fmt.Sprintf("update(%dB; %s)", l.shadows[k.String()].size, strings.Join(slices.Sorted(maps.Keys(w.set)), ","))
		}
		fmt.Fprintf(&b, " | %s %s %s", kind, k.pk, k.sk)
	}
	b.WriteByte('\n')
	_, _ = io.WriteString(l.trace, b.String())
}
