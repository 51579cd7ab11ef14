// Package starter turns accepted orders into workflow executions. Each SQS
// message from orders-accepted names one order; the execution is named by
// the order id, so a redelivered message, a Lambda retry or the reconciler's
// re-enqueue can never start a second one: Step Functions returns the
// running execution for the same name and input, and refuses a closed one's
// name with ExecutionAlreadyExists, which counts as done.
package starter

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// Executions is what the starter needs of Step Functions.
type Executions interface {
	StartExecution(ctx context.Context, in *sfn.StartExecutionInput, opts ...func(*sfn.Options)) (*sfn.StartExecutionOutput, error)
}

// Orders reads an order (strongly consistent: the API stored it before it
// sent the message).
type Orders interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
}

// Handler starts one execution per message.
type Handler struct {
	Executions      Executions
	StateMachineARN string
	// Orders, when set, is asked first: no execution starts for an order
	// that was never stored.
	Orders Orders
	Logger *slog.Logger
}

// ErrNoSuchOrder: the message names an order the table does not hold. Its
// message is reported failed and, past the queue's maxReceiveCount, lands
// in the dead-letter queue for an operator.
var ErrNoSuchOrder = errors.New("starter: no such order")

// Handle processes a batch, reporting the messages to redeliver. A message
// that can never start an execution (not JSON, no order id) is reported too:
// after the queue's maxReceiveCount it moves to the dead-letter queue,
// where an operator sees it — it is never dropped silently.
func (h *Handler) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := h.start(ctx, m.Body); err != nil {
			h.Logger.ErrorContext(ctx, "start execution", "messageId", m.MessageId, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *Handler) start(ctx context.Context, body string) error {
	var msg workflow.OrderAccepted
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.OrderID == "" {
		return fmt.Errorf("unusable message (want {\"orderId\": …}): %v", err)
	}
	if h.Orders != nil {
		// The API writes the order before it sends the message, so a
		// message without its order is not one of ours — or its write was
		// lost (DynamoDB Local acknowledges a write before it is durable:
		// a kill right after the API's answer loses it). Either way no
		// execution may run for it.
		_, err := h.Orders.GetOrder(ctx, msg.OrderID)
		if errors.Is(err, order.ErrNotFound) {
			return fmt.Errorf("order %s: %w", msg.OrderID, ErrNoSuchOrder)
		}
		if err != nil {
			return fmt.Errorf("order %s: %w", msg.OrderID, err)
		}
	}
	input, _ := json.Marshal(msg) // canonical, so a repeat has the same input
	_, err := h.Executions.StartExecution(ctx, &sfn.StartExecutionInput{
		StateMachineArn: aws.String(h.StateMachineARN), Name: aws.String(msg.OrderID), Input: aws.String(string(input)),
	})
	var exists *types.ExecutionAlreadyExists
	if errors.As(err, &exists) {
		h.Logger.InfoContext(ctx, "execution already exists", "orderId", msg.OrderID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("order %s: %w", msg.OrderID, err)
	}
	h.Logger.InfoContext(ctx, "execution started", "orderId", msg.OrderID)
	return nil
}
