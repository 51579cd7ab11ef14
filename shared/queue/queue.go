// Package queue sends JSON messages to an SQS queue.
package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xborder/xborder/shared/workflow"
)

// maxDelay is SQS's longest message delay.
const maxDelay = 15 * time.Minute

// Sender sends to one queue.
type Sender struct {
	Client *sqs.Client
	URL    string
}

// Send sends v as a JSON message body.
func (s Sender) Send(ctx context.Context, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("queue: encode: %w", err)
	}
	return s.send(ctx, body, 0)
}

func (s Sender) send(ctx context.Context, body []byte, delay time.Duration) error {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(s.URL), MessageBody: aws.String(string(body))}
	if delay > 0 {
		in.DelaySeconds = int32(min(delay, maxDelay) / time.Second)
	}
	if _, err := s.Client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("queue: send to %s: %w", s.URL, err)
	}
	return nil
}

// Accepted hands orders to the workflow through the orders-accepted queue.
type Accepted struct{ Sender Sender }

// Enqueue sends the order id to orders-accepted.
func (a Accepted) Enqueue(ctx context.Context, orderID string) error {
	return a.Sender.Send(ctx, workflow.OrderAccepted{OrderID: orderID})
}

// Tasks wakes a waiting workflow step by sending its task message to the
// step's queue again (the customs queue, for the customs step): its worker
// reads the order and answers the token, or waits on.
type Tasks struct{ Sender Sender }

// Wake sends {orderId, taskToken} to the queue.
func (t Tasks) Wake(ctx context.Context, orderID, taskToken string) error {
	return t.Sender.Send(ctx, workflow.TaskMessage{OrderID: orderID, TaskToken: taskToken})
}

// WakeAfter sends {orderId, taskToken} to the queue, delivered after delay
// (at most SQS's 15 minutes).
func (t Tasks) WakeAfter(ctx context.Context, orderID, taskToken string, delay time.Duration) error {
	body, err := json.Marshal(workflow.TaskMessage{OrderID: orderID, TaskToken: taskToken})
	if err != nil {
		return fmt.Errorf("queue: encode: %w", err)
	}
	return t.Sender.send(ctx, body, delay)
}
