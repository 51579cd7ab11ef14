package sfn

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syncPolicies are the fsync policies the store benchmarks compare.
var syncPolicies = []struct {
	name   string
	policy SyncPolicy
}{{"never", SyncNever}, {"decisive", SyncDecisive}, {"always", SyncAlways}}

// benchEvent is a history event of about 500 bytes once framed, as a state
// of the order workflow enters with an order's input.
func benchEvent(id int64) record {
	in := `{"orderId":"01KBENCH000000000000000001","customer":"alice","lines":[{"sku":"TEA-001","qty":2,"price":"12.50"}],"shipTo":"DE",` +
		`"quote":{"currency":"EUR","duty":"1.20","vat":"4.98","total":"31.18"},"pad":"` + strings.Repeat("x", 180) + `"}`
	return record{Event: &HistoryEvent{Timestamp: time.Now(), Type: "TaskStateEntered", ID: id, PreviousEventID: id - 1,
		Details: map[string]any{"name": "ReserveStock", "input": in, "inputDetails": map[string]any{"truncated": false}}}}
}

// BenchmarkStoreAppendEvent appends one ~500-byte history event per op to an
// execution's log, as the engine does with its mutex held: under
// SyncAlways, what the engine waits for each record. (An event is not
// decisive: SyncDecisive writes it as SyncNever does.) A log is replaced by a
// new one every 1000 events, outside the timer, so the disk does not fill.
func BenchmarkStoreAppendEvent(b *testing.B) {
	for _, p := range syncPolicies {
		b.Run(p.name, func(b *testing.B) {
			st, err := OpenStore(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			st.Sync = p.policy
			logNo := 0
			arn := storeExecARN + "-0"
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%1000 == 0 {
					b.StopTimer()
					st.Close()
					os.Remove(st.logPath(arn))
					logNo++
					arn = storeExecARN + "-" + strconv.Itoa(logNo)
					b.StartTimer()
				}
				st.append(arn, benchEvent(int64(i%1000+1)))
			}
			b.StopTimer()
			st.Close()
		})
	}
}

// BenchmarkStoreAppendExecution writes one execution's whole log per op —
// the 21 records of order-1 (storeRecords): a start, 18 history events, a
// task token, an end; 4 of them decisive (start, token, TaskSubmitted, end)
// — in a new log, as each execution gets one.
func BenchmarkStoreAppendExecution(b *testing.B) {
	recs := storeRecords()
	for _, p := range syncPolicies {
		b.Run(p.name, func(b *testing.B) {
			st, err := OpenStore(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			st.Sync = p.policy
			b.ResetTimer()
			for i := range b.N {
				arn := storeExecARN + "-" + strconv.Itoa(i)
				for _, r := range recs {
					st.append(arn, r)
				}
				b.StopTimer()
				os.Remove(st.logPath(arn)) // the end closed it
				b.StartTimer()
			}
			b.StopTimer()
			st.Close()
		})
	}
}
