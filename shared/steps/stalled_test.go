package steps_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/steps"
)

func TestStallThenRedriveCompletesTheStep(t *testing.T) {
	f := newFixture(t, "tok_transient_4")
	ctx := context.Background()
	in := steps.Input{OrderID: f.id}
	_, _ = f.steps.ReserveStock(ctx, in)
	for range 4 { // every attempt of the state's Retry fails
		if _, err := f.steps.AuthorizePayment(ctx, in); err == nil {
			t.Fatal("want a transient failure")
		}
	}
	raw, err := os.ReadFile("../../events/eventbridge/execution-failed.json")
	if err != nil {
		t.Fatal(err)
	}
	raw = []byte(strings.ReplaceAll(string(raw), "01KSAMPLEORDER00000000000001", f.id))
	invoke := lambda.NewHandler(f.steps.MarkStalled)
	for range 2 { // EventBridge delivers at least once
		if _, err := invoke.Invoke(ctx, raw); err != nil {
			t.Fatal(err)
		}
	}
	o := f.order(t)
	if o.Status != order.StatusStalled || o.Reason != "TransientError" || o.Version != 3 {
		t.Fatalf("order %s %q v%d, want STALLED TransientError v3", o.Status, o.Reason, o.Version)
	}
	if f.available("SKU-1") != 8 {
		t.Fatal("a stall must not compensate")
	}
	// RedriveExecution resumes at AuthorizePayment; the provider is back.
	if r, err := f.steps.AuthorizePayment(ctx, in); err != nil || r.Status != order.StatusPaymentAuthorized {
		t.Fatalf("redriven step: %+v %v", r, err)
	}
}
