package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Counts is what the recorder saw since it was last reset.
type Counts struct {
	DynamoDB DynamoDB
	// SQS counts the requests by action, the receives that returned nothing
	// left out (IdleReceives: the pollers' long polls, paid by the minute,
	// not by the order); SQSBilled counts the same requests in 64 KB chunks
	// of payload, as SQS bills them.
	SQS          map[string]int
	SQSBilled    int
	IdleReceives int
	// SNS counts the requests by action; SNSBilled the messages published,
	// in 64 KB chunks.
	SNS       map[string]int
	SNSBilled int
	// SFN counts the Step Functions API requests by action.
	SFN map[string]int
	// Deliveries counts the SQS receives that returned messages, by the
	// function the queue feeds: each is one invocation of it. DeliveryTime
	// is the time from such a receive to the deletion of its messages (the
	// handler's run), for the Measured ones: a batch whose messages all
	// failed is never deleted, so not measured.
	Deliveries   map[string]int
	DeliveryTime map[string]time.Duration
	Measured     map[string]int
	// API counts the requests the API served and APITime their time;
	// Receipts and ReceiptTime the same for China's customs receipts,
	// which the E-Port posts to the API in AWS and the local stack hands
	// to the recorder in-process.
	API, Receipts        int
	APITime, ReceiptTime time.Duration
	busy                 int // requests other than idle receives
}

func newCounts() Counts {
	return Counts{DynamoDB: newDynamoDB(), SQS: map[string]int{}, SNS: map[string]int{}, SFN: map[string]int{},
		Deliveries: map[string]int{}, DeliveryTime: map[string]time.Duration{}, Measured: map[string]int{}}
}

// Recorder is a recording reverse proxy in front of DynamoDB Local, the
// SQS/SNS emulator and the Step Functions engine: clients pointed at its
// handlers reach the services unchanged, and it counts what they asked.
//
// DynamoDB requests that can return ConsumedCapacity are sent with
// "ReturnConsumedCapacity": "INDEXES"; the answer's figures are recorded
// and then cut back to what the caller asked for (none, TOTAL or INDEXES),
// with the checksum header recomputed.
type Recorder struct {
	client *http.Client
	// queues maps a queue's name to the function its messages feed.
	queues map[string]string

	mu       sync.Mutex
	counts   Counts
	ledger   *ledger
	schemas  map[string]*schema
	inflight map[string]*delivery // by receipt handle
}

// delivery is one batch of messages handed to a function.
type delivery struct {
	function string
	start    time.Time
	done     bool
}

// NewRecorder returns a recorder; queues maps queue names to the functions
// they feed (for the invocations).
func NewRecorder(queues map[string]string) *Recorder {
	return &Recorder{
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}},
		queues: queues, counts: newCounts(), ledger: newLedger(), schemas: map[string]*schema{},
		inflight: map[string]*delivery{},
	}
}

// Trace sends one line per DynamoDB write call to w (nil: none): the
// items written, their sizes and the units reported, to see where an
// order's write units go.
func (r *Recorder) Trace(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ledger.trace = w
}

// Snapshot copies the counts.
func (r *Recorder) Snapshot() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	c.DynamoDB = r.ledger.tally.clone()
	c.SQS, c.SNS, c.SFN = maps.Clone(c.SQS), maps.Clone(c.SNS), maps.Clone(c.SFN)
	c.Deliveries, c.DeliveryTime, c.Measured = maps.Clone(c.Deliveries), maps.Clone(c.DeliveryTime), maps.Clone(c.Measured)
	return c
}

// Reset starts the counts again (what is known of the stored items stays).
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts, r.ledger.tally, r.inflight = newCounts(), newDynamoDB(), map[string]*delivery{}
}

// busy counts the requests other than idle receives, to tell when the
// stack has gone quiet.
func (r *Recorder) busy() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts.busy
}

// DynamoDB proxies DynamoDB (AWS JSON 1.0) to upstream.
func (r *Recorder) DynamoDB(upstream string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
		asked := ""
		if capacityOps[op] {
			body, asked = askCapacity(body)
		}
		r.forward(w, req, upstream, body, func(status int, resp []byte) []byte {
			r.recordDynamoDB(req.Context(), upstream, op, body, status, resp)
			if capacityOps[op] && status == http.StatusOK {
				return tellCapacity(resp, asked)
			}
			return resp
		})
	})
}

// askCapacity sets ReturnConsumedCapacity to INDEXES and returns what the
// caller had asked for.
func askCapacity(body []byte) ([]byte, string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil || m == nil {
		return body, ""
	}
	var asked string
	_ = json.Unmarshal(m["ReturnConsumedCapacity"], &asked)
	m["ReturnConsumedCapacity"] = json.RawMessage(`"INDEXES"`)
	out, err := json.Marshal(m)
	if err != nil {
		return body, asked
	}
	return out, asked
}

// tellCapacity cuts ConsumedCapacity back to what the caller asked for.
func tellCapacity(resp []byte, asked string) []byte {
	if asked == "INDEXES" {
		return resp
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(resp, &m) != nil || m["ConsumedCapacity"] == nil {
		return resp
	}
	if asked != "TOTAL" {
		delete(m, "ConsumedCapacity")
	} else {
		totalOnly := func(c map[string]json.RawMessage) map[string]json.RawMessage {
			return map[string]json.RawMessage{"TableName": c["TableName"], "CapacityUnits": c["CapacityUnits"]}
		}
		var list []map[string]json.RawMessage
		var one map[string]json.RawMessage
		if json.Unmarshal(m["ConsumedCapacity"], &list) == nil {
			for i := range list {
				list[i] = totalOnly(list[i])
			}
			m["ConsumedCapacity"], _ = json.Marshal(list)
		} else if json.Unmarshal(m["ConsumedCapacity"], &one) == nil {
			m["ConsumedCapacity"], _ = json.Marshal(totalOnly(one))
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		return resp
	}
	return out
}

func (r *Recorder) recordDynamoDB(ctx context.Context, upstream, op string, body []byte, status int, resp []byte) {
	if status != http.StatusOK {
		var e struct {
			Type string `json:"__type"`
		}
		_ = json.Unmarshal(resp, &e)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.counts.busy++
		r.ledger.failed(op, e.Type[strings.LastIndex(e.Type, "#")+1:])
		return
	}
	var q request
	var p response
	_ = json.Unmarshal(body, &q)
	_ = json.Unmarshal(resp, &p)
	tables := map[string]bool{}
	if q.TableName != "" {
		tables[q.TableName] = true
	}
	for _, c := range p.consumption() {
		tables[c.TableName] = true
	}
	for _, w := range q.writes(op) {
		tables[w.table] = true
	}
	schemas := map[string]*schema{}
	for t := range tables {
		if s := r.schema(ctx, upstream, t); s != nil {
			schemas[t] = s
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.busy++
	r.ledger.record(op, &q, &p, schemas)
}

// schema describes a table, once, from upstream.
func (r *Recorder) schema(ctx context.Context, upstream, table string) *schema {
	r.mu.Lock()
	s, ok := r.schemas[table]
	r.mu.Unlock()
	if ok {
		return s
	}
	body, _ := json.Marshal(map[string]string{"TableName": table})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, upstream, bytes.NewReader(body))
	if err != nil {
		return nil
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.DescribeTable")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := r.client.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	type keyElement struct{ AttributeName, KeyType string }
	var d struct {
		Table struct {
			KeySchema              []keyElement
			GlobalSecondaryIndexes []struct {
				IndexName  string
				KeySchema  []keyElement
				Projection struct{ ProjectionType string }
			}
		}
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&d) != nil {
		return nil
	}
	s = &schema{indexes: map[string]index{}}
	for _, k := range d.Table.KeySchema {
		if k.KeyType == "HASH" {
			s.pk = k.AttributeName
		} else {
			s.sk = k.AttributeName
		}
	}
	for _, g := range d.Table.GlobalSecondaryIndexes {
		for _, k := range g.KeySchema {
			if k.KeyType == "HASH" {
				s.indexes[g.IndexName] = index{hash: k.AttributeName, all: g.Projection.ProjectionType == "ALL"}
			}
		}
	}
	r.mu.Lock()
	r.schemas[table] = s
	r.mu.Unlock()
	return s
}

// Fauxqs proxies the SQS/SNS emulator: SQS in the AWS JSON protocol
// (X-Amz-Target AmazonSQS.*), SNS in the query protocol (Action=…) or JSON.
func (r *Recorder) Fauxqs(upstream string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		target := req.Header.Get("X-Amz-Target")
		r.forward(w, req, upstream, body, func(status int, resp []byte) []byte {
			switch {
			case strings.HasPrefix(target, "AmazonSQS."):
				r.recordSQS(strings.TrimPrefix(target, "AmazonSQS."), body, resp)
			case strings.HasPrefix(target, "AmazonSimpleNotificationService."):
				var in struct {
					Message                    string
					PublishBatchRequestEntries []struct{ Message string }
				}
				_ = json.Unmarshal(body, &in)
				var messages []string
				for _, e := range in.PublishBatchRequestEntries {
					messages = append(messages, e.Message)
				}
				r.recordSNS(strings.TrimPrefix(target, "AmazonSimpleNotificationService."), append(messages, in.Message))
			default:
				form, _ := url.ParseQuery(string(body))
				var messages []string
				for k, v := range form {
					if k == "Message" || strings.HasPrefix(k, "PublishBatchRequestEntries.member.") && strings.HasSuffix(k, ".Message") {
						messages = append(messages, v...)
					}
				}
				r.recordSNS(form.Get("Action"), messages)
			}
			return resp
		})
	})
}

// chunks is how many 64 KB chunks SQS or SNS bills a payload as.
func chunks(n int) int { return max(1, (n+65535)/65536) }

func (r *Recorder) recordSQS(action string, body, resp []byte) {
	var in struct {
		QueueURL      string `json:"QueueUrl"`
		ReceiptHandle string
		Entries       []struct{ ReceiptHandle string }
	}
	_ = json.Unmarshal(body, &in)
	var out struct {
		Messages []struct{ ReceiptHandle string }
	}
	_ = json.Unmarshal(resp, &out)
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if action == "ReceiveMessage" && len(out.Messages) == 0 {
		r.counts.IdleReceives++
		return
	}
	r.counts.busy++
	r.counts.SQS[action]++
	r.counts.SQSBilled += chunks(max(len(body), len(resp)))
	switch action {
	case "ReceiveMessage":
		fn := r.queues[path.Base(in.QueueURL)]
		if fn == "" {
			fn = "(queue " + path.Base(in.QueueURL) + ")"
		}
		r.counts.Deliveries[fn]++
		d := &delivery{function: fn, start: now}
		for _, m := range out.Messages {
			r.inflight[m.ReceiptHandle] = d
		}
	case "DeleteMessage", "DeleteMessageBatch":
		handles := []string{in.ReceiptHandle}
		for _, e := range in.Entries {
			handles = append(handles, e.ReceiptHandle)
		}
		for _, h := range handles {
			d := r.inflight[h]
			delete(r.inflight, h)
			if d != nil && !d.done {
				d.done = true
				r.counts.DeliveryTime[d.function] += now.Sub(d.start)
				r.counts.Measured[d.function]++
			}
		}
	}
}

func (r *Recorder) recordSNS(action string, messages []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.busy++
	r.counts.SNS[action]++
	if action == "Publish" || action == "PublishBatch" {
		for _, m := range messages {
			if m != "" {
				r.counts.SNSBilled += chunks(len(m))
			}
		}
	}
}

// StepFunctions proxies the Step Functions API (AWS JSON 1.0) to upstream.
func (r *Recorder) StepFunctions(upstream string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		action := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
		r.forward(w, req, upstream, body, func(int, []byte) []byte {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.counts.busy++
			r.counts.SFN[action]++
			return nil
		})
	})
}

// API counts and times the requests h serves: each is one API Gateway
// request and one invocation of the api function.
func (r *Recorder) API(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, req)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.counts.busy++
		if strings.HasPrefix(req.URL.Path, "/v1/partners/") {
			// A partner's notification: China's receipts, and the broker's
			// or the warehouse's answers when they come later.
			r.counts.Receipts++
			r.counts.ReceiptTime += time.Since(start)
			return
		}
		r.counts.API++
		r.counts.APITime += time.Since(start)
	})
}

// Receipts counts and times the China customs receipts deliver records.
func (r *Recorder) Receipts(deliver func(context.Context, []byte) error) func(context.Context, []byte) error {
	return func(ctx context.Context, receipt []byte) error {
		start := time.Now()
		err := deliver(ctx, receipt)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.counts.busy++
		r.counts.Receipts++
		r.counts.ReceiptTime += time.Since(start)
		return err
	}
}

// forward sends the request, with body, to upstream and answers with what
// edit makes of the answer (nil: the answer as it is). A changed body gets
// its X-Amz-Crc32 recomputed.
func (r *Recorder) forward(w http.ResponseWriter, req *http.Request, upstream string, body []byte, edit func(status int, body []byte) []byte) {
	out, err := http.NewRequestWithContext(req.Context(), req.Method, strings.TrimSuffix(upstream, "/")+req.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	out.Header = req.Header.Clone()
	out.Header.Del("Content-Length")
	out.Header.Set("Accept-Encoding", "identity")
	resp, err := r.client.Do(out)
	if err != nil {
		http.Error(w, fmt.Sprintf("capacity proxy: %v", err), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		http.Error(w, fmt.Sprintf("capacity proxy: %v", err), http.StatusBadGateway)
		return
	}
	answer := edit(resp.StatusCode, got)
	if answer == nil {
		answer = got
	}
	for k, v := range resp.Header {
		if k != "Content-Length" {
			w.Header()[k] = v
		}
	}
	if !bytes.Equal(answer, got) && resp.Header.Get("X-Amz-Crc32") != "" {
		w.Header().Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(answer)), 10))
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(answer)))
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}
