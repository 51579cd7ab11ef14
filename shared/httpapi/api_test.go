package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/storetest"
)

const secret = "test-secret-at-least-16-chars"

// backend is an order store the whole API suite runs against.
type backend struct {
	name  string
	store func(t *testing.T) storetest.Store
}

var backends = []backend{
	{"memory", func(t *testing.T) storetest.Store { return memstore.New() }},
	{"dynamodb-local", func(t *testing.T) storetest.Store {
		c := dynamotest.Client(t)
		return dynamostore.New(c, dynamotest.Table(t, c))
	}},
}

type harness struct {
	t     *testing.T
	srv   *httptest.Server
	store storetest.Store
	tasks *taskRecorder
	queue *enqueueRecorder
	clock *clock
}

// clock is the API's clock: the real time, moved on by what a test asks.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// advance moves the clock on by d; reset puts it back to the real time.
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

func (c *clock) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = 0
}

// enqueueRecorder stands in for the orders-accepted queue.
type enqueueRecorder struct {
	mu  sync.Mutex
	ids []string
}

func (r *enqueueRecorder) Enqueue(_ context.Context, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

func (r *enqueueRecorder) count(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.ids {
		if x == id {
			n++
		}
	}
	return n
}

// taskRecorder stands in for Step Functions' SendTaskFailure.
type taskRecorder struct {
	mu     sync.Mutex
	failed []string
}

func (r *taskRecorder) FailTask(_ context.Context, token, errorName, cause string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, token+" "+errorName+" "+cause)
	return nil
}

func newHarness(t *testing.T, store storetest.Store) *harness {
	t.Helper()
	authn, err := auth.NewLocalHS256(secret)
	if err != nil {
		t.Fatal(err)
	}
	tasks, queue, clk := &taskRecorder{}, &enqueueRecorder{}, &clock{}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: store, Auth: authn, Tasks: tasks, Workflow: queue,
		Quoter: customs.Default(), Quotes: store, Now: clk.Now}))
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, store: store, tasks: tasks, queue: queue, clock: clk}
}

func tokenFor(t *testing.T, sub string) string {
	t.Helper()
	tok, err := auth.MintLocal(secret, sub, nil, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, r.body)
	}
	return m
}

func (h *harness) do(method, path, sub string, body []byte, headers map[string]string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if sub != "" {
		req.Header.Set("Authorization", "Bearer "+tokenFor(h.t, sub))
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func (h *harness) post(sub, key string, body []byte) response {
	return h.do(http.MethodPost, "/v1/orders", sub, body, map[string]string{"Idempotency-Key": key})
}

func sample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/orders/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
}

func wantProblem(t *testing.T, r response, status int, typ string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	p := r.json(t)
	if p["type"] != typ || int(p["status"].(float64)) != status || p["title"] == "" {
		t.Fatalf("problem %v, want type %s status %d", p, typ, status)
	}
	return p
}

func TestAPI(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("create and read back", func(t *testing.T) { testCreateAndGet(t, newHarness(t, b.store(t))) })
			t.Run("ownership", func(t *testing.T) { testOwnership(t, newHarness(t, b.store(t))) })
			t.Run("list pages", func(t *testing.T) { testList(t, newHarness(t, b.store(t))) })
			t.Run("bad requests", func(t *testing.T) { testBadRequests(t, newHarness(t, b.store(t))) })
			t.Run("authentication", func(t *testing.T) { testAuthentication(t, newHarness(t, b.store(t))) })
			t.Run("idempotency", func(t *testing.T) { testIdempotency(t, newHarness(t, b.store(t))) })
			t.Run("concurrent retries", func(t *testing.T) { testConcurrentRetries(t, newHarness(t, b.store(t))) })
			t.Run("cancel", func(t *testing.T) { testCancel(t, newHarness(t, b.store(t))) })
		})
	}
}

func testCreateAndGet(t *testing.T, h *harness) {
	for _, name := range []string{"mobile-b2c-de.json", "b2b-us.json", "c2c-gb.json", "m2b2c-au-overseas-warehouse.json"} {
		t.Run(name, func(t *testing.T) {
			r := h.post("alice", "key-"+name, sample(t, name))
			wantStatus(t, r, http.StatusAccepted)
			got := r.json(t)
			id, _ := got["orderId"].(string)
			if len(id) != 26 || got["status"] != "RECEIVED" || r.header.Get("Location") != "/v1/orders/"+id {
				t.Fatalf("bad 202: Location=%q body=%s", r.header.Get("Location"), r.body)
			}
			if r.header.Get("Idempotent-Replayed") != "" {
				t.Fatal("first response must not be marked replayed")
			}
			if h.queue.count(id) != 1 {
				t.Fatal("the new order was not handed to the workflow")
			}
			if pay := got["payment"].(map[string]any); pay["token"] != nil {
				t.Fatal("the payment token must not be echoed back")
			}
			g := h.do(http.MethodGet, "/v1/orders/"+id, "alice", nil, nil)
			wantStatus(t, g, http.StatusOK)
			order := g.json(t)
			if order["orderId"] != id || order["status"] != "RECEIVED" || order["customerId"] != "alice" {
				t.Fatalf("GET returned %s", g.body)
			}
			hist := order["history"].([]any)
			if len(hist) != 1 || hist[0].(map[string]any)["to"] != "RECEIVED" {
				t.Fatalf("history %v, want one RECEIVED event", hist)
			}
			var sent, stored struct {
				Lines []map[string]any `json:"lines"`
				Total map[string]any   `json:"total"`
			}
			_ = json.Unmarshal(sample(t, name), &sent)
			_ = json.Unmarshal(g.body, &stored)
			if fmt.Sprint(sent.Lines) != fmt.Sprint(stored.Lines) || fmt.Sprint(sent.Total) != fmt.Sprint(stored.Total) {
				t.Fatalf("stored lines/total differ from the request:\n sent %v %v\n got  %v %v", sent.Lines, sent.Total, stored.Lines, stored.Total)
			}
		})
	}
}

func testOwnership(t *testing.T, h *harness) {
	r := h.post("alice", "k1", sample(t, "mobile-b2c-de.json"))
	wantStatus(t, r, http.StatusAccepted)
	id := r.json(t)["orderId"].(string)
	wantProblem(t, h.do(http.MethodGet, "/v1/orders/"+id, "mallory", nil, nil), http.StatusNotFound, "/problems/not-found")
	wantProblem(t, h.do(http.MethodGet, "/v1/orders/01J00000000000000000000000", "alice", nil, nil), http.StatusNotFound, "/problems/not-found")
	list := h.do(http.MethodGet, "/v1/orders", "mallory", nil, nil)
	wantStatus(t, list, http.StatusOK)
	if n := len(list.json(t)["orders"].([]any)); n != 0 {
		t.Fatalf("mallory sees %d of alice's orders", n)
	}
	// The same key from another customer is another customer's key.
	r2 := h.post("bob", "k1", sample(t, "mobile-b2c-de.json"))
	wantStatus(t, r2, http.StatusAccepted)
	if r2.json(t)["orderId"] == id || r2.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("idempotency keys must be scoped to the caller")
	}
}

func testList(t *testing.T, h *harness) {
	var ids []string
	for i := 0; i < 5; i++ {
		r := h.post("carol", fmt.Sprintf("list-%d", i), sample(t, "c2c-gb.json"))
		wantStatus(t, r, http.StatusAccepted)
		ids = append(ids, r.json(t)["orderId"].(string))
		time.Sleep(2 * time.Millisecond) // distinct creation times
	}
	var got []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		path := "/v1/orders?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := h.do(http.MethodGet, path, "carol", nil, nil)
		wantStatus(t, r, http.StatusOK)
		var page struct {
			Orders []struct {
				ID     string `json:"orderId"`
				Status string `json:"status"`
			} `json:"orders"`
			NextCursor string `json:"nextCursor"`
		}
		_ = json.Unmarshal(r.body, &page)
		if len(page.Orders) > 2 {
			t.Fatalf("page of %d > limit 2", len(page.Orders))
		}
		for _, o := range page.Orders {
			got = append(got, o.ID)
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("orders %v, want newest first %v", got, want)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=not-a-cursor"} {
		wantProblem(t, h.do(http.MethodGet, "/v1/orders?"+q, "carol", nil, nil), http.StatusBadRequest, "/problems/bad-request")
	}
	// Another customer's cursor is refused, not followed.
	first := h.do(http.MethodGet, "/v1/orders?limit=1", "carol", nil, nil).json(t)
	wantProblem(t, h.do(http.MethodGet, "/v1/orders?limit=1&cursor="+first["nextCursor"].(string), "dave", nil, nil),
		http.StatusBadRequest, "/problems/bad-request")
}

func testBadRequests(t *testing.T, h *harness) {
	good := sample(t, "mobile-b2c-de.json")
	p := wantProblem(t, h.do(http.MethodPost, "/v1/orders", "alice", good, nil), http.StatusBadRequest, "/problems/bad-request")
	if !strings.Contains(p["detail"].(string), "Idempotency-Key") {
		t.Fatalf("missing key problem does not say so: %v", p)
	}
	for name, body := range map[string]string{
		"malformed":     `{"channel": "mobile",`,
		"unknown field": strings.Replace(string(good), `"channel"`, `"chanel"`, 1),
		"two objects":   string(good) + `{}`,
		"wrong type":    strings.Replace(string(good), `"quantity": 1`, `"quantity": "one"`, 1),
		"not an object": `[1,2]`,
		"empty":         ``,
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, h.post("alice", "bad-"+name, []byte(body)), http.StatusBadRequest, "/problems/bad-request")
		})
	}
	wantProblem(t, h.do(http.MethodPost, "/v1/orders", "alice", good, map[string]string{"Idempotency-Key": "k", "Content-Type": "text/plain"}),
		http.StatusUnsupportedMediaType, "/problems/unsupported-media-type")
	wantProblem(t, h.do(http.MethodPost, "/v1/orders", "alice", good, map[string]string{"Idempotency-Key": "k", "Content-Type": ""}),
		http.StatusUnsupportedMediaType, "/problems/unsupported-media-type")
	wantStatus(t, h.do(http.MethodPost, "/v1/orders", "alice", good, map[string]string{"Idempotency-Key": "charset", "Content-Type": "application/json; charset=utf-8"}),
		http.StatusAccepted)
	huge := append(append([]byte(`{"partnerOrderRef":"`), bytes.Repeat([]byte("x"), httpapi.MaxBodyBytes)...), `"}`...)
	wantProblem(t, h.post("alice", "huge", huge), http.StatusRequestEntityTooLarge, "/problems/payload-too-large")

	// Validation reports every problem at once, with field paths.
	invalid := strings.NewReplacer(`"hsCode": "610910"`, `"hsCode": "61x"`, `"quantity": 1`, `"quantity": 0`).Replace(string(good))
	p = wantProblem(t, h.post("alice", "invalid", []byte(invalid)), http.StatusUnprocessableEntity, "/problems/validation-failed")
	fields := map[string]bool{}
	for _, e := range p["errors"].([]any) {
		fe := e.(map[string]any)
		fields[fe["field"].(string)] = true
		if fe["code"] == "" || fe["message"] == "" {
			t.Fatalf("field error without code or message: %v", fe)
		}
	}
	if !fields["/lines/0/hsCode"] || !fields["/lines/0/quantity"] {
		t.Fatalf("422 does not name both bad fields: %v", p["errors"])
	}
	// Nothing was stored for the invalid request: the key is still free.
	wantStatus(t, h.post("alice", "invalid", good), http.StatusAccepted)

	partner := strings.Replace(string(good), `"channel": "mobile"`, `"channel": "partner"`, 1)
	wantProblem(t, h.post("alice", "partner", []byte(partner)), http.StatusUnprocessableEntity, "/problems/validation-failed")

	wantProblem(t, h.do(http.MethodGet, "/v1/nothing", "alice", nil, nil), http.StatusNotFound, "/problems/not-found")
	r := h.do(http.MethodDelete, "/v1/orders", "alice", nil, nil)
	wantProblem(t, r, http.StatusMethodNotAllowed, "/problems/method-not-allowed")
	if r.header.Get("Allow") != "POST, GET" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	long := strings.Repeat("k", 256)
	wantProblem(t, h.post("alice", long, good), http.StatusBadRequest, "/problems/bad-request")
}

func testAuthentication(t *testing.T, h *harness) {
	good := sample(t, "mobile-b2c-de.json")
	expired, _ := auth.MintLocal(secret, "alice", nil, time.Minute, time.Now().Add(-2*time.Hour))
	forged, _ := auth.MintLocal("another-secret-of-16-chars", "alice", nil, time.Hour, time.Now())
	noSub, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": time.Now().Add(time.Hour).Unix()}).SignedString([]byte(secret))
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice"}).SignedString([]byte(secret))
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "alice", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	for name, header := range map[string]string{
		"no token":   "",
		"not bearer": "Basic YWxpY2U6cHc=",
		"garbage":    "Bearer abc.def.ghi",
		"expired":    "Bearer " + expired,
		"forged":     "Bearer " + forged,
		"no sub":     "Bearer " + noSub,
		"no exp":     "Bearer " + noExp,
		"alg none":   "Bearer " + none,
	} {
		t.Run(name, func(t *testing.T) {
			for _, req := range []struct{ method, path string }{{"POST", "/v1/orders"}, {"GET", "/v1/orders"}, {"GET", "/v1/orders/x"},
				{"POST", "/v1/quotes"}, {"GET", "/v1/quotes/x"}} {
				r := h.do(req.method, req.path, "", good, map[string]string{"Authorization": header, "Idempotency-Key": "k"})
				wantProblem(t, r, http.StatusUnauthorized, "/problems/unauthorized")
				if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
					t.Fatal("401 without WWW-Authenticate: Bearer")
				}
			}
		})
	}
	if list, _, _ := h.store.ListByCustomer(context.Background(), "alice", 10, ""); len(list) != 0 {
		t.Fatal("an unauthenticated request stored an order")
	}
	// With a token, the same quote request is served: the 401s were the token's.
	wantStatus(t, h.do(http.MethodPost, "/v1/quotes", "alice", quoteSample(t, "cart-de.json"), nil), http.StatusCreated)
}

func testIdempotency(t *testing.T, h *harness) {
	body := sample(t, "b2b-us.json")
	first := h.post("erin", "idem-1", body)
	wantStatus(t, first, http.StatusAccepted)

	// Same key, same body: the original status and body, marked replayed.
	again := h.post("erin", "idem-1", body)
	wantStatus(t, again, http.StatusAccepted)
	if again.header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(again.body, first.body) ||
		again.header.Get("Location") != first.header.Get("Location") {
		t.Fatalf("replay differs:\nfirst  %s\nreplay %s (%v)", first.body, again.body, again.header)
	}
	// Insignificant whitespace does not make a different request.
	var compact bytes.Buffer
	_ = json.Compact(&compact, body)
	if r := h.post("erin", "idem-1", compact.Bytes()); r.status != http.StatusAccepted || r.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("compacted body: %d replayed=%q", r.status, r.header.Get("Idempotent-Replayed"))
	}

	// Same key, different body: 422, and no second order.
	other := bytes.Replace(body, []byte("Laptop 14 inch"), []byte("Notebook 14 inch"), 1)
	if bytes.Equal(other, body) {
		t.Fatal("test body did not change")
	}
	wantProblem(t, h.post("erin", "idem-1", other), http.StatusUnprocessableEntity, "/problems/idempotency-key-reused")

	// Same key while the first is still in flight: 409 with Retry-After.
	var canonical bytes.Buffer
	_ = json.Compact(&canonical, body)
	hash := idempotency.Hash(canonical.Bytes())
	now := time.Now()
	if _, err := h.store.ClaimKey(context.Background(), idempotency.Record{Scope: "customer:erin", Key: "idem-2",
		RequestHash: hash, State: idempotency.StateInFlight, Owner: "someone-else", LeaseUntil: now.Add(time.Minute),
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now); err != nil {
		t.Fatal(err)
	}
	r := h.post("erin", "idem-2", body)
	wantProblem(t, r, http.StatusConflict, "/problems/conflict")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("409 without Retry-After")
	}
	// A claim whose lease ran out (its request crashed) is taken over.
	if _, err := h.store.ClaimKey(context.Background(), idempotency.Record{Scope: "customer:erin", Key: "idem-3",
		RequestHash: hash, State: idempotency.StateInFlight, Owner: "crashed", LeaseUntil: now.Add(-time.Second),
		CreatedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}, now.Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.post("erin", "idem-3", body), http.StatusAccepted)

	list, _, err := h.store.ListByCustomer(context.Background(), "erin", 100, "")
	if err != nil || len(list) != 2 {
		t.Fatalf("erin has %d orders (err %v), want 2 (idem-1 and idem-3)", len(list), err)
	}
}

func testConcurrentRetries(t *testing.T, h *harness) {
	body := sample(t, "mobile-b2c-de.json")
	const n = 50
	var wg sync.WaitGroup
	results := make([]response, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = h.post("frank", "same-key", body)
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	created, replayed, conflicts := 0, 0, 0
	for _, r := range results {
		switch {
		case r.status == http.StatusAccepted && r.header.Get("Idempotent-Replayed") == "true":
			replayed++
			ids[r.json(t)["orderId"].(string)] = true
		case r.status == http.StatusAccepted:
			created++
			ids[r.json(t)["orderId"].(string)] = true
		case r.status == http.StatusConflict:
			conflicts++
		default:
			t.Fatalf("unexpected response %d %s", r.status, r.body)
		}
	}
	if created != 1 || len(ids) != 1 {
		t.Fatalf("created %d, distinct order ids %d; want exactly one order", created, len(ids))
	}
	for id := range ids {
		if n := h.queue.count(id); n != 1 {
			t.Fatalf("order handed to the workflow %d times, want once", n)
		}
	}
	list, _, err := h.store.ListByCustomer(context.Background(), "frank", 100, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("frank has %d orders, want 1 (err %v)", len(list), err)
	}
	t.Logf("50 concurrent: 1 created, %d replayed, %d told 409", replayed, conflicts)
}

func testCancel(t *testing.T, h *harness) {
	ctx := context.Background()
	r := h.post("gina", "c1", sample(t, "mobile-b2c-de.json"))
	wantStatus(t, r, http.StatusAccepted)
	id := r.json(t)["orderId"].(string)
	path := "/v1/orders/" + id + "/cancel"

	wantProblem(t, h.do(http.MethodPost, path, "mallory", nil, nil), http.StatusNotFound, "/problems/not-found")
	for range 2 { // the second call returns the same 202 and records nothing more
		c := h.do(http.MethodPost, path, "gina", nil, nil)
		wantStatus(t, c, http.StatusAccepted)
		if c.json(t)["cancelRequested"] != true {
			t.Fatalf("cancel: %s", c.body)
		}
	}
	hist, _ := h.store.History(ctx, id)
	if len(hist) != 2 || hist[1].Reason != "cancel_requested" || hist[1].Actor != "customer:gina" {
		t.Fatalf("history %+v, want RECEIVED then one cancel_requested by gina", hist)
	}

	// A step waiting on a task token is failed with OrderCancelled.
	r = h.post("gina", "c2", sample(t, "mobile-b2c-de.json"))
	id2 := r.json(t)["orderId"].(string)
	o, _ := h.store.GetOrder(ctx, id2)
	ev := o.Note("awaiting_customs", "workflow", time.Now())
	o.TaskToken = "token-customs-123"
	if err := h.store.SaveTransition(ctx, o, ev); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, h.do(http.MethodPost, "/v1/orders/"+id2+"/cancel", "gina", nil, nil), http.StatusAccepted)
	if len(h.tasks.failed) != 1 || h.tasks.failed[0] != "token-customs-123 OrderCancelled cancelled_by_customer" {
		t.Fatalf("task failures %v", h.tasks.failed)
	}

	// After dispatch: 409, and nothing recorded.
	r = h.post("gina", "c3", sample(t, "mobile-b2c-de.json"))
	id3 := r.json(t)["orderId"].(string)
	o, _ = h.store.GetOrder(ctx, id3)
	for _, st := range []order.Status{order.StatusStockReserved, order.StatusPaymentAuthorized, order.StatusCustomsCleared, order.StatusPaymentCaptured, order.StatusDispatched} {
		ev, err := o.Transition(st, "", "workflow", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := h.store.SaveTransition(ctx, o, ev); err != nil {
			t.Fatal(err)
		}
	}
	wantProblem(t, h.do(http.MethodPost, "/v1/orders/"+id3+"/cancel", "gina", nil, nil), http.StatusConflict, "/problems/conflict")
	if o, _ := h.store.GetOrder(ctx, id3); o.CancelRequested {
		t.Fatal("a refused cancellation was recorded")
	}
}
