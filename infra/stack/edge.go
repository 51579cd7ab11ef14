package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfront"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudfrontorigins"
	"github.com/aws/aws-cdk-go/awscdk/v2/awswafv2"
	"github.com/aws/jsii-runtime-go"
)

// WAF cannot be attached to an HTTP API (only to REST APIs, ALBs, AppSync,
// Cognito, App Runner, Verified Access and CloudFront), so with waf=true a
// CloudFront distribution stands in front of the API with a web ACL of
// scope CLOUDFRONT. AWS keeps every CLOUDFRONT-scoped web ACL in us-east-1:
// the stack then deploys in us-east-1 only (a CloudFormation rule refuses
// any other Region before anything is created). See infra/README.md for a
// deployment elsewhere.

// EdgeRegion is the only Region a CLOUDFRONT-scoped web ACL can be made in.
const EdgeRegion = "us-east-1"

// OriginVerifyHeader carries the origin secret (Protection.OriginVerifySecret)
// from CloudFront to the api Lambda.
const OriginVerifyHeader = "X-Origin-Verify"

// PartnerPathPrefixes are the partner routes' paths (the webhooks and
// the notifications: posted by servers, in bulk); ReceiptsPath is the
// E-Port's receipts route, machine traffic from one forwarder.
var (
	PartnerPathPrefixes = []string{"/v1/webhooks/", "/v1/partners/"}
	ReceiptsPath        = "/v1/ops/customs/receipts"
)

// The web ACL's rules, by name.
const (
	RuleRatePerIP        = "RatePerIP"
	RulePartnerRatePerIP = "PartnerRatePerIP"
	RuleCommon           = "AWSManagedRulesCommonRuleSet"
	RuleKnownBadInputs   = "AWSManagedRulesKnownBadInputsRuleSet"
)

// newEdge is the web ACL and the distribution in front of the HTTP API.
// The distribution caches nothing and forwards every method and every
// viewer header but Host (API Gateway routes by its own host name):
// Authorization included, which CloudFront forwards under an
// all-viewer origin request policy only while caching is disabled.
func newEdge(st awscdk.Stack, a *apiParts, p Protection) awscloudfront.Distribution {
	if region := st.Region(); !*awscdk.Token_IsUnresolved(region) && *region != EdgeRegion {
		panic("stack: waf=true needs the stack in " + EdgeRegion + " (a CLOUDFRONT-scoped web ACL exists only there), not " + *region)
	}
	awscdk.NewCfnRule(st, jsii.String("EdgeWebAclRegion"), &awscdk.CfnRuleProps{
		Assertions: &[]*awscdk.CfnRuleAssertion{{
			Assert:            awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), jsii.String(EdgeRegion)),
			AssertDescription: jsii.String("waf=true: the CLOUDFRONT-scoped web ACL can only be created in " + EdgeRegion + "; deploy the stack there, or without waf (see infra/README.md)"),
		}},
	})
	acl := newWebACL(st, p)

	var headers *map[string]*string
	if p.OriginVerifySecret != "" {
		// A dynamic reference, resolved by CloudFormation at deployment:
		// the secret's value is in no template.
		value := awscdk.SecretValue_SecretsManager(jsii.String(p.OriginVerifySecret), nil).UnsafeUnwrap()
		headers = &map[string]*string{OriginVerifyHeader: value}
	}
	domain := *a.api.ApiId() + ".execute-api." + *st.Region() + "." + *st.UrlSuffix()
	origin := awscloudfrontorigins.NewHttpOrigin(jsii.String(domain), &awscloudfrontorigins.HttpOriginProps{
		ProtocolPolicy: awscloudfront.OriginProtocolPolicy_HTTPS_ONLY,
		CustomHeaders:  headers,
	})
	return awscloudfront.NewDistribution(st, jsii.String("Edge"), &awscloudfront.DistributionProps{
		Comment:  jsii.String("xborder API behind WAF"),
		WebAclId: acl.AttrArn(),
		DefaultBehavior: &awscloudfront.BehaviorOptions{
			Origin:               origin,
			AllowedMethods:       awscloudfront.AllowedMethods_ALLOW_ALL(),
			CachePolicy:          awscloudfront.CachePolicy_CACHING_DISABLED(),
			OriginRequestPolicy:  awscloudfront.OriginRequestPolicy_ALL_VIEWER_EXCEPT_HOST_HEADER(),
			ViewerProtocolPolicy: awscloudfront.ViewerProtocolPolicy_HTTPS_ONLY,
		},
	})
}

// newWebACL: a per-IP rate rule for the shoppers' and ops routes and one
// for the partner routes (the E-Port's receipts, one forwarder's address
// at up to 1,250 requests/s, have only their route throttle), then AWS's
// common rule set and known bad inputs. Rate-limited requests are answered
// 429, which clients back off from, rather than WAF's default 403.
//
// The common rule set's SizeRestrictions_BODY blocks bodies over 8 KB; a
// partner's order by webhook may be 256 KiB (the api Lambda itself
// refuses more, 413), so that rule only counts. The set's other body
// rules (cross-site scripting, LFI, SSRF) inspect the first 16 KB that
// CloudFront gives WAF and let larger bodies on (their oversize handling
// is CONTINUE), so a large webhook is inspected, not refused.
func newWebACL(st awscdk.Stack, p Protection) awswafv2.CfnWebACL {
	partnerPaths := make([]any, 0, len(PartnerPathPrefixes))
	for _, prefix := range PartnerPathPrefixes {
		partnerPaths = append(partnerPaths, pathStartsWith(prefix))
	}
	rules := []any{
		&awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String(RuleRatePerIP), Priority: jsii.Number(0),
			Action: throttled(), VisibilityConfig: visibility(RuleRatePerIP),
			Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				AggregateKeyType: jsii.String("IP"), Limit: jsii.Number(float64(p.wafRateLimit())), EvaluationWindowSec: jsii.Number(300),
				ScopeDownStatement: &awswafv2.CfnWebACL_StatementProperty{NotStatement: &awswafv2.CfnWebACL_NotStatementProperty{
					Statement: &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{
						Statements: append(append([]any{}, partnerPaths...), pathStartsWith(ReceiptsPath)),
					}},
				}},
			}},
		},
		&awswafv2.CfnWebACL_RuleProperty{
			Name: jsii.String(RulePartnerRatePerIP), Priority: jsii.Number(1),
			Action: throttled(), VisibilityConfig: visibility(RulePartnerRatePerIP),
			Statement: &awswafv2.CfnWebACL_StatementProperty{RateBasedStatement: &awswafv2.CfnWebACL_RateBasedStatementProperty{
				AggregateKeyType: jsii.String("IP"), Limit: jsii.Number(float64(p.wafPartnerRateLimit())), EvaluationWindowSec: jsii.Number(300),
				ScopeDownStatement: &awswafv2.CfnWebACL_StatementProperty{OrStatement: &awswafv2.CfnWebACL_OrStatementProperty{
					Statements: partnerPaths,
				}},
			}},
		},
		managedRuleGroup(RuleCommon, 2, []any{
			&awswafv2.CfnWebACL_RuleActionOverrideProperty{
				Name: jsii.String("SizeRestrictions_BODY"), ActionToUse: &awswafv2.CfnWebACL_RuleActionProperty{Count: map[string]any{}},
			},
		}),
		managedRuleGroup(RuleKnownBadInputs, 3, nil),
	}
	return awswafv2.NewCfnWebACL(st, jsii.String("EdgeWebAcl"), &awswafv2.CfnWebACLProps{
		Scope:            jsii.String("CLOUDFRONT"),
		Description:      jsii.String("xborder API: per-IP rate limits, AWS common rule set, known bad inputs"),
		DefaultAction:    &awswafv2.CfnWebACL_DefaultActionProperty{Allow: map[string]any{}},
		VisibilityConfig: visibility("xborder-edge"),
		Rules:            rules,
	})
}

func managedRuleGroup(name string, priority float64, overrides []any) *awswafv2.CfnWebACL_RuleProperty {
	stmt := &awswafv2.CfnWebACL_ManagedRuleGroupStatementProperty{VendorName: jsii.String("AWS"), Name: jsii.String(name)}
	if overrides != nil {
		stmt.RuleActionOverrides = overrides
	}
	return &awswafv2.CfnWebACL_RuleProperty{
		Name: jsii.String(name), Priority: jsii.Number(priority),
		OverrideAction:   &awswafv2.CfnWebACL_OverrideActionProperty{None: map[string]any{}},
		Statement:        &awswafv2.CfnWebACL_StatementProperty{ManagedRuleGroupStatement: stmt},
		VisibilityConfig: visibility(name),
	}
}

func throttled() *awswafv2.CfnWebACL_RuleActionProperty {
	return &awswafv2.CfnWebACL_RuleActionProperty{Block: &awswafv2.CfnWebACL_BlockActionProperty{
		CustomResponse: &awswafv2.CfnWebACL_CustomResponseProperty{ResponseCode: jsii.Number(429)},
	}}
}

func pathStartsWith(prefix string) *awswafv2.CfnWebACL_StatementProperty {
	return &awswafv2.CfnWebACL_StatementProperty{ByteMatchStatement: &awswafv2.CfnWebACL_ByteMatchStatementProperty{
		FieldToMatch:         &awswafv2.CfnWebACL_FieldToMatchProperty{UriPath: map[string]any{}},
		PositionalConstraint: jsii.String("STARTS_WITH"),
		SearchString:         jsii.String(prefix),
		TextTransformations: []any{
			&awswafv2.CfnWebACL_TextTransformationProperty{Priority: jsii.Number(0), Type: jsii.String("NONE")},
		},
	}}
}

func visibility(metric string) *awswafv2.CfnWebACL_VisibilityConfigProperty {
	return &awswafv2.CfnWebACL_VisibilityConfigProperty{
		CloudWatchMetricsEnabled: jsii.Bool(true), MetricName: jsii.String(metric), SampledRequestsEnabled: jsii.Bool(true),
	}
}
