// Package httpapi is the public HTTPS API that mobile apps and web shops
// call to quote landed costs and to place, follow and cancel orders: one
// http.Handler, served in Lambda behind API Gateway (through
// aws-lambda-go-api-proxy) and on a developer's machine by net/http.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
	"github.com/oklog/ulid/v2"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/opsconsole"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/screening"
)

// noPartners is the directory of an API without partners.
type noPartners struct{}

func (noPartners) Get(string) (*partner.Partner, bool) { return nil, false }

// OrderStore is what the API needs of the order store.
type OrderStore interface {
	// CreateOrder writes the order, its first event and the completed
	// idempotency record at once if the key is free; otherwise it returns the
	// key's record with idempotency.ErrClaimed, or idempotency.ErrBusy.
	CreateOrder(ctx context.Context, o *order.Order, first order.Event, done idempotency.Record, now time.Time) (idempotency.Record, error)
	GetOrder(ctx context.Context, id string) (*order.Order, error)
	History(ctx context.Context, id string) ([]order.Event, error)
	ListByCustomer(ctx context.Context, customerID string, limit int, cursor string) ([]order.Order, string, error)
	SaveTransition(ctx context.Context, o *order.Order, ev order.Event) error
	// LookupKey reads a key's record, if it has one that has not expired
	// at now; it takes nothing.
	LookupKey(ctx context.Context, scope, key string, now time.Time) (rec idempotency.Record, found bool, err error)
	// What is kept beside an order, which the views show with it.

	// CustomsDocuments reads the declaration, China's messages and the
	// receipts of an order (none is no error).
	CustomsDocuments(ctx context.Context, id string) (order.CustomsDocuments, error)
	// CustomsDeclaration reads the declaration alone; order.ErrNotFound.
	CustomsDeclaration(ctx context.Context, id string) (json.RawMessage, error)
	// CustomsMessage reads one of China's messages; order.ErrNotFound.
	CustomsMessage(ctx context.Context, id, msgType string) (order.CustomsMessage, error)
	// Callbacks reads what the partner of an order was told.
	Callbacks(ctx context.Context, id string) (order.CallbackRecord, error)
}

// Enqueuer hands an accepted order to the workflow (SQS orders-accepted).
type Enqueuer interface {
	Enqueue(ctx context.Context, orderID string) error
}

// TaskFailer fails a workflow step waiting on a task token (Step Functions
// SendTaskFailure); a token nobody waits on any more is not an error.
type TaskFailer interface {
	FailTask(ctx context.Context, token, errorName, cause string) error
}

// Authenticator tells who sent a request, or fails with auth.ErrUnauthenticated.
type Authenticator interface {
	Authenticate(r *http.Request) (auth.Identity, error)
}

// Config wires the API to its dependencies.
type Config struct {
	Store OrderStore
	Auth  Authenticator
	// Tasks fails the waiting step of a cancelled order; nil leaves it to
	// the workflow's check before its next step.
	Tasks TaskFailer
	// Workflow receives each new order; if handing it over fails, the
	// reconciler re-enqueues orders left RECEIVED.
	Workflow Enqueuer
	// Quoter computes landed-cost quotes and locks an order's exchange
	// rate; it defaults to customs.Default(), the embedded rules and rates.
	Quoter Quoter
	// Goods screens quoted carts for restricted goods; the embedded rules
	// by default.
	Goods GoodsScreen
	// Partners may post orders by webhook (none when nil); Catalogue gives
	// the HS codes, origins and weights their formats may lack.
	Partners  Partners
	Catalogue *partner.Catalogue
	// SignatureTolerance is how far a webhook signature's time may be from
	// now (300 s by default).
	SignatureTolerance time.Duration
	// Quotes keeps issued quotes; it defaults to Store when Store keeps
	// them too (memstore and dynamostore do), and New panics without one.
	Quotes QuoteStore
	// QuoteTTL is how long an order can accept a quote (DefaultQuoteTTL).
	QuoteTTL time.Duration
	Logger   *slog.Logger
	// Console serves the ops console's page at /ops/, without a bearer
	// token (its data comes from the ops API); opsconsole.Handler() by default.
	Console http.Handler
	// Now and NewID default to the clock and ULIDs; tests replace them.
	Now   func() time.Time
	NewID func() string

	// The ops API (/v1/ops/…, for the ops group). OpsOrders counts and
	// lists orders by status; it defaults to Store when Store does both
	// (memstore and dynamostore do), else those endpoints answer 503.
	OpsOrders OpsStore
	// Executions reads and redrives the workflow's executions, named by
	// order id on StateMachineARN (Step Functions: AWS or the local
	// engine). Without them the order view has no timeline and redrive
	// answers 503.
	Executions      Executions
	StateMachineARN string
	// Queues reads, replays and deletes dead letters; DeadLetters names
	// each source queue's URL and its dead-letter queue's, by the source
	// queue's name. Without both the DLQ endpoints answer 503.
	Queues      Queues
	DeadLetters map[string]QueuePair
	// Receipts records China's customs receipts (CEB304, CEB604, …) that
	// the E-Port's data exchange client forwards; without it that endpoint
	// answers 503.
	Receipts ReceiptRecorder
	// PartnerLinks verifies the customs broker's, the warehouse's and the
	// China E-Port's notifications and wakes the steps they concern
	// (POST /v1/partners/{partner}/notifications; 404 for a partner
	// without a secret).
	PartnerLinks PartnerLinks
}

// ReceiptRecorder records one CEB receipt message on the orders it
// answers (receipts.Recorder).
type ReceiptRecorder interface {
	Record(ctx context.Context, data []byte, now time.Time) ([]receipts.Result, error)
}

// MaxBodyBytes bounds a request body (256 KiB: what fits a Step Functions
// payload and an SQS message).
const MaxBodyBytes = 256 << 10

// Route is one operation of the API; the OpenAPI document lists the same set.
type Route struct {
	Method, Path string
}

// Routes lists every operation the API serves.
var Routes = []Route{
	{http.MethodPost, "/v1/orders"},
	{http.MethodGet, "/v1/orders"},
	{http.MethodGet, "/v1/orders/{id}"},
	{http.MethodPost, "/v1/orders/{id}/cancel"},
	{http.MethodPost, "/v1/quotes"},
	{http.MethodGet, "/v1/quotes/{id}"},
	{http.MethodPost, "/v1/webhooks/{partner}"},
	{http.MethodPost, "/v1/partners/{partner}/notifications"},
	{http.MethodGet, "/v1/ops/summary"},
	{http.MethodGet, "/v1/ops/orders"},
	{http.MethodGet, "/v1/ops/orders/stuck"},
	{http.MethodGet, "/v1/ops/orders/{id}"},
	{http.MethodGet, "/v1/ops/orders/{id}/declarations"},
	{http.MethodGet, "/v1/ops/orders/{id}/declarations/{messageType}"},
	{http.MethodPost, "/v1/ops/customs/receipts"},
	{http.MethodPost, "/v1/ops/orders/{id}/redrive"},
	{http.MethodPost, "/v1/ops/orders/{id}/cancel"},
	{http.MethodGet, "/v1/ops/dlqs"},
	{http.MethodGet, "/v1/ops/dlqs/{queue}/messages"},
	{http.MethodPost, "/v1/ops/dlqs/{queue}/messages/{messageId}/replay"},
}

// SignedRoutes prove their caller by signature, not by bearer token (in
// AWS they have no JWT authorizer), by "METHOD /path".
var SignedRoutes = map[string]bool{http.MethodPost + " /v1/webhooks/{partner}": true,
	http.MethodPost + " /v1/partners/{partner}/notifications": true}

// consolePattern serves the ops console (GET /ops redirects to it).
const consolePattern = http.MethodGet + " " + opsconsole.Prefix

// API is the HTTP API.
type API struct {
	cfg Config
	mux *http.ServeMux
}

// New builds the API handler.
func New(cfg Config) *API {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.NewID == nil {
		cfg.NewID = func() string { return ulid.Make().String() }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Goods == nil {
		cfg.Goods = screening.DefaultGoods()
	}
	if cfg.Quoter == nil {
		cfg.Quoter = customs.Default()
	}
	if cfg.Quotes == nil {
		qs, ok := cfg.Store.(QuoteStore)
		if !ok {
			panic("httpapi: Config.Quotes is required: the order store does not keep quotes")
		}
		cfg.Quotes = qs
	}
	if cfg.QuoteTTL <= 0 {
		cfg.QuoteTTL = DefaultQuoteTTL
	}
	if cfg.Partners == nil {
		cfg.Partners = noPartners{}
	}
	if cfg.SignatureTolerance <= 0 {
		cfg.SignatureTolerance = partner.DefaultTolerance
	}
	if cfg.Console == nil {
		cfg.Console = opsconsole.Handler()
	}
	if cfg.OpsOrders == nil {
		cfg.OpsOrders, _ = cfg.Store.(OpsStore)
	}
	a := &API{cfg: cfg, mux: http.NewServeMux()}
	handlers := map[Route]http.HandlerFunc{
		{http.MethodPost, "/v1/orders"}:                           a.createOrder,
		{http.MethodGet, "/v1/orders"}:                            a.listOrders,
		{http.MethodGet, "/v1/orders/{id}"}:                       a.getOrder,
		{http.MethodPost, "/v1/orders/{id}/cancel"}:               a.cancelOrder,
		{http.MethodPost, "/v1/quotes"}:                           a.createQuote,
		{http.MethodGet, "/v1/quotes/{id}"}:                       a.getQuote,
		{http.MethodPost, "/v1/webhooks/{partner}"}:               a.partnerWebhook,
		{http.MethodPost, "/v1/partners/{partner}/notifications"}: a.partnerNotification,
		// The ops API: each route for the role RouteRoles names (403 for
		// anyone else).
		{http.MethodGet, "/v1/ops/summary"}:                                   a.opsSummary,
		{http.MethodGet, "/v1/ops/orders"}:                                    a.opsListOrders,
		{http.MethodGet, "/v1/ops/orders/stuck"}:                              a.opsStuckOrders,
		{http.MethodGet, "/v1/ops/orders/{id}"}:                               a.opsGetOrder,
		{http.MethodGet, "/v1/ops/orders/{id}/declarations"}:                  a.opsDeclarations,
		{http.MethodGet, "/v1/ops/orders/{id}/declarations/{messageType}"}:    a.opsDeclaration,
		{http.MethodPost, "/v1/ops/customs/receipts"}:                         a.opsCustomsReceipt,
		{http.MethodPost, "/v1/ops/orders/{id}/redrive"}:                      a.opsRedrive,
		{http.MethodPost, "/v1/ops/orders/{id}/cancel"}:                       a.opsCancel,
		{http.MethodGet, "/v1/ops/dlqs"}:                                      a.opsDLQs,
		{http.MethodGet, "/v1/ops/dlqs/{queue}/messages"}:                     a.opsPeekDLQ,
		{http.MethodPost, "/v1/ops/dlqs/{queue}/messages/{messageId}/replay"}: a.opsReplay,
	}
	for _, rt := range Routes {
		a.mux.HandleFunc(rt.Method+" "+rt.Path, handlers[rt])
	}
	a.mux.Handle(consolePattern, cfg.Console)
	a.mux.HandleFunc("/", a.fallback)
	return a
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyIdentity
)

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func identity(ctx context.Context) auth.Identity {
	id, _ := ctx.Value(keyIdentity).(auth.Identity)
	return id
}

// ServeHTTP adds a request id, authenticates, recovers from panics and logs
// one line per request (never bodies or personal data).
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := a.cfg.Now()
	rid := ""
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		rid = rc.RequestID
	}
	if rid == "" {
		rid = newRequestID()
	}
	ctx := context.WithValue(r.Context(), keyRequestID, rid)
	r = r.WithContext(ctx)
	rec := &statusRecorder{ResponseWriter: w}
	w = rec
	w.Header().Set("X-Request-Id", rid)

	_, pattern := a.mux.Handler(r)
	defer func() {
		if p := recover(); p != nil {
			a.cfg.Logger.ErrorContext(ctx, "panic serving request", "requestId", rid, "panic", fmt.Sprint(p))
			if rec.status == 0 {
				writeProblem(w, r, Problem{Type: problemInternal, Status: http.StatusInternalServerError})
			}
		}
		a.cfg.Logger.InfoContext(ctx, "request", "requestId", rid, "method", r.Method, "route", pattern,
			"status", rec.status, "durationMs", a.cfg.Now().Sub(start).Milliseconds())
	}()

	if pattern != "/" && pattern != "" && !SignedRoutes[pattern] && pattern != consolePattern {
		id, err := a.cfg.Auth.Authenticate(r)
		if err != nil {
			a.cfg.Logger.InfoContext(ctx, "unauthenticated", "requestId", rid, "error", err.Error())
			w.Header().Set("WWW-Authenticate", `Bearer realm="xborder"`)
			writeProblem(w, r, Problem{Type: problemUnauthorized, Status: http.StatusUnauthorized,
				Detail: "A valid bearer token is required."})
			return
		}
		if detail := RoleOf(pattern).refuses(id); detail != "" {
			a.cfg.Logger.InfoContext(ctx, "forbidden", "requestId", rid, "route", pattern)
			writeProblem(w, r, Problem{Type: problemForbidden, Status: http.StatusForbidden, Detail: detail})
			return
		}
		r = r.WithContext(context.WithValue(ctx, keyIdentity, id))
	}
	a.mux.ServeHTTP(w, r)
}

// fallback answers unknown paths with 404 and known paths with the wrong
// method with 405, both as problem+json.
func (a *API) fallback(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, rt := range Routes {
		if pathMatches(rt.Path, r.URL.Path) {
			allow = append(allow, rt.Method)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeProblem(w, r, Problem{Type: problemMethod, Status: http.StatusMethodNotAllowed,
			Detail: fmt.Sprintf("%s is not allowed here; use %s.", r.Method, strings.Join(allow, " or "))})
		return
	}
	writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No such resource."})
}

// pathMatches matches a path against a route pattern with {name} segments.
func pathMatches(pattern, path string) bool {
	ps, xs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func newRequestID() string {
	return ulid.MustNew(ulid.Now(), rand.Reader).String()
}
