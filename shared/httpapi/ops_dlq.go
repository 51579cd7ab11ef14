package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Queues is what the ops API calls of SQS (an *sqs.Client).
type Queues interface {
	GetQueueAttributes(ctx context.Context, in *sqs.GetQueueAttributesInput, opts ...func(*sqs.Options)) (*sqs.GetQueueAttributesOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	ChangeMessageVisibilityBatch(ctx context.Context, in *sqs.ChangeMessageVisibilityBatchInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityBatchOutput, error)
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

// QueuePair is a queue and its dead-letter queue, by URL. As JSON (the api
// Lambda's DLQ_URLS): {"source": "…", "dlq": "…"}.
type QueuePair struct {
	SourceURL string `json:"source"`
	DLQURL    string `json:"dlq"`
}

// Bounds of the DLQ endpoints.
const (
	maxPeek = 10 // one ReceiveMessage
	// replaySearchReceives bounds the search for the message to replay
	// (10 messages each): 100 messages deep.
	replaySearchReceives = 10
	// replayHoldSeconds hides the messages passed over while searching, so
	// each receive sees new ones; they are released at once afterwards.
	replayHoldSeconds = 30
)

func (a *API) deadLettersConfigured() bool { return a.cfg.Queues != nil && len(a.cfg.DeadLetters) > 0 }

// dlqView is one dead-letter queue.
type dlqView struct {
	Queue     string `json:"queue"`
	DLQURL    string `json:"dlqUrl"`
	Depth     int    `json:"depth"`
	SourceURL string `json:"sourceUrl"`
}

// opsDLQs lists the dead-letter queues with the number of messages in each
// (ApproximateNumberOfMessages).
func (a *API) opsDLQs(w http.ResponseWriter, r *http.Request) {
	if !a.deadLettersConfigured() {
		notConfigured(w, r, "the queues and their dead-letter queues")
		return
	}
	dlqs, err := a.dlqDepths(r.Context())
	if err != nil {
		a.internalError(w, r, "read dead-letter queues", err)
		return
	}
	a.writeValue(w, r, http.StatusOK, map[string]any{"dlqs": dlqs})
}

// dlqDepths reads every dead-letter queue's depth, by queue name.
func (a *API) dlqDepths(ctx context.Context) ([]dlqView, error) {
	var names []string
	for name := range a.cfg.DeadLetters {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]dlqView, len(names))
	tasks := make([]func() error, len(names))
	for i, name := range names {
		q := a.cfg.DeadLetters[name]
		tasks[i] = func() error {
			attrs, err := a.cfg.Queues.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(q.DLQURL),
				AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
			if err != nil {
				return fmt.Errorf("depth of %s's dead-letter queue: %w", name, err)
			}
			depth, _ := strconv.Atoi(attrs.Attributes[string(sqstypes.QueueAttributeNameApproximateNumberOfMessages)])
			out[i] = dlqView{Queue: name, DLQURL: q.DLQURL, Depth: depth, SourceURL: q.SourceURL}
			return nil
		}
	}
	return out, parallel(tasks)
}

// deadLetter is one message of a dead-letter queue.
type deadLetter struct {
	MessageID    string    `json:"messageId"`
	Body         string    `json:"body"`
	ReceiveCount int       `json:"receiveCount"`
	SentAt       time.Time `json:"sentAt"`
}

func deadLetterOf(m sqstypes.Message) deadLetter {
	d := deadLetter{MessageID: aws.ToString(m.MessageId), Body: aws.ToString(m.Body)}
	d.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(sqstypes.MessageSystemAttributeNameApproximateReceiveCount)])
	if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		d.SentAt = time.UnixMilli(ms).UTC()
	}
	return d
}

// dlqOf finds the path's queue, or answers 404 (or 503 unconfigured).
func (a *API) dlqOf(w http.ResponseWriter, r *http.Request) (string, QueuePair, bool) {
	if !a.deadLettersConfigured() {
		notConfigured(w, r, "the queues and their dead-letter queues")
		return "", QueuePair{}, false
	}
	name := r.PathValue("queue")
	q, ok := a.cfg.DeadLetters[name]
	if !ok {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such queue."})
	}
	return name, q, ok
}

// receive takes up to max messages from url, hidden for hold seconds, with
// their receive count and sending time.
func (a *API) receive(ctx context.Context, url string, max, hold int32) ([]sqstypes.Message, error) {
	out, err := a.cfg.Queues.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: max,
		VisibilityTimeout: hold, WaitTimeSeconds: 1, MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{
			sqstypes.MessageSystemAttributeNameApproximateReceiveCount, sqstypes.MessageSystemAttributeNameSentTimestamp}})
	if err != nil {
		return nil, fmt.Errorf("receive from dead-letter queue: %w", err)
	}
	return out.Messages, nil
}

// release makes received messages visible again at once.
func (a *API) release(ctx context.Context, url string, msgs []sqstypes.Message) {
	for batch := range slices.Chunk(msgs, 10) {
		entries := make([]sqstypes.ChangeMessageVisibilityBatchRequestEntry, len(batch))
		for i, m := range batch {
			entries[i] = sqstypes.ChangeMessageVisibilityBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle}
		}
		if _, err := a.cfg.Queues.ChangeMessageVisibilityBatch(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityBatchInput{
			QueueUrl: aws.String(url), Entries: entries}); err != nil {
			// They come back by themselves when their visibility timeout ends.
			a.cfg.Logger.WarnContext(ctx, "release dead letters", "requestId", requestID(ctx), "error", err.Error())
		}
	}
}

// opsPeekDLQ shows up to ?max= (10) messages of a dead-letter queue,
// leaving them there: a receive whose messages are made visible again at
// once (ChangeMessageVisibility 0; the SDK cannot send a receive's
// VisibilityTimeout of 0, so the receive hides them for 1 s at most). Each
// peek adds one to a message's receive count; a dead-letter queue has no
// redrive policy, so that moves nothing.
func (a *API) opsPeekDLQ(w http.ResponseWriter, r *http.Request) {
	_, q, ok := a.dlqOf(w, r)
	if !ok {
		return
	}
	max, err := intParam(r.URL.Query(), "max", maxPeek, 1, maxPeek)
	if err != nil {
		badRequest(w, r, err.Error()+".")
		return
	}
	ctx := r.Context()
	msgs, err := a.receive(ctx, q.DLQURL, int32(max), 1)
	if err != nil {
		a.internalError(w, r, "peek dead-letter queue", err)
		return
	}
	a.release(ctx, q.DLQURL, msgs)
	view := make([]deadLetter, len(msgs))
	for i, m := range msgs {
		view[i] = deadLetterOf(m)
	}
	a.writeValue(w, r, http.StatusOK, map[string]any{"messages": view})
}

// opsReplay sends one dead letter back to its source queue and deletes it
// from the dead-letter queue: 202, or 404 when the message is not among the
// first 100 it can receive. If the body names an order ({"orderId": …}),
// the replay is noted in the order's history.
func (a *API) opsReplay(w http.ResponseWriter, r *http.Request) {
	name, q, ok := a.dlqOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	id := r.PathValue("messageId")
	msg, found, err := a.findDeadLetter(ctx, q.DLQURL, id)
	if err != nil {
		a.internalError(w, r, "find dead letter", err)
		return
	}
	if !found {
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound,
			Detail: "No such message in the dead-letter queue (or another receive holds it now); peek again."})
		return
	}
	if _, err := a.cfg.Queues.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.SourceURL), MessageBody: msg.Body,
		MessageAttributes: msg.MessageAttributes}); err != nil {
		a.release(ctx, q.DLQURL, []sqstypes.Message{msg})
		a.internalError(w, r, "replay dead letter", fmt.Errorf("send to %s: %w", name, err))
		return
	}
	if _, err := a.cfg.Queues.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.DLQURL), ReceiptHandle: msg.ReceiptHandle}); err != nil {
		// Sent already: the consumers are idempotent, so a second replay is harmless.
		a.cfg.Logger.WarnContext(ctx, "delete replayed dead letter", "requestId", requestID(ctx), "queue", name, "error", err.Error())
	}
	a.cfg.Logger.InfoContext(ctx, "dead letter replayed", "requestId", requestID(ctx), "queue", name, "messageId", id)
	var body struct {
		OrderID string `json:"orderId"`
	}
	if json.Unmarshal([]byte(aws.ToString(msg.Body)), &body) == nil && body.OrderID != "" {
		_ = a.note(ctx, body.OrderID, "dead_letter_replayed") // replayed already: a failure to note it is logged
	}
	a.writeValue(w, r, http.StatusAccepted, map[string]string{"messageId": id, "queue": name})
}

// findDeadLetter receives from the dead-letter queue until it sees message
// id (bounded), and releases every other message it received.
func (a *API) findDeadLetter(ctx context.Context, url, id string) (sqstypes.Message, bool, error) {
	var passed []sqstypes.Message
	defer func() { a.release(ctx, url, passed) }()
	for range replaySearchReceives {
		msgs, err := a.receive(ctx, url, 10, replayHoldSeconds)
		if err != nil {
			return sqstypes.Message{}, false, err
		}
		if len(msgs) == 0 {
			break
		}
		for i, m := range msgs {
			if aws.ToString(m.MessageId) == id {
				passed = append(passed, msgs[i+1:]...)
				return m, true, nil
			}
			passed = append(passed, m)
		}
	}
	return sqstypes.Message{}, false, nil
}

// EnvDeadLetters is the api Lambda's variable naming the queues and their
// dead-letter queues, as JSON: {"customs": {"source": "<url>", "dlq": "<url>"}, …}.
const EnvDeadLetters = "DLQ_URLS"

// ParseDeadLetters reads EnvDeadLetters' JSON ("" is none).
func ParseDeadLetters(s string) (map[string]QueuePair, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]QueuePair
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("httpapi: %s: %w", EnvDeadLetters, err)
	}
	for name, q := range m {
		if name == "" || q.SourceURL == "" || q.DLQURL == "" {
			return nil, fmt.Errorf("httpapi: %s: queue %q needs both a source and a dlq URL", EnvDeadLetters, name)
		}
	}
	return m, nil
}
