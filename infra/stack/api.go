package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscognito"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/workflow"
)

type apiParts struct {
	api    awsapigatewayv2.HttpApi
	pool   awscognito.UserPool
	client awscognito.UserPoolClient
}

// apiRoutes are the routes of the HTTP API; shared/httpapi serves the same
// set (a test compares them).
var apiRoutes = []struct {
	method awsapigatewayv2.HttpMethod
	path   string
}{
	{awsapigatewayv2.HttpMethod_POST, "/v1/orders"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orders"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orders/{id}"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orders/{id}/cancel"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/quotes"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/quotes/{id}"},
}

// newAPI is the Cognito user pool (with the ops group) and the HTTP API whose
// JWT authorizer checks its tokens before the api Lambda sees a request.
func newAPI(st awscdk.Stack, f *functions) *apiParts {
	pool := awscognito.NewUserPool(st, jsii.String("Users"), &awscognito.UserPoolProps{
		SelfSignUpEnabled: jsii.Bool(false),
		SignInAliases:     &awscognito.SignInAliases{Email: jsii.Bool(true)},
		AccountRecovery:   awscognito.AccountRecovery_EMAIL_ONLY,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})
	awscognito.NewCfnUserPoolGroup(st, jsii.String("OpsGroup"), &awscognito.CfnUserPoolGroupProps{
		UserPoolId: pool.UserPoolId(), GroupName: jsii.String(auth.GroupOps), Description: jsii.String("operations staff: the ops console and API"),
	})
	client := pool.AddClient(jsii.String("AppClient"), &awscognito.UserPoolClientOptions{
		AuthFlows: &awscognito.AuthFlow{UserSrp: jsii.Bool(true)},
	})
	issuer := "https://cognito-idp." + *st.Region() + ".amazonaws.com/" + *pool.UserPoolId()
	authorizer := awsapigatewayv2authorizers.NewHttpJwtAuthorizer(jsii.String("CognitoJwt"), jsii.String(issuer),
		&awsapigatewayv2authorizers.HttpJwtAuthorizerProps{JwtAudience: jsii.Strings(*client.UserPoolClientId())})
	api := awsapigatewayv2.NewHttpApi(st, jsii.String("HttpApi"), &awsapigatewayv2.HttpApiProps{
		Description:       jsii.String("xborder order API"),
		DefaultAuthorizer: authorizer,
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), f.fn[workflow.FnAPI],
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0()})
	for _, r := range apiRoutes {
		api.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path: jsii.String(r.path), Methods: &[]awsapigatewayv2.HttpMethod{r.method}, Integration: integration,
		})
	}
	return &apiParts{api: api, pool: pool, client: client}
}
