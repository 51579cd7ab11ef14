package steps_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/steps"
)

// Every status change is a log line in CloudWatch's embedded metric format,
// which the dashboard's "orders entering each status" graphs.
func TestStatusChangesAreMetrics(t *testing.T) {
	f := newFixture(t, "tok_visa")
	var buf bytes.Buffer
	f.steps.Logger = slog.New(slog.NewJSONHandler(&buf, nil))
	if _, err := f.steps.ReserveStock(context.Background(), steps.Input{OrderID: f.id}); err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m struct {
			Status        string
			StatusChanges int
			AWS           struct {
				Timestamp         int64
				CloudWatchMetrics []struct {
					Namespace  string
					Dimensions [][]string
					Metrics    []struct{ Name, Unit string }
				}
			} `json:"_aws"`
		}
		if json.Unmarshal([]byte(line), &m) != nil || m.AWS.Timestamp == 0 {
			continue
		}
		cm := m.AWS.CloudWatchMetrics
		if m.Status != "STOCK_RESERVED" || m.StatusChanges != 1 || len(cm) != 1 || cm[0].Namespace != "xborder" ||
			len(cm[0].Dimensions) != 1 || cm[0].Dimensions[0][0] != "Status" || cm[0].Metrics[0].Name != "StatusChanges" {
			t.Fatalf("metric line %s", line)
		}
		found = true
	}
	if !found {
		t.Fatalf("no embedded-metric line in %s", buf.String())
	}
}
