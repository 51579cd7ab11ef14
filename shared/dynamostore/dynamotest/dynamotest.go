// Package dynamotest gives tests a DynamoDB Local client and a fresh table.
//
// `make test` starts DynamoDB Local on a free loopback port and exports its
// endpoint as AWS_ENDPOINT_URL_DYNAMODB. A test that finds no endpoint fails
// (it is never skipped), and a test never talks to anything but loopback, so
// it cannot reach AWS whatever the environment holds.
package dynamotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/dynamostore"
)

// NoEndpoint is the failure message when neither AWS_ENDPOINT_URL_DYNAMODB
// nor AWS_ENDPOINT_URL is set.
const NoEndpoint = "no DynamoDB endpoint: run the tests through `make test`, which starts DynamoDB Local"

// Client returns a client for the DynamoDB Local that `make test` started,
// configured the standard way (config.LoadDefaultConfig): the endpoint from
// AWS_ENDPOINT_URL_DYNAMODB or else AWS_ENDPOINT_URL, the region from the
// environment or else us-east-1, the credentials from AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY or else static dummy ones (never a profile, SSO or
// instance metadata: DynamoDB Local accepts any key, and looking for real
// ones could leave the machine). It fails the test when there is no endpoint
// or when the endpoint is not a loopback address.
func Client(t testing.TB) *dynamodb.Client {
	t.Helper()
	endpoint, err := loopbackEndpoint()
	if err != nil {
		t.Fatal(err.Error())
		return nil // only reached with a fake testing.TB whose Fatal returns
	}
	opts := []func(*config.LoadOptions) error{config.WithDefaultRegion("us-east-1")}
	if os.Getenv("AWS_ACCESS_KEY_ID") == "" || os.Getenv("AWS_SECRET_ACCESS_KEY") == "" {
		opts = append(opts, config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	}
	cfg, err := config.LoadDefaultConfig(context.Background(), opts...)
	if err != nil {
		t.Fatalf("dynamotest: load AWS config: %v", err)
		return nil
	}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) {
		// Set explicitly, so the client uses exactly the endpoint checked
		// above whatever a shared config file says.
		o.BaseEndpoint = aws.String(endpoint)
		// DynamoDB Local sends no X-Amz-Crc32 on error responses, and the SDK
		// then logs a spurious checksum warning for every failed condition.
		o.DisableValidateResponseChecksum = true
	})
}

// loopbackEndpoint reads the DynamoDB endpoint from the environment and
// refuses anything but http(s) to a loopback host.
func loopbackEndpoint() (string, error) {
	name, endpoint := "AWS_ENDPOINT_URL_DYNAMODB", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		name, endpoint = "AWS_ENDPOINT_URL", os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		return "", errors.New(NoEndpoint)
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", fmt.Errorf("dynamotest: %s=%q: %v", name, endpoint, err)
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	if (u.Scheme != "http" && u.Scheme != "https") || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return "", fmt.Errorf("dynamotest: refusing %s=%q: tests only talk to DynamoDB Local on a loopback address", name, endpoint)
	}
	return endpoint, nil
}

// Table creates a table named xborder-test-<random> with
// dynamostore.CreateTable and deletes it when the test ends.
func Table(t testing.TB, db *dynamodb.Client) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "xborder-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("dynamotest: %v", err)
		return ""
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
		var gone *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &gone) {
			t.Errorf("dynamotest: delete table %s: %v", name, err)
		}
	})
	return name
}
