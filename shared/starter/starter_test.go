package starter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

// fakeSFN behaves as Step Functions does for names: a name is used once.
type fakeSFN struct {
	started map[string]string
	fail    error
}

func (f *fakeSFN) StartExecution(_ context.Context, in *sfn.StartExecutionInput, _ ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	name := aws.ToString(in.Name)
	if _, ok := f.started[name]; ok {
		return nil, &types.ExecutionAlreadyExists{Message: aws.String("Execution Already Exists: " + name)}
	}
	f.started[name] = aws.ToString(in.Input)
	return &sfn.StartExecutionOutput{ExecutionArn: aws.String("arn:aws:states:us-east-1:000000000000:execution:order-workflow:" + name)}, nil
}

func TestStarterWithTheRealSQSEvent(t *testing.T) {
	raw, err := os.ReadFile("../../events/sqs/orders-accepted.json")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeSFN{started: map[string]string{}}
	h := &Handler{Executions: f, StateMachineARN: "arn:aws:states:us-east-1:000000000000:stateMachine:order-workflow", Logger: slog.New(slog.DiscardHandler)}
	invoke := lambda.NewHandler(h.Handle)
	for range 2 { // SQS redelivers: the second batch starts nothing new and fails nothing
		out, err := invoke.Invoke(context.Background(), raw)
		if err != nil {
			t.Fatal(err)
		}
		var resp events.SQSEventResponse
		_ = json.Unmarshal(out, &resp)
		if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "msg-3-not-json" {
			t.Fatalf("batch failures %+v, want only the unusable message", resp.BatchItemFailures)
		}
	}
	if len(f.started) != 2 || f.started["01KSAMPLEORDER00000000000001"] != `{"orderId":"01KSAMPLEORDER00000000000001"}` {
		t.Fatalf("started %v", f.started)
	}
}

func TestStarterReportsTransientFailures(t *testing.T) {
	f := &fakeSFN{started: map[string]string{}, fail: errors.New("throttled")}
	h := &Handler{Executions: f, StateMachineARN: "arn", Logger: slog.New(slog.DiscardHandler)}
	resp, _ := h.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: `{"orderId":"X"}`}}})
	if len(resp.BatchItemFailures) != 1 || !strings.Contains(resp.BatchItemFailures[0].ItemIdentifier, "m1") {
		t.Fatalf("%+v", resp)
	}
}

// TestStarterStartsNothingForAnOrderNeverStored: a message naming an order
// the table does not hold — a write DynamoDB Local acknowledged and then
// lost to a kill, or a message that is not ours — starts no execution and
// is reported, so that it ends in the dead-letter queue; the stored order
// of the same batch starts.
func TestStarterStartsNothingForAnOrderNeverStored(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	o := storetest.Order("01KSTARTER0000000000000001", "alice", time.Now())
	if _, err := store.CreateOrder(ctx, o, order.Event{OrderID: o.ID, Version: 1, To: order.StatusReceived},
		storetest.Completed("customer:alice", o.ID, o.ID, o.CreatedAt), o.CreatedAt); err != nil {
		t.Fatal(err)
	}
	f := &fakeSFN{started: map[string]string{}}
	h := &Handler{Executions: f, StateMachineARN: "arn", Orders: store, Logger: slog.New(slog.DiscardHandler)}
	resp, err := h.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "stored", Body: `{"orderId":"` + o.ID + `"}`},
		{MessageId: "phantom", Body: `{"orderId":"01KSTARTER0000000000000002"}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "phantom" {
		t.Fatalf("batch failures %+v, want only the message of the order never stored", resp.BatchItemFailures)
	}
	if len(f.started) != 1 || f.started[o.ID] == "" {
		t.Fatalf("started %v, want only %s", f.started, o.ID)
	}
}
