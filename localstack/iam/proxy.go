package iam

import (
	"bytes"
	"cmp"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/xborder/xborder/shared/workflow"
)

// KeyFor is the access key id function's processes sign with: "XB" and
// its name in capitals without hyphens (DynamoDB Local takes letters and
// digits only). The proxies know the caller by it, as IAM knows a role's
// session by its credentials.
func KeyFor(function string) string {
	return "XB" + strings.ToUpper(strings.ReplaceAll(function, "-", ""))
}

// byKey finds a function by its access key id.
var byKey = func() map[string]string {
	m := map[string]string{}
	for _, fn := range workflow.Functions {
		m[KeyFor(fn)] = fn
	}
	return m
}()

// Checker checks every AWS call a function makes against its role's
// policies, in front of each local service — DynamoDB Local, the queue and
// topic emulator, the Step Functions engine — and refuses, with the
// service's own access-denied error, what they do not allow: never in the
// functions' code. It knows the caller by the access key id of the SigV4
// signature (KeyFor) and the service by its credential scope; callers that
// are not functions (the stack, the tests) pass unchecked. It records what
// each function used and what was refused.
type Checker struct {
	Policies *Policies
	// TaskTokens names the state machine a task token was given to, for
	// Step Functions' SendTask* calls: IAM checks them against it.
	TaskTokens func(token string) string
	// Log, when set, tells of each refused call.
	Log *slog.Logger

	mu     sync.Mutex
	used   map[string]map[string]bool
	denied []string
}

// NewChecker checks calls against p.
func NewChecker(p *Policies) *Checker {
	return &Checker{Policies: p, used: map[string]map[string]bool{}}
}

// Proxy is a reverse proxy to the service at upstream that checks each
// call on the way.
func (c *Checker) Proxy(upstream string) (http.Handler, error) {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("iam: upstream %q: %v", upstream, err)
	}
	return c.Wrap(httputil.NewSingleHostReverseProxy(u)), nil
}

// Wrap checks each call before next serves it (a service in this process,
// such as the Step Functions engine).
func (c *Checker) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fn, service := caller(r)
		if fn == "" {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		calls, refuse := c.calls(service, r, body)
		for _, call := range calls {
			if !c.check(fn, call) {
				refuse(w, fmt.Sprintf("User: arn:%s:sts::%s:assumed-role/%s/%s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
					Partition, Account, fn, fn, call.action, call.resource, call.action))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (c *Checker) check(fn string, x call) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	allowed := c.Policies.Allowed(fn, x.action, x.resource)
	if c.used[fn] == nil {
		c.used[fn] = map[string]bool{}
	}
	c.used[fn][x.action+" "+x.resource] = true
	if !allowed {
		c.denied = append(c.denied, fn+" "+x.action+" "+x.resource)
		if c.Log != nil {
			c.Log.Warn("AccessDenied: the function's role in the template does not allow the call", "function", fn, "action", x.action, "resource", x.resource)
		}
	}
	return allowed
}

// caller is the function whose credentials signed r ("" for another) and
// the service of the signature's credential scope
// (Credential=KEY/date/region/service/aws4_request).
func caller(r *http.Request) (function, service string) {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return byKey[parts[0]], ""
	}
	return byKey[parts[0]], parts[3]
}

// Caller is the function whose credentials signed r ("" for another).
func Caller(r *http.Request) string {
	fn, _ := caller(r)
	return fn
}

type call struct{ action, resource string }

// calls are the (action, resource) pairs one request to service needs
// allowed, and how the service refuses one.
func (c *Checker) calls(service string, r *http.Request, body []byte) ([]call, func(http.ResponseWriter, string)) {
	target := r.Header.Get("X-Amz-Target")
	switch service {
	case "dynamodb":
		_, op, _ := strings.Cut(target, ".")
		return dynamoCalls(op, body), refuseJSON(http.StatusBadRequest, "com.amazon.coral.service#AccessDeniedException", "Message")
	case "sqs":
		if op, ok := strings.CutPrefix(target, "AmazonSQS."); ok {
			var in struct{ QueueUrl, QueueName string }
			_ = json.Unmarshal(body, &in)
			return sqsCalls(op, in.QueueUrl, in.QueueName), refuseSQSJSON
		}
		form, _ := url.ParseQuery(string(body))
		return sqsCalls(form.Get("Action"), form.Get("QueueUrl"), form.Get("QueueName")), refuseXML(http.StatusForbidden, "AccessDenied", "http://queue.amazonaws.com/doc/2012-11-05/")
	case "sns":
		form, _ := url.ParseQuery(string(body))
		return snsCalls(form), refuseXML(http.StatusForbidden, "AuthorizationError", "http://sns.amazonaws.com/doc/2010-03-31/")
	case "states":
		_, op, _ := strings.Cut(target, ".")
		return c.statesCalls(op, body), refuseJSON(http.StatusBadRequest, "AccessDeniedException", "message")
	}
	// A service no proxy here knows: refused, so that nothing passes unseen.
	return []call{{service + ":" + target, "*"}}, refuseJSON(http.StatusForbidden, "AccessDeniedException", "message")
}

func arn(service, rest string) string {
	return "arn:" + Partition + ":" + service + ":" + Region + ":" + Account + ":" + rest
}

// dynamoCalls are the (action, resource) pairs one DynamoDB operation needs
// allowed: a transaction needs each item's own action on its table, a batch
// its action on each table, a query or scan of an index the index's ARN.
func dynamoCalls(op string, body []byte) []call {
	var in struct {
		TableName, IndexName string
		RequestItems         map[string]json.RawMessage
		TransactItems        []map[string]struct{ TableName string }
	}
	_ = json.Unmarshal(body, &in)
	table := func(name string) string { return arn("dynamodb", "table/"+name) }
	switch op {
	case "BatchGetItem", "BatchWriteItem":
		var out []call
		for name := range in.RequestItems {
			out = append(out, call{"dynamodb:" + op, table(name)})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].resource < out[j].resource })
		return out
	case "TransactWriteItems", "TransactGetItems":
		var out []call
		for _, item := range in.TransactItems {
			for kind, x := range item {
				action := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem", "Get": "GetItem"}[kind]
				if action != "" {
					out = append(out, call{"dynamodb:" + action, table(x.TableName)})
				}
			}
		}
		return out
	case "Query", "Scan":
		if in.IndexName != "" {
			return []call{{"dynamodb:" + op, table(in.TableName) + "/index/" + in.IndexName}}
		}
	}
	if op == "" {
		return nil
	}
	return []call{{"dynamodb:" + op, table(in.TableName)}}
}

// sqsCalls: the queue's ARN from its URL (…/<account>/<name>); the batch
// operations are authorized as their single forms, as SQS documents.
func sqsCalls(op, queueURL, queueName string) []call {
	if op == "" {
		return nil
	}
	op = strings.TrimSuffix(op, "Batch")
	name := queueName
	if queueURL != "" {
		name = queueURL[strings.LastIndex(queueURL, "/")+1:]
	}
	if name == "" {
		return []call{{"sqs:" + op, "*"}}
	}
	return []call{{"sqs:" + op, arn("sqs", name)}}
}

// snsCalls: a topic's actions on its ARN.
func snsCalls(form url.Values) []call {
	op := form.Get("Action")
	if op == "" {
		return nil
	}
	topic := form.Get("TopicArn")
	if topic == "" && op == "CreateTopic" {
		topic = arn("sns", form.Get("Name"))
	}
	return []call{{"sns:" + op, topic}}
}

// statesCalls: an execution's actions on its ARN, a state machine's on its
// ARN, a task token's answers on the state machine that gave it.
func (c *Checker) statesCalls(op string, body []byte) []call {
	if op == "" {
		return nil
	}
	var in struct {
		StateMachineArn string `json:"stateMachineArn"`
		ExecutionArn    string `json:"executionArn"`
		TaskToken       string `json:"taskToken"`
	}
	_ = json.Unmarshal(body, &in)
	resource := cmp.Or(in.ExecutionArn, in.StateMachineArn)
	if in.TaskToken != "" {
		resource = ""
		if c.TaskTokens != nil {
			resource = c.TaskTokens(in.TaskToken)
		}
		if resource == "" {
			// A token no engine gave names no state machine to check
			// against: the engine refuses it (InvalidToken or
			// TaskDoesNotExist), as AWS does.
			return nil
		}
	}
	return []call{{"states:" + op, resource}}
}

func refuseJSON(status int, errType, messageField string) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": errType, messageField: msg})
	}
}

// refuseSQSJSON is SQS's AccessDenied in its JSON protocol: the query
// error code rides in x-amzn-query-error.
func refuseSQSJSON(w http.ResponseWriter, msg string) {
	w.Header().Set("x-amzn-query-error", "AccessDenied;Sender")
	refuseJSON(http.StatusForbidden, "com.amazon.coral.service#AccessDeniedException", "message")(w, msg)
}

func refuseXML(status int, code, ns string) func(http.ResponseWriter, string) {
	return func(w http.ResponseWriter, msg string) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		var esc bytes.Buffer
		_ = xml.EscapeText(&esc, []byte(msg))
		fmt.Fprintf(w, `<ErrorResponse xmlns="%s"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>iam-local</RequestId></ErrorResponse>`,
			ns, code, esc.String())
	}
}

// Use checks the calls from now on against p (another template's roles)
// and returns what restores the policies it replaced.
func (c *Checker) Use(p *Policies) (restore func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.Policies
	c.Policies = p
	return func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		c.Policies = old
	}
}

// Used lists, per function, the grants it used ("action resource").
func (c *Checker) Used() map[string][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for fn, set := range c.used {
		for g := range set {
			out[fn] = append(out[fn], g)
		}
		sort.Strings(out[fn])
	}
	return out
}

// Denied lists the calls refused so far ("function action resource").
func (c *Checker) Denied() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.denied...)
}

// ForTemplate is the checker of the template at templatePath's policies,
// resolved to the local stack's ARNs (table its table).
func ForTemplate(templatePath, table string) (*Checker, error) {
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("iam: %w", err)
	}
	return ForTemplateJSON(raw, table)
}

// ForTemplateJSON is ForTemplate for a template already read.
func ForTemplateJSON(raw []byte, table string) (*Checker, error) {
	arns, err := LocalARNs(raw, table, workflow.StateMachineName)
	if err != nil {
		return nil, err
	}
	p, err := FromTemplate(raw, arns)
	if err != nil {
		return nil, err
	}
	return NewChecker(p), nil
}
