package workflow

import (
	"testing"

	"github.com/xborder/xborder/shared/order"
)

// TestOutcomeFollowsTheFailureTable checks each business error's terminal
// status against the failure table of architecture.md.
func TestOutcomeFollowsTheFailureTable(t *testing.T) {
	for _, tc := range []struct {
		name, cause string
		status      order.Status
		reason      string
	}{
		{ErrRejected, `{"errorMessage":"restricted_goods","errorType":"Rejected"}`, order.StatusRejected, "restricted_goods"},
		{ErrRejected, `{"errorMessage":"out_of_stock","errorType":"Rejected"}`, order.StatusRejected, "out_of_stock"},
		{ErrPaymentDeclined, `{"errorMessage":"card_declined"}`, order.StatusPaymentDeclined, "card_declined"},
		{ErrCustomsRejected, "invoice_value_mismatch", order.StatusCustomsRejected, "invoice_value_mismatch"},
		{ErrOrderCancelled, "", order.StatusCancelled, "cancelled"},
		{ErrOrderFailed, "warehouse_cannot_ship", order.StatusFailed, "warehouse_cannot_ship"},
	} {
		st, reason, ok := Outcome(tc.name, tc.cause)
		if !ok || st != tc.status || reason != tc.reason {
			t.Errorf("Outcome(%s, %s) = %s %q %v; want %s %q", tc.name, tc.cause, st, reason, ok, tc.status, tc.reason)
		}
	}
	for _, name := range append([]string{"States.Timeout", "States.ALL", ErrChinaCustomsNoAnswer}, TransientErrors...) {
		if _, _, ok := Outcome(name, ""); ok {
			t.Errorf("%s must not be compensated: it stalls the order", name)
		}
	}
	for _, name := range BusinessErrors {
		if _, _, ok := Outcome(name, "x"); !ok {
			t.Errorf("business error %s has no outcome", name)
		}
	}
}
