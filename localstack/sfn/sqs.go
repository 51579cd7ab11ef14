package sfn

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSSender sends the sqs:sendMessage integration's messages through the SQS
// API (the local emulator, or AWS).
type SQSSender struct{ Client *sqs.Client }

// SendMessage implements MessageSender.
func (s SQSSender) SendMessage(ctx context.Context, queueURL, body string, attrs map[string]any, groupID, dedupID string) (string, error) {
	in := &sqs.SendMessageInput{QueueUrl: aws.String(queueURL), MessageBody: aws.String(body)}
	if groupID != "" {
		in.MessageGroupId = aws.String(groupID)
	}
	if dedupID != "" {
		in.MessageDeduplicationId = aws.String(dedupID)
	}
	if len(attrs) > 0 {
		raw, _ := json.Marshal(attrs)
		var typed map[string]types.MessageAttributeValue
		if err := json.Unmarshal(raw, &typed); err != nil {
			return "", fmt.Errorf("MessageAttributes: %w", err)
		}
		in.MessageAttributes = typed
	}
	out, err := s.Client.SendMessage(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.MessageId), nil
}
