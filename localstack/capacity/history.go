package capacity

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
)

// Workflow is what a batch's executions did, read from their histories.
type Workflow struct {
	Executions int
	// Transitions is what Standard workflows bill: each state entered, and
	// each retry of a state (every scheduling of its task after the first).
	Transitions, Retries int
	// Invocations counts the Lambda tasks by function (each attempt is an
	// invocation) and LambdaTime their time, started to ended.
	Invocations map[string]int
	LambdaTime  map[string]time.Duration
}

// readWorkflow reads the histories of the executions.
func readWorkflow(ctx context.Context, c *awssfn.Client, arns []string) (Workflow, error) {
	w := Workflow{Invocations: map[string]int{}, LambdaTime: map[string]time.Duration{}}
	for _, arn := range arns {
		p := awssfn.NewGetExecutionHistoryPaginator(c, &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
		var events []sfntypes.HistoryEvent
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return w, fmt.Errorf("capacity: history of %s: %w", arn, err)
			}
			events = append(events, page.Events...)
		}
		w.add(events)
	}
	return w, nil
}

// add counts one execution's history.
func (w *Workflow) add(events []sfntypes.HistoryEvent) {
	w.Executions++
	scheduled := 0
	var fn string
	var started time.Time
	for _, ev := range events {
		t := string(ev.Type)
		switch {
		case strings.HasSuffix(t, "StateEntered"):
			w.Transitions++
			scheduled = 0
		case t == "LambdaFunctionScheduled" || t == "TaskScheduled":
			if scheduled++; scheduled > 1 {
				w.Retries++
				w.Transitions++
			}
			if d := ev.LambdaFunctionScheduledEventDetails; d != nil {
				fn = aws.ToString(d.Resource)
				fn = fn[strings.LastIndex(fn, ":")+1:]
				w.Invocations[fn]++
			}
		case t == "LambdaFunctionStarted":
			started = aws.ToTime(ev.Timestamp)
		case t == "LambdaFunctionSucceeded" || t == "LambdaFunctionFailed" || t == "LambdaFunctionTimedOut":
			if !started.IsZero() {
				w.LambdaTime[fn] += aws.ToTime(ev.Timestamp).Sub(started)
				started = time.Time{}
			}
		}
	}
}
