package payment

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/stripe/stripe-go/v85"

	"github.com/xborder/xborder/shared/money"
)

// Stripe is the payment provider over Stripe's API (PaymentIntents with
// manual capture), through the official client. Every request carries the
// step's idempotency key, so the client's own network retries and the
// workflow's retries never charge twice: Stripe answers a repeated key with
// the first response.
type Stripe struct {
	client *stripe.Client
}

// StripeConfig configures the Stripe provider.
type StripeConfig struct {
	// SecretKey is the restricted or secret API key (sk_… / rk_…).
	SecretKey string
	// URL is the API's base; empty for api.stripe.com (stripe-mock in tests).
	URL string
	// HTTPClient defaults to one with an 80 s timeout, Stripe's advice.
	HTTPClient *http.Client
	// MaxNetworkRetries is how often the client itself retries a network
	// error, a 409 or a lock timeout, with the same idempotency key; 2 when
	// zero, none when < 0. Other errors go back to the workflow's Retry.
	MaxNetworkRetries int64
}

// NewStripe builds the provider. It sends no telemetry.
func NewStripe(cfg StripeConfig) *Stripe {
	retries := cfg.MaxNetworkRetries
	switch {
	case retries == 0:
		retries = 2
	case retries < 0:
		retries = 0
	}
	bc := &stripe.BackendConfig{HTTPClient: cfg.HTTPClient, MaxNetworkRetries: stripe.Int64(retries),
		EnableTelemetry: stripe.Bool(false), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelNull}}
	if cfg.URL != "" {
		bc.URL = stripe.String(strings.TrimRight(cfg.URL, "/"))
	}
	return &Stripe{client: stripe.NewClient(cfg.SecretKey, stripe.WithBackends(stripe.NewBackendsWithConfig(bc)))}
}

// threeDecimal are the three-decimal currencies, whose amounts Stripe
// accepts only as multiples of 10 minor units.
var threeDecimal = map[string]bool{"BHD": true, "JOD": true, "KWD": true, "OMR": true, "TND": true}

// unpayable are request errors that mean the order cannot be paid as it
// stands: the workflow ends it PAYMENT_DECLINED instead of retrying.
var unpayable = map[stripe.ErrorCode]bool{stripe.ErrorCodeAmountTooSmall: true, stripe.ErrorCodeAmountTooLarge: true,
	stripe.ErrorCodeInvalidChargeAmount: true, stripe.ErrorCodeExpiredCard: true, stripe.ErrorCodePaymentMethodUnactivated: true}

// Stripe's currency codes are lower case; amounts are minor units, as ours.
func stripeCurrency(m money.Money) *string { return stripe.String(strings.ToLower(m.Currency)) }

// Authorize creates and confirms a PaymentIntent with manual capture. The
// order id and the exchange rate locked at intake go into its metadata. A
// tok_… token is first turned into a PaymentMethod (Stripe's documented path
// for legacy tokens); pm_… ids are used as they are.
func (s *Stripe) Authorize(ctx context.Context, a Authorization) (string, error) {
	if threeDecimal[a.Amount.Currency] && a.Amount.Amount%10 != 0 {
		// Stripe charges three-decimal currencies in whole hundredths.
		return "", &Declined{Reason: "amount_not_chargeable"}
	}
	pm := a.Token
	if strings.HasPrefix(pm, "tok_") {
		p := &stripe.PaymentMethodCreateParams{Type: stripe.String("card"), Card: &stripe.PaymentMethodCreateCardParams{Token: stripe.String(pm)}}
		p.SetIdempotencyKey(a.Key + ":payment-method")
		got, err := s.client.V1PaymentMethods.Create(ctx, p)
		if err != nil {
			return "", classify("create payment method", err)
		}
		pm = got.ID
	}
	p := &stripe.PaymentIntentCreateParams{
		Amount: stripe.Int64(a.Amount.Amount), Currency: stripeCurrency(a.Amount),
		CaptureMethod: stripe.String(string(stripe.PaymentIntentCaptureMethodManual)), Confirm: stripe.Bool(true),
		PaymentMethod: stripe.String(pm), PaymentMethodTypes: []*string{stripe.String("card")},
	}
	p.SetIdempotencyKey(a.Key)
	p.AddMetadata("order_id", a.OrderID)
	if a.FX != nil {
		p.AddMetadata("fx_from", a.FX.From)
		p.AddMetadata("fx_to", a.FX.To)
		p.AddMetadata("fx_rate", a.FX.Rate)
		p.AddMetadata("fx_date", a.FX.Date)
	}
	pi, err := s.client.V1PaymentIntents.Create(ctx, p)
	if err != nil {
		return "", classify("authorize", err)
	}
	switch pi.Status {
	case stripe.PaymentIntentStatusRequiresCapture, stripe.PaymentIntentStatusSucceeded:
		return pi.ID, nil
	case stripe.PaymentIntentStatusRequiresAction:
		// 3-D Secure the shopper must complete in the app: not authorized.
		return "", &Declined{Reason: "authentication_required"}
	case stripe.PaymentIntentStatusProcessing:
		return "", fmt.Errorf("stripe authorize %s: still processing: %w", pi.ID, ErrTransient)
	default:
		reason := "card_declined"
		if e := pi.LastPaymentError; e != nil && e.DeclineCode != "" {
			reason = string(e.DeclineCode)
		} else if e != nil && e.Code != "" {
			reason = string(e.Code)
		}
		return "", &Declined{Reason: reason}
	}
}

// Capture takes amount (all or part of what was authorized). A capture that
// already happened is success; an authorization Stripe cancelled because it
// expired is ErrAuthorizationExpired.
func (s *Stripe) Capture(ctx context.Context, key, chargeID string, amount money.Money) error {
	p := &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(amount.Amount)}
	p.SetIdempotencyKey(key)
	_, err := s.client.V1PaymentIntents.Capture(ctx, chargeID, p)
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Code == stripe.ErrorCodeChargeExpiredForCapture:
			return ErrAuthorizationExpired
		case se.Code == stripe.ErrorCodePaymentIntentUnexpectedState && se.PaymentIntent != nil:
			switch se.PaymentIntent.Status {
			case stripe.PaymentIntentStatusSucceeded:
				return nil // captured before
			case stripe.PaymentIntentStatusCanceled:
				return ErrAuthorizationExpired
			}
		}
	}
	if err != nil {
		return classify("capture", err)
	}
	return nil
}

// Void cancels an uncaptured PaymentIntent, releasing the hold. A cancelled
// one is done; a captured one is ErrAlreadyCaptured (refund instead).
func (s *Stripe) Void(ctx context.Context, key, chargeID string) error {
	p := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String(string(stripe.PaymentIntentCancellationReasonAbandoned))}
	p.SetIdempotencyKey(key)
	_, err := s.client.V1PaymentIntents.Cancel(ctx, chargeID, p)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodePaymentIntentUnexpectedState && se.PaymentIntent != nil {
		switch se.PaymentIntent.Status {
		case stripe.PaymentIntentStatusCanceled:
			return nil
		case stripe.PaymentIntentStatusSucceeded:
			return ErrAlreadyCaptured
		}
	}
	if err != nil {
		return classify("void", err)
	}
	return nil
}

// Refund returns amount of a captured PaymentIntent. A charge refunded
// before is done.
func (s *Stripe) Refund(ctx context.Context, key, chargeID string, amount money.Money) error {
	p := &stripe.RefundCreateParams{PaymentIntent: stripe.String(chargeID), Amount: stripe.Int64(amount.Amount),
		Reason: stripe.String(string(stripe.RefundReasonRequestedByCustomer))}
	p.SetIdempotencyKey(key)
	_, err := s.client.V1Refunds.Create(ctx, p)
	var se *stripe.Error
	if errors.As(err, &se) && se.Code == stripe.ErrorCodeChargeAlreadyRefunded {
		return nil
	}
	if err != nil {
		return classify("refund", err)
	}
	return nil
}

// classify maps what the client returned to the package's errors: card
// errors are declines (business), network trouble, 409 (a request with the
// same key in flight), 429 and 5xx are transient, the rest is a
// ProviderError. Messages carry codes, never card or personal data.
func classify(op string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) {
		switch {
		case se.Type == stripe.ErrorTypeCard:
			reason := string(se.DeclineCode)
			if reason == "" || reason == "generic_decline" {
				reason = string(se.Code)
			}
			if reason == "" {
				reason = "card_declined"
			}
			return &Declined{Reason: reason}
		case op == "authorize" && unpayable[se.Code]:
			return &Declined{Reason: string(se.Code)}
		case se.HTTPStatusCode == http.StatusConflict || se.HTTPStatusCode == http.StatusTooManyRequests ||
			se.HTTPStatusCode >= 500 || se.Type == stripe.ErrorTypeAPI || se.Code == stripe.ErrorCodeIdempotencyKeyInUse:
			return fmt.Errorf("stripe %s: %d %s (request %s): %w", op, se.HTTPStatusCode, se.Code, se.RequestID, ErrTransient)
		}
		return &ProviderError{Op: op, Code: string(se.Code), Message: string(se.Type) + ": " + se.Msg, Status: se.HTTPStatusCode}
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection") || strings.Contains(err.Error(), "EOF") {
		return fmt.Errorf("stripe %s: %v: %w", op, err, ErrTransient)
	}
	return fmt.Errorf("stripe %s: %w", op, err)
}
