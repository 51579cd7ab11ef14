package sfn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// stateError is a failure inside an execution: Step Functions' Error and Cause.
type stateError struct {
	Name, Cause string
}

func (e *stateError) Error() string { return e.Name + ": " + e.Cause }

func runtimeError(err error) *stateError {
	var se *stateError
	if errors.As(err, &se) {
		return se
	}
	var ie *IntrinsicError
	if errors.As(err, &ie) {
		return &stateError{"States.IntrinsicFailure", err.Error()}
	}
	return &stateError{"States.Runtime", err.Error()}
}

// contextObject is $$ for a state.
func (e *Engine) contextObject(x *execution, s *State, entered time.Time, retryCount int, token string) map[string]any {
	return e.contextWith(x, s, entered, retryCount, token, nil)
}

// contextWith adds extra top-level entries (such as Map) to the context object.
func (e *Engine) contextWith(x *execution, s *State, entered time.Time, retryCount int, token string, extra map[string]any) map[string]any {
	if !s.usesContext && token == "" && extra == nil {
		return nil // nothing of the state reads $$
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	in := x.input
	if in == nil {
		in, _ = decodeJSON([]byte(x.Input))
		x.input = in
	}
	ctx := map[string]any{
		"Execution": map[string]any{
			"Id": x.ARN, "Name": x.Name, "Input": in, "StartTime": x.Start.Format(time.RFC3339Nano),
			"RoleArn": x.machine.RoleARN, "RedriveCount": x.RedriveCount,
		},
		"State":        map[string]any{"Name": s.name, "EnteredTime": entered.Format(time.RFC3339Nano), "RetryCount": retryCount},
		"StateMachine": map[string]any{"Id": x.machine.ARN, "Name": x.machine.Name},
	}
	if token != "" {
		ctx["Task"] = map[string]any{"Token": token}
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return ctx
}

// run executes states from state until the execution ends.
func (e *Engine) run(ctx context.Context, x *execution, state string, input any) {
	def := x.machine.def
	if def.TimeoutSeconds > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.scaled(time.Duration(def.TimeoutSeconds)*time.Second))
		defer cancel()
	}
	output, failedState, failedInput, err := e.runStates(ctx, x, def, state, input)
	switch {
	case err == nil:
		e.finish(x, StatusSucceeded, output, "", "")
	case def.TimeoutSeconds > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded):
		e.markFailed(x, failedState, failedInput)
		e.finish(x, StatusTimedOut, nil, "States.Timeout", "the execution ran longer than its TimeoutSeconds")
	case errors.Is(err, errStopped) || ctx.Err() != nil:
		e.markFailed(x, failedState, failedInput)
	default:
		se := runtimeError(err)
		e.markFailed(x, failedState, failedInput)
		e.finish(x, StatusFailed, nil, se.Name, se.Cause)
	}
}

// runStates runs a definition (the machine, a Parallel branch or a Map
// iteration) from state; on failure it says which state failed, with what input.
func (e *Engine) runStates(ctx context.Context, x *execution, def *Definition, state string, input any) (any, string, any, error) {
	for {
		s := def.States[state]
		output, next, err := e.runState(ctx, x, s, input)
		if err != nil {
			return nil, state, input, err
		}
		if next == "" {
			return output, "", nil, nil
		}
		state, input = next, output
	}
}

func (e *Engine) markFailed(x *execution, state string, input any) {
	e.mu.Lock()
	defer e.mu.Unlock()
	x.failedState, x.failedInput = state, input
	if x.Status == StatusAborted { // stopped, even while the engine closes: it stays ended
		e.persistEnd(x)
	}
}

// nextOf is where a state goes after succeeding ("" when it ends).
func nextOf(s *State) string {
	if s.End {
		return ""
	}
	return s.Next
}

func (e *Engine) runState(ctx context.Context, x *execution, s *State, raw any) (any, string, error) {
	entered := e.now()
	prefix := stateEventPrefix(s.Type)
	e.mu.Lock()
	resumed := x.resuming
	x.resuming = false
	if !resumed { // a resumed state was entered before the restart
		e.record(x, prefix+"StateEntered", map[string]any{"name": s.name, "input": jsonText{raw}, "inputDetails": map[string]any{"truncated": false}})
	}
	e.mu.Unlock()
	if ctx.Err() != nil {
		return nil, "", errStopped
	}
	exit := func(out any) {
		if s.Type == "Fail" {
			return
		}
		e.event(x, prefix+"StateExited", map[string]any{"name": s.name, "output": jsonText{out}, "outputDetails": map[string]any{"truncated": false}})
	}
	cobj := e.contextObject(x, s, entered, 0, "")
	switch s.Type {
	case "Pass":
		eff, err := effectiveInput(s, raw, cobj)
		if err != nil {
			return nil, "", err
		}
		result := eff
		if s.Result != nil {
			result = s.Result
		}
		out, err := finishOutput(s, raw, result, cobj, false)
		if err != nil {
			return nil, "", err
		}
		exit(out)
		return out, nextOf(s), nil
	case "Succeed":
		out, err := inputOutput(s, raw)
		if err != nil {
			return nil, "", err
		}
		exit(out)
		return out, "", nil
	case "Fail":
		name, cause := s.Error, s.Cause
		if s.ErrorPath != "" {
			name = stringAt(s.ErrorPath, raw, cobj)
		}
		if s.CausePath != "" {
			cause = stringAt(s.CausePath, raw, cobj)
		}
		return nil, "", &stateError{name, cause}
	case "Choice":
		in, err := inputPathOnly(s, raw)
		if err != nil {
			return nil, "", err
		}
		next := s.Default
		for _, r := range s.choices {
			ok, err := r.match(in, cobj)
			if err != nil {
				return nil, "", err
			}
			if ok {
				next = r.next
				break
			}
		}
		if next == "" {
			return nil, "", &stateError{"States.NoChoiceMatched", fmt.Sprintf("no Choice rule of %q matched and it has no Default", s.name)}
		}
		out, err := inputOutput(s, raw)
		if err != nil {
			return nil, "", err
		}
		exit(out)
		return out, next, nil
	case "Wait":
		in, err := inputPathOnly(s, raw)
		if err != nil {
			return nil, "", err
		}
		d, err := waitDuration(s, in, cobj, e.now())
		if err != nil {
			return nil, "", err
		}
		if err := e.sleep(ctx, d); err != nil {
			return nil, "", errStopped
		}
		out, err := inputOutput(s, raw)
		if err != nil {
			return nil, "", err
		}
		exit(out)
		return out, nextOf(s), nil
	case "Task":
		return e.withRetry(ctx, x, s, raw, entered, exit, func(retryCount int) (any, map[string]any, error) {
			_, wait := splitResource(s.Resource)
			token := ""
			if wait {
				token = e.newToken(x.MachineARN)
				if resumed := e.takeResumeToken(x); resumed != "" {
					return e.resumeWait(ctx, x, s, entered, retryCount, resumed)
				}
			}
			cobj := e.contextObject(x, s, entered, retryCount, token)
			stateIn, err := inputPathOnly(s, raw)
			if err != nil {
				return nil, cobj, runtimeError(err)
			}
			in := stateIn
			if s.params != nil {
				if in, err = s.params.eval(stateIn, cobj); err != nil {
					return nil, cobj, runtimeError(err)
				}
			}
			out, err := e.invoke(ctx, x, s, in, stateIn, cobj, token)
			return out, cobj, err
		})
	case "Parallel":
		return e.withRetry(ctx, x, s, raw, entered, exit, func(retryCount int) (any, map[string]any, error) {
			cobj := e.contextObject(x, s, entered, retryCount, "")
			in, err := effectiveInput(s, raw, cobj)
			if err != nil {
				return nil, cobj, runtimeError(err)
			}
			out, err := e.runParallel(ctx, x, s, in)
			return out, cobj, err
		})
	case "Map":
		return e.withRetry(ctx, x, s, raw, entered, exit, func(retryCount int) (any, map[string]any, error) {
			cobj := e.contextObject(x, s, entered, retryCount, "")
			out, err := e.runMap(ctx, x, s, raw, entered, retryCount)
			return out, cobj, err
		})
	}
	return nil, "", &UnsupportedError{Feature: "the " + s.Type + " state (not yet run by the local engine)", State: s.name}
}

func stringAt(p string, input, ctx any) string {
	pp, err := parsePath(p)
	if err != nil {
		return ""
	}
	v, err := pp.get(input, ctx)
	if err != nil {
		return ""
	}
	s, _ := v.(string)
	return s
}

func inputPathOnly(s *State, raw any) (any, error) {
	if s.inputNull {
		return map[string]any{}, nil
	}
	return s.inputPath.get(raw, nil)
}

// inputOutput applies InputPath then OutputPath (states without results).
func inputOutput(s *State, raw any) (any, error) {
	in, err := inputPathOnly(s, raw)
	if err != nil {
		return nil, err
	}
	if s.outputNull {
		return map[string]any{}, nil
	}
	return s.outputPath.get(in, nil)
}

// effectiveInput applies InputPath and Parameters.
func effectiveInput(s *State, raw any, cobj map[string]any) (any, error) {
	in, err := inputPathOnly(s, raw)
	if err != nil {
		return nil, err
	}
	if s.params != nil {
		return s.params.eval(in, cobj)
	}
	return in, nil
}

// finishOutput applies ResultSelector (tasks), ResultPath and OutputPath.
func finishOutput(s *State, raw, result any, cobj map[string]any, selector bool) (any, error) {
	if selector && s.selector != nil {
		var err error
		if result, err = s.selector.eval(result, cobj); err != nil {
			return nil, err
		}
	}
	var merged any
	switch {
	case s.resultNull:
		merged = raw
	default:
		var err error
		if merged, err = s.resultPath.set(raw, result); err != nil {
			return nil, &stateError{"States.ResultPathMatchFailure", err.Error()}
		}
	}
	if s.outputNull {
		return map[string]any{}, nil
	}
	return s.outputPath.get(merged, nil)
}

func waitDuration(s *State, in any, cobj map[string]any, now time.Time) (time.Duration, error) {
	switch {
	case s.Seconds != nil:
		return time.Duration(*s.Seconds * float64(time.Second)), nil
	case s.SecondsPath != "":
		p, _ := parsePath(s.SecondsPath)
		v, err := p.get(in, cobj)
		if err != nil {
			return 0, err
		}
		f, ok := toFloat(v)
		if !ok || f < 0 {
			return 0, &stateError{"States.Runtime", "SecondsPath must point at a non-negative number"}
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	ts := s.Timestamp
	if s.TimestampPath != "" {
		ts = stringAt(s.TimestampPath, in, cobj)
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return 0, &stateError{"States.Runtime", fmt.Sprintf("%q is not an RFC 3339 timestamp", ts)}
	}
	return max(t.Sub(now), 0), nil
}

func (e *Engine) sleep(ctx context.Context, d time.Duration) error {
	d = e.scaled(d)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// errorMatches reports whether a Retry or Catch list covers name.
func errorMatches(list []string, name string) bool {
	for _, l := range list {
		switch {
		case l == name:
			return true
		case l == "States.ALL" && name != "States.Runtime" && name != "States.DataLimitExceeded":
			return true
		case l == "States.TaskFailed" && name != "States.Timeout" && name != "States.Runtime" && name != "States.HeartbeatTimeout":
			return true
		}
	}
	return false
}

// backoff is the wait before retry attempt n (0-based) of r.
func backoff(r Retrier, attempt int) time.Duration {
	interval, rate := 1.0, 2.0
	if r.IntervalSeconds != nil {
		interval = *r.IntervalSeconds
	}
	if r.BackoffRate != nil {
		rate = *r.BackoffRate
	}
	d := interval * math.Pow(rate, float64(attempt))
	if r.MaxDelaySeconds != nil && d > *r.MaxDelaySeconds {
		d = *r.MaxDelaySeconds
	}
	if r.JitterStrategy == "FULL" {
		d = rand.Float64() * d
	}
	return time.Duration(d * float64(time.Second))
}

func maxAttempts(r Retrier) int {
	if r.MaxAttempts == nil {
		return 3
	}
	return *r.MaxAttempts
}

// withRetry runs a state's work with its Retry and Catch: attempt does the
// work once and returns its result and the context object it used.
func (e *Engine) withRetry(ctx context.Context, x *execution, s *State, raw any, entered time.Time, exit func(any),
	attempt func(retryCount int) (any, map[string]any, error)) (any, string, error) {
	attempts := make([]int, len(s.Retry))
	retryCount := 0
	for {
		result, cobj, err := attempt(retryCount)
		if err == nil {
			out, err := finishOutput(s, raw, result, cobj, true)
			if err != nil {
				return nil, "", err
			}
			exit(out)
			return out, nextOf(s), nil
		}
		if errors.Is(err, errStopped) || ctx.Err() != nil {
			return nil, "", errStopped
		}
		se := runtimeError(err)
		retried := false
		for i, r := range s.Retry {
			if !errorMatches(r.ErrorEquals, se.Name) {
				continue
			}
			if attempts[i] < maxAttempts(r) {
				e.log().Info("retrying state", "execution", x.ARN, "state", s.name, "error", se.Name, "cause", se.Cause, "attempt", attempts[i]+1)
				if err := e.sleep(ctx, backoff(r, attempts[i])); err != nil {
					return nil, "", errStopped
				}
				attempts[i]++
				retryCount++
				retried = true
			}
			break // the first retrier that matches decides
		}
		if retried {
			continue
		}
		for _, c := range s.Catch {
			if !errorMatches(c.ErrorEquals, se.Name) {
				continue
			}
			errOut := map[string]any{"Error": se.Name, "Cause": se.Cause}
			out := raw
			if !c.resultNull {
				var perr error
				if out, perr = c.resultPath.set(raw, errOut); perr != nil {
					return nil, "", &stateError{"States.ResultPathMatchFailure", perr.Error()}
				}
			}
			exit(out)
			return out, c.Next, nil
		}
		return nil, "", se
	}
}
