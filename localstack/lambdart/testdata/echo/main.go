// Command echo is a test function: it answers what it is asked to, fails,
// sleeps, exits or reports its environment on demand.
package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

type request struct {
	Echo    any    `json:"echo"`
	Fail    string `json:"fail"`
	SleepMS int    `json:"sleepMs"`
	Exit    bool   `json:"exit"`
	Env     string `json:"env"`
}

func main() {
	if os.Getenv("ECHO_INIT_FAIL") != "" {
		panic("init failed on purpose")
	}
	lambda.Start(func(ctx context.Context, r request) (map[string]any, error) {
		if r.SleepMS > 0 {
			time.Sleep(time.Duration(r.SleepMS) * time.Millisecond)
		}
		if r.Exit {
			os.Exit(3)
		}
		if r.Fail != "" {
			return nil, errors.New(r.Fail)
		}
		lc, _ := lambdacontext.FromContext(ctx)
		deadline, _ := ctx.Deadline()
		return map[string]any{"echo": r.Echo, "env": os.Getenv(r.Env), "pid": os.Getpid(), "requestId": lc.AwsRequestID,
			"arn": lc.InvokedFunctionArn, "function": lambdacontext.FunctionName, "deadlineIn": time.Until(deadline).Seconds()}, nil
	})
}
