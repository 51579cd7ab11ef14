package wiring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/xborder/xborder/shared/partnerhttp"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/steps"
)

// Payment configuration.
const (
	// EnvPaymentProvider selects the provider, and is required: "stripe",
	// or "simulator" — the payment simulator server at the "payments"
	// partner endpoint, in a sandbox deployment only (EnvSandbox).
	EnvPaymentProvider = "PAYMENT_PROVIDER"
	// EnvStripeSecretKey is the Stripe API key, for local runs against
	// stripe-mock or a test account.
	EnvStripeSecretKey = "STRIPE_SECRET_KEY"
	// EnvStripeSecret names the Secrets Manager secret holding the key (the
	// key itself, or JSON {"secretKey": "…"}): how the key reaches the
	// Lambdas in AWS, so it appears in no template or environment.
	EnvStripeSecret = "STRIPE_SECRET_KEY_SECRET"
	// EnvStripeAPIURL overrides Stripe's API base (stripe-mock).
	EnvStripeAPIURL = "STRIPE_API_URL"
)

// SecretReader reads a secret's string (Secrets Manager's GetSecretValue).
type SecretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager is a Secrets Manager client at its standard endpoint.
func SecretsManager(cfg aws.Config) *secretsmanager.Client {
	return secretsmanager.NewFromConfig(cfg, func(o *secretsmanager.Options) { o.BaseEndpoint = Endpoint("SECRETS_MANAGER") })
}

// Payments builds the provider the environment names. secrets is consulted
// only for EnvStripeSecret.
func Payments(ctx context.Context, secrets SecretReader) (steps.Payments, error) {
	switch p := os.Getenv(EnvPaymentProvider); p {
	case "":
		return nil, fmt.Errorf("wiring: %s is not set: stripe, or simulator in a sandbox deployment", EnvPaymentProvider)
	case "simulator":
		if Sandbox() == "" {
			return nil, fmt.Errorf("wiring: %s=simulator moves no money: allowed only in a deployment that names a sandbox (%s)", EnvPaymentProvider, EnvSandbox)
		}
		eps, err := Endpoints(ctx, secrets, partnerlink.Payments)
		if err != nil {
			return nil, err
		}
		return partnerhttp.PaymentLink{Endpoint: eps[0]}, nil
	case "stripe":
		if k := os.Getenv(EnvStripeSecretKey); k != "" {
			// A key in the environment (a developer's, stripe-mock's) is
			// fixed for the environment's life.
			return payment.NewStripe(payment.StripeConfig{SecretKey: k, URL: os.Getenv(EnvStripeAPIURL)}), nil
		}
		return newRotatingStripe(ctx, func(ctx context.Context) (string, error) { return stripeKey(ctx, secrets) },
			os.Getenv(EnvStripeAPIURL), Logger())
	default:
		return nil, fmt.Errorf("wiring: unknown %s %q (stripe or simulator)", EnvPaymentProvider, p)
	}
}

func stripeKey(ctx context.Context, secrets SecretReader) (string, error) {
	if k := os.Getenv(EnvStripeSecretKey); k != "" {
		return k, nil
	}
	id := os.Getenv(EnvStripeSecret)
	if id == "" {
		return "", fmt.Errorf("wiring: %s=stripe needs %s or %s", EnvPaymentProvider, EnvStripeSecret, EnvStripeSecretKey)
	}
	if secrets == nil {
		return "", errors.New("wiring: no Secrets Manager client to read " + id)
	}
	out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return "", fmt.Errorf("wiring: read the Stripe key from %s: %w", id, err)
	}
	s := strings.TrimSpace(aws.ToString(out.SecretString))
	if strings.HasPrefix(s, "{") {
		var v struct {
			SecretKey string `json:"secretKey"`
		}
		if err := json.Unmarshal([]byte(s), &v); err != nil || v.SecretKey == "" {
			return "", fmt.Errorf("wiring: secret %s is JSON without a secretKey", id)
		}
		s = v.SecretKey
	}
	if s == "" {
		return "", fmt.Errorf("wiring: secret %s is empty", id)
	}
	return s, nil
}
