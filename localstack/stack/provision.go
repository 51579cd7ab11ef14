// Package stack runs the whole pipeline on one machine: it creates the table,
// queues, topic and state machine from the checked-in synthesized template
// (testdata/cdk), runs the Lambda functions in-process behind SQS pollers
// that honour the template's event source mappings, and serves the API.
package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Template is the part of the synthesized CloudFormation template the local
// stack reads.
type Template struct {
	Resources map[string]Resource `json:"Resources"`
}

// Resource is one CloudFormation resource.
type Resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// ReadTemplate reads a synthesized template.
func ReadTemplate(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("stack: read template: %w", err)
	}
	var t Template
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("stack: parse template: %w", err)
	}
	return &t, nil
}

func tag(r Resource, key string) string {
	tags, _ := r.Properties["Tags"].([]any)
	for _, t := range tags {
		m, _ := t.(map[string]any)
		if m["Key"] == key {
			s, _ := m["Value"].(string)
			return s
		}
	}
	return ""
}

func (t *Template) byType(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func refID(v any) string {
	m, _ := v.(map[string]any)
	if r, ok := m["Ref"].(string); ok {
		return r
	}
	if ga, ok := m["Fn::GetAtt"].([]any); ok && len(ga) > 0 {
		s, _ := ga[0].(string)
		return s
	}
	return ""
}

// Mapping is an SQS event source of a function, as the template defines it.
type Mapping struct {
	Function, Queue     string
	BatchSize           int
	ReportBatchFailures bool
}

// Resources are the local names of what was created.
type Resources struct {
	Table     string
	QueueURLs map[string]string // by name
	TopicARN  string
	Mappings  []Mapping
}

// Clients reach the local services.
type Clients struct {
	DynamoDB *dynamodb.Client
	SQS      *sqs.Client
	SNS      *sns.Client
}

// Provision creates, idempotently, the table, queues (dead-letter queues
// first), topic and subscriptions the template declares.
func Provision(ctx context.Context, t *Template, c Clients, table string) (*Resources, error) {
	res := &Resources{Table: table, QueueURLs: map[string]string{}}
	for _, id := range t.byType("AWS::DynamoDB::Table") {
		if err := createTable(ctx, c.DynamoDB, table, t.Resources[id]); err != nil {
			return nil, err
		}
	}
	queueName := map[string]string{}
	for _, id := range t.byType("AWS::SQS::Queue") {
		queueName[id] = tag(t.Resources[id], "xborder:queue")
	}
	// Dead-letter queues first: the others name them in their redrive policy.
	ids := t.byType("AWS::SQS::Queue")
	sort.SliceStable(ids, func(i, j int) bool {
		_, ri := t.Resources[ids[i]].Properties["RedrivePolicy"]
		_, rj := t.Resources[ids[j]].Properties["RedrivePolicy"]
		return !ri && rj
	})
	arns := map[string]string{}
	for _, id := range ids {
		props := t.Resources[id].Properties
		attrs := map[string]string{}
		if v, ok := props["VisibilityTimeout"].(float64); ok {
			attrs["VisibilityTimeout"] = strconv.Itoa(int(v))
		}
		if v, ok := props["MessageRetentionPeriod"].(float64); ok {
			attrs["MessageRetentionPeriod"] = strconv.Itoa(int(v))
		}
		if rp, ok := props["RedrivePolicy"].(map[string]any); ok {
			dlq := arns[refID(rp["deadLetterTargetArn"])]
			if dlq == "" {
				return nil, fmt.Errorf("stack: queue %s names a dead-letter queue that does not exist", queueName[id])
			}
			policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": dlq, "maxReceiveCount": rp["maxReceiveCount"]})
			attrs["RedrivePolicy"] = string(policy)
		}
		out, err := c.SQS.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName[id]), Attributes: attrs})
		if err != nil && strings.Contains(err.Error(), "QueueNameExists") {
			// Saved state from before the template changed: bring it up to date.
			out, err = updateQueue(ctx, c.SQS, queueName[id], attrs)
		}
		if err != nil {
			return nil, fmt.Errorf("stack: create queue %s: %w", queueName[id], err)
		}
		res.QueueURLs[queueName[id]] = aws.ToString(out.QueueUrl)
		a, err := c.SQS.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
		if err != nil {
			return nil, fmt.Errorf("stack: queue %s: %w", queueName[id], err)
		}
		arns[id] = a.Attributes["QueueArn"]
	}
	for _, id := range t.byType("AWS::SNS::Topic") {
		out, err := c.SNS.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(tag(t.Resources[id], "xborder:topic"))})
		if err != nil {
			return nil, fmt.Errorf("stack: create topic: %w", err)
		}
		res.TopicARN = aws.ToString(out.TopicArn)
	}
	for _, id := range t.byType("AWS::SNS::Subscription") {
		props := t.Resources[id].Properties
		attrs := map[string]string{}
		if props["RawMessageDelivery"] == true {
			attrs["RawMessageDelivery"] = "true"
		}
		if fp, ok := props["FilterPolicy"]; ok {
			b, err := json.Marshal(fp)
			if err != nil {
				return nil, fmt.Errorf("stack: filter policy: %w", err)
			}
			attrs["FilterPolicy"] = string(b)
		}
		endpoint := arns[refID(props["Endpoint"])]
		_, err := c.SNS.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(res.TopicARN), Protocol: aws.String("sqs"),
			Endpoint: aws.String(endpoint), Attributes: attrs})
		if err != nil && strings.Contains(err.Error(), "already exists") {
			// Saved state from before the template changed: bring it up to date.
			err = updateSubscription(ctx, c.SNS, res.TopicARN, endpoint, attrs)
		}
		if err != nil {
			return nil, fmt.Errorf("stack: subscribe: %w", err)
		}
	}
	for _, id := range t.byType("AWS::Lambda::EventSourceMapping") {
		props := t.Resources[id].Properties
		m := Mapping{Function: tag(t.Resources[refID(props["FunctionName"])], "xborder:function"), Queue: queueName[refID(props["EventSourceArn"])], BatchSize: 10}
		if v, ok := props["BatchSize"].(float64); ok {
			m.BatchSize = int(v)
		}
		types, _ := props["FunctionResponseTypes"].([]any)
		for _, ty := range types {
			m.ReportBatchFailures = m.ReportBatchFailures || ty == "ReportBatchItemFailures"
		}
		res.Mappings = append(res.Mappings, m)
	}
	return res, nil
}

// createTable creates the table as the template declares it, unless it exists.
func createTable(ctx context.Context, db *dynamodb.Client, name string, r Resource) error {
	_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *ddbtypes.ResourceNotFoundException
	if err == nil {
		return nil
	}
	if !errors.As(err, &missing) {
		return fmt.Errorf("stack: describe table: %w", err)
	}
	// The template's JSON has the API's own shapes: decode them through JSON.
	var spec struct {
		AttributeDefinitions   []struct{ AttributeName, AttributeType string }
		KeySchema              []struct{ AttributeName, KeyType string }
		GlobalSecondaryIndexes []struct {
			IndexName  string
			KeySchema  []struct{ AttributeName, KeyType string }
			Projection struct {
				ProjectionType   string
				NonKeyAttributes []string
			}
		}
		TimeToLiveSpecification struct {
			AttributeName string
			Enabled       bool
		}
	}
	raw, _ := json.Marshal(r.Properties)
	if err := json.Unmarshal(raw, &spec); err != nil {
		return fmt.Errorf("stack: table properties: %w", err)
	}
	keys := func(ks []struct{ AttributeName, KeyType string }) []ddbtypes.KeySchemaElement {
		var out []ddbtypes.KeySchemaElement
		for _, k := range ks {
			out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
		}
		return out
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: ddbtypes.BillingModePayPerRequest, KeySchema: keys(spec.KeySchema)}
	for _, a := range spec.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{AttributeName: aws.String(a.AttributeName), AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType)})
	}
	for _, g := range spec.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{IndexName: aws.String(g.IndexName),
			KeySchema: keys(g.KeySchema), Projection: &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(g.Projection.ProjectionType),
				NonKeyAttributes: g.Projection.NonKeyAttributes}})
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return fmt.Errorf("stack: create table %s: %w", name, err)
	}
	if spec.TimeToLiveSpecification.AttributeName != "" {
		_, _ = db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name),
			TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(spec.TimeToLiveSpecification.AttributeName), Enabled: aws.Bool(true)}})
	}
	return nil
}

// updateSubscription sets attrs on the topic's existing subscription of
// endpoint.
func updateSubscription(ctx context.Context, c *sns.Client, topic, endpoint string, attrs map[string]string) error {
	out, err := c.ListSubscriptionsByTopic(ctx, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)})
	if err != nil {
		return err
	}
	for _, sub := range out.Subscriptions {
		if aws.ToString(sub.Endpoint) != endpoint {
			continue
		}
		for name, value := range attrs {
			if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: sub.SubscriptionArn,
				AttributeName: aws.String(name), AttributeValue: aws.String(value)}); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("no subscription of %s to update", endpoint)
}

// updateQueue sets attrs on an existing queue and returns its URL.
func updateQueue(ctx context.Context, c *sqs.Client, name string, attrs map[string]string) (*sqs.CreateQueueOutput, error) {
	u, err := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		return nil, err
	}
	if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: u.QueueUrl, Attributes: attrs}); err != nil {
		return nil, err
	}
	return &sqs.CreateQueueOutput{QueueUrl: u.QueueUrl}, nil
}
