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
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xborder/xborder/localstack/sfn"
)

// stepFunctions serves the local Step Functions engine until ctx ends.
// Lambda tasks go to the Lambda Invoke API at -lambda (the full local stack
// runs the functions in-process instead); SQS messages to the SQS endpoint
// of the standard environment.
func stepFunctions(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("stepfunctions", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8083", "address to listen on")
	data := fs.String("data", ".local", "where executions persist across restarts")
	lambdaURL := fs.String("lambda", "", "Lambda Invoke API endpoint for Lambda tasks (optional)")
	scale := fs.Float64("time-scale", 1, "multiply waits, retry intervals and timeouts (tests use less than 1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	store, err := sfn.OpenStore(filepath.Join(*data, "stepfunctions"))
	if err != nil {
		return err
	}
	e := sfn.NewEngine()
	e.Store, e.TimeScale = store, *scale
	e.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	if *lambdaURL != "" {
		e.Invoker = sfn.LambdaHTTP{Endpoint: *lambdaURL}
	}
	if os.Getenv("AWS_ENDPOINT_URL_SQS") != "" || os.Getenv("AWS_ENDPOINT_URL") != "" {
		cfg, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			return err
		}
		e.Queues = sfn.SQSSender{Client: sqs.NewFromConfig(cfg)}
		e.Services = sfn.AWSServices{Config: cfg}
	}
	if err := e.Restore(); err != nil {
		return err
	}
	defer e.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("%s is taken: %w", *addr, err)
	}
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Printf("local Step Functions engine at http://%s (AWS_ENDPOINT_URL_SFN); state in %s\n", *addr, filepath.Join(*data, "stepfunctions"))
	select {
	case <-ctx.Done():
	case err := <-served:
		if !errors.Is(err, http.ErrServerClosed) {
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}
