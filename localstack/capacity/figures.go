package capacity

import (
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/xborder/xborder/localstack/stack"
)

// Figures are one sample path's counts per order, what they cost and the
// order rate at which each default quota binds.
type Figures struct {
	Name      string  `json:"name"`
	Sample    string  `json:"sample"`
	Orders    int     `json:"orders"`
	Customers int     `json:"customers"`
	Busiest   int     `json:"busiestCustomerOrders"`
	Seconds   float64 `json:"seconds"`

	// DynamoDB, per order: units by "table" and by index, as DynamoDB
	// bills them; WriteUnitsReported is DynamoDB Local's own figure, which
	// counts a transaction's index writes twice.
	WriteUnits         float64 `json:"writeUnits"`
	WriteUnitsReported float64 `json:"writeUnitsAsDynamoDBLocalReported"`
	// TransactionTableUnits is the part of the table's units that came from
	// transactions, as reported; TransactionTableUnitsPerItem the same
	// writes by DynamoDB's per-item rule (see DynamoDB).
	TransactionTableUnits        float64            `json:"transactionTableUnits"`
	TransactionTableUnitsPerItem float64            `json:"transactionTableUnitsByPerItemRule"`
	ReadUnits                    float64            `json:"readUnits"`
	WriteUnitsBy                 map[string]float64 `json:"writeUnitsBy"`
	ReadUnitsBy                  map[string]float64 `json:"readUnitsBy"`
	// HottestWriteKey is the non-order partition key (of the table or an
	// index) that took the most write units, per order of the batch: at R
	// orders/s it takes R times that many units per second.
	HottestWriteKey KeyLoad `json:"hottestNonOrderWriteKey"`
	// HottestSharedWriteKey is the same leaving out the stock counters too
	// (measured as reservations instead): the keys every order shares, the
	// status index's, the counters', the due waits'.
	HottestSharedWriteKey KeyLoad `json:"hottestNonOrderNonStockWriteKey"`
	// StockReservationsPerSecond is how many reservations a second one SKU
	// takes before its hottest stock shard reaches a partition's ~1,000
	// write units a second, the batch's spread over the shards as measured
	// (each order of a sample reserves each of its SKUs once).
	StockReservationsPerSecond float64   `json:"stockReservationsPerSecondPerSKU,omitempty"`
	HottestReadKey             KeyLoad   `json:"hottestNonOrderReadKey"`
	TopWriteKeys               []KeyLoad `json:"topNonOrderWriteKeys"`
	// OwnWriteUnits is what the order's own partition (ORDER#<id>) took.
	OwnWriteUnits       float64            `json:"orderPartitionWriteUnits"`
	UnattributedUnits   float64            `json:"unattributedWriteUnits"`
	UnknownIndexKeys    float64            `json:"writesWithUnknownIndexKey"`
	DynamoDBCalls       map[string]float64 `json:"dynamodbCalls"`
	DynamoDBFailedCalls map[string]float64 `json:"dynamodbFailedCalls,omitempty"`

	StateTransitions float64            `json:"stateTransitions"`
	Retries          float64            `json:"retries"`
	StepFunctionsAPI map[string]float64 `json:"stepFunctionsRequests"`

	// Lambda: invocations per order and their average duration by
	// function; GB-seconds with each function's memory from the template;
	// ConcurrencySeconds is the sum of invocations × duration.
	LambdaInvocations  map[string]float64 `json:"lambdaInvocations"`
	LambdaMillis       map[string]float64 `json:"lambdaAverageMilliseconds"`
	LambdaGBSeconds    float64            `json:"lambdaGBSeconds"`
	ConcurrencySeconds float64            `json:"lambdaConcurrencySeconds"`

	SQSRequests        map[string]float64 `json:"sqsRequests"`
	SQSBilled          float64            `json:"sqsBilledRequests"`
	IdleReceivesPerSec float64            `json:"idleReceivesPerSecond"`
	SNSPublishes       float64            `json:"snsPublishes"`
	APIRequests        float64            `json:"apiRequests"`
	EPortReceipts      float64            `json:"eportReceipts"`
	CostPer1000        map[string]float64 `json:"costPer1000Orders"`
	CostPer1000Total   float64            `json:"costPer1000OrdersTotal"`
	Quotas             []QuotaLoad        `json:"quotas"`
	Binding            QuotaLoad          `json:"binding"`
}

// KeyLoad is what one partition key took per order.
type KeyLoad struct {
	Index         string  `json:"index"` // "table" or the index's name
	Key           string  `json:"key"`
	UnitsPerOrder float64 `json:"unitsPerOrder"`
}

func (k KeyLoad) String() string {
	if k.Key == "" {
		return "–"
	}
	return k.Key + " (" + k.Index + ")"
}

// cell renders the load for a table: units, key and index.
func (k KeyLoad) cell() string {
	if k.Key == "" {
		return "–"
	}
	return fmt.Sprintf("%s `%s` (%s)", num(k.UnitsPerOrder), k.Key, k.Index)
}

// QuotaLoad is one quota against the orders: PerOrder of its unit each,
// so it binds at OrdersPerSecond.
type QuotaLoad struct {
	Quota           string  `json:"quota"`
	On              string  `json:"on,omitempty"` // what takes it: a key, an index
	Limit           float64 `json:"limit"`
	PerOrder        float64 `json:"perOrder"`
	OrdersPerSecond float64 `json:"ordersPerSecond"`
	Raisable        bool    `json:"raisable"`
}

// quota names the quota and, when there is one, what takes it.
func (q QuotaLoad) quota() string {
	if q.On == "" {
		return q.Quota
	}
	return q.Quota + " on " + q.On
}

// memoryMB reads each function's memory from the template.
func memoryMB(t *stack.Template) map[string]float64 {
	out := map[string]float64{}
	for _, r := range t.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		tags, _ := r.Properties["Tags"].([]any)
		for _, tag := range tags {
			m, _ := tag.(map[string]any)
			if name, ok := m["Value"].(string); ok && m["Key"] == "xborder:function" {
				out[name], _ = r.Properties["MemorySize"].(float64)
			}
		}
	}
	return out
}

// figures turns a measured path into its figures per order.
func figures(p *Path, table string, prices *Prices, memory map[string]float64) Figures {
	n := float64(p.Orders)
	c, d := p.Counts, p.Counts.DynamoDB
	f := Figures{Name: p.Name, Sample: filepath.ToSlash(p.Sample), Orders: p.Orders, Customers: p.Customers, Busiest: p.Busiest,
		Seconds:      p.Elapsed.Seconds(),
		WriteUnitsBy: perOrder(relabel(d.WriteUnits, table), n), ReadUnitsBy: perOrder(relabel(d.ReadUnits, table), n),
		DynamoDBCalls: perOrder(d.Calls, n), DynamoDBFailedCalls: perOrder(d.Failed, n),
		StateTransitions: float64(p.Workflow.Transitions) / n, Retries: float64(p.Workflow.Retries) / n,
		StepFunctionsAPI: perOrder(c.SFN, n), SQSRequests: perOrder(c.SQS, n), SQSBilled: float64(c.SQSBilled) / n,
		SNSPublishes: float64(c.SNSBilled) / n, APIRequests: float64(c.API+c.Receipts) / n, EPortReceipts: float64(c.Receipts) / n,
		UnknownIndexKeys:  float64(d.UnknownIndexKeys) / n,
		LambdaInvocations: map[string]float64{}, LambdaMillis: map[string]float64{}}
	if p.Window > 0 {
		f.IdleReceivesPerSec = float64(c.IdleReceives) / p.Window.Seconds()
	}
	f.WriteUnits, f.ReadUnits, f.UnattributedUnits = total(f.WriteUnitsBy), total(f.ReadUnitsBy), total(d.Unattributed)/n
	f.WriteUnitsReported = f.WriteUnits + (d.TransactionIndexExcess-d.TransactionShortfall)/n
	f.TransactionTableUnits, f.TransactionTableUnitsPerItem = d.TransactionTableUnits/n, d.TransactionTableUnitsPerItem/n
	writes := keyLoads(d.Written, n)
	for _, k := range writes {
		if k.Index == "table" && strings.HasPrefix(k.Key, "ORDER#") {
			f.OwnWriteUnits += k.UnitsPerOrder
		}
	}
	writes = nonOrder(writes)
	if len(writes) > 0 {
		f.HottestWriteKey = writes[0]
	}
	for _, k := range writes {
		stock := k.Index == "table" && strings.HasPrefix(k.Key, "STOCK#")
		if stock && f.StockReservationsPerSecond == 0 && k.UnitsPerOrder > 0 {
			f.StockReservationsPerSecond = partitionWriteLimit / k.UnitsPerOrder
		}
		if !stock && f.HottestSharedWriteKey.Key == "" {
			f.HottestSharedWriteKey = k
		}
	}
	f.TopWriteKeys = writes[:min(len(writes), 8)]
	if reads := nonOrder(keyLoads(d.Read, n)); len(reads) > 0 {
		f.HottestReadKey = reads[0]
	}

	// Lambda invocations: the api function serves the client's requests
	// and, in AWS, the E-Port's receipts; the steps are the history's
	// Lambda tasks; the SQS-fed functions get one invocation per batch.
	invoked := func(fn string, count int, total time.Duration, measured int) {
		if count == 0 {
			return
		}
		f.LambdaInvocations[fn] += float64(count) / n
		if measured > 0 {
			f.LambdaMillis[fn] = float64(total.Microseconds()) / 1000 / float64(measured)
		}
	}
	invoked("api", c.API+c.Receipts, c.APITime+c.ReceiptTime, c.API+c.Receipts)
	for fn, k := range p.Workflow.Invocations {
		invoked(fn, k, p.Workflow.LambdaTime[fn], k)
	}
	for fn, k := range c.Deliveries {
		invoked(fn, k, c.DeliveryTime[fn], c.Measured[fn])
	}
	for fn, inv := range f.LambdaInvocations {
		ms := f.LambdaMillis[fn]
		f.ConcurrencySeconds += inv * ms / 1000
		f.LambdaGBSeconds += inv * math.Ceil(ms) / 1000 * memory[fn] / 1024
	}

	f.CostPer1000 = map[string]float64{}
	quantities := map[string]float64{
		"DynamoDB writes": f.WriteUnits, "DynamoDB reads": f.ReadUnits, "Step Functions": f.StateTransitions,
		"Lambda requests": total(f.LambdaInvocations), "Lambda duration": f.LambdaGBSeconds, "SQS": f.SQSBilled,
		"SNS": f.SNSPublishes, "API Gateway": f.APIRequests,
	}
	for _, l := range bill {
		f.CostPer1000[l.line] = prices.cost(l.price, 1000*quantities[l.line])
		f.CostPer1000Total += f.CostPer1000[l.line]
	}
	f.Quotas = quotaLoads(&f, prices)
	if len(f.Quotas) > 0 {
		f.Binding = f.Quotas[0]
	}
	return f
}

// scheduled are the Step Functions actions only the reconciler calls, once
// a minute whatever the order rate: counted with the batches, but no load
// that grows with the orders.
var scheduled = map[string]bool{"ListExecutions": true}

// quotaLoads weighs the figures against each default quota, the one that
// binds first first.
func quotaLoads(f *Figures, prices *Prices) []QuotaLoad {
	var out []QuotaLoad
	add := func(quota, on string, perOrder float64) {
		q, ok := prices.Quotas[quota]
		if !ok || perOrder <= 0 {
			return
		}
		out = append(out, QuotaLoad{Quota: quota, On: on, Limit: q.Value, PerOrder: perOrder, OrdersPerSecond: q.Value / perOrder, Raisable: q.Raisable})
	}
	add("dynamodb-partition-write-units", f.HottestWriteKey.String(), f.HottestWriteKey.UnitsPerOrder)
	add("dynamodb-partition-read-units", f.HottestReadKey.String(), f.HottestReadKey.UnitsPerOrder)
	on, most := largest(f.WriteUnitsBy)
	add("dynamodb-table-write-units", on, most)
	on, most = largest(f.ReadUnitsBy)
	add("dynamodb-table-read-units", on, most)
	for action, v := range f.StepFunctionsAPI {
		if !scheduled[action] {
			add("sfn-"+action, "", v)
		}
	}
	add("sfn-StateTransition", "", f.StateTransitions)
	add("lambda-concurrency", "", f.ConcurrencySeconds)
	add("apigateway-account-rps", "", f.APIRequests)
	add("sns-publish-tps", "", f.SNSPublishes)
	sort.Slice(out, func(i, j int) bool { return out[i].OrdersPerSecond < out[j].OrdersPerSecond })
	return out
}

func largest(m map[string]float64) (string, float64) {
	var name string
	var most float64
	for _, k := range sortedKeys(m) {
		if m[k] > most {
			name, most = k, m[k]
		}
	}
	return name, most
}

// relabel names the table "table" and its indexes by their names.
func relabel(m map[string]float64, table string) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if k == table {
			k = "table"
		}
		out[strings.TrimPrefix(k, table+"/")] += v
	}
	return out
}

func perOrder[V int | float64](m map[string]V, n float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = float64(v) / n
	}
	return out
}

// keyLoads lists the partition keys, most units first.
func keyLoads(m map[Partition]float64, n float64) []KeyLoad {
	var out []KeyLoad
	for p, v := range m {
		index := p.Index
		if index == "" {
			index = "table"
		}
		out = append(out, KeyLoad{Index: index, Key: p.Key, UnitsPerOrder: v / n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].UnitsPerOrder != out[j].UnitsPerOrder {
			return out[i].UnitsPerOrder > out[j].UnitsPerOrder
		}
		return out[i].String() < out[j].String()
	})
	return out
}

// partitionWriteLimit is DynamoDB's write units a second per partition key.
const partitionWriteLimit = 1000

// nonOrder leaves out the orders' own partitions (ORDER#<id> in the table):
// each order has its own, so their load does not grow with the order rate.
func nonOrder(keys []KeyLoad) []KeyLoad {
	var out []KeyLoad
	for _, k := range keys {
		if k.Index != "table" || !strings.HasPrefix(k.Key, "ORDER#") {
			out = append(out, k)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func total(m map[string]float64) float64 {
	s := 0.0
	for _, v := range m {
		s += v
	}
	return s
}
