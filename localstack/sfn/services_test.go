package sfn

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func localConfig() aws.Config {
	return aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
}

func runWith(t *testing.T, svc ServiceCaller, def, input string) execution {
	t.Helper()
	e := NewEngine()
	e.Services = svc
	sm, err := e.CreateStateMachine("m", def, "r", "")
	if err != nil {
		t.Fatal(err)
	}
	x, err := e.StartExecution(sm.ARN, "x", input)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.Done(x.ARN):
	case <-time.After(10 * time.Second):
		t.Fatal("did not end")
	}
	return e.snapshot(x)
}

// TestDynamoDBIntegration runs putItem, updateItem, getItem and deleteItem
// against DynamoDB Local (`make test` starts it).
func TestDynamoDBIntegration(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("no DynamoDB endpoint: run the tests through `make test`, which starts DynamoDB Local")
	}
	db := dynamodb.NewFromConfig(localConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(endpoint) })
	table := "sfn-integration-" + time.Now().Format("150405.000000")
	table = strings.ReplaceAll(table, ".", "-")
	_, err := db.CreateTable(context.Background(), &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	def := strings.ReplaceAll(`{"StartAt":"Put","States":{
	 "Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"TBL","Item":{"id":{"S.$":"$.id"},"n":{"N":"1"}}},"ResultPath":null,"Next":"Update"},
	 "Update":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:updateItem","Parameters":{"TableName":"TBL","Key":{"id":{"S.$":"$.id"}},
	   "UpdateExpression":"SET n = n + :one","ExpressionAttributeValues":{":one":{"N":"1"}},"ReturnValues":"UPDATED_NEW"},"ResultPath":"$.updated","Next":"Get"},
	 "Get":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:getItem","Parameters":{"TableName":"TBL","Key":{"id":{"S.$":"$.id"}},"ConsistentRead":true},
	   "ResultSelector":{"n.$":"$.Item.n.N"},"ResultPath":"$.got","Next":"Conflict"},
	 "Conflict":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"TBL","Item":{"id":{"S.$":"$.id"}},"ConditionExpression":"attribute_not_exists(id)"},
	   "Catch":[{"ErrorEquals":["DynamoDB.ConditionalCheckFailedException"],"ResultPath":"$.conflict","Next":"Delete"}],"End":true},
	 "Delete":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:deleteItem","Parameters":{"TableName":"TBL","Key":{"id":{"S.$":"$.id"}}},"ResultPath":null,"End":true}}}`, "TBL", table)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
	x := runWith(t, AWSServices{Config: localConfig()}, def, `{"id":"order-1"}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
	}
	if !strings.Contains(x.Output, `"got":{"n":"2"}`) || !strings.Contains(x.Output, `"updated":{"Attributes":{"n":{"N":"2"}}`) ||
		!strings.Contains(x.Output, `"Error":"DynamoDB.ConditionalCheckFailedException"`) {
		t.Fatalf("output %s", x.Output)
	}
	got, _ := db.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"id": &types.AttributeValueMemberS{Value: "order-1"}}})
	if got.Item != nil {
		t.Fatal("deleteItem did not delete")
	}
}

// TestSNSAndEventBridgeIntegrations checks the requests they send.
func TestSNSAndEventBridgeIntegrations(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256") {
			http.Error(w, "unsigned", http.StatusForbidden)
			return
		}
		if r.Header.Get("X-Amz-Target") == "AWSEvents.PutEvents" {
			seen = append(seen, "events "+string(body))
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = w.Write([]byte(`{"Entries":[{"EventId":"e-1"}],"FailedEntryCount":0}`))
			return
		}
		form, _ := url.ParseQuery(string(body))
		seen = append(seen, "sns "+form.Get("Action")+" "+form.Get("TopicArn")+" "+form.Get("Message"))
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>`))
	}))
	defer srv.Close()
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	t.Setenv("AWS_ENDPOINT_URL_SNS", "") // make test points it at the emulator
	t.Setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", "")
	def := `{"StartAt":"Publish","States":{
	 "Publish":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:order-events","Message":{"orderId.$":"$.orderId"}},"ResultPath":"$.sns","Next":"Put"},
	 "Put":{"Type":"Task","Resource":"arn:aws:states:::events:putEvents","Parameters":{"Entries":[{"Source":"xborder","DetailType":"OrderDispatched","Detail":{"orderId.$":"$.orderId"}}]},"ResultPath":"$.events","End":true}}}`
	x := runWith(t, AWSServices{Config: localConfig()}, def, `{"orderId":"o-1"}`)
	if x.Status != StatusSucceeded {
		t.Fatalf("%s %s %s", x.Status, x.Error, x.Cause)
	}
	if !jsonSame(x.Output, `{"orderId":"o-1","sns":{"MessageId":"m-1"},"events":{"Entries":[{"EventId":"e-1"}],"FailedEntryCount":0}}`) {
		t.Fatalf("output %s", x.Output)
	}
	if len(seen) != 2 || seen[0] != `sns Publish arn:aws:sns:us-east-1:000000000000:order-events {"orderId":"o-1"}` ||
		!strings.Contains(seen[1], `"DetailType":"OrderDispatched"`) || !strings.Contains(seen[1], `"Detail":"{\"orderId\":\"o-1\"}"`) {
		t.Fatalf("requests %q", seen)
	}
}

// TestSQSSender sends through the SQS API of the emulator `make test` starts.
func TestSQSSender(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_SQS")
	if endpoint == "" {
		t.Fatal("no SQS endpoint: run the tests through `make test`, which starts the SQS/SNS emulator")
	}
	c := sqs.NewFromConfig(localConfig(), func(o *sqs.Options) { o.BaseEndpoint = aws.String(endpoint) })
	q, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{QueueName: aws.String("sfn-sender-" + time.Now().Format("150405000000"))})
	if err != nil {
		t.Fatal(err)
	}
	id, err := SQSSender{Client: c}.SendMessage(context.Background(), aws.ToString(q.QueueUrl), `{"orderId":"o"}`,
		map[string]any{"step": map[string]any{"DataType": "String", "StringValue": "customs"}}, "", "")
	if err != nil || id == "" {
		t.Fatalf("%q %v", id, err)
	}
	out, err := c.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 2, MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 || aws.ToString(out.Messages[0].Body) != `{"orderId":"o"}` ||
		aws.ToString(out.Messages[0].MessageAttributes["step"].StringValue) != "customs" {
		t.Fatalf("%+v %v", out, err)
	}
}

// TestIntegrationsNeverCallAWS: with no local endpoint in the environment a
// service integration fails the task, naming the variable to set; it never
// falls back to AWS's own endpoints.
func TestIntegrationsNeverCallAWS(t *testing.T) {
	for _, v := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SNS"} {
		t.Setenv(v, "")
	}
	for service, def := range map[string]string{
		"DYNAMODB": `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem","Parameters":{"TableName":"t","Item":{"id":{"S":"1"}}},"End":true}}}`,
		"SNS":      `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sns:publish","Parameters":{"TopicArn":"arn:aws:sns:us-east-1:000000000000:t","Message":"m"},"End":true}}}`,
	} {
		x := runWith(t, AWSServices{Config: localConfig()}, def, `{}`)
		if x.Status != StatusFailed || x.Error != "States.Runtime" || !strings.Contains(x.Cause, "AWS_ENDPOINT_URL_"+service) {
			t.Errorf("%s without an endpoint: %s %s %s", service, x.Status, x.Error, x.Cause)
		}
	}
}
