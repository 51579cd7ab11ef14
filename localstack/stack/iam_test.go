package stack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/localstack/iam"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// TestAGrantTakenOutEndsTheOrderAsTheFailureTableSays proves the IAM
// check live end to end, on the screening hit that motivated it. Under
// the template's roles a hit ends REJECTED with the matched entry stored
// on the order. With screen's dynamodb:UpdateItem taken out of a copy of
// the template, its write is AccessDenied — what the read-only grant it
// once had would have done in AWS — and the order ends as the failure
// table says of an error that is no business refusal: the step retries,
// the execution fails, the order is STALLED, with nothing recorded.
func TestAGrantTakenOutEndsTheOrderAsTheFailureTableSays(t *testing.T) {
	ctx := context.Background()
	tp := sharedPipeline(t)
	tok, _ := auth.MintLocal(auth.DevSecret, "iam-customer", nil, time.Hour, time.Now())
	raw, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	hit := []byte(strings.Replace(string(raw), `"hsCode": "851830"`, `"hsCode": "930320"`, 1)) // arms: restricted in Germany
	run := time.Now().UnixNano()
	store := dynamostore.New(tp.clients.DynamoDB, tp.res.Table)
	ended := func(name string) *order.Order {
		t.Helper()
		id := apiCall(t, tp.api.URL, tok, http.MethodPost, "/v1/orders", hit, fmt.Sprintf("iam-%s-%d", name, run))["orderId"].(string)
		// A refusal is retried as a transient error: six retries, 90 s of
		// backoff at most, before the order stalls.
		deadline := time.Now().Add(150 * time.Second)
		for {
			o, err := store.GetOrder(ctx, id)
			if err == nil && (o.Status.Terminal() || o.Status == order.StatusStalled) {
				return o
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: order %s not ended after 150 s (%v)", name, id, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}

	denied := len(tp.iam.Denied())
	o := ended("granted")
	if o.Status != order.StatusRejected || o.Reason != "restricted_goods" || o.Screening == nil {
		t.Fatalf("a screening hit under the template: %s %q, entry %+v; want REJECTED restricted_goods with the entry", o.Status, o.Reason, o.Screening)
	}
	if d := tp.iam.Denied()[denied:]; len(d) > 0 {
		t.Fatalf("refused under the template: %v", d)
	}

	tmpl, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	without, err := iam.TemplateWithout(tmpl, "screen", "dynamodb:UpdateItem")
	if err != nil {
		t.Fatal(err)
	}
	c, err := iam.ForTemplateJSON(without, tp.res.Table)
	if err != nil {
		t.Fatal(err)
	}
	restore := tp.iam.Use(c.Policies)
	o = ended("taken-out")
	restore()
	if o.Status != order.StatusStalled || o.Screening != nil {
		t.Errorf("a screening hit without screen's UpdateItem: %s, entry %+v; want STALLED with nothing recorded", o.Status, o.Screening)
	}
	d := tp.iam.Denied()[denied:]
	if !slices.ContainsFunc(d, func(s string) bool { return strings.HasPrefix(s, "screen dynamodb:UpdateItem ") }) {
		t.Errorf("refused %v, want screen's dynamodb:UpdateItem", d)
	}
	for _, s := range d {
		if !strings.HasPrefix(s, "screen dynamodb:UpdateItem ") {
			t.Errorf("refused besides screen's UpdateItem: %s", s)
		}
	}
}

// TestEveryGrantIsOneTheCodeCanCall: least privilege from the other side.
// Each action a function's role grants in the template is one its built
// main can call (its binary links the SDK operation), or one the Lambda
// service calls with the role, for the reason iam.Kept gives; and no
// action is a wildcard.
func TestEveryGrantIsOneTheCodeCanCall(t *testing.T) {
	tp := sharedPipeline(t)
	callable, err := callableByFunction()
	if err != nil {
		t.Fatal(err)
	}
	if len(callable) != len(workflow.Functions) {
		t.Fatalf("callable actions of %d functions, want %d", len(callable), len(workflow.Functions))
	}
	for _, fn := range workflow.Functions {
		grants := tp.iam.Policies.Grants(fn)
		if len(grants) == 0 {
			t.Errorf("%s: no grants read from the template", fn)
		}
		for _, g := range grants {
			action, _, _ := strings.Cut(g, " ")
			switch {
			case strings.ContainsAny(action, "*?"):
				t.Errorf("%s: a wildcard action: %s", fn, g)
			case !slices.Contains(callable[fn], action) && iam.Kept[fn+" "+action] == "" && iam.Kept["* "+action] == "":
				t.Errorf("%s may %s, which its code never calls (it can call %v)", fn, g, callable[fn])
			}
		}
	}
}
