package sfn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
)

// ServiceCaller runs the sns, events and dynamodb integrations.
type ServiceCaller interface {
	Call(ctx context.Context, service, action string, params map[string]any) (any, error)
}

// AWSServices calls the services' APIs at the endpoints of the standard
// environment (AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL), signed with
// the configured credentials. Their errors surface as Step Functions names
// them: DynamoDB.<Code>, SNS.<Code>, EventBridge.<Code>. Without a local
// endpoint a call fails (States.Runtime): the engine never calls AWS.
type AWSServices struct {
	Config aws.Config
	HTTP   *http.Client
}

func endpointFor(service string) string {
	if v := os.Getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return os.Getenv("AWS_ENDPOINT_URL")
}

// noEndpoint is the error of an integration whose service has no local
// endpoint in the environment.
func noEndpoint(service string) error {
	return &stateError{"States.Runtime", "no endpoint configured for " + strings.ToLower(service) +
		": set AWS_ENDPOINT_URL_" + service + " (or AWS_ENDPOINT_URL) to a local service"}
}

// Call implements ServiceCaller.
func (a AWSServices) Call(ctx context.Context, service, action string, p map[string]any) (any, error) {
	switch service {
	case "dynamodb":
		return a.jsonCall(ctx, "DYNAMODB", "dynamodb", "1.0", "DynamoDB_20120810."+capitalise(action), "DynamoDB", p)
	case "events":
		// Step Functions turns an object Detail into its JSON text, as EventBridge wants.
		if entries, ok := p["Entries"].([]any); ok {
			for _, en := range entries {
				if m, ok := en.(map[string]any); ok {
					if _, isStr := m["Detail"].(string); !isStr && m["Detail"] != nil {
						m["Detail"] = mustJSON(m["Detail"])
					}
				}
			}
		}
		return a.jsonCall(ctx, "EVENTBRIDGE", "events", "1.1", "AWSEvents."+capitalise(action), "EventBridge", p)
	case "sns":
		return a.publish(ctx, p)
	}
	return nil, &stateError{"States.Runtime", "no integration " + service + ":" + action}
}

func capitalise(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// jsonCall posts an AWS JSON protocol request, SigV4-signed.
func (a AWSServices) jsonCall(ctx context.Context, envName, signingName, version, target, errPrefix string, p map[string]any) (any, error) {
	body := []byte(mustJSON(p))
	url := endpointFor(envName)
	if url == "" {
		return nil, noEndpoint(envName)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-"+version)
	req.Header.Set("X-Amz-Target", target)
	if a.Config.Credentials == nil {
		return nil, &stateError{errPrefix + ".SdkClientException", "no credentials configured"}
	}
	creds, err := a.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, &stateError{errPrefix + ".SdkClientException", err.Error()}
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), signingName, a.Config.Region, time.Now()); err != nil {
		return nil, err
	}
	client := a.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, &stateError{errPrefix + ".SdkClientException", err.Error()}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 300 {
		var ae struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
			Msg     string `json:"Message"`
		}
		_ = json.Unmarshal(raw, &ae)
		code := ae.Type[strings.LastIndex(ae.Type, "#")+1:]
		if code == "" {
			code = fmt.Sprintf("HTTP%d", resp.StatusCode)
		}
		return nil, &stateError{errPrefix + "." + code, ae.Message + ae.Msg}
	}
	if len(raw) == 0 {
		return map[string]any{}, nil
	}
	return decodeJSON(raw)
}

// publish sends sns:publish (SNS speaks the query protocol: the SDK does).
func (a AWSServices) publish(ctx context.Context, p map[string]any) (any, error) {
	ep := endpointFor("SNS")
	if ep == "" {
		return nil, noEndpoint("SNS")
	}
	client := sns.NewFromConfig(a.Config, func(o *sns.Options) { o.BaseEndpoint = aws.String(ep) })
	in := &sns.PublishInput{}
	str := func(k string) *string {
		if v, ok := p[k].(string); ok {
			return aws.String(v)
		}
		return nil
	}
	in.TopicArn, in.TargetArn, in.PhoneNumber, in.Subject = str("TopicArn"), str("TargetArn"), str("PhoneNumber"), str("Subject")
	in.MessageGroupId, in.MessageDeduplicationId, in.MessageStructure = str("MessageGroupId"), str("MessageDeduplicationId"), str("MessageStructure")
	switch m := p["Message"].(type) {
	case string:
		in.Message = aws.String(m)
	case nil:
		return nil, &stateError{"SNS.InvalidParameterException", "Message is required"}
	default:
		in.Message = aws.String(mustJSON(m)) // Step Functions sends an object as its JSON
	}
	if attrs, ok := p["MessageAttributes"].(map[string]any); ok {
		in.MessageAttributes = map[string]snstypes.MessageAttributeValue{}
		for k, v := range attrs {
			m, _ := v.(map[string]any)
			dt, _ := m["DataType"].(string)
			sv, _ := m["StringValue"].(string)
			in.MessageAttributes[k] = snstypes.MessageAttributeValue{DataType: aws.String(dt), StringValue: aws.String(sv)}
		}
	}
	out, err := client.Publish(ctx, in)
	if err != nil {
		return nil, &stateError{"SNS.AmazonSNSException", err.Error()}
	}
	return map[string]any{"MessageId": aws.ToString(out.MessageId)}, nil
}
