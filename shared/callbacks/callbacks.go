// Package callbacks tells partners how their orders move: it consumes the
// partner-callbacks queue (subscribed to the order-events topic) and POSTs
// each status change of a partner's order to the partner's callback URL,
// signed with both webhook schemes.
//
// In status order, whatever SQS does: delivery is at least once and not
// ordered, so a message is only a wake-up call for its order. The sender
// reads the order's history and sends, oldest first, every status change
// after the last one the partner acknowledged (the delivered version of the
// order's callbacks record) up to the message's version, and stops at the
// first failure. A later
// message for the same order therefore starts again from the oldest
// undelivered change, and a message whose version was already delivered is
// acknowledged at once. Each change has a stable delivery id
// ("<orderId>-v<version>") and the same body on every attempt, so a partner
// deduplicates the repeats at-least-once delivery brings.
//
// What the partner sees: a POST of a Callback (JSON, no personal data) with
// Content-Type application/json, User-Agent xborder-callbacks/1, and two
// signatures, one per scheme, each with one signature per active secret of
// the partner, so during a rotation it verifies with whichever secret it
// holds: Standard Webhooks (webhook-id — the delivery id, signed —
// webhook-timestamp and webhook-signature, partnerlink.Sign) and the
// scheme being retired (Xborder-Delivery-Id, unsigned, and
// Xborder-Signature, partner.Sign; see partner.LegacySunset). Any 2xx is
// delivered. 410 Gone means "stop": nothing more is sent
// for that order (a history note records it). Anything else — other 4xx,
// 5xx, a redirect to another host, a timeout (10 s) or a network error —
// is retried: the partner may fix its endpoint, and later status changes
// wait behind the undelivered one.
//
// Only public addresses are reached: the client's dialer refuses loopback,
// private, link-local and metadata addresses when it connects, whatever the
// URL's host resolves to (package egress; loopback is allowed on the local
// stack only). A refused destination is a failed attempt like a network
// error, recorded with why.
//
// Failures come back through SQS with exponential backoff: the failed
// message's visibility is set to min(2^receiveCount × BaseDelay, 12 h) —
// 10, 20, 40, 80, 160 minutes with the default 5-minute base — and after
// the queue's maxReceiveCount it goes to the dead-letter queue. A later
// message of the same order still sends the dead-lettered change first.
//
// Every attempt is recorded beside the order, never in it (an item of its
// own, with the delivered version for a delivered one), each with a
// history note that does not move the order on: callback_delivered:<STATUS>
// once per delivered change, callback_failed:<STATUS> per failed attempt.
// The order itself is never written.
package callbacks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
)

// EnvQueueURL is the environment variable naming the partner-callbacks
// queue's URL (for the visibility changes of the backoff).
const EnvQueueURL = "CALLBACK_QUEUE_URL"

// Callback body and headers.
const (
	// EventStatusChanged is the callback's type.
	EventStatusChanged = "order.status_changed"
	// UserAgent is sent with every callback.
	UserAgent = "xborder-callbacks/1"
)

// Defaults.
const (
	// DefaultBaseDelay is the backoff's unit: 10, 20, 40, 80, 160 minutes
	// after the first to fifth failed receive.
	DefaultBaseDelay = 5 * time.Minute
	// MaxDelay is SQS's longest visibility timeout.
	MaxDelay = 12 * time.Hour
	// DefaultTimeout bounds one POST, answer included.
	DefaultTimeout = 10 * time.Second
)

// History notes the sender writes (actor "callbacks").
const (
	actor = "callbacks"
	// NoteDelivered + status: the partner acknowledged that status change.
	NoteDelivered = "callback_delivered:"
	// NoteFailed + status: an attempt failed (it is retried).
	NoteFailed = "callback_failed:"
	// NoteStopped: the partner answered 410 Gone; nothing more is sent for
	// the order.
	NoteStopped = "callbacks_stopped"
)

// Orders is what the sender needs of the order store (dynamostore.Store).
type Orders interface {
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	History(ctx context.Context, id string) ([]order.Event, error)
	// Callbacks reads what the partner was told of an order: the
	// delivered version and the attempts.
	Callbacks(ctx context.Context, id string) (order.CallbackRecord, error)
	// RecordCallback stores an attempt with its history note; a delivered
	// one moves the delivered version up, and writes nothing (false) when
	// another sender recorded that version first. Contention that outlasts
	// the store's retries is order.ErrVersionConflict.
	RecordCallback(ctx context.Context, id string, a order.CallbackAttempt, note order.Event) (bool, error)
}

// Partners finds a partner by id (*partner.Directory).
type Partners interface {
	Get(id string) (*partner.Partner, bool)
}

// Visibility changes a received message's visibility timeout (*sqs.Client).
type Visibility interface {
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// Callback is the JSON body POSTed to the partner. It carries no personal
// data: ids, statuses, the reason code, the tracking number and times.
type Callback struct {
	Type            string       `json:"type"`
	DeliveryID      string       `json:"deliveryId"`
	OrderID         string       `json:"orderId"`
	PartnerOrderRef string       `json:"partnerOrderRef,omitempty"`
	Status          order.Status `json:"status"`
	PreviousStatus  order.Status `json:"previousStatus,omitempty"`
	Reason          string       `json:"reason,omitempty"`
	TrackingNumber  string       `json:"trackingNumber,omitempty"`
	Version         int64        `json:"version"`
	At              time.Time    `json:"at"`
}

// DeliveryID names the callback of an order's version: the same on every
// attempt, so the partner can deduplicate.
func DeliveryID(orderID string, version int64) string {
	return orderID + "-v" + strconv.FormatInt(version, 10)
}

// NewCallback describes history event ev of o.
func NewCallback(o *order.Order, ev order.Event) Callback {
	c := Callback{Type: EventStatusChanged, DeliveryID: DeliveryID(o.ID, ev.Version), OrderID: o.ID,
		PartnerOrderRef: o.PartnerOrderRef, Status: ev.To, PreviousStatus: ev.From, Reason: ev.Reason,
		Version: ev.Version, At: ev.At.UTC()}
	if ev.To == order.StatusDispatched || ev.To == order.StatusDelivered {
		c.TrackingNumber = o.TrackingNumber
	}
	return c
}

// Sender is the callback-sender Lambda's handler.
type Sender struct {
	Orders   Orders
	Partners Partners
	// Queue and QueueURL change a failed message's visibility for the
	// backoff. Without a URL it is derived from the record's queue ARN;
	// without Queue the queue's own visibility timeout applies.
	Queue    Visibility
	QueueURL string
	// HTTP posts the callbacks (NewHTTPClient(DefaultTimeout, nil), which
	// reaches public addresses only, by default).
	HTTP *http.Client
	// BaseDelay is the backoff's unit (DefaultBaseDelay).
	BaseDelay time.Duration
	Logger    *slog.Logger
	Now       func() time.Time
}

func (s *Sender) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Sender) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// defaultClient serves every Sender without an HTTP client of its own
// (handlers run concurrently: the Sender is never written to).
var defaultClient = NewHTTPClient(DefaultTimeout, nil)

func (s *Sender) client() *http.Client {
	if s.HTTP == nil {
		return defaultClient
	}
	return s.HTTP
}

// NewHTTPClient is the client callbacks are sent with: timeout bounds a
// POST and its answer; it connects with dialer, an egress.Policy's Dialer
// (nil: egress.Policy{}.Dialer(), public addresses only), never through a
// proxy; a redirect is followed only when it keeps the method and body
// (307, 308) and stays on the same scheme and host, at most twice, and its
// address is checked by the dialer as the first's; any other redirect is
// the answer (and counts as a failure).
func NewHTTPClient(timeout time.Duration, dialer *net.Dialer) *http.Client {
	if dialer == nil {
		dialer = egress.Policy{}.Dialer()
	}
	return &http.Client{Timeout: timeout, Transport: egress.Transport(dialer), CheckRedirect: func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if len(via) > 2 || req.Method != http.MethodPost || req.URL.Scheme != first.Scheme || req.URL.Host != first.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// permanent marks a message that can never succeed (malformed): it is sent
// back at once, to reach the dead-letter queue after maxReceiveCount.
type permanent struct{ err error }

func (e *permanent) Error() string { return e.err.Error() }
func (e *permanent) Unwrap() error { return e.err }

// errOutOfTime: the invocation has too little time left for another POST;
// the message comes back at once.
var errOutOfTime = errors.New("callbacks: too little time left in this invocation for another callback")

// errContended: the attempt could not be recorded for concurrent writes
// (other senders); no fault of the partner's, so the message comes back at
// once rather than after the backoff.
var errContended = errors.New("callbacks: order kept changing while recording the callback")

// Handle processes a batch; failed messages are reported as batch item
// failures, with their visibility set for the backoff.
func (s *Sender) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		err := s.one(ctx, m)
		if err == nil {
			continue
		}
		delay := s.Delay(receiveCount(m))
		var perm *permanent
		if errors.As(err, &perm) || errors.Is(err, errOutOfTime) || errors.Is(err, errContended) {
			delay = 0
		}
		s.log().WarnContext(ctx, "callback message failed", "messageId", m.MessageId, "error", err.Error(),
			"retryInSeconds", int(delay/time.Second))
		s.backoff(ctx, m, delay)
		resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
	}
	return resp, nil
}

// Delay is the backoff after the receiveCount-th receive failed:
// min(2^receiveCount × BaseDelay, 12 h).
func (s *Sender) Delay(receiveCount int) time.Duration {
	base := s.BaseDelay
	if base <= 0 {
		base = DefaultBaseDelay
	}
	if receiveCount < 1 {
		receiveCount = 1
	}
	d := base
	for i := 0; i < receiveCount && d < MaxDelay; i++ {
		d *= 2
	}
	return min(d, MaxDelay)
}

func receiveCount(m events.SQSMessage) int {
	n, err := strconv.Atoi(m.Attributes["ApproximateReceiveCount"])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// backoff hides the failed message for delay; if that fails it comes back
// after the queue's visibility timeout.
func (s *Sender) backoff(ctx context.Context, m events.SQSMessage, delay time.Duration) {
	if s.Queue == nil || m.ReceiptHandle == "" {
		return
	}
	u := s.QueueURL
	if u == "" {
		u = queueURLOf(m.EventSourceARN)
	}
	if u == "" {
		return
	}
	_, err := s.Queue.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(u),
		ReceiptHandle: aws.String(m.ReceiptHandle), VisibilityTimeout: int32(delay / time.Second)})
	if err != nil {
		s.log().WarnContext(ctx, "change message visibility", "messageId", m.MessageId, "error", err.Error())
	}
}

// queueURLOf is the standard URL of the queue arn:aws:sqs:<region>:<account>:<name>.
func queueURLOf(arn string) string {
	p := strings.Split(arn, ":")
	if len(p) != 6 || p[0] != "arn" || p[2] != "sqs" {
		return ""
	}
	return "https://sqs." + p[3] + ".amazonaws.com/" + p[4] + "/" + p[5]
}

// parse reads an order-events message: raw (the subscription's raw message
// delivery) or, for robustness, inside an SNS notification envelope.
func parse(body string) (orderevents.Message, error) {
	var msg orderevents.Message
	var env struct {
		Type    string `json:"Type"`
		Message string `json:"Message"`
	}
	if err := json.Unmarshal([]byte(body), &env); err == nil && env.Type == "Notification" && env.Message != "" {
		body = env.Message
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil {
		return msg, &permanent{fmt.Errorf("callbacks: message is not an order event: %w", err)}
	}
	if msg.OrderID == "" || msg.Version < 1 {
		return msg, &permanent{errors.New("callbacks: message is not an order event: no orderId or version")}
	}
	return msg, nil
}

// one handles a message: sends the order's undelivered status changes up to
// the message's version, in order.
func (s *Sender) one(ctx context.Context, m events.SQSMessage) error {
	msg, err := parse(m.Body)
	if err != nil {
		return err
	}
	if msg.Channel != "" && msg.Channel != string(order.ChannelPartner) {
		return nil // not a partner's order: no read needed
	}
	o, err := s.Orders.GetOrder(ctx, msg.OrderID)
	if err != nil {
		return fmt.Errorf("callbacks: read order %s: %w", msg.OrderID, err)
	}
	if o.Channel != order.ChannelPartner || o.PartnerID == "" {
		return nil
	}
	p, ok := s.Partners.Get(o.PartnerID)
	if !ok || p.CallbackURL == "" {
		s.log().InfoContext(ctx, "no callback", "orderId", o.ID, "partnerId", o.PartnerID, "knownPartner", ok)
		return nil
	}
	told, err := s.Orders.Callbacks(ctx, o.ID)
	if err != nil {
		return fmt.Errorf("callbacks: read the callbacks of %s: %w", o.ID, err)
	}
	delivered := told.DeliveredVersion
	if msg.Version <= delivered {
		return nil // a repeat, or sent already with a later message
	}
	history, err := s.Orders.History(ctx, o.ID)
	if err != nil {
		return fmt.Errorf("callbacks: read history of %s: %w", o.ID, err)
	}
	var pending []order.Event
	for _, ev := range history {
		if ev.From == ev.To && ev.Reason == NoteStopped {
			return nil // the partner asked for no more (410)
		}
		if ev.From != ev.To && ev.Version > delivered && ev.Version <= msg.Version {
			pending = append(pending, ev)
		}
	}
	sort.Slice(pending, func(i, j int) bool { return pending[i].Version < pending[j].Version })
	for _, ev := range pending {
		if ev.Version <= delivered {
			continue // another sender got there first
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < s.client().Timeout+2*time.Second {
			return errOutOfTime
		}
		a := s.post(ctx, p, o, ev)
		reason := NoteDelivered + string(ev.To)
		switch {
		case a.HTTPStatus == http.StatusGone:
			reason = NoteStopped
		case !a.Delivered:
			reason = NoteFailed + string(ev.To)
		}
		if err := s.record(ctx, o, a, reason); err != nil {
			return err
		}
		if a.Delivered {
			delivered = ev.Version
		}
		s.log().InfoContext(ctx, "callback", "orderId", o.ID, "partnerId", p.ID, "version", ev.Version, "status", string(ev.To),
			"httpStatus", a.HTTPStatus, "delivered", a.Delivered, "error", a.Error)
		switch {
		case a.HTTPStatus == http.StatusGone:
			return nil
		case !a.Delivered:
			return fmt.Errorf("callbacks: order %s v%d not delivered: %s", o.ID, ev.Version, a.Error)
		}
	}
	return nil
}

// post sends the callback of ev and says how it went.
func (s *Sender) post(ctx context.Context, p *partner.Partner, o *order.Order, ev order.Event) order.CallbackAttempt {
	now := s.now()
	a := order.CallbackAttempt{Version: ev.Version, Status: ev.To, At: now}
	body, err := json.Marshal(NewCallback(o, ev))
	if err != nil {
		a.Error = "encode: " + err.Error()
		return a
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.CallbackURL, bytes.NewReader(body))
	if err != nil {
		a.Error = "request: " + errText(err)
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	// Both schemes, one signature per active secret in each: during a
	// rotation the partner verifies with whichever secret it holds. The
	// Standard Webhooks signature covers the delivery id too.
	delivery := DeliveryID(o.ID, ev.Version)
	if err := partnerlink.Sign(req.Header, delivery, now, body, p.Secrets...); err != nil {
		a.Error = "sign: " + err.Error()
		return a
	}
	if now.Before(partner.LegacySunset) {
		// The retiring scheme, until its sunset.
		req.Header.Set(partner.DeliveryHeader, delivery)
		req.Header.Set(partner.SignatureHeader, partner.Sign(body, now, p.Secrets...))
	}
	resp, err := s.client().Do(req)
	if err != nil {
		a.Error = "network: " + errText(err)
		if errors.Is(err, egress.ErrRefused) {
			s.log().WarnContext(ctx, "callback destination refused", "orderId", o.ID, "partnerId", p.ID, "error", errText(err))
		}
		return a
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	a.HTTPStatus = resp.StatusCode
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		a.Delivered = true
	case resp.StatusCode == http.StatusGone:
		a.Error = "partner answered 410 Gone: no more callbacks for this order"
	default:
		a.Error = "partner answered " + strconv.Itoa(resp.StatusCode)
	}
	return a
}

// errText is an HTTP error without the URL (it may carry a token).
func errText(err error) string {
	var u *url.Error
	if errors.As(err, &u) {
		err = u.Err
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// recordAttempts bounds the writes of one attempt's record when concurrent
// writes keep refusing it.
const recordAttempts = 8

// record stores attempt a beside order o with a history note, an
// annotation of o's version as read: the order is not written. A delivery
// another sender has recorded meanwhile (both POSTed: at least once) is
// not written again.
func (s *Sender) record(ctx context.Context, o *order.Order, a order.CallbackAttempt, reason string) error {
	for attempt := 1; ; attempt++ {
		_, err := s.Orders.RecordCallback(ctx, o.ID, a, o.Annotate(reason, actor, s.now()))
		if err == nil {
			return nil
		}
		if !errors.Is(err, order.ErrVersionConflict) {
			return fmt.Errorf("callbacks: record callback of %s v%d: %w", o.ID, a.Version, err)
		}
		if attempt == recordAttempts {
			return fmt.Errorf("%w: %s v%d: %w", errContended, o.ID, a.Version, err)
		}
		// A little jitter, so that senders of the same order fall out of step.
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(rand.Int64N(int64(5*time.Millisecond) << min(attempt, 4)))):
		}
	}
}
