package callbacks_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/oklog/ulid/v2"

	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/storetest"
)

// Two active secrets: the partner is rotating.
var (
	oldSecret = "whsec_b2xkLTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9w"
	newSecret = "whsec_bmV3LTAxMjM0NTY3ODlhYmNkZWZnaGlqa2xtbm9w"
)

// personal is what storetest.Order knows of the buyer and consignee; no
// callback may carry any of it.
var personal = []string{"Test Buyer", "buyer@example.de", "+4915100000000", "Hauptstraße", "Hinterhaus", "10115", "Berlin", "tok_visa"}

// receiver is a partner's callback endpoint. It verifies every request
// as the partner would — the signature with each active secret on its
// own, the headers, the body's shape and that it holds no personal data —
// and answers what plan says for the n-th request (1-based; -1 hangs up).
type receiver struct {
	*httptest.Server
	t    *testing.T
	plan func(n int) int
	mu   sync.Mutex
	n    int
	// accepted are the callbacks answered 2xx, in arrival order.
	accepted []callbacks.Callback
	// seen counts the requests per delivery id.
	seen map[string]int
}

func newReceiver(t *testing.T, plan func(n int) int) *receiver {
	r := &receiver{t: t, plan: plan, seen: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	// Both schemes, each with each active secret on its own.
	for _, s := range []string{oldSecret, newSecret} {
		if err := partner.Verify(req.Header.Get(partner.SignatureHeader), body, []string{s}, time.Now(), partner.DefaultTolerance); err != nil {
			r.t.Errorf("callback's Xborder-Signature does not verify with secret %s…: %v", s[:10], err)
		}
		id, err := partnerlink.Verify(req.Header, body, time.Now(), partnerlink.DefaultTolerance, s)
		if err != nil || id != req.Header.Get(partner.DeliveryHeader) {
			r.t.Errorf("callback's webhook-signature with secret %s…: id %q, %v; want the delivery id %q", s[:10], id, err, req.Header.Get(partner.DeliveryHeader))
		}
	}
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("someone-else-0123456789abcdef"))
	if err := partner.Verify(req.Header.Get(partner.SignatureHeader), body, []string{other}, time.Now(), 0); err == nil {
		r.t.Error("callback verifies with a secret that is not the partner's")
	}
	if _, err := partnerlink.Verify(req.Header, body, time.Now(), 0, other); err == nil {
		r.t.Error("callback's webhook-signature verifies with a secret that is not the partner's")
	}
	// The delivery id is signed: the same signature under another id fails.
	moved := req.Header.Clone()
	moved.Set(partnerlink.HeaderID, req.Header.Get(partnerlink.HeaderID)+"-replayed")
	if _, err := partnerlink.Verify(moved, body, time.Now(), 0, oldSecret, newSecret); err == nil {
		r.t.Error("the webhook-signature verifies under another webhook-id")
	}
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Header.Get("User-Agent") != callbacks.UserAgent {
		r.t.Errorf("%s with Content-Type %q, User-Agent %q", req.Method, req.Header.Get("Content-Type"), req.Header.Get("User-Agent"))
	}
	for _, p := range personal {
		if bytes.Contains(body, []byte(p)) {
			r.t.Errorf("callback carries personal data %q: %s", p, body)
		}
	}
	var c callbacks.Callback
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		r.t.Errorf("callback body %s: %v", body, err)
	}
	id := req.Header.Get(partner.DeliveryHeader)
	if want := fmt.Sprintf("%s-v%d", c.OrderID, c.Version); id != want || c.DeliveryID != want || c.Type != "order.status_changed" {
		r.t.Errorf("delivery id header %q, body %q, type %q; want %q", id, c.DeliveryID, c.Type, want)
	}
	r.seen[id]++
	status := http.StatusNoContent
	if r.plan != nil {
		status = r.plan(r.n)
	}
	if status < 0 {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	if status >= 200 && status < 300 {
		r.accepted = append(r.accepted, c)
	}
	w.WriteHeader(status)
}

func (r *receiver) requests() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// versions are the versions accepted, in arrival order; first keeps each
// version's first arrival only (what a partner deduplicating by delivery id
// processes).
func (r *receiver) versions(first bool) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []int64
	for _, c := range r.accepted {
		if !first || !slices.Contains(out, c.Version) {
			out = append(out, c.Version)
		}
	}
	return out
}

// visibility records ChangeMessageVisibility calls.
type visibility struct {
	mu    sync.Mutex
	calls []sqs.ChangeMessageVisibilityInput
}

func (v *visibility) ChangeMessageVisibility(_ context.Context, in *sqs.ChangeMessageVisibilityInput, _ ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, *in)
	return &sqs.ChangeMessageVisibilityOutput{}, nil
}

func (v *visibility) delays() []time.Duration {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []time.Duration
	for _, c := range v.calls {
		out = append(out, time.Duration(c.VisibilityTimeout)*time.Second)
	}
	return out
}

type fixture struct {
	t      *testing.T
	store  *dynamostore.Store
	vis    *visibility
	sender *callbacks.Sender
	logs   *bytes.Buffer
}

const queueURL = "http://sqs.us-east-1.127.0.0.1:9324/000000000000/partner-callbacks"

// newFixture is a sender on a fresh DynamoDB Local table, with a directory
// of partners: "shop" posting to callbackURL, "quiet" without a callback URL.
func newFixture(t *testing.T, callbackURL string) *fixture {
	t.Helper()
	db := dynamotest.Client(t)
	store := dynamostore.New(db, dynamotest.Table(t, db))
	dir, err := partner.Parse(fmt.Appendf(nil, `{"partners": [
		{"id": "shop", "secrets": [%q, %q], "format": "native", "callbackUrl": %q, "tradeModes": ["B2C"]},
		{"id": "quiet", "secrets": [%q], "format": "native", "tradeModes": ["B2C"]}]}`, newSecret, oldSecret, callbackURL, newSecret))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, vis: &visibility{}, logs: &bytes.Buffer{}}
	// The receivers listen on loopback, as on the local stack.
	f.sender = &callbacks.Sender{Orders: store, Partners: dir, Queue: f.vis, QueueURL: queueURL,
		HTTP:   callbacks.NewHTTPClient(callbacks.DefaultTimeout, egress.ForSandbox(egress.LocalSandbox).Dialer()),
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{w: f.logs}, nil))}
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// order creates an order of channel ch placed by partnerID and takes it
// through the happy path to DISPATCHED, with notes in between, as the
// workflow would. It returns the order-events messages the workflow
// published (the status changes after RECEIVED) and the versions of every
// status change, RECEIVED included.
func (f *fixture) order(ch order.Channel, partnerID string) (string, []orderevents.Message, []int64) {
	f.t.Helper()
	ctx := context.Background()
	id := ulid.Make().String()
	at := time.Now().UTC().Add(-time.Hour)
	o := storetest.Order(id, "partner:"+partnerID, at)
	o.Channel, o.PartnerID, o.PartnerOrderRef = ch, partnerID, "PO-"+id[20:]
	first := order.Event{OrderID: id, Version: 1, At: at, To: order.StatusReceived, Actor: "partner:" + partnerID}
	if _, err := f.store.CreateOrder(ctx, o, first, storetest.Completed("partner:"+partnerID, "d-"+id, id, at), at); err != nil {
		f.t.Fatal(err)
	}
	var msgs []orderevents.Message
	statuses := []int64{1}
	step := func(to order.Status, note string) {
		at = at.Add(time.Minute)
		var ev order.Event
		if note != "" {
			ev = o.Note(note, "workflow", at)
		} else {
			var err error
			if ev, err = o.Transition(to, "", "workflow", at); err != nil {
				f.t.Fatal(err)
			}
		}
		if err := f.store.SaveTransition(ctx, o, ev); err != nil {
			f.t.Fatal(err)
		}
		if note == "" {
			msgs = append(msgs, orderevents.NewMessage(o, ev))
			statuses = append(statuses, ev.Version)
		}
	}
	step(order.StatusStockReserved, "")
	step("", "payment_authorized")
	step(order.StatusPaymentAuthorized, "")
	step("", "awaiting_customs")
	step(order.StatusCustomsCleared, "")
	step(order.StatusPaymentCaptured, "")
	o.TrackingNumber = "XB" + id[16:] + "DE"
	step("", "shipped")
	step(order.StatusDispatched, "")
	return id, msgs, statuses
}

var seq int

// record is the SQS record of msg as Lambda hands it over.
func record(msg orderevents.Message, receiveCount int) events.SQSMessage {
	body, _ := json.Marshal(msg)
	return rawRecord(string(body), receiveCount)
}

func rawRecord(body string, receiveCount int) events.SQSMessage {
	seq++
	return events.SQSMessage{MessageId: fmt.Sprintf("m-%d", seq), ReceiptHandle: fmt.Sprintf("rh-%d", seq), Body: body,
		Attributes: map[string]string{"ApproximateReceiveCount": strconv.Itoa(receiveCount)}, EventSource: "aws:sqs",
		EventSourceARN: "arn:aws:sqs:us-east-1:000000000000:partner-callbacks"}
}

func (f *fixture) handle(recs ...events.SQSMessage) []string {
	f.t.Helper()
	resp, err := f.sender.Handle(context.Background(), events.SQSEvent{Records: recs})
	if err != nil {
		f.t.Fatal(err)
	}
	var failed []string
	for _, it := range resp.BatchItemFailures {
		failed = append(failed, it.ItemIdentifier)
	}
	return failed
}

func (f *fixture) get(id string) (*order.Order, []order.Event) {
	f.t.Helper()
	o, err := f.store.GetOrder(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	h, err := f.store.History(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return o, h
}

// told reads what the partner was told of order id: the delivered version
// and every attempt, kept beside the order.
func (f *fixture) told(id string) order.CallbackRecord {
	f.t.Helper()
	c, err := f.store.Callbacks(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

func notes(h []order.Event, prefix string) []string {
	var out []string
	for _, ev := range h {
		if ev.From == ev.To && strings.HasPrefix(ev.Reason, prefix) {
			out = append(out, ev.Reason)
		}
	}
	return out
}

// Messages arriving shuffled and duplicated, in batches: the partner hears
// of every status change once, in status order, RECEIVED first.
func TestCallbacksArriveInStatusOrder(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	id, msgs, statuses := f.order(order.ChannelPartner, "shop")
	var recs []events.SQSMessage
	for _, m := range msgs {
		recs = append(recs, record(m, 1), record(m, 1))
	}
	rng := rand.New(rand.NewPCG(8, 8))
	rng.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	for len(recs) > 0 {
		n := min(1+rng.IntN(3), len(recs))
		if failed := f.handle(recs[:n]...); len(failed) > 0 {
			t.Fatalf("healthy partner, yet messages failed: %v\n%s", failed, f.logs)
		}
		recs = recs[n:]
	}
	if got := r.versions(false); !slices.Equal(got, statuses) {
		t.Fatalf("partner received versions %v, want each status change once in order %v", got, statuses)
	}
	want := []order.Status{order.StatusReceived, order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared,
		order.StatusPaymentCaptured, order.StatusDispatched}
	for i, c := range r.accepted {
		if c.Status != want[i] || c.OrderID != id || c.PartnerOrderRef != "PO-"+id[20:] || c.At.IsZero() {
			t.Errorf("callback %d: %+v", i, c)
		}
		if i > 0 && c.PreviousStatus != want[i-1] {
			t.Errorf("callback %d: previous status %s, want %s", i, c.PreviousStatus, want[i-1])
		}
		if (c.Status == order.StatusDispatched) != (c.TrackingNumber != "") {
			t.Errorf("callback %d (%s): tracking number %q", i, c.Status, c.TrackingNumber)
		}
	}
	o, h := f.get(id)
	if c := f.told(id); c.DeliveredVersion != statuses[len(statuses)-1] || len(c.Attempts) != len(statuses) {
		t.Fatalf("callbacks of the order: %+v", c)
	}
	if o.Version != statuses[len(statuses)-1] {
		t.Fatalf("the callbacks wrote the order: version %d, want %d", o.Version, statuses[len(statuses)-1])
	}
	// One history note per delivered status, none for the repeats.
	if got := notes(h, "callback_"); len(got) != len(statuses) || got[0] != "callback_delivered:RECEIVED" || got[len(got)-1] != "callback_delivered:DISPATCHED" {
		t.Fatalf("history notes %v", got)
	}
	if len(f.vis.delays()) != 0 {
		t.Errorf("visibility changed without a failure: %v", f.vis.delays())
	}
	// Repeats of delivered versions are acknowledged from the order and
	// its callbacks record alone.
	counting := &countingOrders{Orders: f.store}
	f.sender.Orders = counting
	for _, m := range msgs {
		if failed := f.handle(record(m, 2)); len(failed) > 0 {
			t.Fatalf("repeat failed: %v", failed)
		}
	}
	if counting.history != 0 || len(r.versions(false)) != len(statuses) {
		t.Fatalf("repeats read the history %d times and sent %d callbacks", counting.history, len(r.versions(false))-len(statuses))
	}
}

type countingOrders struct {
	callbacks.Orders
	history int
}

func (c *countingOrders) History(ctx context.Context, id string) ([]order.Event, error) {
	c.history++
	return c.Orders.History(ctx, id)
}

// Concurrent consumers (Lambda runs several): repeats may reach the partner
// — at least once — but the first arrival of each version is in order and
// every status change arrives.
func TestConcurrentSendersKeepTheOrder(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	_, msgs, statuses := f.order(order.ChannelPartner, "shop")
	var recs []events.SQSMessage
	for range 3 {
		for _, m := range msgs {
			recs = append(recs, record(m, 1))
		}
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
	for round := 0; len(recs) > 0; round++ {
		if round > 10 {
			t.Fatalf("messages still failing: %d\n%s", len(recs), f.logs)
		}
		var mu sync.Mutex
		var again []events.SQSMessage
		var wg sync.WaitGroup
		for i := range recs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if failed := f.handle(recs[i]); len(failed) > 0 {
					mu.Lock()
					again = append(again, recs[i]) // version conflicts past the retries: SQS brings it back
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		recs = again
	}
	if got := r.versions(true); !slices.Equal(got, statuses) {
		t.Fatalf("first arrivals %v, want %v", got, statuses)
	}
	t.Logf("%d callbacks for %d status changes", len(r.versions(false)), len(statuses))
}

// A partner failing twice (a 500, then a dropped connection): every
// attempt is on the order, the message comes back later each time, and
// after the partner recovers each version arrives once.
func TestFailuresBackOffAndAreRecorded(t *testing.T) {
	r := newReceiver(t, func(n int) int {
		switch n {
		case 1:
			return http.StatusInternalServerError
		case 2:
			return -1
		}
		return http.StatusOK
	})
	f := newFixture(t, r.URL)
	id, msgs, statuses := f.order(order.ChannelPartner, "shop")
	last := msgs[len(msgs)-1]
	for rc := 1; rc <= 2; rc++ {
		rec := record(last, rc)
		if failed := f.handle(rec); !slices.Equal(failed, []string{rec.MessageId}) {
			t.Fatalf("receive %d: failed %v, want the message back", rc, failed)
		}
		if c := f.vis.calls[len(f.vis.calls)-1]; aws.ToString(c.ReceiptHandle) != rec.ReceiptHandle || aws.ToString(c.QueueUrl) != queueURL {
			t.Fatalf("visibility changed for %s on %s", aws.ToString(c.ReceiptHandle), aws.ToString(c.QueueUrl))
		}
	}
	if got, want := f.vis.delays(), []time.Duration{10 * time.Minute, 20 * time.Minute}; !slices.Equal(got, want) {
		t.Fatalf("backoff %v, want %v", got, want)
	}
	// The partner is back: a message for an earlier version delivers what
	// it covers, oldest first; the redelivered message the rest.
	if failed := f.handle(record(msgs[0], 1)); len(failed) != 0 || !slices.Equal(r.versions(false), statuses[:2]) {
		t.Fatalf("failed %v, delivered %v", failed, r.versions(false))
	}
	if failed := f.handle(record(last, 3)); len(failed) != 0 {
		t.Fatalf("after recovery, failed %v\n%s", failed, f.logs)
	}
	if got := r.versions(false); !slices.Equal(got, statuses) {
		t.Fatalf("delivered %v, want %v once each", got, statuses)
	}
	if r.seen[callbacks.DeliveryID(id, 1)] != 3 {
		t.Errorf("version 1 was tried %d times, want 3 (500, hang-up, 200)", r.seen[callbacks.DeliveryID(id, 1)])
	}
	_, h := f.get(id)
	c := f.told(id)
	a := c.Attempts
	if len(a) != 2+len(statuses) || a[0].Delivered || a[0].HTTPStatus != 500 || a[1].Delivered || a[1].HTTPStatus != 0 ||
		!strings.HasPrefix(a[1].Error, "network:") || !a[2].Delivered || a[2].Version != 1 || a[2].HTTPStatus != 200 {
		t.Fatalf("attempts %+v", a)
	}
	if strings.Contains(a[1].Error, r.URL) {
		t.Errorf("the attempt's error names the callback URL: %s", a[1].Error)
	}
	if c.DeliveredVersion != statuses[len(statuses)-1] {
		t.Errorf("delivered version %d", c.DeliveredVersion)
	}
	if got := notes(h, "callback_failed:"); len(got) != 2 {
		t.Errorf("failure notes %v", got)
	}
}

func TestBackoffIsExponentialUpToTwelveHours(t *testing.T) {
	s := &callbacks.Sender{}
	for rc, want := range map[int]time.Duration{0: 10 * time.Minute, 1: 10 * time.Minute, 2: 20 * time.Minute, 3: 40 * time.Minute,
		5: 160 * time.Minute, 7: 640 * time.Minute, 8: 12 * time.Hour, 1000: 12 * time.Hour} {
		if got := s.Delay(rc); got != want {
			t.Errorf("receive %d: %v, want %v", rc, got, want)
		}
	}
	if got := (&callbacks.Sender{BaseDelay: time.Second}).Delay(3); got != 8*time.Second {
		t.Errorf("base 1 s, receive 3: %v", got)
	}
}

// Any answer but 2xx and 410 is retried: a 4xx too (the partner may fix
// its endpoint), and a redirect, which is not followed to another host.
func TestRefusalsAndRedirectsAreRetried(t *testing.T) {
	elsewhere := newReceiver(t, nil)
	r := newReceiver(t, nil)
	answers := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) },
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusTooManyRequests) },
		func(w http.ResponseWriter) {
			w.Header().Set("Location", elsewhere.URL+"/hook")
			w.WriteHeader(http.StatusTemporaryRedirect)
		},
	}
	inner := r.Config.Handler
	var n int
	r.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		n++
		if n <= len(answers) {
			answers[n-1](w)
			return
		}
		inner.ServeHTTP(w, req)
	})
	f := newFixture(t, r.URL)
	id, msgs, _ := f.order(order.ChannelPartner, "shop")
	for i := range answers {
		if failed := f.handle(record(msgs[0], i+1)); len(failed) != 1 {
			t.Fatalf("answer %d: failed %v", i, failed)
		}
	}
	if elsewhere.requests() != 0 {
		t.Fatal("the redirect to another host was followed")
	}
	c := f.told(id)
	var codes []int
	for _, a := range c.Attempts {
		codes = append(codes, a.HTTPStatus)
	}
	if !slices.Equal(codes, []int{400, 429, 307}) || c.DeliveredVersion != 0 {
		t.Fatalf("attempts %v, delivered %d", codes, c.DeliveredVersion)
	}
	if failed := f.handle(record(msgs[0], 4)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if got := r.versions(false); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("delivered %v", got)
	}
}

// 410 Gone: the partner wants no more callbacks for the order.
func TestGoneStopsTheOrdersCallbacks(t *testing.T) {
	r := newReceiver(t, func(int) int { return http.StatusGone })
	f := newFixture(t, r.URL)
	id, msgs, _ := f.order(order.ChannelPartner, "shop")
	if failed := f.handle(record(msgs[0], 1)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if failed := f.handle(record(msgs[len(msgs)-1], 1)); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if r.requests() != 1 {
		t.Fatalf("%d requests after a 410, want 1", r.requests())
	}
	_, h := f.get(id)
	if got, c := notes(h, "callbacks_stopped"), f.told(id); len(got) != 1 || len(c.Attempts) != 1 || c.Attempts[0].HTTPStatus != 410 {
		t.Fatalf("notes %v, attempts %+v", got, c.Attempts)
	}
	// Another order of the same partner still gets its callbacks.
	_, msgs2, _ := f.order(order.ChannelPartner, "shop")
	r.mu.Lock()
	r.plan = nil
	r.mu.Unlock()
	if failed := f.handle(record(msgs2[0], 1)); len(failed) != 0 || r.requests() != 3 {
		t.Fatalf("other order: failed %v, %d requests", failed, r.requests())
	}
}

// Orders not placed by a partner, and partners unknown or without a
// callback URL: acknowledged, nothing sent, nothing written.
func TestOrdersWithoutACallbackAreAcked(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	// A mobile order, even one naming a partner, is not the partner's to hear of.
	mobile, mobileMsgs, _ := f.order(order.ChannelMobile, "shop")
	unknown, unknownMsgs, _ := f.order(order.ChannelPartner, "gone-partner")
	quiet, quietMsgs, _ := f.order(order.ChannelPartner, "quiet")
	noChannel := mobileMsgs[1]
	noChannel.Channel = "" // the order itself is read to decide
	recs := []events.SQSMessage{record(mobileMsgs[0], 1), record(noChannel, 1), record(unknownMsgs[0], 1), record(quietMsgs[len(quietMsgs)-1], 1)}
	if failed := f.handle(recs...); len(failed) != 0 {
		t.Fatalf("failed %v", failed)
	}
	if r.requests() != 0 {
		t.Fatalf("%d callbacks sent", r.requests())
	}
	for _, id := range []string{mobile, unknown, quiet} {
		if _, h := f.get(id); len(f.told(id).Attempts) != 0 || len(notes(h, "callback")) != 0 {
			t.Errorf("%s: callbacks %+v", id, f.told(id))
		}
	}
	if len(f.vis.delays()) != 0 {
		t.Errorf("visibility changed: %v", f.vis.delays())
	}
}

// A message that is no order event fails at once (visibility 0), to reach
// the dead-letter queue after maxReceiveCount receives; the log does not
// repeat its content.
func TestMalformedMessagesFail(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	bad := []events.SQSMessage{rawRecord("not json", 1), rawRecord(`{"orderId": 42, "buyer": "Jane Roe <jane@example.com>"}`, 1),
		rawRecord(`{"version": 3}`, 1), rawRecord(`{"orderId": "01KX", "version": 0}`, 1), rawRecord(`[]`, 1)}
	var want []string
	for _, m := range bad {
		want = append(want, m.MessageId)
	}
	if failed := f.handle(bad...); !slices.Equal(failed, want) {
		t.Fatalf("failed %v, want %v", failed, want)
	}
	for _, d := range f.vis.delays() {
		if d != 0 {
			t.Errorf("malformed message hidden for %v", d)
		}
	}
	if len(f.vis.delays()) != len(bad) || r.requests() != 0 {
		t.Fatalf("%d visibility changes, %d requests", len(f.vis.delays()), r.requests())
	}
	if strings.Contains(f.logs.String(), "Jane") || strings.Contains(f.logs.String(), "jane@") {
		t.Fatalf("the log repeats the message: %s", f.logs)
	}
}

// With too little of the invocation left for another POST, the message is
// handed back at once instead of being cut off mid-callback.
func TestOutOfTimeHandsTheMessageBack(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	_, msgs, _ := f.order(order.ChannelPartner, "shop")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	resp, err := f.sender.Handle(ctx, events.SQSEvent{Records: []events.SQSMessage{record(msgs[0], 1)}})
	if err != nil || len(resp.BatchItemFailures) != 1 || r.requests() != 0 || !slices.Equal(f.vis.delays(), []time.Duration{0}) {
		t.Fatalf("%v %v, %d requests, visibility %v", resp, err, r.requests(), f.vis.delays())
	}
}

func TestQueueURLFromTheEventSource(t *testing.T) {
	r := newReceiver(t, func(int) int { return 503 })
	f := newFixture(t, r.URL)
	f.sender.QueueURL = ""
	_, msgs, _ := f.order(order.ChannelPartner, "shop")
	f.handle(record(msgs[0], 1))
	if len(f.vis.calls) != 1 || aws.ToString(f.vis.calls[0].QueueUrl) != "https://sqs.us-east-1.amazonaws.com/000000000000/partner-callbacks" {
		t.Fatalf("visibility calls %+v", f.vis.calls)
	}
}

// conflicting is a store whose writes always meet concurrent ones.
type conflicting struct {
	callbacks.Orders
	saves int
}

func (c *conflicting) RecordCallback(context.Context, string, order.CallbackAttempt, order.Event) (bool, error) {
	c.saves++
	return false, fmt.Errorf("record: %w", order.ErrVersionConflict)
}

// Writes that keep meeting concurrent ones while the attempt is recorded
// are no fault of the partner's: the message comes back at once, not after
// the backoff.
func TestContentionIsNotBackedOff(t *testing.T) {
	r := newReceiver(t, nil)
	f := newFixture(t, r.URL)
	_, msgs, _ := f.order(order.ChannelPartner, "shop")
	store := &conflicting{Orders: f.store}
	f.sender.Orders = store
	if failed := f.handle(record(msgs[0], 1)); len(failed) != 1 {
		t.Fatalf("failed %v", failed)
	}
	if store.saves != 8 || !slices.Equal(f.vis.delays(), []time.Duration{0}) || r.requests() != 1 {
		t.Fatalf("%d saves, visibility %v, %d requests", store.saves, f.vis.delays(), r.requests())
	}
}

// TestTheRetiredSchemeIsNotSentAfterItsSunset: from partner.LegacySunset
// on, a callback carries Standard Webhooks only.
func TestTheRetiredSchemeIsNotSentAfterItsSunset(t *testing.T) {
	var mu sync.Mutex
	var got []http.Header
	var bodies [][]byte
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		got, bodies = append(got, req.Header.Clone()), append(bodies, b)
		mu.Unlock()
	}))
	defer capture.Close()
	f := newFixture(t, capture.URL)
	after := partner.LegacySunset.Add(time.Hour)
	f.sender.Now = func() time.Time { return after }
	_, msgs, _ := f.order(order.ChannelPartner, "shop")
	if failed := f.handle(record(msgs[0], 1)); len(failed) > 0 {
		t.Fatalf("failed: %v\n%s", failed, f.logs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 {
		t.Fatal("no callback")
	}
	for i, h := range got { // the order's status changes so far, in order
		if h.Get(partner.SignatureHeader) != "" || h.Get(partner.DeliveryHeader) != "" {
			t.Errorf("after the sunset callback %d still carries %s / %s", i, partner.SignatureHeader, partner.DeliveryHeader)
		}
		if _, err := partnerlink.Verify(h, bodies[i], after, partnerlink.DefaultTolerance, newSecret); err != nil {
			t.Errorf("callback %d's Standard Webhooks signature: %v", i, err)
		}
	}
}
