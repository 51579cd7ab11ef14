// Package wiring builds, once per cold start, what the workflow's step
// Lambdas share: configuration from the environment, AWS clients (endpoints
// the standard way, so the local stack needs no special code), and adapters.
package wiring

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/workflow"
)

// Logger is the JSON logger every function uses; in a sandbox deployment
// every line says which sandbox.
func Logger() *slog.Logger {
	l := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	if s := Sandbox(); s != "" {
		l = l.With("sandbox", s)
	}
	return l
}

// Steps builds the step handlers from the environment, for the steps that
// move no money (Payments is nil).
func Steps(logger *slog.Logger) (*steps.Steps, error) {
	return buildSteps(logger, false)
}

// PayingSteps builds the step handlers with the payment provider the
// environment names (Payments): authorize, capture, compensate.
func PayingSteps(logger *slog.Logger) (*steps.Steps, error) {
	return buildSteps(logger, true)
}

func buildSteps(logger *slog.Logger, paying bool) (*steps.Steps, error) {
	table, err := Env(workflow.EnvTable)
	if err != nil {
		return nil, err
	}
	topic, err := Env(workflow.EnvTopicARN)
	if err != nil {
		return nil, err
	}
	cfg, err := AWSConfig()
	if err != nil {
		return nil, err
	}
	db := DynamoDB(cfg)
	s := &steps.Steps{
		Orders: dynamostore.New(db, table),
		Stock:  dynamostore.NewStock(db, table),
		Events: orderevents.Publisher{Client: SNS(cfg), TopicARN: topic},
		Logger: logger,
	}
	if paying {
		if s.Payments, err = Payments(context.Background(), SecretsManager(cfg)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Must stops a cold start that cannot be configured.
func Must[T any](v T, err error) T {
	if err != nil {
		Logger().Error("cold start", "error", err.Error())
		os.Exit(1)
	}
	return v
}

// Env reads a required environment variable.
func Env(name string) (string, error) {
	if v := os.Getenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("wiring: %s is not set", name)
}
