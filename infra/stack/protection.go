package stack

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// What stands between a flood of requests and the account's Lambda
// concurrency, which the payment and customs steps share with the api
// Lambda: the HTTP API stage's throttles (throttle.go), the api Lambda's
// reserved concurrency, and, when asked for, CloudFront with a WAF web ACL
// in front of the API (edge.go).
//
// The figures come from docs/capacity.md (make capacity): at default
// quotas one deployment (a cell) runs at most 188 orders/s (Step Functions'
// 1,500 state transitions/s, 8 per order, bind first); an even mix of the
// sample paths takes 2.42 s of Lambda concurrency per order, 0.65 s of it
// in the api (7.6 API requests per order: the shopper's POST and 6.6
// receipts from China's E-Port, 86 ms each on average).

// Protection configures the API's protections; the zero value is the
// default deployment (no WAF, the default figures).
type Protection struct {
	// APIConcurrency is the api Lambda's reserved concurrency
	// (DefaultAPIConcurrency when 0; context apiConcurrency).
	APIConcurrency int
	// WAF puts a CloudFront distribution with a WAF web ACL in front of
	// the HTTP API (context waf=true). The web ACL is CLOUDFRONT-scoped,
	// which AWS allows in us-east-1 only: the stack then refuses to deploy
	// in another Region.
	WAF bool
	// WAFRateLimit is what one IP address may send the shoppers' and the
	// ops routes in 5 minutes before WAF answers 429
	// (DefaultWAFRateLimit when 0; context wafRateLimit).
	WAFRateLimit int
	// WAFPartnerRateLimit is the same for the partner routes
	// (DefaultWAFPartnerRateLimit when 0; context wafPartnerRateLimit).
	WAFPartnerRateLimit int
	// OriginVerifySecret names a Secrets Manager secret whose value
	// CloudFront sends the API in the OriginVerifyHeader header, for an api
	// Lambda that refuses requests without it (context originVerifySecret;
	// WAF only; empty: no header). See infra/README.md.
	OriginVerifySecret string
}

// DefaultAPIConcurrency: the api Lambda may run 300 at once, 30 % of the
// account's default 1,000. At the cell's ceiling of 188 orders/s the
// other functions need 188 × (2.42 − 0.65) ≈ 333 of the 700 left to them
// (twice that in headroom, and AWS keeps at least 100 unreserved), and the
// api 188 × 0.65 ≈ 122 of its 300, the rest for the shoppers' reads and
// slower requests (cold starts; 199 ms on average on the c2c path).
// A flood of the API then costs at most 300 concurrent executions: the
// steps keep theirs. Raise it with the account's quota
// (-c apiConcurrency=…); it must stay at least 100 below the account's
// concurrency limit.
const DefaultAPIConcurrency = 300

// DefaultWAFRateLimit is 2,000 requests per IP address in 5 minutes
// (6.7/s): far above what a shopper's app or the ops console sends, low
// enough that one address cannot use up the stage's throttle.
const DefaultWAFRateLimit = 2000

// DefaultWAFPartnerRateLimit is 15,000 requests per IP address in 5
// minutes on the partner routes (50/s): half the partner routes' own
// throttle, so one address, a partner's bulk posting or not, never takes
// the whole of a route.
const DefaultWAFPartnerRateLimit = 15000

// ProtectionFromContext reads the CDK context values apiConcurrency, waf,
// wafRateLimit, wafPartnerRateLimit and originVerifySecret (strings from
// -c, or JSON values from cdk.json).
func ProtectionFromContext(node constructs.Node) (Protection, error) {
	var p Protection
	var err error
	str := func(key string) string {
		switch v := node.TryGetContext(jsii.String(key)).(type) {
		case string:
			return strings.TrimSpace(v)
		case bool:
			return strconv.FormatBool(v)
		case float64:
			return strconv.FormatFloat(v, 'f', -1, 64)
		}
		return ""
	}
	positive := func(key string, into *int) {
		s := str(key)
		if s == "" || err != nil {
			return
		}
		n, convErr := strconv.Atoi(s)
		if convErr != nil || n <= 0 {
			err = fmt.Errorf("stack: context %s must be a positive whole number, not %q", key, s)
			return
		}
		*into = n
	}
	positive("apiConcurrency", &p.APIConcurrency)
	positive("wafRateLimit", &p.WAFRateLimit)
	positive("wafPartnerRateLimit", &p.WAFPartnerRateLimit)
	if s := str("waf"); s != "" {
		on, convErr := strconv.ParseBool(s)
		if convErr != nil && err == nil {
			err = fmt.Errorf("stack: context waf must be true or false, not %q", s)
		}
		p.WAF = on
	}
	p.OriginVerifySecret = str("originVerifySecret")
	if err == nil && p.OriginVerifySecret != "" && !p.WAF {
		err = fmt.Errorf("stack: originVerifySecret is the header CloudFront sends: it needs waf=true")
	}
	return p, err
}

func (p Protection) apiConcurrency() int {
	if p.APIConcurrency > 0 {
		return p.APIConcurrency
	}
	return DefaultAPIConcurrency
}

func (p Protection) wafRateLimit() int {
	if p.WAFRateLimit > 0 {
		return p.WAFRateLimit
	}
	return DefaultWAFRateLimit
}

func (p Protection) wafPartnerRateLimit() int {
	if p.WAFPartnerRateLimit > 0 {
		return p.WAFPartnerRateLimit
	}
	return DefaultWAFPartnerRateLimit
}
