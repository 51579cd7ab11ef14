package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
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

// DynamoDB is a proxy in front of DynamoDB Local that checks every call a
// function makes against its role's policies and refuses, with DynamoDB's
// own AccessDeniedException, what they do not allow — never in the
// functions' code. Callers that are not functions (the stack's own
// clients, the tests) pass unchecked. It records what each function used.
type DynamoDB struct {
	Policies *Policies
	proxy    *httputil.ReverseProxy
	mu       sync.Mutex
	used     map[string]map[string]bool
	denied   []string
}

// NewDynamoDB proxies to DynamoDB Local at upstream.
func NewDynamoDB(p *Policies, upstream string) (*DynamoDB, error) {
	u, err := url.Parse(upstream)
	if err != nil {
		return nil, err
	}
	return &DynamoDB{Policies: p, proxy: httputil.NewSingleHostReverseProxy(u), used: map[string]map[string]bool{}}, nil
}

// Caller is the function whose credentials signed r ("" for another).
func Caller(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return ""
	}
	key, _, _ := strings.Cut(cred, "/")
	return byKey[key]
}

func (d *DynamoDB) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	fn := Caller(r)
	if fn != "" {
		_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		for _, c := range dynamoCalls(op, body) {
			d.mu.Lock()
			allowed := d.Policies.Allowed(fn, c.action, c.resource)
			if d.used[fn] == nil {
				d.used[fn] = map[string]bool{}
			}
			d.used[fn][c.action+" "+c.resource] = true
			if !allowed {
				d.denied = append(d.denied, fn+" "+c.action+" "+c.resource)
			}
			d.mu.Unlock()
			if !allowed {
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(http.StatusBadRequest)
				_ = json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazon.coral.service#AccessDeniedException",
					"Message": fmt.Sprintf("User: arn:aws:sts::%s:assumed-role/%s/%s is not authorized to perform: %s on resource: %s because no identity-based policy allows the %s action",
						Account, fn, fn, c.action, c.resource, c.action)})
				return
			}
		}
	}
	d.proxy.ServeHTTP(w, r)
}

type call struct{ action, resource string }

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
	table := func(name string) string {
		return "arn:" + Partition + ":dynamodb:" + Region + ":" + Account + ":table/" + name
	}
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

// Used lists, per function, the grants it used ("action resource").
func (d *DynamoDB) Used() map[string][]string {
	d.mu.Lock()
	defer d.mu.Unlock()
	out := map[string][]string{}
	for fn, set := range d.used {
		for g := range set {
			out[fn] = append(out[fn], g)
		}
		sort.Strings(out[fn])
	}
	return out
}

// Denied lists the calls refused so far ("function action resource").
func (d *DynamoDB) Denied() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.denied...)
}

// DynamoDBFor is the proxy to DynamoDB Local at upstream with the
// policies of the template at templatePath, resolved to the local stack's
// table and state machine.
func DynamoDBFor(templatePath, table, upstream string) (*DynamoDB, error) {
	raw, err := os.ReadFile(templatePath)
	if err != nil {
		return nil, fmt.Errorf("iam: %w", err)
	}
	arns, err := LocalARNs(raw, table, workflow.StateMachineName)
	if err != nil {
		return nil, err
	}
	p, err := FromTemplate(raw, arns)
	if err != nil {
		return nil, err
	}
	return NewDynamoDB(p, upstream)
}
