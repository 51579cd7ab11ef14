// Package auth tells who is calling: the subject of a JWT and its groups, as
// Cognito issues them. In AWS the HTTP API's JWT authorizer has already checked
// the token and the claims arrive in the request context (APIGatewayClaims);
// on a developer's machine LocalHS256 plays that authorizer with a shared secret.
package auth

import (
	"errors"
	"slices"
	"strings"
)

// The operators' roles, groups of the operators' user pool, and the scope
// of the one machine identity. The power is split: reading is not acting,
// and the E-Port receipt forwarder, a program, reaches its route only.
const (
	// GroupOps is acting operations staff: everything the ops API reads,
	// and what it does — redrive, cancel, replay dead letters, record
	// receipts.
	GroupOps = "ops"
	// GroupOpsRead is read-only operations staff: orders, timelines,
	// declarations, dead-letter queues; no action.
	GroupOpsRead = "ops-read"
	// ScopeReceipts is the OAuth scope (client credentials) of the E-Port
	// receipt forwarder: POST /v1/ops/customs/receipts and nothing else.
	ScopeReceipts = "xborder-ops/receipts.write"
)

// Identity is an authenticated caller.
type Identity struct {
	// Subject is the JWT "sub" claim: the customer id (a machine client's
	// id for a client-credentials token).
	Subject string
	// Groups are the "cognito:groups" claim.
	Groups []string
	// Scopes are the access token's "scope" claim (space-separated).
	Scopes []string
}

// InGroup reports whether the caller belongs to group g.
func (id Identity) InGroup(g string) bool { return slices.Contains(id.Groups, g) }

// HasScope reports whether the caller's token carries scope s.
func (id Identity) HasScope(s string) bool { return slices.Contains(id.Scopes, s) }

// Machine reports whether the caller is a program of ours (a
// client-credentials token with one of the operators' resource server's
// scopes) rather than a person: it may use the route its scope names and
// no other, never a shopper's.
func (id Identity) Machine() bool {
	return slices.ContainsFunc(id.Scopes, func(s string) bool { return strings.HasPrefix(s, "xborder-ops/") })
}

// parseScopes reads a "scope" claim: space-separated.
func parseScopes(v any) []string {
	s, _ := v.(string)
	return strings.Fields(s)
}

// ErrUnauthenticated means the request carries no acceptable token. Its
// message is safe to show the caller; the wrapped detail is for logs.
var ErrUnauthenticated = errors.New("auth: no valid bearer token")

// parseGroups reads a cognito:groups claim. API Gateway flattens array claims
// into strings like "[ops admin]"; tokens carry JSON arrays.
func parseGroups(v any) []string {
	switch g := v.(type) {
	case []any:
		out := make([]string, 0, len(g))
		for _, e := range g {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return g
	case string:
		g = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(g), "["), "]"))
		return strings.FieldsFunc(g, func(r rune) bool { return r == ' ' || r == ',' })
	}
	return nil
}
