package capacity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Report is one measurement: every path's figures and the plan.
type Report struct {
	Date          string    `json:"date"`
	Machine       string    `json:"machine"`
	Revision      string    `json:"revision"`
	Command       string    `json:"command"`
	OrdersPerPath int       `json:"ordersPerPath"`
	InFlight      int       `json:"inFlight"`
	Seconds       float64   `json:"seconds"`
	PricesDate    string    `json:"pricesDate"`
	Paths         []Figures `json:"paths"`
	Plan          Plan      `json:"plan"`
}

// TargetRate is the order rate the plan is made for.
const TargetRate = 10000

// Run measures n orders of each sample file through a fresh stack and
// reports what each path costs per order; progress, when not nil, hears of
// each path as it ends.
func Run(ctx context.Context, o Options, samples []string, n int, prices *Prices, progress io.Writer) (*Report, error) {
	start := time.Now()
	s, err := Start(ctx, o)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	memory := memoryMB(s.Template)
	r := &Report{Date: start.UTC().Format("2006-01-02 15:04 MST"), OrdersPerPath: n, InFlight: s.opts.InFlight,
		PricesDate: prices.Date}
	for _, sample := range samples {
		p, err := s.RunPath(ctx, sample, n)
		if err != nil {
			return nil, err
		}
		f := figures(p, s.Table, prices, memory)
		if progress != nil {
			fmt.Fprintf(progress, "capacity: %-28s %5d orders in %5.0f s: %s write units, %s read units, %s transitions, $%.3f per 1,000 orders\n",
				f.Name, f.Orders, f.Seconds, num(f.WriteUnits), num(f.ReadUnits), num(f.StateTransitions), f.CostPer1000Total)
		}
		r.Paths = append(r.Paths, f)
	}
	r.Seconds = time.Since(start).Seconds()
	r.Plan = plan(r.Paths, TargetRate, prices)
	return r, nil
}

// Write writes capacity.md and capacity.json into dir.
func (r *Report) Write(dir string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "capacity.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "capacity.md"), []byte(r.Markdown()), 0o644)
}

// table writes a Markdown table: a header of the paths, then one row per
// measure.
type table struct {
	b     *strings.Builder
	paths []Figures
}

func (t table) header(first string) {
	fmt.Fprintf(t.b, "| %s |", first)
	for _, f := range t.paths {
		fmt.Fprintf(t.b, " %s |", f.Name)
	}
	t.b.WriteString("\n|---|")
	for range t.paths {
		t.b.WriteString("---:|")
	}
	t.b.WriteString("\n")
}

func (t table) row(name string, cell func(f Figures) string) {
	fmt.Fprintf(t.b, "| %s |", name)
	for _, f := range t.paths {
		fmt.Fprintf(t.b, " %s |", cell(f))
	}
	t.b.WriteString("\n")
}

// Markdown is docs/capacity.md.
func (r *Report) Markdown() string {
	var b strings.Builder
	t := table{&b, r.Paths}
	fmt.Fprintf(&b, "# Capacity and cost per order\n\nWritten by `make capacity` (`localstack/capacity`); the same figures, for programs, are in [`capacity.json`](capacity.json). Prices and quotas, with the pages they were read from, are in [`prices.json`](prices.json) (looked up %s).\n\n", r.PricesDate)
	fmt.Fprintf(&b, "- date: %s; revision %s\n- machine: %s\n- command: `%s`\n- run: %d orders of each sample path, %d in flight, %s in all (each order from a customer drawn from a Zipf distribution: most place one order, a few several)\n\n",
		r.Date, r.Revision, r.Machine, r.Command, r.OrdersPerPath, r.InFlight, (time.Duration(r.Seconds) * time.Second).String())

	b.WriteString("## Counts per order\n\nCounted at the service endpoints by the recording proxy, divided by the orders of the batch.\n\n")
	t.header("per order")
	t.row("orders (customers; most by one)", func(f Figures) string { return fmt.Sprintf("%d (%d; %d)", f.Orders, f.Customers, f.Busiest) })
	t.row("DynamoDB write units", func(f Figures) string { return "**" + num(f.WriteUnits) + "**" })
	for _, by := range sortedKeys(r.Plan.Mix.WriteUnitsBy) {
		t.row("&nbsp;&nbsp;of which "+by, func(f Figures) string { return num(f.WriteUnitsBy[by]) })
	}
	t.row("&nbsp;&nbsp;of which the order's own partition", func(f Figures) string { return num(f.OwnWriteUnits) })
	t.row("DynamoDB write units as DynamoDB Local reported them (a transaction's index writes twice)", func(f Figures) string { return num(f.WriteUnitsReported) })
	t.row("&nbsp;&nbsp;table units of transactions: reported / by DynamoDB's per-item rule", func(f Figures) string {
		return num(f.TransactionTableUnits) + " / " + num(f.TransactionTableUnitsPerItem)
	})
	t.row("DynamoDB read units", func(f Figures) string { return num(f.ReadUnits) })
	t.row("hottest non-order key, write units", func(f Figures) string { return f.HottestWriteKey.cell() })
	t.row("&nbsp;&nbsp;hottest key outside orders and stock (orders/s at 1,000 units/s)", func(f Figures) string {
		k := f.HottestSharedWriteKey
		if k.UnitsPerOrder <= 0 {
			return "–"
		}
		return k.cell() + " (" + num(partitionWriteLimit/k.UnitsPerOrder) + ")"
	})
	t.row("&nbsp;&nbsp;stock: reservations/s one SKU takes", func(f Figures) string { return num(f.StockReservationsPerSecond) })
	t.row("hottest non-order key, read units", func(f Figures) string { return f.HottestReadKey.cell() })
	for _, op := range sortedKeys(r.Plan.Mix.DynamoDBCalls) {
		t.row("DynamoDB "+op, func(f Figures) string { return num(f.DynamoDBCalls[op]) })
	}
	t.row("DynamoDB calls that failed (conditions; not charged here)", func(f Figures) string { return num(total(f.DynamoDBFailedCalls)) })
	t.row("state transitions (retries)", func(f Figures) string { return fmt.Sprintf("%s (%s)", num(f.StateTransitions), num(f.Retries)) })
	for _, a := range sortedKeys(r.Plan.Mix.StepFunctionsAPI) {
		t.row("Step Functions "+a, func(f Figures) string { return num(f.StepFunctionsAPI[a]) })
	}
	for _, fn := range sortedKeys(r.Plan.Mix.LambdaInvocations) {
		t.row("Lambda "+fn+" (avg ms)", func(f Figures) string {
			if f.LambdaInvocations[fn] == 0 {
				return "–"
			}
			return fmt.Sprintf("%s (%s)", num(f.LambdaInvocations[fn]), num(f.LambdaMillis[fn]))
		})
	}
	t.row("Lambda GB-seconds", func(f Figures) string { return num(f.LambdaGBSeconds) })
	for _, a := range sortedKeys(r.Plan.Mix.SQSRequests) {
		t.row("SQS "+a, func(f Figures) string { return num(f.SQSRequests[a]) })
	}
	t.row("SQS billed requests (64 KB chunks)", func(f Figures) string { return num(f.SQSBilled) })
	t.row("SNS publishes", func(f Figures) string { return num(f.SNSPublishes) })
	t.row("API Gateway requests (of which E-Port receipts)", func(f Figures) string {
		return fmt.Sprintf("%s (%s)", num(f.APIRequests), num(f.EPortReceipts))
	})
	t.row("seconds for the batch", func(f Figures) string { return num(f.Seconds) })
	t.row("idle SQS receives per second (not per order)", func(f Figures) string { return num(f.IdleReceivesPerSec) })

	b.WriteString("\n## Dollars per 1,000 orders\n\nUS East (N. Virginia) list prices, first tier, no free tier.\n\n")
	t.header("$ per 1,000 orders")
	for _, l := range bill {
		t.row(l.line, func(f Figures) string { return fmt.Sprintf("%.4f", f.CostPer1000[l.line]) })
	}
	t.row("**total**", func(f Figures) string { return fmt.Sprintf("**%.4f**", f.CostPer1000Total) })

	b.WriteString("\n## Default quotas: the order rate at which each binds\n\nOrders per second = the quota ÷ what one order takes of it; the first row of each path binds first.\n\n")
	b.WriteString("| path | quota | on | limit | per order | binds at orders/s |\n|---|---|---|---:|---:|---:|\n")
	for _, f := range append(r.Paths, r.Plan.Mix) {
		for i, q := range f.Quotas {
			name := f.Name
			if i > 0 {
				name = ""
			} else {
				name = "**" + name + "**"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", name, q.Quota, q.On, num(q.Limit), num(q.PerOrder), num(q.OrdersPerSecond))
		}
	}

	b.WriteString("\n## The hottest non-order partition keys\n\nWrite units per order of the batch that each key took (the table's keys, and the index keys the order item enters, leaves or is rewritten under).\n\n")
	for _, f := range r.Paths {
		fmt.Fprintf(&b, "- **%s**: ", f.Name)
		var parts []string
		for _, k := range f.TopWriteKeys {
			parts = append(parts, k.cell())
		}
		b.WriteString(strings.Join(parts, "; ") + "\n")
	}

	r.writePlan(&b)
	b.WriteString(method)
	return b.String()
}

func (r *Report) writePlan(b *strings.Builder) {
	p := r.Plan
	fmt.Fprintf(b, "\n## On paper: %s orders per second\n\nAn even mix of the five paths (%s write units, %s transitions, $%.3f per 1,000 orders on average), from the figures above.\n\n",
		num(p.OrdersPerSecond), num(p.Mix.WriteUnits), num(p.Mix.StateTransitions), p.Mix.CostPer1000Total)
	b.WriteString("| quota | on | default | needed at the rate | what to do |\n|---|---|---:|---:|---|\n")
	for _, row := range p.Rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s |\n", row.Quota, row.On, num(row.Limit), num(row.Needed), row.Action)
	}
	fmt.Fprintf(b, "\n- **At default quotas: %d cells** (accounts or Regions, each with its own stack and table). The binding quota, %s, allows %s orders/s per cell.\n",
		p.CellsAtDefaults, p.Mix.Binding.quota(), num(p.Mix.Binding.OrdersPerSecond))
	fmt.Fprintf(b, "- **With every raisable quota raised: still %d cells.** A partition key's 1,000 write units per second cannot be raised; as long as every order writes the same keys (the status index's partitions above all), their traffic only splits across cells, or across shards of the key in the data model.\n", p.CellsIfRaised)
	fmt.Fprintf(b, "- **With the hot keys write-sharded (or their writes made smaller) and quotas at their defaults: %d cells**, bound by the raisable quotas above; raising them (by the factors in the table: the larger the factor, the less a single account can count on it) brings it down to one. Fewer write units per order lower every DynamoDB row at once.\n", p.CellsIfSharded)
	fmt.Fprintf(b, "- Cost at %s orders/s (30-day month, list prices, no volume tiers): **$%s a month**, the same for one cell or many, since every line is priced per request: ", num(p.OrdersPerSecond), num(p.MonthlyUSDTotal))
	var parts []string
	for _, l := range bill {
		parts = append(parts, fmt.Sprintf("%s $%s", l.line, num(p.MonthlyUSD[l.line])))
	}
	fmt.Fprintf(b, "%s. Per cell at %d cells: $%s a month.\n", strings.Join(parts, ", "), p.CellsAtDefaults, num(p.MonthlyUSDTotal/float64(p.CellsAtDefaults)))
}

// method says how each count is taken and what is approximate.
const method = `
## How each figure is obtained

- **The stack** is the one ` + "`make dev`" + ` runs (` + "`stack.Provision`" + ` and ` + "`stack.Start`" + `: every function in-process behind SQS pollers, the local Step Functions engine, the simulated E-Port for China's customs), on a fresh table, with every AWS client pointed at a recording reverse proxy (` + "`capacity.Recorder`" + `) in front of DynamoDB Local, fauxqs and the engine. The counts therefore do not depend on how the functions are run. Orders go in through the API, each client waiting for its order's execution to succeed and the order to be DISPATCHED before it posts the next; a batch is counted once every queue is empty and the stack has been quiet for two seconds.
- **DynamoDB units**: the proxy adds ` + "`\"ReturnConsumedCapacity\": \"INDEXES\"`" + ` to every request that takes it and reads ConsumedCapacity from the answer, which DynamoDB Local fills in (per table and per global secondary index, a transaction's writes at twice the units, as DynamoDB bills them); the answer is then cut back to what the caller asked for, checksum recomputed. DynamoDB Local also charges a transaction's index writes twice; DynamoDB propagates a transaction's changes to its global secondary indexes after it commits (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html), as standard writes, so those are counted once here (DynamoDB Local's own total is shown beside). A call's table units are given to the partition keys it wrote in proportion to their items' sizes (exact for a Put; for an Update or Delete the size the proxy last saw of that item); an index's units to the index keys the items left and entered, read from the written items (Put) or the update's assignments, the previous keys from the proxy's record of every item written or read through it.
- **Hottest non-order key**: the ` + "`ORDER#<id>`" + ` partitions are each order's own; every other key (status and customer index partitions, stock, idempotency records, references) is shared by many orders, so at R orders/s it takes R times its units per order.
- **State transitions**: each execution's history is read from the engine after the batch; each state entered is one, and each retry (a task scheduled again in the same state) one more, as Standard workflows bill.
- **Lambda invocations**: the Lambda tasks in the histories (every attempt); one per SQS batch delivered to a worker, the starter or the callback sender (a ReceiveMessage that returned messages, counted at the proxy); one per API request, and one per E-Port receipt (in AWS the E-Port posts each to the API; locally it is handed over in-process, and counted there).
- **Lambda duration**: measured in-process on this machine, not on a 256 MB arm64 Lambda: the steps from the history (started to ended), the SQS-fed functions from the receive to the deletion of the batch at the proxy, the api function around its handler. GB-seconds use each function's memory from the template (256 MB) and the average rounded up to the millisecond.
- **SQS**: every request but the receives that returned nothing (the pollers' long polls, a cost per minute and poller, not per order: shown per second); a SendMessageBatch of ten is one request, and a request is billed per 64 KB chunk of the larger of its request and answer. SNS's deliveries into SQS happen inside the emulator and are not requests of the stack.
- **API Gateway**: the test client's requests (one POST per order) and the E-Port's receipts.

### What is approximate

- Write units of a transaction are shared among its items by their sizes as last seen, not as DynamoDB computes them item by item.
- DynamoDB Local's figure for a transaction that writes items under several partition keys can be below DynamoDB's documented rule (two units per KB of each item, rounded up item by item): measured here, two new 1.5 KB items under two keys in one TransactWriteItems were reported as 4 units (the rule gives 8), three small ones as 2 (the rule: 6), while an order item of 3 KB and its small event under the same key were reported as the rule says, 8. A transaction is therefore counted at the larger of the two, the rule's figure computed from the sizes of Puts (exact) and of updated items as last seen through the proxy (an item never seen counts as one KB); the row "table units of transactions" shows both.
- That a transaction's index writes are billed once is read from how AWS describes the propagation, not from a bill; if they were billed twice, the index rows (and DynamoDB Local's total) are the figures.
- A write that fails its condition is counted but not charged: DynamoDB Local reports no capacity for it, while DynamoDB charges it.
- Durations come from a 2-core machine running every service at once; a 256 MB Lambda has a fraction of a core and DynamoDB answers in a few milliseconds, so real durations differ both ways.
- The reconciler's scheduled run (once a minute) falls within the batches and is counted with them; at hundreds of orders per batch it adds little per order. Its ListExecutions requests are left out of the quota table: their rate does not grow with the orders.
- A China order woken while it waits for customs costs a customs-queue message, a worker invocation and its reads each time; locally the E-Port answers in half a second, so the count is that of a quick answer.
- Quotas and prices are US East (N. Virginia) defaults read from stored pages (see prices.json, which marks what it could not confirm).
`

// BenchSection is the capacity section of BENCHMARKS.md, between its
// markers.
func (r *Report) BenchSection() string {
	var b strings.Builder
	t := table{&b, r.Paths}
	fmt.Fprintf(&b, "<!-- bench:capacity -->\n## Capacity and cost per order (local stack, counted at the service endpoints)\n\n- date: %s; revision %s\n- machine: %s\n- command: `%s` (inside `devstack with-services`)\n- run: %d orders of each sample path, %d in flight, %s in all; the details, the plan for %s orders/s and how each count is taken are in [docs/capacity.md](docs/capacity.md)\n\n",
		r.Date, r.Revision, r.Machine, r.Command, r.OrdersPerPath, r.InFlight, (time.Duration(r.Seconds) * time.Second).String(), num(TargetRate))
	t.header("per order")
	t.row("DynamoDB write units", func(f Figures) string { return num(f.WriteUnits) })
	t.row("DynamoDB read units", func(f Figures) string { return num(f.ReadUnits) })
	t.row("hottest non-order key (write units)", func(f Figures) string { return f.HottestWriteKey.cell() })
	t.row("state transitions", func(f Figures) string { return num(f.StateTransitions) })
	t.row("Lambda invocations", func(f Figures) string { return num(total(f.LambdaInvocations)) })
	t.row("$ per 1,000 orders", func(f Figures) string { return fmt.Sprintf("%.3f", f.CostPer1000Total) })
	t.row("binds first", func(f Figures) string {
		return fmt.Sprintf("%s at %s orders/s", f.Binding.quota(), num(f.Binding.OrdersPerSecond))
	})
	fmt.Fprintf(&b, "\nAn even mix of the paths binds first on %s, at %s orders/s. %s orders/s need %d cells at default quotas and still %d with every raisable quota raised (a partition key's limit is not raisable); with the hot keys write-sharded, %d at default quotas. $%s a month at list prices.\n<!-- /bench:capacity -->\n",
		r.Plan.Mix.Binding.quota(), num(r.Plan.Mix.Binding.OrdersPerSecond), num(TargetRate),
		r.Plan.CellsAtDefaults, r.Plan.CellsIfRaised, r.Plan.CellsIfSharded, num(r.Plan.MonthlyUSDTotal))
	return b.String()
}
