package wiring

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
)

type secretStub map[string]string

func (s secretStub) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	v, ok := s[aws.ToString(in.SecretId)]
	if !ok {
		return nil, errors.New("ResourceNotFoundException")
	}
	return &secretsmanager.GetSecretValueOutput{SecretString: aws.String(v)}, nil
}

func TestPaymentsFromTheEnvironment(t *testing.T) {
	ctx := context.Background()
	secrets := secretStub{"xborder/stripe": `{"secretKey":"sk_test_from_secret"}`, "plain": "sk_test_plain", "bad": `{"other":1}`}
	t.Setenv(EnvSandbox, "")
	t.Setenv(EnvPartnerEndpoints, "")
	cases := []struct {
		name, provider, key, secret string
		wantStripe                  bool
		wantErr                     string
	}{
		{"no provider is refused", "", "", "", false, "PAYMENT_PROVIDER is not set"},
		{"the simulator outside a sandbox is refused", "simulator", "", "", false, "allowed only in a deployment that names a sandbox"},
		{"stripe with a key", "stripe", "sk_test_env", "", true, ""},
		{"stripe with a JSON secret", "stripe", "", "xborder/stripe", true, ""},
		{"stripe with a plain secret", "stripe", "", "plain", true, ""},
		{"stripe without a key", "stripe", "", "", false, "needs " + EnvStripeSecret},
		{"a secret without secretKey", "stripe", "", "bad", false, "without a secretKey"},
		{"a missing secret", "stripe", "", "missing", false, "ResourceNotFoundException"},
		{"an unknown provider", "paypal", "", "", false, "unknown PAYMENT_PROVIDER"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(EnvPaymentProvider, tc.provider)
			t.Setenv(EnvStripeSecretKey, tc.key)
			t.Setenv(EnvStripeSecret, tc.secret)
			p, err := Payments(ctx, secrets)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, fixed := p.(*payment.Stripe)
			_, rotating := p.(*rotatingStripe)
			if (fixed || rotating) != tc.wantStripe || (tc.secret != "" && !rotating) {
				t.Fatalf("provider %T", p)
			}
		})
	}
}

func TestPartnersFromTheEnvironment(t *testing.T) {
	ctx := context.Background()
	t.Setenv(EnvPartnersSource, "")
	t.Setenv(EnvCatalogueSource, "")
	pc, err := Partners(ctx, nil)
	if err != nil || len(pc.Directory.IDs()) != 0 || pc.Catalogue.Len() != 0 {
		t.Fatalf("no sources: %+v %v", pc, err)
	}
	t.Setenv(EnvPartnersSource, "file:../../../localstack/partners.json")
	t.Setenv(EnvCatalogueSource, "file:../../../localstack/catalogue.json")
	if pc, err = Partners(ctx, nil); err != nil || len(pc.Directory.IDs()) == 0 || pc.Catalogue.Len() == 0 {
		t.Fatalf("the demo files: %+v %v", pc, err)
	}
	t.Setenv(EnvPartnersSource, "secretsmanager:xborder/partners")
	if _, err := Partners(ctx, secretStub{}); err == nil || !strings.Contains(err.Error(), "xborder/partners") {
		t.Fatalf("a missing secret: %v", err)
	}
}

// TestSandboxPartners: the payment simulator and partner sandboxes only in
// a deployment that names itself a sandbox; the partners a function needs,
// or no cold start.
func TestSandboxPartners(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	file := dir + "/endpoints.json"
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	write(`{"payments": {"url": "http://127.0.0.1:9", "secret": "` + secret + `", "sandbox": true},
	        "customs-broker": {"url": "https://broker.example", "secret": "` + secret + `"}}`)
	t.Setenv(EnvPartnerEndpoints, "file:"+file)
	t.Setenv(EnvPaymentProvider, "simulator")

	t.Setenv(EnvSandbox, "")
	if _, err := Payments(ctx, secretStub{}); err == nil || !strings.Contains(err.Error(), EnvSandbox) {
		t.Fatalf("simulator in production: %v", err)
	}
	if _, err := Endpoints(ctx, secretStub{}, partnerlink.Payments); err == nil || !strings.Contains(err.Error(), "is a sandbox") {
		t.Fatalf("a sandbox endpoint in production: %v", err)
	}
	if _, err := Endpoints(ctx, secretStub{}, partnerlink.CustomsBroker, partnerlink.ChinaEPort); err == nil || !strings.Contains(err.Error(), "no endpoint configured for china-eport") {
		t.Fatalf("a missing partner: %v", err)
	}
	if eps, err := Endpoints(ctx, secretStub{}, partnerlink.CustomsBroker); err != nil || eps[0].URL != "https://broker.example" {
		t.Fatalf("a production endpoint: %+v %v", eps, err)
	}

	t.Setenv(EnvSandbox, "local")
	p, err := Payments(ctx, secretStub{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := p.(partnerhttp.PaymentLink); !ok {
		t.Fatalf("provider %T", p)
	}
	write(`{"warehouse": {"url": "http://warehouse.example", "secret": "` + secret + `"}}`)
	if _, err := PartnerEndpoints(ctx, secretStub{}); err == nil || !strings.Contains(err.Error(), "must be https") {
		t.Fatalf("plain http off loopback: %v", err)
	}
	t.Setenv(EnvPartnerEndpoints, "")
	if _, err := Endpoints(ctx, secretStub{}, partnerlink.Warehouse); err == nil || !strings.Contains(err.Error(), EnvPartnerEndpoints) {
		t.Fatalf("no endpoints at all: %v", err)
	}
}

func TestChinaDeclarantHasNoDefault(t *testing.T) {
	ctx := context.Background()
	t.Setenv(EnvChinaDeclarant, "")
	if _, err := ChinaDeclarantFromEnv(ctx, secretStub{}); err == nil || !strings.Contains(err.Error(), EnvChinaDeclarant) {
		t.Fatalf("no declarant: %v", err)
	}
	t.Setenv(EnvChinaDeclarant, "file:../../../localstack/china-declarant.json")
	d, err := ChinaDeclarantFromEnv(ctx, secretStub{})
	if err != nil || d.DXPID == "" || d.Parties.Agent.Code != "DEMOAGT001" {
		t.Fatalf("the local stack's declarant: %+v %v", d, err)
	}
	t.Setenv(EnvChinaDeclarant, "secretsmanager:xborder/china-declarant")
	if _, err := ChinaDeclarantFromEnv(ctx, secretStub{"xborder/china-declarant": `{"dxpId": "X", "platform": {"code": "1"}}`}); err == nil || !strings.Contains(err.Error(), "invalid parties") {
		t.Fatalf("an invalid declarant: %v", err)
	}
}
