package stack

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/auth"
)

// Two user pools, because Cognito sets MFA per pool and operators and
// shoppers need different rules: shoppers sign in from the mobile apps
// without a second factor; operators, who can read personal data and move
// orders, must use TOTP. Each pool has its own JWT authorizer on the HTTP
// API: a shopper's token opens no ops route and an operator's no shopper
// route, before the api Lambda checks each route's role
// (httpapi.RouteRoles).
type identity struct {
	shoppers   awscognito.UserPool
	shopperApp awscognito.UserPoolClient
	operators  awscognito.UserPool
	console    awscognito.UserPoolClient
	forwarder  awscognito.UserPoolClient
	domain     awscognito.UserPoolDomain
	shopperJWT awsapigatewayv2.IHttpRouteAuthorizer
	opsJWT     awsapigatewayv2.IHttpRouteAuthorizer
}

// Token lifetimes: an operator's session is short, a refresh token a
// working day.
const (
	opsTokenHours   = 1
	opsRefreshHours = 12
)

// newIdentity makes both pools, their clients and the authorizers. The
// console's callback is the API's /ops/ page plus opsCallbacks (a custom
// domain, the CloudFront distribution); the apps' callbacks are
// appCallbacks (their URL schemes), or the API's page when none are given.
func newIdentity(st awscdk.Stack, api awsapigatewayv2.HttpApi, opsCallbacks, appCallbacks []string) *identity {
	id := &identity{}
	consolePage := jsii.String(*api.ApiEndpoint() + "/ops/")

	id.shoppers = awscognito.NewUserPool(st, jsii.String("Users"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	apps := appCallbacks
	if len(apps) == 0 {
		apps = []string{*consolePage}
	}
	id.shopperApp = id.shoppers.AddClient(jsii.String("AppClient"), &awscognito.UserPoolClientOptions{
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
		// Authorization code with PKCE only: no implicit grant (tokens in
		// URL fragments), no example.com callback CDK would default to.
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true), ImplicitCodeGrant: jsii.Bool(false)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL()},
			CallbackUrls: jsii.Strings(apps...), LogoutUrls: jsii.Strings(apps...),
		},
		PreventUserExistenceErrors: jsii.Bool(true),
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
	})

	id.operators = awscognito.NewUserPool(st, jsii.String("Operators"), &awscognito.UserPoolProps{
		UserPoolName:      jsii.String("xborder-operators"),
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		// A second factor always, by an authenticator app: SMS is open to
		// SIM swapping.
		Mfa:             awscognito.Mfa_REQUIRED,
		MfaSecondFactor: &awscognito.MfaSecondFactor{Otp: jsii.Bool(true), Sms: jsii.Bool(false)},
		// No self-service recovery: an administrator resets an operator
		// (AdminResetUserPassword), and the second factor still applies.
		AccountRecovery: awscognito.AccountRecovery_NONE,
		PasswordPolicy: &awscognito.PasswordPolicy{MinLength: jsii.Number(14), RequireLowercase: jsii.Bool(true),
			RequireUppercase: jsii.Bool(true), RequireDigits: jsii.Bool(true), RequireSymbols: jsii.Bool(true)},
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})
	for _, g := range []struct{ id, name, about string }{
		{"OpsGroup", auth.GroupOps, "acting operators: the ops console and API, including redrive, cancel, replay"},
		{"OpsReadGroup", auth.GroupOpsRead, "read-only operators: the ops console and API, no action"},
	} {
		awscognito.NewCfnUserPoolGroup(st, jsii.String(g.id), &awscognito.CfnUserPoolGroupProps{
			UserPoolId: id.operators.UserPoolId(), GroupName: jsii.String(g.name), Description: jsii.String(g.about),
		})
	}
	id.domain = id.operators.AddDomain(jsii.String("OperatorsDomain"), &awscognito.UserPoolDomainOptions{
		CognitoDomain: &awscognito.CognitoDomainOptions{DomainPrefix: jsii.String("xborder-ops-" + *st.Account())},
	})
	consoleCallbacks := append([]string{*consolePage}, opsCallbacks...)
	id.console = id.operators.AddClient(jsii.String("OpsConsole"), &awscognito.UserPoolClientOptions{
		// A public client (a browser page): authorization code with PKCE.
		GenerateSecret: jsii.Bool(false),
		OAuth: &awscognito.OAuthSettings{
			Flows:        &awscognito.OAuthFlows{AuthorizationCodeGrant: jsii.Bool(true), ImplicitCodeGrant: jsii.Bool(false)},
			Scopes:       &[]awscognito.OAuthScope{awscognito.OAuthScope_OPENID(), awscognito.OAuthScope_EMAIL()},
			CallbackUrls: jsii.Strings(consoleCallbacks...), LogoutUrls: jsii.Strings(consoleCallbacks...),
		},
		PreventUserExistenceErrors: jsii.Bool(true),
		SupportedIdentityProviders: &[]awscognito.UserPoolClientIdentityProvider{awscognito.UserPoolClientIdentityProvider_COGNITO()},
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(opsTokenHours)),
		IdTokenValidity:            awscdk.Duration_Hours(jsii.Number(opsTokenHours)),
		RefreshTokenValidity:       awscdk.Duration_Hours(jsii.Number(opsRefreshHours)),
	})
	// The E-Port receipt forwarder: a program, with a secret, that may get
	// a token with one scope, which opens one route.
	resourceID, scopeName, _ := strings.Cut(auth.ScopeReceipts, "/")
	receipts := awscognito.NewResourceServerScope(&awscognito.ResourceServerScopeProps{
		ScopeName: jsii.String(scopeName), ScopeDescription: jsii.String("record China's customs receipts (POST /v1/ops/customs/receipts)"),
	})
	server := id.operators.AddResourceServer(jsii.String("OpsResourceServer"), &awscognito.UserPoolResourceServerOptions{
		Identifier: jsii.String(resourceID), Scopes: &[]awscognito.ResourceServerScope{receipts},
	})
	id.forwarder = id.operators.AddClient(jsii.String("EPortForwarder"), &awscognito.UserPoolClientOptions{
		GenerateSecret: jsii.Bool(true),
		OAuth: &awscognito.OAuthSettings{
			Flows:  &awscognito.OAuthFlows{ClientCredentials: jsii.Bool(true)},
			Scopes: &[]awscognito.OAuthScope{awscognito.OAuthScope_ResourceServer(server, receipts)},
		},
		PreventUserExistenceErrors: jsii.Bool(true),
		AccessTokenValidity:        awscdk.Duration_Hours(jsii.Number(opsTokenHours)),
	})

	issuer := func(p awscognito.UserPool) *string {
		return jsii.String("https://cognito-idp." + *st.Region() + ".amazonaws.com/" + *p.UserPoolId())
	}
	// Cognito's access tokens carry client_id, its ID tokens aud: the HTTP
	// API's JWT authorizer checks either against the audience.
	id.shopperJWT = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("CognitoJwt"), issuer(id.shoppers),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(*id.shopperApp.UserPoolClientId())})
	id.opsJWT = awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("OperatorsJwt"), issuer(id.operators),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(*id.console.UserPoolClientId(), *id.forwarder.UserPoolClientId())})
	return id
}
