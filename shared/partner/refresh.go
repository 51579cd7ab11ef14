package partner

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A warm Lambda reads the directory — it holds the partners' signing
// secrets — again after DirectoryTTL, and at once (at most every
// DirectoryRereadEvery) when a partner's signature fails: a secret revoked
// stops working within minutes, and a partner who moved to a new secret
// before this environment read it is not refused for long. Neither needs a
// redeploy.
const (
	DirectoryTTL         = 5 * time.Minute
	DirectoryRereadEvery = 30 * time.Second
)

// Refreshing is a directory read again from its source as DirectoryTTL
// says. A read that fails keeps the directory held.
type Refreshing struct {
	source  string
	secrets SecretReader
	log     *slog.Logger
	// Now is the clock (time.Now by default).
	Now func() time.Time

	mu     sync.Mutex
	d      *Directory
	readAt time.Time
}

// NewRefreshing reads the directory from source (as Load) and keeps it
// fresh.
func NewRefreshing(ctx context.Context, source string, secrets SecretReader, log *slog.Logger) (*Refreshing, error) {
	d, err := Load(ctx, source, secrets)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Refreshing{source: source, secrets: secrets, log: log, Now: time.Now, d: d, readAt: time.Now()}, nil
}

// Static is a directory that is never read again (no source: no partners,
// or one a test built).
func Static(d *Directory) *Refreshing {
	return &Refreshing{d: d, log: slog.New(slog.DiscardHandler), Now: time.Now, readAt: time.Now()}
}

// IDs lists the partners of the directory held.
func (r *Refreshing) IDs() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.IDs()
}

// Get finds a partner in the directory, read again first if older than
// DirectoryTTL.
func (r *Refreshing) Get(id string) (*Partner, bool) {
	return r.current(context.Background(), DirectoryTTL).Get(id)
}

// Refresh reads the directory again unless it was read within
// DirectoryRereadEvery (a signature just failed: the secret may have
// changed), and reports whether it did.
func (r *Refreshing) Refresh(ctx context.Context) bool {
	r.mu.Lock()
	fresh := r.source == "" || r.Now().Sub(r.readAt) < DirectoryRereadEvery
	r.mu.Unlock()
	if fresh {
		return false
	}
	r.current(ctx, 0)
	return true
}

// current is the directory, read again when older than maxAge.
func (r *Refreshing) current(ctx context.Context, maxAge time.Duration) *Directory {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.source == "" || r.Now().Sub(r.readAt) < maxAge {
		return r.d
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	d, err := Load(ctx, r.source, r.secrets)
	r.readAt = r.Now() // a failed read is not tried again at once
	if err != nil {
		r.log.WarnContext(ctx, "the partner directory could not be read again; the one held stays", "error", err.Error())
		return r.d
	}
	r.d = d
	return d
}
