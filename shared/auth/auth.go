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

// GroupOps is the Cognito group of operations staff.
const GroupOps = "ops"

// Identity is an authenticated caller.
type Identity struct {
	// Subject is the JWT "sub" claim: the customer id.
	Subject string
	// Groups are the "cognito:groups" claim.
	Groups []string
}

// InGroup reports whether the caller belongs to group g.
func (id Identity) InGroup(g string) bool { return slices.Contains(id.Groups, g) }

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
