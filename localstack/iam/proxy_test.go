package iam

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/xborder/xborder/localstack/sfn"
)

// withoutGrant is the template with action taken out of every statement of
// function's role.
func withoutGrant(t *testing.T, raw []byte, action string) []byte {
	t.Helper()
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	for _, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" {
			continue
		}
		props := res["Properties"].(map[string]any)
		for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			var kept []any
			for _, a := range list(st["Action"]) {
				if a != action {
					kept = append(kept, a)
				}
			}
			st["Action"] = kept
		}
	}
	out, _ := json.Marshal(tmpl)
	return out
}

// TestDynamoDBRefusesWhatTheRoleDoesNotGrant: through the proxy, a
// function's call the template's role allows reaches DynamoDB Local; with
// the grant taken out of a copy of the template the same call is refused
// with DynamoDB's own AccessDeniedException, which the SDK names so — the
// check is live — and the caller that is no function passes unchecked.
func TestDynamoDBRefusesWhatTheRoleDoesNotGrant(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("no DynamoDB Local: run the tests through `make test`")
	}
	raw, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	table := "iam-check-" + strings.ReplaceAll(t.Name(), "/", "-")
	client := func(url, key string) *dynamodb.Client {
		return dynamodb.NewFromConfig(aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(key, "local", "")},
			func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url); o.RetryMaxAttempts = 1 })
	}
	admin := client(endpoint, "local")
	if _, err := admin.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	defer admin.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	put := &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "ORDER#1"}}}
	for _, tc := range []struct {
		name     string
		template []byte
		denied   bool
	}{
		{"the template", raw, false},
		{"without dynamodb:PutItem", withoutGrant(t, raw, "dynamodb:PutItem"), true},
	} {
		arns, _ := LocalARNs(tc.template, table, "order-workflow")
		p, err := FromTemplate(tc.template, arns)
		if err != nil {
			t.Fatal(err)
		}
		d := NewChecker(p)
		h, err := d.Proxy(endpoint)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		_, err = client(srv.URL, KeyFor("screen")).PutItem(ctx, put)
		var api smithy.APIError
		if tc.denied {
			if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" || !strings.Contains(api.ErrorMessage(), "dynamodb:PutItem") {
				t.Errorf("%s: screen's PutItem: %v, want AccessDeniedException", tc.name, err)
			}
			if len(d.Denied()) != 1 {
				t.Errorf("%s: denied %v", tc.name, d.Denied())
			}
		} else if err != nil {
			t.Errorf("%s: screen's PutItem: %v", tc.name, err)
		}
		// The stack's own clients are no function: unchecked.
		if _, err := client(srv.URL, "local").PutItem(ctx, put); err != nil {
			t.Errorf("%s: an unchecked caller: %v", tc.name, err)
		}
		if used := d.Used()["screen"]; len(used) != 1 || !strings.HasPrefix(used[0], "dynamodb:PutItem arn:aws:dynamodb:us-east-1:000000000000:table/"+table) {
			t.Errorf("%s: screen used %v", tc.name, used)
		}
		srv.Close()
	}
}

// renamed is the template with the queue or topic tagged name given the
// name local instead: the test's own resources on the shared emulator, so
// that nothing reaches the pipeline tests' queues.
func renamed(t *testing.T, raw []byte, tagKey, name, local string) []byte {
	t.Helper()
	out := strings.Replace(string(raw), `"Key": "`+tagKey+`",
            "Value": "`+name+`"`, `"Key": "`+tagKey+`",
            "Value": "`+local+`"`, 1)
	if out == string(raw) {
		t.Fatalf("no %s %s in the template", tagKey, name)
	}
	return []byte(out)
}

// TestQueuesTopicsAndExecutionsRefuseWhatTheRoleDoesNotGrant: the same
// check in front of the queue and topic emulator and the Step Functions
// engine, through the official SDKs — the api sends to orders-accepted, a
// step publishes to order-events, the starter starts an execution — each
// allowed by the template, and refused with the service's own error once
// the grant is taken out of a copy of it.
func TestQueuesTopicsAndExecutionsRefuseWhatTheRoleDoesNotGrant(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint == "" {
		t.Fatal("no queue emulator: run the tests through `make test`")
	}
	raw, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	suffix := fmt.Sprint(time.Now().UnixNano())
	queueName, topicName := "iam-check-q-"+suffix, "iam-check-t-"+suffix
	raw = renamed(t, renamed(t, raw, "xborder:queue", "orders-accepted", queueName), "xborder:topic", "order-events", topicName)
	cfg := func(key string) aws.Config {
		return aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(key, "local", ""), RetryMaxAttempts: 1}
	}
	admin := sqs.NewFromConfig(cfg("local"), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	q, err := admin.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(queueName)})
	if err != nil {
		t.Fatal(err)
	}
	defer admin.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl})
	snsAdmin := sns.NewFromConfig(cfg("local"), func(o *sns.Options) { o.BaseEndpoint = aws.String(endpoint) })
	topic, err := snsAdmin.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(topicName)})
	if err != nil {
		t.Fatal(err)
	}
	defer snsAdmin.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: topic.TopicArn})
	engine := sfn.NewEngine()
	defer engine.Close()
	machine := "iam-check-" + suffix
	engineSrv := httptest.NewServer(engine.Handler())
	defer engineSrv.Close()
	sm, err := awssfn.NewFromConfig(cfg("local"), func(o *awssfn.Options) { o.BaseEndpoint = aws.String(engineSrv.URL) }).CreateStateMachine(ctx,
		&awssfn.CreateStateMachineInput{Name: aws.String(machine), RoleArn: aws.String("arn:aws:iam::000000000000:role/local"),
			Definition: aws.String(`{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}

	// A task token of this state machine the engine no longer knows (a
	// late answer): IAM checks it against the machine it names, and the
	// engine then answers TaskDoesNotExist.
	stale := base64.RawURLEncoding.EncodeToString([]byte(*sm.StateMachineArn)) + ".c3RhbGU"
	for _, tc := range []struct {
		action, code string
		call         func(sqsURL, snsURL, sfnURL string) error
		allowedErr   string // the error the call meets when allowed
	}{
		{"sqs:SendMessage", "AccessDenied", func(sqsURL, _, _ string) error {
			_, err := sqs.NewFromConfig(cfg(KeyFor("api")), func(o *sqs.Options) { o.BaseEndpoint = aws.String(sqsURL) }).
				SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: q.QueueUrl, MessageBody: aws.String(`{}`)})
			return err
		}, ""},
		{"sns:Publish", "AuthorizationError", func(_, snsURL, _ string) error {
			_, err := sns.NewFromConfig(cfg(KeyFor("reserve-stock")), func(o *sns.Options) { o.BaseEndpoint = aws.String(snsURL) }).
				Publish(ctx, &sns.PublishInput{TopicArn: topic.TopicArn, Message: aws.String(`{}`)})
			return err
		}, ""},
		{"states:StartExecution", "AccessDeniedException", func(_, _, sfnURL string) error {
			_, err := awssfn.NewFromConfig(cfg(KeyFor("starter")), func(o *awssfn.Options) { o.BaseEndpoint = aws.String(sfnURL) }).
				StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn, Input: aws.String(`{}`)})
			return err
		}, ""},
		{"states:SendTaskSuccess", "AccessDeniedException", func(_, _, sfnURL string) error {
			_, err := awssfn.NewFromConfig(cfg(KeyFor("warehouse-worker")), func(o *awssfn.Options) { o.BaseEndpoint = aws.String(sfnURL) }).
				SendTaskSuccess(ctx, &awssfn.SendTaskSuccessInput{TaskToken: aws.String(stale), Output: aws.String(`{}`)})
			return err
		}, "TaskDoesNotExist"},
	} {
		for _, remove := range []bool{false, true} {
			tmpl := raw
			if remove {
				tmpl = withoutGrant(t, raw, tc.action)
			}
			arns, _ := LocalARNs(tmpl, "t", machine)
			p, err := FromTemplate(tmpl, arns)
			if err != nil {
				t.Fatal(err)
			}
			c := NewChecker(p)
			c.TaskTokens = engine.TokenStateMachine
			queues, err := c.Proxy(endpoint)
			if err != nil {
				t.Fatal(err)
			}
			qSrv, sSrv := httptest.NewServer(queues), httptest.NewServer(c.Wrap(engine.Handler()))
			err = tc.call(qSrv.URL, qSrv.URL, sSrv.URL)
			qSrv.Close()
			sSrv.Close()
			var api smithy.APIError
			switch {
			case remove && (!errors.As(err, &api) || api.ErrorCode() != tc.code || !strings.Contains(api.ErrorMessage(), tc.action)):
				t.Errorf("without %s: %v, want %s", tc.action, err, tc.code)
			case remove && len(c.Denied()) != 1:
				t.Errorf("without %s: denied %v", tc.action, c.Denied())
			case !remove && tc.allowedErr == "" && err != nil:
				t.Errorf("%s under the template: %v", tc.action, err)
			case !remove && tc.allowedErr != "" && (!errors.As(err, &api) || api.ErrorCode() != tc.allowedErr):
				t.Errorf("%s under the template: %v, want %s", tc.action, err, tc.allowedErr)
			case !remove && len(c.Used()) != 1:
				t.Errorf("%s: used %v", tc.action, c.Used())
			}
		}
	}
}
