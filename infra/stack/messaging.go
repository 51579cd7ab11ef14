package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/workflow"
)

// Consumer timeouts decide the queues' visibility timeouts (≥ 6 × the
// consumer's timeout, as AWS advises for Lambda event sources).
const (
	stepTimeoutSeconds   = 15
	workerTimeoutSeconds = 30
	apiTimeoutSeconds    = 10
	visibilityFactor     = 6
	maxReceiveCount      = 5
	// callbackReceiveCount: partner callbacks back off to 12 h between
	// attempts; ten receives give a partner's endpoint about two days.
	callbackReceiveCount  = 10
	dlqRetentionDays      = 14
	partnerCallbackTimout = 30
)

type messaging struct {
	queues map[string]awssqs.Queue
	dlqs   map[string]awssqs.Queue
	topic  awssns.Topic
	// stalledDLQ keeps the execution status changes that mark-stalled could
	// not be given or could not process.
	stalledDLQ awssqs.Queue
}

// QueueMarkStalledDLQ is mark-stalled's dead-letter queue.
const QueueMarkStalledDLQ = workflow.FnMarkStalled + "-dlq"

// newMessaging makes the queues, each with its dead-letter queue, and the
// order-events topic with the partner-callbacks queue subscribed.
func newMessaging(st awscdk.Stack) *messaging {
	m := &messaging{queues: map[string]awssqs.Queue{}, dlqs: map[string]awssqs.Queue{}}
	consumerTimeout := map[string]int{
		workflow.QueueOrdersAccepted:   stepTimeoutSeconds,
		workflow.QueueCustoms:          workerTimeoutSeconds,
		workflow.QueueWarehouse:        workerTimeoutSeconds,
		workflow.QueuePartnerCallbacks: partnerCallbackTimout,
	}
	for _, name := range []string{workflow.QueueOrdersAccepted, workflow.QueueCustoms, workflow.QueueWarehouse, workflow.QueuePartnerCallbacks} {
		id := pascal(name)
		dlq := awssqs.NewQueue(st, jsii.String(id+"DLQ"), &awssqs.QueueProps{
			RetentionPeriod: awscdk.Duration_Days(jsii.Number(dlqRetentionDays)),
			Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:      jsii.Bool(true),
		})
		q := awssqs.NewQueue(st, jsii.String(id+"Queue"), &awssqs.QueueProps{
			VisibilityTimeout: awscdk.Duration_Seconds(jsii.Number(float64(visibilityFactor * consumerTimeout[name]))),
			DeadLetterQueue:   &awssqs.DeadLetterQueue{Queue: dlq, MaxReceiveCount: jsii.Number(float64(receivesOf(name)))},
			Encryption:        awssqs.QueueEncryption_SQS_MANAGED,
			EnforceSSL:        jsii.Bool(true),
		})
		awscdk.Tags_Of(q).Add(jsii.String("xborder:queue"), jsii.String(name), nil)
		awscdk.Tags_Of(dlq).Add(jsii.String("xborder:queue"), jsii.String(name+"-dlq"), nil)
		m.queues[name], m.dlqs[name] = q, dlq
	}
	m.stalledDLQ = awssqs.NewQueue(st, jsii.String("MarkStalledDLQ"), &awssqs.QueueProps{
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(dlqRetentionDays)),
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
	})
	awscdk.Tags_Of(m.stalledDLQ).Add(jsii.String("xborder:queue"), jsii.String(QueueMarkStalledDLQ), nil)
	m.dlqs[workflow.FnMarkStalled] = m.stalledDLQ // alarmed like the others
	m.topic = awssns.NewTopic(st, jsii.String("OrderEvents"), &awssns.TopicProps{EnforceSSL: jsii.Bool(true)})
	awscdk.Tags_Of(m.topic).Add(jsii.String("xborder:topic"), jsii.String(workflow.TopicOrderEvents), nil)
	// Only partner orders are called back: the rest never reach the queue.
	m.topic.AddSubscription(awssnssubscriptions.NewSqsSubscription(m.queues[workflow.QueuePartnerCallbacks],
		&awssnssubscriptions.SqsSubscriptionProps{RawMessageDelivery: jsii.Bool(true),
			FilterPolicy: &map[string]awssns.SubscriptionFilter{
				"channel": awssns.SubscriptionFilter_StringFilter(&awssns.StringConditions{Allowlist: jsii.Strings("partner")}),
			}}))
	return m
}

// receivesOf is how many times a queue's message is received before it goes
// to the dead-letter queue.
func receivesOf(queue string) int {
	if queue == workflow.QueuePartnerCallbacks {
		return callbackReceiveCount
	}
	return maxReceiveCount
}

// pascal turns "orders-accepted" into "OrdersAccepted" for construct ids.
func pascal(name string) string {
	out := make([]byte, 0, len(name))
	up := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '-' {
			up = true
			continue
		}
		if up && c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		up = false
		out = append(out, c)
	}
	return string(out)
}
