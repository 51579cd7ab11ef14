package wiring

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

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
	cases := []struct {
		name, provider, key, secret string
		wantStripe                  bool
		wantErr                     string
	}{
		{"default is the simulator", "", "", "", false, ""},
		{"simulator", "simulator", "", "", false, ""},
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
			_, isStripe := p.(*payment.Stripe)
			_, isSim := p.(*payment.Simulator)
			if isStripe != tc.wantStripe || isSim == tc.wantStripe {
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
