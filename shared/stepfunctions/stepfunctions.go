// Package stepfunctions answers the workflow's waiting task tokens through
// the Step Functions API (AWS, or the local engine at AWS_ENDPOINT_URL_SFN).
package stepfunctions

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Tasks sends task results to Step Functions.
type Tasks struct{ Client *sfn.Client }

// Step Functions' error and cause fields are bounded.
const (
	maxErrorLen = 256
	maxCauseLen = 32768
)

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// FailTask fails the step waiting on token with a named error. A token that
// is no longer waiting (the step finished or timed out) is not an error: the
// workflow has moved on and will see the order's state at its next step.
func (t Tasks) FailTask(ctx context.Context, token, errorName, cause string) error {
	_, err := t.Client.SendTaskFailure(ctx, &sfn.SendTaskFailureInput{
		TaskToken: aws.String(token), Error: aws.String(clip(errorName, maxErrorLen)), Cause: aws.String(clip(cause, maxCauseLen)),
	})
	if gone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stepfunctions: fail task with %s: %w", errorName, err)
	}
	return nil
}

// SucceedTask completes the step waiting on token with output (JSON).
func (t Tasks) SucceedTask(ctx context.Context, token, output string) error {
	_, err := t.Client.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(output)})
	if gone(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stepfunctions: succeed task: %w", err)
	}
	return nil
}

// Heartbeat tells the waiting step its worker is still busy.
func (t Tasks) Heartbeat(ctx context.Context, token string) error {
	if _, err := t.Client.SendTaskHeartbeat(ctx, &sfn.SendTaskHeartbeatInput{TaskToken: aws.String(token)}); err != nil && !gone(err) {
		return fmt.Errorf("stepfunctions: heartbeat: %w", err)
	}
	return nil
}

// gone reports an answer to a token nobody waits on any more.
func gone(err error) bool {
	var timedOut *types.TaskTimedOut
	var invalid *types.InvalidToken
	var missing *types.TaskDoesNotExist
	return errors.As(err, &timedOut) || errors.As(err, &invalid) || errors.As(err, &missing)
}
