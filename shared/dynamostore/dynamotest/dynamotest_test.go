package dynamotest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
)

// fatalTB records the first Fatal and stops the goroutine there, as
// testing.T does, without failing the real test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// fatalOf runs Client as a test would and returns its Fatal message ("" if
// it returned a client).
func fatalOf(t *testing.T) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		dynamotest.Client(f)
	}()
	<-done
	return f.msg
}

func TestClientFailsWithoutEndpoint(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL", "")
	if msg := fatalOf(t); msg != dynamotest.NoEndpoint || !strings.Contains(msg, "make test") {
		t.Fatalf("Fatal(%q), want %q", msg, dynamotest.NoEndpoint)
	}
}

func TestClientRefusesEndpointsOffThisMachine(t *testing.T) {
	for _, endpoint := range []string{
		"https://dynamodb.us-east-1.amazonaws.com",
		"http://10.0.0.5:8000",
		"http://localhost.example.com:8000",
		"http://127.0.0.1.nip.io:8000",
		"ftp://127.0.0.1:8000",
		"127.0.0.1:8000", // no scheme: not a URL the SDK can use
		"http://[::ffff:10.0.0.5]:8000",
	} {
		t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", endpoint)
		if msg := fatalOf(t); !strings.Contains(msg, "refusing") && !strings.Contains(msg, endpoint) {
			t.Errorf("%s: Fatal(%q), want a refusal", endpoint, msg)
		}
	}
	// The general endpoint is checked as well when it is the one used.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL", "https://dynamodb.eu-west-1.amazonaws.com")
	if msg := fatalOf(t); !strings.Contains(msg, "refusing AWS_ENDPOINT_URL=") {
		t.Errorf("AWS_ENDPOINT_URL: Fatal(%q), want a refusal", msg)
	}
}

func TestClientTalksToDynamoDBLocal(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	// Through the general variable, with no credentials or region in the
	// environment: dummy credentials and us-east-1 are used.
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("AWS_ENDPOINT_URL", endpoint)
	for _, v := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"} {
		t.Setenv(v, "")
	}
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	db := dynamotest.Client(t)
	if got := db.Options().Region; got != "us-east-1" {
		t.Fatalf("region %q, want us-east-1", got)
	}
	if _, err := db.ListTables(context.Background(), &dynamodb.ListTablesInput{Limit: aws.Int32(1)}); err != nil {
		t.Fatalf("DynamoDB Local at %s: %v", endpoint, err)
	}
}

func TestTableIsDeletedWhenTheTestEnds(t *testing.T) {
	db := dynamotest.Client(t)
	var name string
	t.Run("uses a table", func(t *testing.T) {
		name = dynamotest.Table(t, db)
		if !strings.HasPrefix(name, "xborder-test-") {
			t.Fatalf("table name %q", name)
		}
		if _, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		if other := dynamotest.Table(t, db); other == name {
			t.Fatal("two tables share a name")
		}
	})
	_, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var gone *types.ResourceNotFoundException
	if !errors.As(err, &gone) {
		t.Fatalf("table %s after its test: %v, want ResourceNotFoundException", name, err)
	}
}
