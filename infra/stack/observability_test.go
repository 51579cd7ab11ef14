package stack

import (
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/order"
)

// The operations dashboard shows what issue 9 asks for, and the alarms
// watch the dead-letter queues, the workflow's failure rate and API 5xx.
func TestDashboardAndAlarms(t *testing.T) {
	dashboards := resources("AWS::CloudWatch::Dashboard")
	if len(dashboards) != 1 {
		t.Fatalf("%d dashboards", len(dashboards))
	}
	var body string
	for _, d := range dashboards {
		body = js(d["DashboardBody"])
	}
	for _, want := range []string{"Orders entering each status", "StatusChanges", "Workflow executions", "ExecutionsFailed",
		"Workflow failure rate", "Step latency", "Dead-letter queue depth", "ApproximateNumberOfMessagesVisible",
		"Lambda errors", "Lambda throttles", "Throttles", "API 4xx and 5xx", "5xx", "4xx"} {
		if !strings.Contains(body, want) {
			t.Errorf("the dashboard lacks %q", want)
		}
	}
	for _, s := range order.Statuses {
		if !strings.Contains(body, `\"Status\",\"`+string(s)+`\"`) {
			t.Errorf("the dashboard does not graph status %s", s)
		}
	}
	alarms := resources("AWS::CloudWatch::Alarm")
	var failureRate, api5xx, dlq int
	for _, a := range alarms {
		d := js(a)
		switch {
		case strings.Contains(d, "ExecutionsFailed") && strings.Contains(d, "ExecutionsStarted"):
			failureRate++
		case strings.Contains(d, "5xx") || strings.Contains(d, "5XX"):
			api5xx++
		case strings.Contains(d, "ApproximateNumberOfMessagesVisible"):
			dlq++
		}
	}
	if failureRate != 1 || api5xx != 1 || dlq != 5 { // four queues' DLQs and mark-stalled's
		t.Fatalf("alarms: failure rate %d, API 5xx %d, DLQ %d (of %d)", failureRate, api5xx, dlq, len(alarms))
	}
}
