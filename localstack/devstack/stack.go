package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/httpapi"
)

// The local stack is one fixed account and region, like LocalStack.
const (
	localRegion       = "us-east-1"
	localTable        = "xborder-orders"
	defaultDynamoPort = 8000
	defaultAPIAddr    = "127.0.0.1:8080"
	stopGraceful      = 10 * time.Second
)

// localAWSEnv points every AWS SDK client at loopback with dummy credentials,
// the standard way, so production code needs no local-only branches.
func localAWSEnv(dynamoEndpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoEndpoint,
		"AWS_REGION=" + localRegion,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

func startTestServices(ctx context.Context, tools string) (env []string, stop func(), err error) {
	var procs []*services.Process
	stop = func() {
		for _, p := range procs {
			_ = p.Stop(stopGraceful)
		}
	}
	ddb, err := services.DynamoDBLocal{ToolsDir: tools}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, ddb)
	q, err := services.Fauxqs{ToolsDir: tools}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, q)
	fmt.Fprintf(os.Stderr, "devstack: DynamoDB Local at %s, SQS/SNS (fauxqs) at %s\n", ddb.Endpoint, q.Endpoint)
	return append(localAWSEnv(ddb.Endpoint), "AWS_ENDPOINT_URL_SQS="+q.Endpoint, "AWS_ENDPOINT_URL_SNS="+q.Endpoint), stop, nil
}

// up runs the local stack until ctx ends (Ctrl-C).
func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	tools := fs.String("tools", ".tools", "where `make tools` installed the services")
	data := fs.String("data", ".local", "where state persists across restarts")
	apiAddr := fs.String("api", defaultAPIAddr, "address the API listens on")
	dynamoPort := fs.Int("dynamodb-port", defaultDynamoPort, "port of DynamoDB Local")
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", *dynamoPort), *apiAddr} {
		if l, err := net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("%s is taken (is another `make dev` running?): %w", addr, err)
		} else {
			l.Close()
		}
	}
	ddb, err := services.DynamoDBLocal{ToolsDir: *tools, Port: *dynamoPort, DataDir: filepath.Join(*data, "dynamodb"),
		LogPath: filepath.Join(*data, "logs", "dynamodb.log")}.Start(ctx)
	if err != nil {
		return err
	}
	defer ddb.Stop(stopGraceful)
	for _, kv := range localAWSEnv(ddb.Endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS config: %w", err)
	}
	// DynamoDB Local omits X-Amz-Crc32 on error responses; without this the
	// SDK logs a spurious warning for every failed condition (aws/aws-sdk-go-v2#3545).
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	if err := ensureTable(ctx, client, localTable); err != nil {
		return err
	}
	authn, err := auth.NewLocalHS256(jwtSecret())
	if err != nil {
		return err
	}
	api := httpapi.New(httpapi.Config{Store: dynamostore.New(client, localTable), Auth: authn, Logger: logger})
	srv := &http.Server{Addr: *apiAddr, Handler: api, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	tok, _ := auth.MintLocal(jwtSecret(), "dev-customer", nil, 24*time.Hour, time.Now())
	fmt.Printf(`
xborder local stack is up (Ctrl-C stops it; state persists in %s, `+"`make dev-reset`"+` wipes it)

  API            http://%s/v1/orders
  DynamoDB Local %s   (table %s)

  development token for customer "dev-customer" (24 h):
  export TOKEN=%s

  another one:   go run ./localstack/devstack token -sub alice [-groups ops]

`, *data, *apiAddr, ddb.Endpoint, localTable, tok)

	select {
	case <-ctx.Done():
		fmt.Println("\nstopping…")
	case err = <-served:
		err = fmt.Errorf("API server: %w", err)
	case <-ddb.Exited():
		err = errors.New("DynamoDB Local exited; see " + filepath.Join(*data, "logs", "dynamodb.log"))
	}
	sctx, cancel := context.WithTimeout(context.Background(), stopGraceful)
	defer cancel()
	_ = srv.Shutdown(sctx)
	return err
}

func ensureTable(ctx context.Context, client *dynamodb.Client, name string) error {
	_, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	var missing *types.ResourceNotFoundException
	if errors.As(err, &missing) {
		return dynamostore.CreateTable(ctx, client, name)
	}
	if err != nil {
		return fmt.Errorf("describe table %s: %w", name, err)
	}
	return nil
}
