package sfn

import (
	"context"
	"os"
	"testing"
	"time"
)

// echo is an in-process function that returns its input.
type echo struct{}

func (echo) Invoke(_ context.Context, _ string, payload []byte) ([]byte, error) { return payload, nil }

// benchDefinition runs executions of a definition one after another, as the
// aws-local-stepfunctions side of `make bench` does, and reports
// executions/s and state transitions/s.
func benchDefinition(b *testing.B, path string) {
	def, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	e := NewEngine()
	e.Invoker = echo{}
	sm, err := e.CreateStateMachine("bench", string(def), "r", "")
	if err != nil {
		b.Fatal(err)
	}
	transitions := 0
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		x, err := e.StartExecution(sm.ARN, "", `{"value":`+itoa(i)+`}`)
		if err != nil {
			b.Fatal(err)
		}
		<-x.done
		if x.Status != StatusSucceeded {
			b.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
		}
		for _, ev := range x.history {
			if len(ev.Type) > 12 && ev.Type[len(ev.Type)-12:] == "StateEntered" {
				transitions++
			}
		}
	}
	secs := time.Since(start).Seconds()
	b.ReportMetric(float64(b.N)/secs, "executions/s")
	b.ReportMetric(float64(transitions)/secs, "transitions/s")
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b [20]byte
	n := len(b)
	for ; i > 0; i /= 10 {
		n--
		b[n] = byte('0' + i%10)
	}
	return string(b[n:])
}

func BenchmarkFiveStates(b *testing.B) { benchDefinition(b, "../benchreport/five-states.asl.json") }
