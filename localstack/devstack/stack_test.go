package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/localstack/stack"
	"github.com/xborder/xborder/shared/auth"
)

// TestUpServesAndPersists runs `make dev`'s stack on free ports: it serves the
// API, stops cleanly when cancelled, and starts again with the orders kept.
func TestUpServesAndPersists(t *testing.T) {
	tools, _ := filepath.Abs("../../.tools")
	data := t.TempDir()
	apiPort, _ := services.FreePort()
	ddbPort, _ := services.FreePort()
	sqsPort, _ := services.FreePort()
	sfnPort, _ := services.FreePort()
	signInPort, _ := services.FreePort()
	api := "127.0.0.1:" + strconv.Itoa(apiPort)
	args := []string{"-tools", tools, "-data", data, "-api", api, "-dynamodb-port", strconv.Itoa(ddbPort),
		"-sqs-port", strconv.Itoa(sqsPort), "-sfn", "127.0.0.1:" + strconv.Itoa(sfnPort), "-signin", "127.0.0.1:" + strconv.Itoa(signInPort),
		"-repo", "../..", "-functions", builtFunctions(t)}
	tok, _ := auth.MintLocal(auth.DevSecret, "dev-test", nil, time.Hour, time.Now())

	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- up(ctx, args) }()
		deadline := time.Now().Add(90 * time.Second)
		for {
			resp, err := http.Get("http://" + api + "/v1/orders")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != http.StatusUnauthorized {
					t.Fatalf("GET without a token: %d, want 401", resp.StatusCode)
				}
				break
			}
			select {
			case err := <-done:
				t.Fatalf("stack ended before serving: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				cancel()
				t.Fatal("API did not come up")
			}
			time.Sleep(100 * time.Millisecond)
		}
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Fatalf("stack did not stop cleanly: %v", err)
			}
			for _, addr := range []string{api, "127.0.0.1:" + strconv.Itoa(ddbPort), "127.0.0.1:" + strconv.Itoa(sqsPort), "127.0.0.1:" + strconv.Itoa(sfnPort)} {
				l, err := net.Listen("tcp", addr)
				if err != nil {
					t.Fatalf("%s still taken after stop: %v", addr, err)
				}
				l.Close()
			}
		}
	}

	stop := start()
	body, err := os.ReadFile("../../events/orders/mobile-b2c-de.json")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, "http://"+api+"/v1/orders", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "devstack-test-1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ OrderID string }
	_ = json.NewDecoder(resp.Body).Decode(&created)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || created.OrderID == "" {
		t.Fatalf("POST: %d %+v", resp.StatusCode, created)
	}
	// Stop while the order waits for China's customs (it ships from China):
	// the answers must survive the restart.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		o, err := opsView(api, created.OrderID) // where China's customs stand is an operator's view
		if err != nil {
			t.Fatal(err)
		}
		if o.Customs.AwaitingChina || o.Status == "DISPATCHED" {
			break
		}
	}
	stop()

	stop = start()
	defer stop()
	req, _ = http.NewRequest(http.MethodGet, fmt.Sprintf("http://%s/v1/orders/%s", api, created.OrderID), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Status string }
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("order after restart: %d, want 200 (state must persist)", resp.StatusCode)
	}
	if got.Status != "DISPATCHED" {
		// It may still be on its way: the workflow runs in the background.
		for deadline := time.Now().Add(30 * time.Second); got.Status != "DISPATCHED" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = json.NewDecoder(resp.Body).Decode(&got)
			resp.Body.Close()
		}
		if got.Status != "DISPATCHED" {
			t.Fatalf("the order did not go through the workflow: %s", got.Status)
		}
	}
	// Through the functions' own mains, each a process: each wrote its
	// log of the order under logs/functions/ (screen and mark-dispatched log
	// only what goes wrong).
	for _, fn := range []string{"api", "starter", "reserve-stock", "authorize-payment", "customs-worker", "capture-payment",
		"warehouse-worker", "reconciler"} {
		b, err := os.ReadFile(filepath.Join(data, "logs", "functions", fn+".log"))
		if err != nil || !bytes.Contains(b, []byte(`"sandbox":"local"`)) {
			t.Errorf("%s: no log of its own process (%v): %.300s", fn, err, b)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(data, "logs", "functions", "api.log")); !bytes.Contains(b, []byte(created.OrderID)) {
		t.Errorf("the api's process did not log the order %s", created.OrderID)
	}

	// The engine's service integrations reach the local services: a
	// dynamodb:putItem task writes into the stack's table.
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("local", "local", "")}
	sf := awssfn.NewFromConfig(cfg, func(o *awssfn.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:" + strconv.Itoa(sfnPort)) })
	db := dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String("http://127.0.0.1:" + strconv.Itoa(ddbPort)) })
	ctx := context.Background()
	sm, err := sf.CreateStateMachine(ctx, &awssfn.CreateStateMachineInput{Name: aws.String("put-item-check"),
		RoleArn: aws.String("arn:aws:iam::000000000000:role/local"),
		Definition: aws.String(`{"StartAt":"Put","States":{"Put":{"Type":"Task","Resource":"arn:aws:states:::dynamodb:putItem",
			"Parameters":{"TableName":"` + localTable + `","Item":{"PK":{"S":"TEST#put-item-check"},"SK":{"S":"TEST"}}},"End":true}}}`)})
	if err != nil {
		t.Fatal(err)
	}
	x, err := sf.StartExecution(ctx, &awssfn.StartExecutionInput{StateMachineArn: sm.StateMachineArn})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		d, err := sf.DescribeExecution(ctx, &awssfn.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != sfntypes.ExecutionStatusRunning {
			if d.Status != sfntypes.ExecutionStatusSucceeded {
				t.Fatalf("a dynamodb:putItem task under make dev: %s %s %s", d.Status, aws.ToString(d.Error), aws.ToString(d.Cause))
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the putItem execution did not end")
		}
	}
	item, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(localTable), ConsistentRead: aws.Bool(true),
		Key: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "TEST#put-item-check"}, "SK": &ddbtypes.AttributeValueMemberS{Value: "TEST"}}})
	if err != nil || len(item.Item) == 0 {
		t.Fatalf("the task's item is not in the table: %v %v", item, err)
	}
}

// TestToken: `devstack token` signs with LOCAL_JWT_SECRET when it is set,
// with the development default otherwise.
func TestToken(t *testing.T) {
	for _, secret := range []string{"", "a-secret-of-my-own-32-bytes-long"} {
		t.Setenv("LOCAL_JWT_SECRET", secret)
		var out bytes.Buffer
		if err := token([]string{"-sub", "alice", "-groups", "ops"}, &out); err != nil {
			t.Fatal(err)
		}
		want := secret
		if want == "" {
			want = auth.DevSecret
		}
		r, _ := http.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+string(bytes.TrimSpace(out.Bytes())))
		l, _ := auth.NewLocalHS256(want)
		id, err := l.Authenticate(r)
		if err != nil || id.Subject != "alice" || !id.InGroup("ops") {
			t.Fatalf("secret %q: minted token: %+v %v", secret, id, err)
		}
		other, _ := auth.NewLocalHS256("another-secret-entirely-32-bytes")
		if _, err := other.Authenticate(r); err == nil {
			t.Fatalf("secret %q: the token passes another secret", secret)
		}
	}
}

var (
	builtOnce sync.Once
	builtDir  string
	builtErr  error
)

// builtFunctions builds the functions' mains once for this package's
// stacks (`make dev` builds them at every start).
func builtFunctions(t *testing.T) string {
	t.Helper()
	builtOnce.Do(func() {
		builtDir, builtErr = os.MkdirTemp("", "xborder-devstack-functions-")
		if builtErr == nil {
			_, builtErr = stack.BuildFunctions(context.Background(), "../..", builtDir)
		}
	})
	if builtErr != nil {
		t.Fatal(builtErr)
	}
	return builtDir
}
