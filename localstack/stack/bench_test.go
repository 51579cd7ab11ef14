package stack

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/order"
)

// BenchmarkPipeline sends b.N orders through the whole local pipeline —
// POST, DynamoDB, SQS, the engine, every step, both workers — with the
// simulators at zero latency, from 8 concurrent clients, and reports
// orders/s and the p50/p99 time from POST to DISPATCHED (from each order's
// own history, so polling adds nothing), and before the burst the time one
// order alone takes.
func BenchmarkPipeline(b *testing.B) {
	// One pipeline for every run of the benchmark (see sharedPipeline).
	tp := sharedPipeline(b)
	body, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		b.Fatal(err)
	}
	tok, _ := auth.MintLocal(auth.DevSecret, "bench", nil, time.Hour, time.Now())
	get := func(id string) (*order.Order, []order.Event) {
		o, err := tp.Pipeline.store.GetOrder(context.Background(), id)
		if err != nil {
			return nil, nil
		}
		h, _ := tp.Pipeline.store.History(context.Background(), id)
		return o, h
	}
	post := func(key string) string {
		req, _ := http.NewRequest(http.MethodPost, tp.api.URL+"/v1/orders", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Error(err)
			return ""
		}
		var m struct{ OrderID string }
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		return m.OrderID
	}
	// dispatched waits for an order to be DISPATCHED and returns how long
	// it took from its POST, read off its own history.
	dispatched := func(id string, deadline time.Time) time.Duration {
		for {
			o, h := get(id)
			if o != nil && o.Status == order.StatusDispatched {
				return h[len(h)-1].At.Sub(o.CreatedAt)
			}
			if o != nil && o.Status.Terminal() || time.Now().After(deadline) {
				b.Fatalf("order %s ended %v", id, o)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// One order alone first: what a shopper waits when nothing queues.
	lone := dispatched(post(fmt.Sprintf("bench-lone-%d", time.Now().UnixNano())), time.Now().Add(time.Minute))
	b.ResetTimer()
	start := time.Now()
	ids := make([]string, b.N)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ids[i] = post(fmt.Sprintf("bench-%d-%d", start.UnixNano(), i))
			}
		}()
	}
	for i := range b.N {
		work <- i
	}
	close(work)
	wg.Wait()
	var latencies []time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	for _, id := range ids {
		latencies = append(latencies, dispatched(id, deadline))
	}
	elapsed := time.Since(start)
	b.StopTimer()
	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	pct := func(p float64) float64 {
		return float64(latencies[min(int(p*float64(len(latencies))), len(latencies)-1)].Microseconds()) / 1000
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "orders/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(lone.Microseconds())/1000, "lone-ms")
}
