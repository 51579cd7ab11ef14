package starter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
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
