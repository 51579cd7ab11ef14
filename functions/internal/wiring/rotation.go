package wiring

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/payment"
)

// A secret a warm Lambda holds is read again after SecretTTL, and at once
// (at most every SecretRereadEvery) when the provider says it is no longer
// valid: a rotation or a revocation takes effect in minutes, without a
// redeploy or waiting for the environments to be recycled.
const (
	SecretTTL         = 5 * time.Minute
	SecretRereadEvery = 30 * time.Second
)

// rotatingStripe is the Stripe provider whose API key comes from Secrets
// Manager and is read again as SecretTTL says; a call Stripe refuses as
// unauthenticated (401: the key was rolled or revoked) is made once more
// with the key read again, if it changed. The same idempotency key makes
// that second call safe: the refused one took no effect.
type rotatingStripe struct {
	read func(context.Context) (string, error)
	url  string
	now  func() time.Time
	log  *slog.Logger

	mu     sync.Mutex
	key    string
	client *payment.Stripe
	readAt time.Time
}

func newRotatingStripe(ctx context.Context, read func(context.Context) (string, error), url string, log *slog.Logger) (*rotatingStripe, error) {
	r := &rotatingStripe{read: read, url: url, now: time.Now, log: log}
	key, err := read(ctx)
	if err != nil {
		return nil, err
	}
	r.use(key)
	return r, nil
}

func (r *rotatingStripe) use(key string) {
	r.key, r.readAt = key, r.now()
	r.client = payment.NewStripe(payment.StripeConfig{SecretKey: key, URL: r.url})
}

// current is the client to call with: the key read again when it is older
// than SecretTTL, or when refused is set and it is older than
// SecretRereadEvery. changed says whether the key is another one now. A
// failed read keeps the key it has.
func (r *rotatingStripe) current(ctx context.Context, refused bool) (c *payment.Stripe, changed bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	age := r.now().Sub(r.readAt)
	if age < SecretTTL && (!refused || age < SecretRereadEvery) {
		return r.client, false
	}
	key, err := r.read(ctx)
	if err != nil {
		r.log.WarnContext(ctx, "the Stripe key could not be read again; the one held stays", "error", err.Error())
		r.readAt = r.now() // not again at once
		return r.client, false
	}
	if key == r.key {
		r.readAt = r.now()
		return r.client, false
	}
	r.use(key)
	r.log.InfoContext(ctx, "the Stripe key was rotated: using the new one")
	return r.client, true
}

// call runs f, and once more with a key read again if Stripe refused the
// one held as unauthenticated and the secret now holds another.
func (r *rotatingStripe) call(ctx context.Context, f func(*payment.Stripe) error) error {
	c, _ := r.current(ctx, false)
	err := f(c)
	var pe *payment.ProviderError
	if errors.As(err, &pe) && pe.Status == http.StatusUnauthorized {
		if c, changed := r.current(ctx, true); changed {
			return f(c)
		}
	}
	return err
}

func (r *rotatingStripe) Authorize(ctx context.Context, a payment.Authorization) (id string, err error) {
	err = r.call(ctx, func(c *payment.Stripe) error {
		var e error
		id, e = c.Authorize(ctx, a)
		return e
	})
	return id, err
}

func (r *rotatingStripe) Capture(ctx context.Context, key, chargeID string, amount money.Money) error {
	return r.call(ctx, func(c *payment.Stripe) error { return c.Capture(ctx, key, chargeID, amount) })
}

func (r *rotatingStripe) Void(ctx context.Context, key, chargeID string) error {
	return r.call(ctx, func(c *payment.Stripe) error { return c.Void(ctx, key, chargeID) })
}

func (r *rotatingStripe) Refund(ctx context.Context, key, chargeID string, amount money.Money) error {
	return r.call(ctx, func(c *payment.Stripe) error { return c.Refund(ctx, key, chargeID, amount) })
}
