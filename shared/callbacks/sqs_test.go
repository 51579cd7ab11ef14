package callbacks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xborder/xborder/shared/order"
)

// sqsClient is a client of the SQS emulator `make test` starts (fauxqs).
func sqsClient(t *testing.T) *sqs.Client {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint == "" {
		t.Fatal("no SQS endpoint: run the tests through `make test`, which starts the SQS/SNS emulator")
	}
	u, _ := url.Parse(endpoint)
	if ip := net.ParseIP(u.Hostname()); ip == nil || !ip.IsLoopback() {
		t.Fatalf("refusing non-loopback endpoint %s", endpoint)
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// The backoff on a real queue: a failed message stays hidden for
// 2^receiveCount × base, comes back with its receive count up, and once
// delivered is deleted; a queue with maxReceiveCount 2 moves a message that
// keeps failing to its dead-letter queue. The queue URL is derived from the
// record's queue ARN, as Lambda gives it.
func TestBackoffOnARealQueue(t *testing.T) {
	ctx := context.Background()
	c := sqsClient(t)
	suffix := fmt.Sprint(time.Now().UnixNano())
	dlq, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("callbacks-dlq-" + suffix)})
	if err != nil {
		t.Fatal(err)
	}
	dlqARN := attr(t, c, aws.ToString(dlq.QueueUrl), types.QueueAttributeNameQueueArn)
	q, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("callbacks-" + suffix), Attributes: map[string]string{
		"VisibilityTimeout": "180", "RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"3"}`, dlqARN)}})
	if err != nil {
		t.Fatal(err)
	}
	qURL := aws.ToString(q.QueueUrl)
	qARN := attr(t, c, qURL, types.QueueAttributeNameQueueArn)
	t.Cleanup(func() {
		_, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
		_, _ = c.DeleteQueue(context.Background(), &sqs.DeleteQueueInput{QueueUrl: dlq.QueueUrl})
	})

	var healthy atomic.Bool
	r := newReceiver(t, func(int) int {
		if healthy.Load() {
			return http.StatusOK
		}
		return http.StatusServiceUnavailable
	})
	f := newFixture(t, r.URL)
	f.sender.Queue, f.sender.QueueURL, f.sender.BaseDelay = c, "", 500*time.Millisecond
	id, msgs, statuses := f.order(order.ChannelPartner, "shop")
	body, _ := json.Marshal(msgs[len(msgs)-1])
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qURL), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	// poll is one receive of Lambda's event source mapping: invoke, delete
	// what succeeded.
	poll := func(wait int32) (received bool, receiveCount string, hiddenAt time.Time) {
		t.Helper()
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(qURL), WaitTimeSeconds: wait, MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return false, "", time.Time{}
		}
		m := out.Messages[0]
		rec := events.SQSMessage{MessageId: aws.ToString(m.MessageId), ReceiptHandle: aws.ToString(m.ReceiptHandle), Body: aws.ToString(m.Body),
			Attributes: m.Attributes, EventSource: "aws:sqs", EventSourceARN: qARN, AWSRegion: "us-east-1"}
		failed := f.handle(rec)
		if len(failed) == 0 {
			if _, err := c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(qURL), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
		return true, m.Attributes["ApproximateReceiveCount"], time.Now()
	}

	// Receive 1 fails: hidden for 2 × 0.5 s, not the queue's 180 s.
	if ok, rc, _ := poll(2); !ok || rc != "1" {
		t.Fatalf("first receive: %v, receive count %q", ok, rc)
	}
	if ok, _, _ := poll(0); ok {
		t.Fatal("the failed message is visible at once")
	}
	start := time.Now()
	ok, rc, _ := poll(5)
	if !ok || rc != "2" || time.Since(start) > 3*time.Second {
		t.Fatalf("second receive after %v: %v, receive count %q", time.Since(start), ok, rc)
	}
	// Receive 2 failed too: now 4 × 0.5 s. The partner recovers meanwhile.
	healthy.Store(true)
	start = time.Now()
	if ok, rc, _ := poll(6); !ok || rc != "3" || time.Since(start) < 1500*time.Millisecond {
		t.Fatalf("third receive after %v: %v, receive count %q", time.Since(start), ok, rc)
	}
	if got := f.vis.delays(); len(got) != 0 {
		t.Fatalf("the fake was used: %v", got)
	}
	if got := r.versions(false); !slices.Equal(got, statuses) {
		t.Fatalf("delivered %v, want %v", got, statuses)
	}
	if n := attr(t, c, qURL, types.QueueAttributeNameApproximateNumberOfMessages) + attr(t, c, qURL, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible); n != "00" {
		t.Fatalf("queue holds %s messages after delivery", n)
	}
	if c := f.told(id); len(c.Attempts) != 2+len(statuses) {
		t.Fatalf("attempts %+v", c.Attempts)
	}

	// A message that keeps failing reaches the dead-letter queue after
	// maxReceiveCount receives.
	healthy.Store(false)
	_, msgs2, _ := f.order(order.ChannelPartner, "shop")
	body, _ = json.Marshal(msgs2[0])
	if _, err := c.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(qURL), MessageBody: aws.String(string(body))}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for attr(t, c, aws.ToString(dlq.QueueUrl), types.QueueAttributeNameApproximateNumberOfMessages) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the failing message never reached the dead-letter queue")
		}
		poll(1)
	}
}

func attr(t *testing.T, c *sqs.Client, u string, name types.QueueAttributeName) string {
	t.Helper()
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(u), AttributeNames: []types.QueueAttributeName{name}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes[string(name)]
}
