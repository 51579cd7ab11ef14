package auth

import (
	"fmt"
	"net/http"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"
)

// APIGatewayClaims reads the claims that API Gateway's JWT authorizer put in
// the request context after verifying the token (issuer, audience, signature
// and expiry are checked there, not here).
type APIGatewayClaims struct{}

// Authenticate implements the API's authenticator.
func (APIGatewayClaims) Authenticate(r *http.Request) (Identity, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.JWT == nil {
		return Identity{}, fmt.Errorf("%w: no JWT authorizer context", ErrUnauthenticated)
	}
	claims := rc.Authorizer.JWT.Claims
	sub := claims["sub"]
	if sub == "" {
		return Identity{}, fmt.Errorf("%w: token has no sub claim", ErrUnauthenticated)
	}
	g, ok := claims["cognito:groups"]
	if !ok {
		g = claims["groups"]
	}
	return Identity{Subject: sub, Groups: parseGroups(g), Scopes: parseScopes(claims["scope"])}, nil
}
