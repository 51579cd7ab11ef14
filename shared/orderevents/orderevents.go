// Package orderevents publishes order status changes to the order-events SNS
// topic, for partner callbacks and any other subscriber. Messages carry no
// personal data: ids, status, reason, version and time.
package orderevents

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sns/types"

	"github.com/xborder/xborder/shared/order"
)

// Message is what subscribers receive. (OrderID, Version) identifies it:
// delivery is at least once, so subscribers deduplicate on that pair.
type Message struct {
	OrderID         string       `json:"orderId"`
	Version         int64        `json:"version"`
	Status          order.Status `json:"status"`
	PreviousStatus  order.Status `json:"previousStatus,omitempty"`
	Reason          string       `json:"reason,omitempty"`
	Channel         string       `json:"channel"`
	PartnerOrderRef string       `json:"partnerOrderRef,omitempty"`
	TrackingNumber  string       `json:"trackingNumber,omitempty"`
	At              time.Time    `json:"at"`
}

// NewMessage describes ev of o.
func NewMessage(o *order.Order, ev order.Event) Message {
	return Message{OrderID: o.ID, Version: ev.Version, Status: ev.To, PreviousStatus: ev.From, Reason: ev.Reason,
		Channel: string(o.Channel), PartnerOrderRef: o.PartnerOrderRef, TrackingNumber: o.TrackingNumber, At: ev.At}
}

// Publisher publishes to one topic.
type Publisher struct {
	Client   *sns.Client
	TopicARN string
}

// Publish sends ev; the status and channel are message attributes, so
// subscriptions can filter on them.
func (p Publisher) Publish(ctx context.Context, o *order.Order, ev order.Event) error {
	body, err := json.Marshal(NewMessage(o, ev))
	if err != nil {
		return fmt.Errorf("orderevents: encode: %w", err)
	}
	_, err = p.Client.Publish(ctx, &sns.PublishInput{
		TopicArn: aws.String(p.TopicARN),
		Message:  aws.String(string(body)),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"status":  {DataType: aws.String("String"), StringValue: aws.String(string(ev.To))},
			"channel": {DataType: aws.String("String"), StringValue: aws.String(string(o.Channel))},
		},
	})
	if err != nil {
		return fmt.Errorf("orderevents: publish %s v%d: %w", o.ID, ev.Version, err)
	}
	return nil
}
