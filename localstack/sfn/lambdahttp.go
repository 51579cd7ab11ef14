package sfn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// LambdaHTTP invokes functions through the Lambda Invoke API
// (POST /2015-03-31/functions/{name}/invocations), as the Lambda service,
// LocalStack or a Lambda runtime emulator serve it. Requests are unsigned:
// it is for local endpoints.
type LambdaHTTP struct {
	Endpoint string
	Client   *http.Client
}

// Invoke implements Invoker. A response with X-Amz-Function-Error carries a
// function error ({"errorMessage", "errorType"}).
func (l LambdaHTTP) Invoke(ctx context.Context, arn string, payload []byte) ([]byte, error) {
	u := strings.TrimSuffix(l.Endpoint, "/") + "/2015-03-31/functions/" + url.PathEscape(arn) + "/invocations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "RequestResponse")
	c := l.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		return nil, fmt.Errorf("Lambda.ServiceException: invoke %s: HTTP %d: %s", arn, resp.StatusCode, body)
	}
	if resp.Header.Get("X-Amz-Function-Error") != "" {
		var fe struct {
			ErrorMessage string `json:"errorMessage"`
			ErrorType    string `json:"errorType"`
		}
		_ = json.Unmarshal(body, &fe)
		if fe.ErrorType == "" {
			fe.ErrorType = "Lambda.Unknown"
		}
		return nil, &FunctionError{Type: fe.ErrorType, Message: fe.ErrorMessage}
	}
	return body, nil
}
