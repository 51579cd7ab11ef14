package payment

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/payment/stripetest"
)

// These tests run the official client (stripe-go) against stripe-mock,
// Stripe's own mock, which checks every request against Stripe's OpenAPI
// specification: a request shape Stripe would refuse comes back 400 and
// fails the test. Between the two sits a recorder, which keeps what was
// sent, and which can answer a request itself with what Stripe answers in
// such a case (a decline, a 500, an expired authorization), since stripe-mock
// keeps no state and never declines. stripe-mock proves the integration;
// exactly-once is the simulator's and the workflow tests' to show.

func newStripe(t *testing.T, retries int64) (*Stripe, *stripetest.Recorder) {
	rec := stripetest.New(t)
	return NewStripe(StripeConfig{SecretKey: "sk_test_xborder", URL: rec.URL, MaxNetworkRetries: retries}), rec
}

var (
	paymentMethodIs = stripetest.PaymentMethodIs
	pathIs          = stripetest.PathEnds
)

type sent = stripetest.Request
type fault = stripetest.Fault

// checkHeaders: every request carries its key, the secret key and a dahlia
// API version.
func checkHeaders(t *testing.T, s sent, key string) {
	t.Helper()
	if got := s.Header.Get("Idempotency-Key"); got != key {
		t.Errorf("%s %s: Idempotency-Key %q, want %q", s.Method, s.Path, got, key)
	}
	if v := s.Header.Get("Stripe-Version"); !strings.HasSuffix(v, ".dahlia") {
		t.Errorf("%s %s: Stripe-Version %q, want the dahlia API", s.Method, s.Path, v)
	}
	if a := s.Header.Get("Authorization"); a != "Bearer sk_test_xborder" {
		t.Errorf("%s %s: Authorization %q", s.Method, s.Path, a)
	}
	if s.Header.Get("X-Stripe-Client-Telemetry") != "" {
		t.Errorf("telemetry sent")
	}
}

func TestStripeCallShapes(t *testing.T) {
	s, rec := newStripe(t, -1)
	ctx := context.Background()
	fx := &order.FXRate{From: "EUR", To: "EUR", Rate: "1", Date: "2026-11-30"}
	amount := money.New(9496, "EUR")

	t.Run("authorize with a PaymentMethod", func(t *testing.T) {
		rec.Reset()
		key := Key("01KORDER", "authorize")
		id, err := s.Authorize(ctx, Authorization{Key: key, OrderID: "01KORDER", Amount: amount, Token: "pm_card_visa", FX: fx})
		if err != nil || !strings.HasPrefix(id, "pi_") {
			t.Fatalf("authorize: %q %v", id, err)
		}
		reqs := rec.Requests()
		if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/v1/payment_intents" {
			t.Fatalf("requests %+v", reqs)
		}
		f := reqs[0].Form
		want := map[string]string{"amount": "9496", "currency": "eur", "capture_method": "manual", "confirm": "true",
			"payment_method": "pm_card_visa", "payment_method_types[0]": "card", "metadata[order_id]": "01KORDER",
			"metadata[fx_from]": "EUR", "metadata[fx_to]": "EUR", "metadata[fx_rate]": "1", "metadata[fx_date]": "2026-11-30"}
		for k, v := range want {
			if f.Get(k) != v {
				t.Errorf("%s = %q, want %q (form %v)", k, f.Get(k), v, f)
			}
		}
		checkHeaders(t, reqs[0], key)
	})
	t.Run("authorize with a legacy token", func(t *testing.T) {
		rec.Reset()
		key := Key("01KORDER2", "authorize")
		if _, err := s.Authorize(ctx, Authorization{Key: key, OrderID: "01KORDER2", Amount: money.New(1999, "JPY"), Token: "tok_visa"}); err != nil {
			t.Fatal(err)
		}
		reqs := rec.Requests()
		if len(reqs) != 2 || reqs[0].Path != "/v1/payment_methods" || reqs[0].Form.Get("card[token]") != "tok_visa" || reqs[0].Form.Get("type") != "card" {
			t.Fatalf("requests %+v", reqs)
		}
		checkHeaders(t, reqs[0], key+":payment-method")
		if pm := reqs[1].Form.Get("payment_method"); !strings.HasPrefix(pm, "pm_") || reqs[1].Form.Get("currency") != "jpy" || reqs[1].Form.Get("amount") != "1999" {
			t.Fatalf("payment intent form %v", reqs[1].Form)
		}
		checkHeaders(t, reqs[1], key)
	})
	t.Run("capture, part of the amount", func(t *testing.T) {
		rec.Reset()
		key := Key("01KORDER", "capture")
		if err := s.Capture(ctx, key, "pi_123", money.New(9000, "EUR")); err != nil {
			t.Fatal(err)
		}
		reqs := rec.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/payment_intents/pi_123/capture" || reqs[0].Form.Get("amount_to_capture") != "9000" {
			t.Fatalf("requests %+v", reqs)
		}
		checkHeaders(t, reqs[0], key)
	})
	t.Run("void", func(t *testing.T) {
		rec.Reset()
		key := Key("01KORDER", "void")
		if err := s.Void(ctx, key, "pi_123"); err != nil {
			t.Fatal(err)
		}
		reqs := rec.Requests()
		if len(reqs) != 1 || reqs[0].Path != "/v1/payment_intents/pi_123/cancel" || reqs[0].Form.Get("cancellation_reason") != "abandoned" {
			t.Fatalf("requests %+v", reqs)
		}
		checkHeaders(t, reqs[0], key)
	})
	t.Run("refund", func(t *testing.T) {
		rec.Reset()
		key := Key("01KORDER", "refund")
		if err := s.Refund(ctx, key, "pi_123", amount); err != nil {
			t.Fatal(err)
		}
		reqs := rec.Requests()
		f := reqs[0].Form
		if len(reqs) != 1 || reqs[0].Path != "/v1/refunds" || f.Get("payment_intent") != "pi_123" || f.Get("amount") != "9496" || f.Get("reason") != "requested_by_customer" {
			t.Fatalf("requests %+v", reqs)
		}
		checkHeaders(t, reqs[0], key)
	})
}

func TestStripeErrorsAreNamed(t *testing.T) {
	s, rec := newStripe(t, -1) // no client retries: each answer is seen as it is
	ctx := context.Background()
	amount := money.New(5000, "USD")
	authorize := func(pm string) error {
		_, err := s.Authorize(ctx, Authorization{Key: "k-" + pm, OrderID: "o", Amount: amount, Token: pm})
		return err
	}
	var declined *Declined
	var provider *ProviderError
	cases := []struct {
		name  string
		fault *fault
		call  func() error
		check func(err error) bool
	}{
		{"a decline is a business error", &fault{Match: paymentMethodIs("pm_card_chargeDeclined"), Status: 402, Body: stripetest.DeclinedBody},
			func() error { return authorize("pm_card_chargeDeclined") },
			func(err error) bool { return errors.As(err, &declined) && declined.Reason == "card_declined" }},
		{"insufficient funds keeps its reason", &fault{Match: paymentMethodIs("pm_card_chargeDeclinedInsufficientFunds"), Status: 402, Body: stripetest.InsufficientBody},
			func() error { return authorize("pm_card_chargeDeclinedInsufficientFunds") },
			func(err error) bool { return errors.As(err, &declined) && declined.Reason == "insufficient_funds" }},
		{"a 500 is transient", &fault{Match: paymentMethodIs("pm_500"), Status: 500, Body: stripetest.ServerErrorBody},
			func() error { return authorize("pm_500") }, func(err error) bool { return errors.Is(err, ErrTransient) }},
		{"a 429 is transient", &fault{Match: paymentMethodIs("pm_429"), Status: 429, Body: stripetest.RateLimitBody},
			func() error { return authorize("pm_429") }, func(err error) bool { return errors.Is(err, ErrTransient) }},
		{"a dropped connection is transient", &fault{Match: paymentMethodIs("pm_drop"), Drop: true},
			func() error { return authorize("pm_drop") }, func(err error) bool { return errors.Is(err, ErrTransient) }},
		{"an invalid request is a provider error", &fault{Match: paymentMethodIs("pm_invalid"), Status: 400, Body: stripetest.InvalidBody},
			func() error { return authorize("pm_invalid") },
			func(err error) bool {
				return errors.As(err, &provider) && provider.Code == "parameter_invalid_integer" && !errors.Is(err, ErrTransient)
			}},
		{"a key reused with other parameters is a provider error", &fault{Match: paymentMethodIs("pm_reused"), Status: 400, Body: stripetest.IdempotencyBody},
			func() error { return authorize("pm_reused") }, func(err error) bool { return errors.As(err, &provider) }},
		{"an amount Stripe cannot charge ends the order, not retried", &fault{Match: paymentMethodIs("pm_small"), Status: 400,
			Body: `{"error":{"type":"invalid_request_error","code":"amount_too_small","param":"amount","message":"Amount must be at least $0.50 usd"}}`},
			func() error { return authorize("pm_small") },
			func(err error) bool { return errors.As(err, &declined) && declined.Reason == "amount_too_small" }},
		{"three-decimal currencies in whole hundredths", nil,
			func() error {
				_, err := s.Authorize(ctx, Authorization{Key: "k-kwd", Amount: money.New(1999, "KWD"), Token: "pm_card_visa"})
				return err
			},
			func(err error) bool { return errors.As(err, &declined) && declined.Reason == "amount_not_chargeable" }},
		{"3-D Secure required is a decline", &fault{Match: paymentMethodIs("pm_card_authenticationRequired"), Status: 200,
			Body: `{"id":"pi_3ds","object":"payment_intent","status":"requires_action","amount":5000,"currency":"usd"}`},
			func() error { return authorize("pm_card_authenticationRequired") },
			func(err error) bool { return errors.As(err, &declined) && declined.Reason == "authentication_required" }},
		{"an expired authorization at capture", &fault{Match: pathIs("/pi_expired/capture"), Status: 400, Body: stripetest.UnexpectedState("canceled", "automatic")},
			func() error { return s.Capture(ctx, "k-exp", "pi_expired", amount) },
			func(err error) bool { return errors.Is(err, ErrAuthorizationExpired) }},
		{"charge_expired_for_capture", &fault{Match: pathIs("/pi_expired2/capture"), Status: 400,
			Body: stripetest.ExpiredBody},
			func() error { return s.Capture(ctx, "k-exp2", "pi_expired2", amount) },
			func(err error) bool { return errors.Is(err, ErrAuthorizationExpired) }},
		{"capturing a captured intent is done", &fault{Match: pathIs("/pi_done/capture"), Status: 400, Body: stripetest.UnexpectedState("succeeded", "")},
			func() error { return s.Capture(ctx, "k-done", "pi_done", amount) }, func(err error) bool { return err == nil }},
		{"voiding a captured intent asks for a refund", &fault{Match: pathIs("/pi_captured/cancel"), Status: 400, Body: stripetest.UnexpectedState("succeeded", "")},
			func() error { return s.Void(ctx, "k-void", "pi_captured") }, func(err error) bool { return errors.Is(err, ErrAlreadyCaptured) }},
		{"voiding a cancelled intent is done", &fault{Match: pathIs("/pi_gone/cancel"), Status: 400, Body: stripetest.UnexpectedState("canceled", "abandoned")},
			func() error { return s.Void(ctx, "k-void2", "pi_gone") }, func(err error) bool { return err == nil }},
		{"refunding a refunded charge is done", &fault{Match: func(r sent) bool { return r.Path == "/v1/refunds" && r.Form.Get("payment_intent") == "pi_refunded" },
			Status: 400, Body: stripetest.RefundedBody},
			func() error { return s.Refund(ctx, "k-ref", "pi_refunded", amount) }, func(err error) bool { return err == nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			if tc.fault != nil {
				rec.Fail(tc.fault)
			}
			if err := tc.call(); !tc.check(err) {
				t.Fatalf("error %v (%T)", err, err)
			}
			for _, r := range rec.Requests() {
				if r.Header.Get("Idempotency-Key") == "" {
					t.Errorf("%s %s without an Idempotency-Key", r.Method, r.Path)
				}
			}
		})
	}
}

// The client's own retry of a lost answer (a dropped connection) resends the
// same idempotency key: Stripe answers the second attempt as the first, so
// the charge is made once.
func TestStripeClientRetriesWithTheSameKey(t *testing.T) {
	s, rec := newStripe(t, 2)
	rec.Fail(&fault{Match: paymentMethodIs("pm_card_visa"), Drop: true, Times: 1})
	key := Key("01KRETRY", "authorize")
	id, err := s.Authorize(context.Background(), Authorization{Key: key, OrderID: "01KRETRY", Amount: money.New(100, "EUR"), Token: "pm_card_visa"})
	if err != nil || id == "" {
		t.Fatalf("authorize after a retried dropped connection: %q %v", id, err)
	}
	reqs := rec.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d attempts, want 2", len(reqs))
	}
	for _, r := range reqs {
		checkHeaders(t, r, key)
	}
}
