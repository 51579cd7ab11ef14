package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Executions is what the ops API calls of Step Functions (an *sfn.Client,
// against AWS or the local engine).
type Executions interface {
	DescribeExecution(ctx context.Context, in *sfn.DescribeExecutionInput, opts ...func(*sfn.Options)) (*sfn.DescribeExecutionOutput, error)
	GetExecutionHistory(ctx context.Context, in *sfn.GetExecutionHistoryInput, opts ...func(*sfn.Options)) (*sfn.GetExecutionHistoryOutput, error)
	RedriveExecution(ctx context.Context, in *sfn.RedriveExecutionInput, opts ...func(*sfn.Options)) (*sfn.RedriveExecutionOutput, error)
}

// executionView is an order's workflow execution.
type executionView struct {
	ExecutionARN string     `json:"executionArn"`
	Status       string     `json:"status"`
	StartDate    time.Time  `json:"startDate"`
	StopDate     *time.Time `json:"stopDate"`
	Error        string     `json:"error"`
	Cause        string     `json:"cause"`
	RedriveCount int        `json:"redriveCount"`
	// redrivable: failed, timed out or aborted, and Step Functions still
	// redrives it (not after 14 days, say).
	redrivable bool
}

// Step statuses of the timeline.
const (
	stepSucceeded = "succeeded"
	stepFailed    = "failed"
	stepCaught    = "caught" // failed into a Catch (compensation)
	stepRunning   = "running"
	stepRetrying  = "retrying" // running again after a failed attempt
)

// stepView is one entry into a state of the workflow.
type stepView struct {
	Name       string     `json:"name"`
	Status     string     `json:"status"`
	Start      time.Time  `json:"start"`
	End        *time.Time `json:"end"`
	DurationMs *int64     `json:"durationMs"`
	Error      string     `json:"error"`
	Cause      string     `json:"cause"`
	Attempts   int        `json:"attempts"`
}

// executionARN is the order's execution: it is named by the order id on the
// state machine ("arn:…:stateMachine:<name>" → "arn:…:execution:<name>:<id>").
func (a *API) executionARN(orderID string) string {
	return strings.Replace(a.cfg.StateMachineARN, ":stateMachine:", ":execution:", 1) + ":" + orderID
}

// maxHistoryPages bounds the history read (Step Functions keeps at most
// 25,000 events per execution).
const maxHistoryPages = 25

// execution reads the order's execution and its history, if Step Functions
// is configured and the order has one (else nil and no steps).
func (a *API) execution(ctx context.Context, orderID string) (*executionView, []stepView, error) {
	if a.cfg.Executions == nil || a.cfg.StateMachineARN == "" {
		return nil, []stepView{}, nil
	}
	arn := a.executionARN(orderID)
	d, err := a.cfg.Executions.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *sfntypes.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return nil, []stepView{}, nil // not started yet (RECEIVED), or never will be
	}
	if err != nil {
		return nil, nil, fmt.Errorf("describe execution: %w", err)
	}
	x := &executionView{ExecutionARN: arn, Status: string(d.Status), StartDate: aws.ToTime(d.StartDate).UTC(), StopDate: utcPtr(d.StopDate),
		Error: aws.ToString(d.Error), Cause: readableCause(aws.ToString(d.Cause)), RedriveCount: int(aws.ToInt32(d.RedriveCount)),
		redrivable: failedStatus(d.Status) && d.RedriveStatus != sfntypes.ExecutionRedriveStatusNotRedrivable}
	var events []sfntypes.HistoryEvent
	in := &sfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000}
	for range maxHistoryPages {
		out, err := a.cfg.Executions.GetExecutionHistory(ctx, in)
		if err != nil {
			return nil, nil, fmt.Errorf("get execution history: %w", err)
		}
		events = append(events, out.Events...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	return x, timeline(events), nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// timeline draws the steps from an execution's history: one per entry into
// a state, from its StateEntered to its StateExited. Each Scheduled event
// of a task is an attempt (a retry is another); a failure event gives the
// error and cause. A state exited after a failure was caught (a Catch, to
// compensation); a state still open when the execution failed, timed out
// or was aborted failed. A redriven execution enters the failed state
// again: a new step.
func timeline(events []sfntypes.HistoryEvent) []stepView {
	steps := []stepView{}
	var open []int               // indexes of the steps entered and not exited, innermost last
	lastFailed := map[int]bool{} // the step's last attempt failed
	for _, ev := range events {
		at := aws.ToTime(ev.Timestamp).UTC()
		typ := string(ev.Type)
		switch {
		case strings.HasSuffix(typ, "StateEntered") && ev.StateEnteredEventDetails != nil:
			steps = append(steps, stepView{Name: aws.ToString(ev.StateEnteredEventDetails.Name), Status: stepRunning, Start: at})
			open = append(open, len(steps)-1)
		case strings.HasSuffix(typ, "StateExited") && ev.StateExitedEventDetails != nil:
			name := aws.ToString(ev.StateExitedEventDetails.Name)
			for k := len(open) - 1; k >= 0; k-- {
				if i := open[k]; steps[i].Name == name {
					open = append(open[:k], open[k+1:]...)
					steps[i].end(at)
					if lastFailed[i] {
						steps[i].Status = stepCaught
					} else {
						steps[i].Status, steps[i].Error, steps[i].Cause = stepSucceeded, "", ""
					}
					break
				}
			}
		case strings.HasSuffix(typ, "Scheduled") && len(open) > 0:
			i := open[len(open)-1]
			steps[i].Attempts++
			lastFailed[i] = false
		case executionEnded(ev.Type):
			name, cause, _ := failureOf(ev)
			for _, i := range open {
				steps[i].end(at)
				steps[i].Status = stepFailed
				if steps[i].Error == "" {
					steps[i].Error, steps[i].Cause = name, readableCause(cause)
				}
			}
			open = nil
		default:
			if name, cause, ok := failureOf(ev); ok && len(open) > 0 {
				i := open[len(open)-1]
				steps[i].Error, steps[i].Cause = name, readableCause(cause)
				lastFailed[i] = true
			}
		}
	}
	for _, i := range open {
		if lastFailed[i] || steps[i].Attempts > 1 {
			steps[i].Status = stepRetrying
		}
	}
	for i := range steps {
		steps[i].Attempts = max(steps[i].Attempts, 1)
	}
	return steps
}

func (s *stepView) end(at time.Time) {
	d := at.Sub(s.Start).Milliseconds()
	s.End, s.DurationMs = &at, &d
}

func executionEnded(t sfntypes.HistoryEventType) bool {
	switch t {
	case sfntypes.HistoryEventTypeExecutionFailed, sfntypes.HistoryEventTypeExecutionTimedOut, sfntypes.HistoryEventTypeExecutionAborted:
		return true
	}
	return false
}

// failureOf reads the error and cause of a failure event.
func failureOf(ev sfntypes.HistoryEvent) (name, cause string, ok bool) {
	pick := func(e, c *string) (string, string, bool) { return aws.ToString(e), aws.ToString(c), true }
	switch {
	case ev.TaskFailedEventDetails != nil:
		return pick(ev.TaskFailedEventDetails.Error, ev.TaskFailedEventDetails.Cause)
	case ev.TaskTimedOutEventDetails != nil:
		return pick(ev.TaskTimedOutEventDetails.Error, ev.TaskTimedOutEventDetails.Cause)
	case ev.TaskStartFailedEventDetails != nil:
		return pick(ev.TaskStartFailedEventDetails.Error, ev.TaskStartFailedEventDetails.Cause)
	case ev.TaskSubmitFailedEventDetails != nil:
		return pick(ev.TaskSubmitFailedEventDetails.Error, ev.TaskSubmitFailedEventDetails.Cause)
	case ev.LambdaFunctionFailedEventDetails != nil:
		return pick(ev.LambdaFunctionFailedEventDetails.Error, ev.LambdaFunctionFailedEventDetails.Cause)
	case ev.LambdaFunctionTimedOutEventDetails != nil:
		return pick(ev.LambdaFunctionTimedOutEventDetails.Error, ev.LambdaFunctionTimedOutEventDetails.Cause)
	case ev.LambdaFunctionStartFailedEventDetails != nil:
		return pick(ev.LambdaFunctionStartFailedEventDetails.Error, ev.LambdaFunctionStartFailedEventDetails.Cause)
	case ev.LambdaFunctionScheduleFailedEventDetails != nil:
		return pick(ev.LambdaFunctionScheduleFailedEventDetails.Error, ev.LambdaFunctionScheduleFailedEventDetails.Cause)
	case ev.ActivityFailedEventDetails != nil:
		return pick(ev.ActivityFailedEventDetails.Error, ev.ActivityFailedEventDetails.Cause)
	case ev.ActivityTimedOutEventDetails != nil:
		return pick(ev.ActivityTimedOutEventDetails.Error, ev.ActivityTimedOutEventDetails.Cause)
	case ev.ActivityScheduleFailedEventDetails != nil:
		return pick(ev.ActivityScheduleFailedEventDetails.Error, ev.ActivityScheduleFailedEventDetails.Cause)
	case ev.ExecutionFailedEventDetails != nil:
		return pick(ev.ExecutionFailedEventDetails.Error, ev.ExecutionFailedEventDetails.Cause)
	case ev.ExecutionTimedOutEventDetails != nil:
		return pick(ev.ExecutionTimedOutEventDetails.Error, ev.ExecutionTimedOutEventDetails.Cause)
	case ev.ExecutionAbortedEventDetails != nil:
		return pick(ev.ExecutionAbortedEventDetails.Error, ev.ExecutionAbortedEventDetails.Cause)
	}
	return "", "", false
}

// readableCause is a Lambda function error's message ({"errorMessage": …,
// "errorType": …}, as Step Functions reports it), or the cause as given.
func readableCause(cause string) string {
	var fe struct {
		ErrorMessage *string `json:"errorMessage"`
	}
	if strings.HasPrefix(strings.TrimSpace(cause), "{") && json.Unmarshal([]byte(cause), &fe) == nil && fe.ErrorMessage != nil {
		return *fe.ErrorMessage
	}
	return cause
}
