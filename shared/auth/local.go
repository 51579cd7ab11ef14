package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// DevSecret is the documented development default of LOCAL_JWT_SECRET. It
// protects nothing: it only lets the local stack behave like the real one.
const DevSecret = "xborder-local-development-secret"

// LocalHS256 emulates the HTTP API's JWT authorizer on a developer's machine:
// HS256 tokens signed with a shared secret, carrying the claims Cognito would.
// Only the signature, sub and exp are required (issuer, audience and client
// id are checked in AWS by the real authorizer).
type LocalHS256 struct {
	secret []byte
	parser *jwt.Parser
}

// NewLocalHS256 returns a local authenticator for secret.
func NewLocalHS256(secret string) (*LocalHS256, error) {
	if len(secret) < 16 {
		return nil, errors.New("auth: LOCAL_JWT_SECRET must be at least 16 characters")
	}
	return &LocalHS256{
		secret: []byte(secret),
		parser: jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(), jwt.WithLeeway(30*time.Second)),
	}, nil
}

// Authenticate implements the API's authenticator.
func (l *LocalHS256) Authenticate(r *http.Request) (Identity, error) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return Identity{}, fmt.Errorf("%w: missing bearer token", ErrUnauthenticated)
	}
	claims := jwt.MapClaims{}
	if _, err := l.parser.ParseWithClaims(strings.TrimSpace(tok), claims, func(*jwt.Token) (any, error) { return l.secret, nil }); err != nil {
		return Identity{}, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return Identity{}, fmt.Errorf("%w: token has no sub claim", ErrUnauthenticated)
	}
	g, ok := claims["cognito:groups"]
	if !ok {
		g = claims["groups"]
	}
	return Identity{Subject: sub, Groups: parseGroups(g), Scopes: parseScopes(claims["scope"])}, nil
}

// MintLocal signs a development token for the local authorizer.
func MintLocal(secret, sub string, groups []string, ttl time.Duration, now time.Time) (string, error) {
	return MintLocalClaims(secret, sub, groups, nil, ttl, now)
}

// MintLocalClaims is MintLocal with scopes (a client-credentials token's
// "scope" claim) and any other claims.
func MintLocalClaims(secret, sub string, groups, scopes []string, ttl time.Duration, now time.Time, extra ...map[string]any) (string, error) {
	if sub == "" {
		return "", errors.New("auth: a token needs a subject")
	}
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(ttl).Unix(), "token_use": "access"}
	if len(groups) > 0 {
		claims["cognito:groups"] = groups
	}
	if len(scopes) > 0 {
		claims["scope"] = strings.Join(scopes, " ")
	}
	for _, m := range extra {
		for k, v := range m {
			claims[k] = v
		}
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
}

// Claims verifies the request's bearer token as Authenticate does and
// returns its claims the way API Gateway's JWT authorizer hands them to the
// function (requestContext.authorizer.jwt.claims): every value a string, an
// array as "[a b]".
func (l *LocalHS256) Claims(r *http.Request) (map[string]string, error) {
	if _, err := l.Authenticate(r); err != nil {
		return nil, err
	}
	_, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	claims := jwt.MapClaims{}
	if _, err := l.parser.ParseWithClaims(strings.TrimSpace(tok), claims, func(*jwt.Token) (any, error) { return l.secret, nil }); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnauthenticated, err)
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case []any:
			parts := make([]string, 0, len(v))
			for _, e := range v {
				parts = append(parts, fmt.Sprint(e))
			}
			out[k] = "[" + strings.Join(parts, " ") + "]"
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out, nil
}
