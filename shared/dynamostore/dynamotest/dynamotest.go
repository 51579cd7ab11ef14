// Package dynamotest gives tests a DynamoDB Local client and a fresh table.
// `make test` starts DynamoDB Local on a free loopback port and exports its
// endpoint; a test that finds none fails rather than skipping or calling AWS.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xborder/xborder/shared/dynamostore"
)

// Client returns a client for the DynamoDB Local that `make test` started.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		t.Fatal("no DynamoDB endpoint: run the tests through `make test`, which starts DynamoDB Local (AWS_ENDPOINT_URL_DYNAMODB is unset)")
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatalf("AWS_ENDPOINT_URL_DYNAMODB %q: %v", endpoint, err)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		t.Fatalf("refusing DynamoDB endpoint %q: tests only talk to loopback", endpoint)
	}
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")),
	)
	if err != nil {
		t.Fatal(err)
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		// DynamoDB Local sends no X-Amz-Crc32 on error responses, and the SDK
		// then logs a spurious checksum warning for every failed condition
		// (aws/aws-sdk-go-v2#3545).
		o.DisableValidateResponseChecksum = true
	})
}

// Table creates a table with a random suffix and deletes it when the test ends.
func Table(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "xborder-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _ = db.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}
