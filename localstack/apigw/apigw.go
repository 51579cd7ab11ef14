// Package apigw is the HTTP API in front of the api function, as API
// Gateway runs it: each request becomes a payload format 2.0 event
// (events.APIGatewayV2HTTPRequest) for the function — its own main, a
// process behind the Lambda Runtime API — and its answer the response.
// The routes with the JWT authorizer get it emulated (the local HS256
// tokens: 401 {"message":"Unauthorized"} before the function is invoked,
// the token's claims in requestContext.authorizer.jwt.claims as API
// Gateway flattens them); the signed routes and the ops console have none,
// as in the template.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Invoker runs the function with a payload and returns its answer.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Authorizer verifies a request's token and returns its claims.
type Authorizer interface {
	Claims(r *http.Request) (map[string]string, error)
}

// maxPayload is what API Gateway passes a Lambda integration (10 MB
// request payload for HTTP APIs; the function's own 6 MB invocation limit
// is lower).
const maxPayload = 6 << 20

// Route is one route of the API as the template declares it: its route
// key ("POST /v1/orders", "GET /ops/{proxy+}") and whether it has no
// authorizer (AuthorizationType NONE).
type Route struct {
	Key  string
	Open bool
}

// Gateway is the HTTP API.
type Gateway struct {
	Function Invoker
	Auth     Authorizer
	// Routes are the API's routes; a request matching none is API
	// Gateway's 404, the function never invoked.
	Routes []Route
	Logger *slog.Logger
	// Timeout is the integration's (API Gateway's 30 s).
	Timeout time.Duration
	seq     atomic.Int64
	once    sync.Once
	mux     *http.ServeMux
	open    map[string]bool
}

// match finds the route of r: whether there is one, and whether it is open.
func (g *Gateway) match(r *http.Request) (found, open bool) {
	g.once.Do(func() {
		g.mux, g.open = http.NewServeMux(), map[string]bool{}
		for _, rt := range g.Routes {
			pattern := strings.ReplaceAll(rt.Key, "+}", "...}") // {proxy+} is greedy, as {proxy...} is
			g.mux.Handle(pattern, http.NotFoundHandler())
			g.open[pattern] = rt.Open
		}
	})
	_, pattern := g.mux.Handler(r)
	if pattern == "" {
		return false, false
	}
	return true, g.open[pattern]
}

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	reqID := fmt.Sprintf("%s-%06d", start.UTC().Format("20060102T150405"), g.seq.Add(1))
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil || len(body) > maxPayload {
		message(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return
	}
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: r.URL.EscapedPath(), RawQueryString: r.URL.RawQuery,
		Headers: map[string]string{}, QueryStringParameters: map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			AccountID: "000000000000", APIID: "local", DomainName: r.Host, DomainPrefix: "local", Stage: "$default",
			RequestID: reqID, RouteKey: "$default", Time: start.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: start.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: r.Method, Path: r.URL.Path, Protocol: r.Proto,
				SourceIP: sourceIP(r), UserAgent: r.UserAgent()},
		},
	}
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Cookie") {
			for _, v := range vs {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(k)] = strings.Join(vs, ",")
	}
	ev.Headers["host"] = r.Host
	for k, vs := range r.URL.Query() {
		ev.QueryStringParameters[k] = strings.Join(vs, ",")
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	found, open := g.match(r)
	if !found {
		message(w, http.StatusNotFound, "Not Found")
		return
	}
	if !open {
		claims, err := g.Auth.Claims(r)
		if err != nil {
			g.log().Info("authorizer refused", "requestId", reqID, "path", r.URL.Path)
			message(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		ev.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: nil}}
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		message(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	out, err := g.Function.Invoke(ctx, payload)
	if err != nil {
		// API Gateway answers a failed or timed-out integration so, and
		// tells nothing more.
		g.log().Error("integration failed", "requestId", reqID, "path", r.URL.Path, "error", err.Error())
		if ctx.Err() != nil {
			message(w, http.StatusServiceUnavailable, "Service Unavailable")
			return
		}
		message(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode == 0 {
		g.log().Error("integration answer malformed", "requestId", reqID, "error", fmt.Sprint(err))
		message(w, http.StatusInternalServerError, "Internal Server Error")
		return
	}
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		w.Header().Add("Set-Cookie", c)
	}
	w.Header().Set("Apigw-Requestid", reqID)
	w.WriteHeader(resp.StatusCode)
	if resp.IsBase64Encoded {
		raw, err := base64.StdEncoding.DecodeString(resp.Body)
		if err == nil {
			_, _ = w.Write(raw)
		}
		return
	}
	_, _ = io.WriteString(w, resp.Body)
}

func (g *Gateway) log() *slog.Logger {
	if g.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Logger
}

// message is API Gateway's own answer.
func message(w http.ResponseWriter, status int, text string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"message":%q}`, text)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
