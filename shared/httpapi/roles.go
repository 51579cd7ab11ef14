package httpapi

import (
	"net/http"
	"strings"

	"github.com/xborder/xborder/shared/auth"
)

// Role is who may call a route, beyond holding a valid token.
type Role int

// The roles. Operators are split by power (reading is not acting), and the
// one machine identity, the E-Port receipt forwarder, reaches its route
// only: a leaked forwarder credential cannot cancel, redrive, replay or
// read personal data.
const (
	// RoleShopper is a shopper (any person's token; never a machine's).
	RoleShopper Role = iota
	// RoleOpsRead is an operator, reading: groups ops or ops-read.
	RoleOpsRead
	// RoleOpsAct is an operator acting on orders and queues: group ops.
	RoleOpsAct
	// RoleReceipts is whoever records China's receipts: an acting
	// operator, or the forwarder's client-credentials token with
	// auth.ScopeReceipts.
	RoleReceipts
)

// RouteRoles are the ops API's routes' roles, by "METHOD /path"; every
// other authenticated route is RoleShopper's.
var RouteRoles = map[string]Role{
	http.MethodGet + " /v1/ops/summary":                                   RoleOpsRead,
	http.MethodGet + " /v1/ops/orders":                                    RoleOpsRead,
	http.MethodGet + " /v1/ops/orders/stuck":                              RoleOpsRead,
	http.MethodGet + " /v1/ops/orders/{id}":                               RoleOpsRead,
	http.MethodGet + " /v1/ops/orders/{id}/declarations":                  RoleOpsRead,
	http.MethodGet + " /v1/ops/orders/{id}/declarations/{messageType}":    RoleOpsRead,
	http.MethodGet + " /v1/ops/dlqs":                                      RoleOpsRead,
	http.MethodGet + " /v1/ops/dlqs/{queue}/messages":                     RoleOpsRead,
	http.MethodPost + " /v1/ops/orders/{id}/redrive":                      RoleOpsAct,
	http.MethodPost + " /v1/ops/orders/{id}/cancel":                       RoleOpsAct,
	http.MethodPost + " /v1/ops/dlqs/{queue}/messages/{messageId}/replay": RoleOpsAct,
	http.MethodPost + " /v1/ops/customs/receipts":                         RoleReceipts,
}

// RoleOf is the role of the route "METHOD /path".
func RoleOf(route string) Role { return RouteRoles[route] }

// OpsRoute reports whether "METHOD /path" is an operators' route (in AWS,
// behind the operators' user pool's authorizer).
func OpsRoute(route string) bool {
	_, path, _ := strings.Cut(route, " ")
	return strings.HasPrefix(path, "/v1/ops/")
}

// refuses says why id may not call a route of role r ("" when it may).
func (r Role) refuses(id auth.Identity) string {
	opsRead := id.InGroup(auth.GroupOps) || id.InGroup(auth.GroupOpsRead)
	switch {
	case r == RoleShopper && id.Machine():
		return "A machine identity may use only the route its scope names."
	case r == RoleOpsRead && !opsRead:
		return `The ops API is for operations staff: the token's groups must include "ops" or "ops-read".`
	case r == RoleOpsAct && !id.InGroup(auth.GroupOps):
		return `Acting on orders and queues is for acting operators: the token's groups must include "ops" (an "ops-read" operator may only read).`
	case r == RoleReceipts && !id.InGroup(auth.GroupOps) && !id.HasScope(auth.ScopeReceipts):
		return `Recording receipts needs the forwarder's scope "` + auth.ScopeReceipts + `" or an acting operator ("ops").`
	}
	return ""
}
