package sfn

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
)

// Functions is an in-process Lambda registry: handlers by function name,
// invoked through lambda.NewHandler so their JSON contract is the real one.
// A returned error becomes a function error named as the Lambda runtime
// names it (the Go type name), which is what Retry and Catch match.
type Functions struct {
	mu       sync.RWMutex
	handlers map[string]lambda.Handler
}

// Register adds a handler (any func lambda.Start accepts) under name.
func (f *Functions) Register(name string, handler any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.handlers == nil {
		f.handlers = map[string]lambda.Handler{}
	}
	f.handlers[name] = lambda.NewHandler(handler)
}

// Invoke runs the function an ARN (or a bare name) names.
func (f *Functions) Invoke(ctx context.Context, arn string, payload []byte) (out []byte, err error) {
	name := arn
	if i := strings.LastIndex(arn, ":function:"); i >= 0 {
		name = arn[i+len(":function:"):]
	}
	name, _, _ = strings.Cut(name, ":") // drop a version or alias
	f.mu.RLock()
	h, ok := f.handlers[name]
	f.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("Lambda.ResourceNotFoundException: function %s is not registered", name)
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, &FunctionError{Type: "Runtime.ExitError", Message: fmt.Sprint(p)}
		}
	}()
	out, err = h.Invoke(ctx, payload)
	if err != nil {
		return nil, &FunctionError{Type: errorType(err), Message: err.Error()}
	}
	return out, nil
}

// errorType names an error as aws-lambda-go's runtime does.
func errorType(err error) string {
	t := reflect.TypeOf(err)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
