package queue_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/xborder/xborder/shared/queue"
	"github.com/xborder/xborder/shared/workflow"
)

// The queue behaviours the pipeline relies on, checked against the SQS/SNS
// emulator `make test` starts (fauxqs): what holds here holds in `make dev`.

func clients(t *testing.T) (*sqs.Client, *sns.Client) {
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
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) }),
		sns.NewFromConfig(cfg, func(o *sns.Options) { o.BaseEndpoint = aws.String(os.Getenv("AWS_ENDPOINT_URL_SNS")) })
}

func newQueue(t *testing.T, c *sqs.Client, name string, attrs map[string]string) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-%d%s", strings.TrimSuffix(name, ".fifo"), time.Now().UnixNano(), map[bool]string{true: ".fifo"}[strings.HasSuffix(name, ".fifo")])), Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func arnOf(t *testing.T, c *sqs.Client, url string) string {
	out, err := c.GetQueueAttributes(context.Background(), &sqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["QueueArn"]
}

func receive(t *testing.T, c *sqs.Client, url string, wait, visibility int32, max int32) []types.Message {
	t.Helper()
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: wait,
		VisibilityTimeout: visibility, MaxNumberOfMessages: max,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Messages
}

func TestSenderAndLongPolling(t *testing.T) {
	c, _ := clients(t)
	url := newQueue(t, c, "accepted", nil)
	start := time.Now()
	if got := receive(t, c, url, 1, 30, 1); len(got) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Fatalf("an empty long poll returned %d messages after %v", len(got), time.Since(start))
	}
	go func() {
		time.Sleep(300 * time.Millisecond)
		_ = queue.Accepted{Sender: queue.Sender{Client: c, URL: url}}.Enqueue(context.Background(), "01KQUEUE")
	}()
	start = time.Now()
	got := receive(t, c, url, 5, 30, 1)
	if len(got) != 1 || time.Since(start) > 3*time.Second {
		t.Fatalf("long poll: %d messages after %v", len(got), time.Since(start))
	}
	var m workflow.OrderAccepted
	if json.Unmarshal([]byte(aws.ToString(got[0].Body)), &m) != nil || m.OrderID != "01KQUEUE" {
		t.Fatalf("body %s", aws.ToString(got[0].Body))
	}
}

func TestVisibilityReceiveCountAndRedrive(t *testing.T) {
	c, _ := clients(t)
	dlq := newQueue(t, c, "dlq", nil)
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arnOf(t, c, dlq), "maxReceiveCount": 2})
	q := newQueue(t, c, "work", map[string]string{"RedrivePolicy": string(policy)})
	if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	first := receive(t, c, q, 1, 1, 1)
	if len(first) != 1 || first[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive %+v", first)
	}
	if again := receive(t, c, q, 0, 1, 1); len(again) != 0 {
		t.Fatal("a received message must stay invisible for its visibility timeout")
	}
	time.Sleep(1200 * time.Millisecond)
	second := receive(t, c, q, 1, 1, 1)
	if len(second) != 1 || second[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("redelivery %+v", second)
	}
	time.Sleep(1200 * time.Millisecond)
	if third := receive(t, c, q, 1, 1, 1); len(third) != 0 {
		t.Fatal("past maxReceiveCount the message must leave the queue")
	}
	dead := receive(t, c, dlq, 2, 30, 1)
	if len(dead) != 1 || aws.ToString(dead[0].Body) != "poison" {
		t.Fatalf("dead-letter queue holds %d messages", len(dead))
	}
}

func TestBatchesAndDelete(t *testing.T) {
	c, _ := clients(t)
	q := newQueue(t, c, "batch", nil)
	var entries []types.SendMessageBatchRequestEntry
	for i := range 10 {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("m", i)), MessageBody: aws.String(fmt.Sprint(i))})
	}
	out, err := c.SendMessageBatch(context.Background(), &sqs.SendMessageBatchInput{QueueUrl: aws.String(q), Entries: entries})
	if err != nil || len(out.Successful) != 10 {
		t.Fatalf("batch send: %v %v", out, err)
	}
	seen := map[string]bool{}
	for deadline := time.Now().Add(5 * time.Second); len(seen) < 10 && time.Now().Before(deadline); {
		for _, m := range receive(t, c, q, 1, 30, 10) {
			seen[aws.ToString(m.Body)] = true
			if _, err := c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(seen) != 10 {
		t.Fatalf("received %d of 10", len(seen))
	}
	if left := receive(t, c, q, 1, 30, 10); len(left) != 0 {
		t.Fatal("deleted messages came back")
	}
}

func TestFIFODeduplicatesAndKeepsGroupOrder(t *testing.T) {
	c, _ := clients(t)
	q := newQueue(t, c, "orders.fifo", map[string]string{"FifoQueue": "true"})
	for i, dedup := range []string{"a", "b", "a", "c"} {
		if _, err := c.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(q), MessageBody: aws.String(fmt.Sprint(i, dedup)),
			MessageGroupId: aws.String("order-1"), MessageDeduplicationId: aws.String(dedup)}); err != nil {
			t.Fatal(err)
		}
	}
	var bodies []string
	for deadline := time.Now().Add(5 * time.Second); len(bodies) < 3 && time.Now().Before(deadline); {
		for _, m := range receive(t, c, q, 1, 30, 10) {
			bodies = append(bodies, aws.ToString(m.Body))
			_, _ = c.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(q), ReceiptHandle: m.ReceiptHandle})
		}
	}
	if strings.Join(bodies, ",") != "0a,1b,3c" {
		t.Fatalf("FIFO delivered %v, want the deduplicated messages in order", bodies)
	}
}

func TestSNSFanOutToSQS(t *testing.T) {
	c, n := clients(t)
	raw := newQueue(t, c, "callbacks", nil)
	wrapped := newQueue(t, c, "push", nil)
	topic, err := n.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String(fmt.Sprint("order-events-", time.Now().UnixNano()))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arnOf(t, c, raw)),
		Attributes: map[string]string{"RawMessageDelivery": "true"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Subscribe(context.Background(), &sns.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("sqs"), Endpoint: aws.String(arnOf(t, c, wrapped))}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Publish(context.Background(), &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{"orderId":"o1","status":"DISPATCHED"}`)}); err != nil {
		t.Fatal(err)
	}
	got := receive(t, c, raw, 3, 30, 1)
	if len(got) != 1 || aws.ToString(got[0].Body) != `{"orderId":"o1","status":"DISPATCHED"}` {
		t.Fatalf("raw delivery: %+v", got)
	}
	env := receive(t, c, wrapped, 3, 30, 1)
	var envelope struct{ Type, Message, TopicArn string }
	if len(env) != 1 || json.Unmarshal([]byte(aws.ToString(env[0].Body)), &envelope) != nil || envelope.Type != "Notification" ||
		envelope.Message != `{"orderId":"o1","status":"DISPATCHED"}` || envelope.TopicArn != aws.ToString(topic.TopicArn) {
		t.Fatalf("SNS envelope: %+v", env)
	}
}
