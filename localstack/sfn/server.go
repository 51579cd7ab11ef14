package sfn

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Handler serves the Step Functions API (AWS JSON 1.0): X-Amz-Target
// AWSStepFunctions.<Operation>, errors as {"__type", "message"}. Requests are
// not authenticated: any credentials are accepted, like LocalStack.
func (e *Engine) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		if r.Method != http.MethodPost || !ok {
			writeAPIError(w, &APIError{Code: "UnknownOperationException", Message: "POST an AWSStepFunctions.<Operation> X-Amz-Target"})
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeAPIError(w, apiErr("ValidationException", "unreadable body"))
			return
		}
		h, ok := e.operations()[op]
		if !ok {
			writeAPIError(w, apiErr("UnknownOperationException", "the local engine does not serve %s", op))
			return
		}
		var in map[string]any
		if len(body) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				writeAPIError(w, apiErr("SerializationException", "the body is not JSON: %v", err))
				return
			}
		}
		out, err := h(request(in))
		if err != nil {
			writeAPIError(w, err)
			return
		}
		if m, ok := out.(map[string]any); ok {
			for k, v := range m {
				if v == nil {
					delete(m, k) // absent, as AWS leaves unset members out
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		_ = json.NewEncoder(w).Encode(out)
	})
}

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *APIError
	if !errors.As(err, &ae) {
		ae = &APIError{Code: "InternalServerError", Message: err.Error()}
	}
	status := http.StatusBadRequest
	if ae.Code == "InternalServerError" {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": ae.Code, "message": ae.Message})
}

type request map[string]any

func (r request) str(k string) string { s, _ := r[k].(string); return s }

func (r request) num(k string) int {
	f, _ := r[k].(float64)
	return int(f)
}

func epoch(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return float64(t.UnixNano()) / 1e9
}

type operation func(request) (any, error)

func (e *Engine) operations() map[string]operation {
	return map[string]operation{
		"CreateStateMachine": func(r request) (any, error) {
			sm, err := e.CreateStateMachine(r.str("name"), r.str("definition"), r.str("roleArn"), r.str("type"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stateMachineArn": sm.ARN, "creationDate": epoch(sm.Created)}, nil
		},
		"UpdateStateMachine": func(r request) (any, error) {
			sm, err := e.UpdateStateMachine(r.str("stateMachineArn"), r.str("definition"), r.str("roleArn"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"updateDate": epoch(e.now()), "stateMachineVersionArn": sm.ARN}, nil
		},
		"DescribeStateMachine": func(r request) (any, error) {
			sm, err := e.StateMachine(r.str("stateMachineArn"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stateMachineArn": sm.ARN, "name": sm.Name, "status": "ACTIVE", "definition": sm.Definition,
				"roleArn": sm.RoleARN, "type": sm.Type, "creationDate": epoch(sm.Created)}, nil
		},
		"ListStateMachines": func(r request) (any, error) {
			var list []any
			for _, sm := range e.StateMachines() {
				list = append(list, map[string]any{"stateMachineArn": sm.ARN, "name": sm.Name, "type": sm.Type, "creationDate": epoch(sm.Created)})
			}
			page, next, err := paginate(list, r.num("maxResults"), r.str("nextToken"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stateMachines": page, "nextToken": next}, nil
		},
		"DeleteStateMachine": func(r request) (any, error) {
			e.DeleteStateMachine(r.str("stateMachineArn"))
			return map[string]any{}, nil
		},
		"StartExecution": func(r request) (any, error) {
			x, err := e.StartExecution(r.str("stateMachineArn"), r.str("name"), r.str("input"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"executionArn": x.ARN, "startDate": epoch(x.Start)}, nil
		},
		"DescribeExecution": func(r request) (any, error) {
			x, err := e.Execution(r.str("executionArn"))
			if err != nil {
				return nil, err
			}
			return describe(e.snapshot(x)), nil
		},
		"ListExecutions": func(r request) (any, error) {
			if _, err := e.StateMachine(r.str("stateMachineArn")); err != nil {
				return nil, err
			}
			var list []any
			for _, x := range e.Executions(r.str("stateMachineArn"), r.str("statusFilter")) {
				list = append(list, map[string]any{"executionArn": x.ARN, "stateMachineArn": x.MachineARN, "name": x.Name,
					"status": x.Status, "startDate": epoch(x.Start), "stopDate": epoch(x.Stop), "redriveCount": x.RedriveCount})
			}
			page, next, err := paginate(list, r.num("maxResults"), r.str("nextToken"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"executions": page, "nextToken": next}, nil
		},
		"GetExecutionHistory": func(r request) (any, error) {
			x, err := e.Execution(r.str("executionArn"))
			if err != nil {
				return nil, err
			}
			e.mu.Lock()
			events, err := e.historyOf(x)
			e.mu.Unlock()
			if err != nil {
				return nil, err
			}
			list := make([]any, len(events))
			for i, ev := range events {
				list[i] = ev
			}
			if r["reverseOrder"] == true {
				for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
					list[i], list[j] = list[j], list[i]
				}
			}
			page, next, err := paginate(list, r.num("maxResults"), r.str("nextToken"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"events": page, "nextToken": next}, nil
		},
		"StopExecution": func(r request) (any, error) {
			stop, err := e.StopExecution(r.str("executionArn"), r.str("error"), r.str("cause"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"stopDate": epoch(stop)}, nil
		},
		"RedriveExecution": func(r request) (any, error) {
			date, err := e.RedriveExecution(r.str("executionArn"))
			if err != nil {
				return nil, err
			}
			return map[string]any{"redriveDate": epoch(date)}, nil
		},
		"SendTaskSuccess": func(r request) (any, error) {
			return map[string]any{}, e.SendTaskSuccess(r.str("taskToken"), r.str("output"))
		},
		"SendTaskFailure": func(r request) (any, error) {
			return map[string]any{}, e.SendTaskFailure(r.str("taskToken"), r.str("error"), r.str("cause"))
		},
		"SendTaskHeartbeat": func(r request) (any, error) {
			return map[string]any{}, e.SendTaskHeartbeat(r.str("taskToken"))
		},
	}
}

func describe(x execution) map[string]any {
	out := map[string]any{"executionArn": x.ARN, "stateMachineArn": x.MachineARN, "name": x.Name, "status": x.Status,
		"startDate": epoch(x.Start), "stopDate": epoch(x.Stop), "input": x.Input,
		"inputDetails": map[string]any{"included": true}, "redriveCount": x.RedriveCount, "redriveDate": epoch(x.RedriveDate)}
	if x.Status == StatusSucceeded {
		out["output"] = x.Output
		out["outputDetails"] = map[string]any{"included": true}
	}
	if x.Error != "" || x.Cause != "" {
		out["error"], out["cause"] = x.Error, x.Cause
	}
	switch x.Status {
	case StatusFailed, StatusTimedOut, StatusAborted:
		if x.failedState != "" {
			out["redriveStatus"] = "REDRIVABLE"
		} else {
			out["redriveStatus"] = "NOT_REDRIVABLE"
		}
	default:
		out["redriveStatus"] = "NOT_REDRIVABLE"
	}
	return out
}

// paginate cuts one page; the token is the offset, opaque to callers.
func paginate(list []any, max int, token string) ([]any, any, error) {
	if max <= 0 || max > 1000 {
		max = 100
	}
	start := 0
	if token != "" {
		b, err := base64.RawURLEncoding.DecodeString(token)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(list) {
			return nil, nil, apiErr("InvalidToken", "invalid nextToken")
		}
		start = n
	}
	end := min(start+max, len(list))
	page := list[start:end]
	if page == nil {
		page = []any{}
	}
	if end < len(list) {
		return page, base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))), nil
	}
	return page, nil, nil
}
