package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/xborder/xborder/shared/order"
)

// Problem is an RFC 9457 problem details document.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists every field problem of a 422 validation failure.
	Errors []order.FieldError `json:"errors,omitempty"`
	// RequestID lets support find the request in the logs.
	RequestID string `json:"requestId,omitempty"`
}

// Problem types. Relative URIs, resolved against the API's base; each has a
// section in the OpenAPI document.
const (
	problemBadRequest       = "/problems/bad-request"
	problemUnauthorized     = "/problems/unauthorized"
	problemNotFound         = "/problems/not-found"
	problemMethod           = "/problems/method-not-allowed"
	problemConflict         = "/problems/conflict"
	problemTooLarge         = "/problems/payload-too-large"
	problemMediaType        = "/problems/unsupported-media-type"
	problemValidation       = "/problems/validation-failed"
	problemIdempotencyReuse = "/problems/idempotency-key-reused"
	problemInternal         = "/problems/internal"
	problemSignature        = "/problems/signature-not-accepted"
)

func writeProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	p.RequestID = requestID(r.Context())
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	body, err := json.Marshal(p)
	if err != nil { // cannot happen for this type
		body = []byte(`{"type":"/problems/internal","title":"Internal Server Error","status":500}`)
		p.Status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_, _ = w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
