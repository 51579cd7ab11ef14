package dynamostore

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/xborder/xborder/shared/order"
)

// Indexes
//
// DynamoDB gives each partition key of an index about 1,000 write units a
// second, and every write of an order is written again to each index that
// holds it, for as many units as the index keeps of it. So no index key is
// shared by every order of a status or of a partner, and each index keeps
// only what its queries read:
//
//	byCustomerShard  GSI4PK=CUSTOMER#<customerId>           GSI4SK=<createdAt>#<id>  KEYS_ONLY
//	                 GSI4PK=CUSTOMER#<customerId>#<shard>   for a partner's orders (customerId partner:<id>)
//	byStatusSince    GSI5PK=STATUS#<status>#<shard>         GSI5SK=<statusSince>#<id>  INCLUDE StatusListAttributes
//	byDue            GSI3PK=DUE#<shard>                     GSI3SK=<dueAt>#<id>      KEYS_ONLY (due items only)
//
// A shard is the order id's FNV-1a hash modulo the index's shard count, so
// an order keeps its shard for life, and writes spread evenly. A list reads
// every shard of its key at once and merges them by sort key (a time, then
// the id: a total order), so its pages and cursors are those of one sorted
// list: a cursor is the last sort key of its page, which is where every
// shard resumes (see list.go).
//
// The customer index is KEYS_ONLY: its key never changes after intake, so a
// status change writes nothing to it, and a customer's list (read far less
// often than an order is written) reads the orders themselves after the
// index, with one BatchGetItem. The status index's key is the status and
// the time the order entered it, and it projects the few attributes the ops
// lists show (StatusListAttributes, a few hundred bytes: one write unit),
// none of which moves without the status: a write of the order that keeps
// its status (a payment recorded, a task token stored) writes nothing to
// the index, and a status change writes its entry out of one key and into
// another (two units). A page is one round of queries and ListByStatus
// returns those fields only. Every order stays in the status index whatever its status: the ops
// console lists and counts every status, a terminal order is not written
// again (so it costs no more writes there), and dropping it after a while
// would take a write of its own.
//
// Counts per status are counter items (counters.go), and the waits of
// orders on a long step carry a due time in the sparse byDue index (due.go).
const (
	// StatusShards is how many partitions each status is written across.
	// An order enters and leaves each status once (two write units in one
	// shard), so 64 shards × ~1,000 write units a second carry about
	// 30,000 orders a second through a status; an ops list page reads 64
	// partitions at once (64 small queries, most answering in one page).
	StatusShards = 64
	// PartnerShards is how many partitions a partner's orders are written
	// across in the customer index; a shopper's orders share one key (a
	// shopper does not place hundreds of orders a second).
	PartnerShards = 16
	// DueShards is how many partitions the due waits are written across:
	// a wait writes its due item when it starts, again when its due time
	// moves (a resubmission, minutes apart) and deletes it when it ends, so
	// about two units per order; 64 shards keep that far from a partition's
	// limit at 10,000 orders a second, and the reconciler's minute reads
	// 64 small queries that mostly find nothing.
	DueShards = 64
)

// The indexes: their key attributes and names.
const (
	AttrGSI3PK = "GSI3PK" // byDue partition: DUE#<shard>
	AttrGSI3SK = "GSI3SK" // byDue sort: <dueAt>#<id>
	AttrGSI4PK = "GSI4PK" // byCustomerShard partition: CUSTOMER#<customerId>[#<shard>]
	AttrGSI4SK = "GSI4SK" // byCustomerShard sort: <createdAt>#<id>
	AttrGSI5PK = "GSI5PK" // byStatusShard partition: STATUS#<status>#<shard>
	AttrGSI5SK = "GSI5SK" // byStatusSince sort: <statusSince>#<id>
	// IndexCustomer lists a customer's orders by creation time (keys only).
	IndexCustomer = "byCustomerShard"
	// IndexStatus lists the orders in a status by the time they entered it
	// (StatusListAttributes).
	IndexStatus = "byStatusSince"
	// IndexDue lists the waits by due time (keys only).
	IndexDue = "byDue"
	// attrDestination is the order's destination country, kept beside the
	// order for the status index (the consignee it comes from is a map,
	// and projecting it would copy the consignee's identity too).
	attrDestination = "destination"
)

// StatusListAttributes are the attributes the status index projects, beside
// its keys and the table's: what the ops lists show of an order
// (opsOrderRow) and what the stuck list merges by. The order's id comes
// from the table's key (PK), the time it entered its status from the
// index's sort key, its creation from GSI4SK (orderitem.go: the order item
// keeps no copy of them). ListByStatus returns these fields only.
func StatusListAttributes() []string {
	return []string{"status", "reason", "tradeMode", "channel", "partnerId", attrDestination, "total", AttrGSI4SK}
}

// Indexes of the layout before the sharded ones: the stack keeps them
// while an existing table moves (migrate.go, infra/README.md).
const (
	// LegacyIndexCustomer was byCustomer: GSI1PK=CUSTOMER#<customerId>,
	// GSI1SK=<createdAt>#<id>, projecting every attribute.
	LegacyIndexCustomer = "byCustomer"
	// LegacyIndexStatus was byStatus: GSI2PK=STATUS#<status>,
	// GSI2SK=<updatedAt>#<id>, projecting every attribute.
	LegacyIndexStatus = "byStatus"
	// LegacyIndexStatusShard was byStatusShard: the keys of byStatusSince
	// (GSI5PK, GSI5SK, the sort key then the time of the order's last
	// change) with updatedAt projected instead of statusSince, so that
	// every write of an order rewrote its entry. A projection cannot
	// change in place, so the index took a new name.
	LegacyIndexStatusShard = "byStatusShard"
	AttrGSI1PK             = "GSI1PK"
	AttrGSI1SK             = "GSI1SK"
	AttrGSI2PK             = "GSI2PK"
	AttrGSI2SK             = "GSI2SK"
)

// shardOf is the shard of order id among n: stable for the order's life.
func shardOf(id string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(id))
	return int(h.Sum32() % uint32(n))
}

// ShardOf is shardOf, for the tools that read the table.
func ShardOf(id string, n int) int { return shardOf(id, n) }

// sharded is base#<shard>, two digits: one key per shard, and no two
// (base, shard) pairs spell the same key, as the shard follows the last '#'.
func sharded(base string, shard int) string { return fmt.Sprintf("%s#%02d", base, shard) }

// shards is every key of base among n shards.
func shards(base string, n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = sharded(base, i)
	}
	return keys
}

func customerBase(customerID string) string { return "CUSTOMER#" + customerID }

func statusBase(s order.Status) string { return "STATUS#" + string(s) }

// partnerScoped reports whether a customer id is a partner's (the scope
// its webhook's orders are placed under): its orders are sharded.
func partnerScoped(customerID string) bool { return strings.HasPrefix(customerID, "partner:") }

// customerPK is the customer index key of order id of customerID.
func customerPK(customerID, id string) string {
	if partnerScoped(customerID) {
		return sharded(customerBase(customerID), shardOf(id, PartnerShards))
	}
	return customerBase(customerID)
}

// customerPartitions are every key a customer's orders are under.
func customerPartitions(customerID string) []string {
	if partnerScoped(customerID) {
		return shards(customerBase(customerID), PartnerShards)
	}
	return []string{customerBase(customerID)}
}

// statusPK is the status index key of order id in status s.
func statusPK(s order.Status, id string) string {
	return sharded(statusBase(s), shardOf(id, StatusShards))
}

// Index is one global secondary index of the table, as the CDK stack and
// CreateTable define it.
type Index struct {
	Name   string
	PK, SK string
	// Projection is ALL, KEYS_ONLY or INCLUDE (of Include).
	Projection string
	Include    []string
}

// Indexes are the table's indexes.
func Indexes() []Index {
	return []Index{
		{Name: IndexCustomer, PK: AttrGSI4PK, SK: AttrGSI4SK, Projection: "KEYS_ONLY"},
		{Name: IndexStatus, PK: AttrGSI5PK, SK: AttrGSI5SK, Projection: "INCLUDE", Include: StatusListAttributes()},
		{Name: IndexDue, PK: AttrGSI3PK, SK: AttrGSI3SK, Projection: "KEYS_ONLY"},
	}
}

// LegacyIndexes are the indexes of the layout before (projecting every
// attribute), which the stack keeps while an existing table moves.
func LegacyIndexes() []Index {
	return []Index{
		{Name: LegacyIndexCustomer, PK: AttrGSI1PK, SK: AttrGSI1SK, Projection: "ALL"},
		{Name: LegacyIndexStatus, PK: AttrGSI2PK, SK: AttrGSI2SK, Projection: "ALL"},
		{Name: LegacyIndexStatusShard, PK: AttrGSI5PK, SK: AttrGSI5SK, Projection: "INCLUDE",
			Include: []string{"orderId", "status", "reason", "tradeMode", "channel", "partnerId", attrDestination, "total", "createdAt", "updatedAt"}},
	}
}
