// Package partnersim is the local stack's partners: a customs broker, an
// overseas warehouse and its carrier, China's E-Port and a payment provider,
// each an HTTP server of its own that speaks the partner protocol
// (shared/partnerlink, docs/partners/) exactly as a real partner's connector
// would — signed requests in, signed notifications out to the callbackUrl
// a request names — and a recording proxy in front of stripe-mock. Their
// decisions follow the order (the simulators of shared/workers and
// shared/payment: a SKU or a token picks a path), and their state — every
// request's answer, every notification not yet delivered — is kept in a
// journal that survives a restart. They are selected by configuration
// (the endpoints file the local stack writes, marked sandbox), never
// compiled into a function.
package partnersim

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/xborder/xborder/shared/partnerlink"
)

// maxRequestBytes bounds a request to a simulator.
const maxRequestBytes = 1 << 20

// journal is an append-only file of JSON lines: a simulator's state, replayed
// at start. Each line is written whole and synced before the answer that
// depends on it goes out.
type journal struct {
	mu sync.Mutex
	f  *os.File
}

// openJournal replays path's lines into replay and opens it for appending;
// an empty path keeps nothing. A torn last line (a crash mid-write) is
// dropped.
func openJournal(path string, replay func(line []byte) error) (*journal, error) {
	if path == "" {
		return &journal{}, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	valid := 0
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if !json.Valid(line) {
			break // torn: what follows was never acknowledged
		}
		if err := replay(line); err != nil {
			return nil, fmt.Errorf("partnersim: replay %s: %w", path, err)
		}
		valid += len(line) + 1
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(int64(min(valid, len(raw)))); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		f.Close()
		return nil, err
	}
	return &journal{f: f}, nil
}

func (j *journal) append(v any) error { return j.write(v, true) }

// appendUnsynced appends v without waiting for the disk.
func (j *journal) appendUnsynced(v any) error { return j.write(v, false) }

func (j *journal) write(v any, sync bool) error {
	if j.f == nil {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if _, err := j.f.Write(append(raw, '\n')); err != nil {
		return err
	}
	if !sync {
		return nil
	}
	return j.f.Sync()
}

func (j *journal) close() {
	if j.f != nil {
		j.f.Close()
	}
}

// base is what every simulator shares: the secret its requests are signed
// with, the journal, the notifier and the logger.
type base struct {
	secret string
	log    *slog.Logger
	j      *journal
	notes  *notifier
	now    func() time.Time
}

// verified reads a request's body and checks its signature; it answers the
// request itself (401, 413) and returns false when it must go no further.
func (b *base) verified(w http.ResponseWriter, r *http.Request) ([]byte, string, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBytes))
	if err != nil {
		problem(w, http.StatusRequestEntityTooLarge, "too_large", "the body is too large")
		return nil, "", false
	}
	id, err := partnerlink.Verify(r.Header, body, b.now(), 0, b.secret)
	if err != nil {
		b.log.Warn("request refused", "path", r.URL.Path, "error", err.Error())
		problem(w, http.StatusUnauthorized, "signature_not_accepted", "the signature was not accepted")
		return nil, "", false
	}
	return body, id, true
}

// open replays the journal of c — each record into keep, each delivered
// mark into the set it returns — and starts the notifier on it.
func open[T any](b *base, c Config, keep func(T)) (sent map[string]bool, err error) {
	sent = map[string]bool{}
	b.j, err = openJournal(c.Journal, func(line []byte) error {
		var mark delivered
		if err := json.Unmarshal(line, &mark); err != nil {
			return err
		}
		if mark.Delivered != "" {
			sent[mark.Delivered] = true
			return nil
		}
		var rec T
		if err := json.Unmarshal(line, &rec); err != nil {
			return err
		}
		keep(rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	b.notes = newNotifier(c.Secret, b.j, b.log)
	return sent, nil
}

// decode reads a JSON body strictly.
func decode(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func problem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(partnerlink.Problem{Title: http.StatusText(status), Status: status, Code: code, Detail: detail})
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// note is one notification to deliver: to URL, as message ID, Body.
type note struct {
	ID   string          `json:"id"`
	URL  string          `json:"url"`
	Body json.RawMessage `json:"body"`
	// At is when it is due.
	At time.Time `json:"at"`
}

// notifier delivers notifications, signed, in the order they are due,
// retrying with backoff until the receiver takes them (2xx) or refuses them
// for what they are (a 4xx other than 408, 409 and 429, after a few
// tries: an order's documents may still be on their way), for at most a
// day; the journal marks each delivered, so that a restart delivers the
// rest.
type notifier struct {
	secret string
	log    *slog.Logger
	j      *journal
	client *http.Client
	wg     sync.WaitGroup
	stop   chan struct{}
	once   sync.Once
}

type delivered struct {
	Delivered string `json:"delivered"`
}

func newNotifier(secret string, j *journal, log *slog.Logger) *notifier {
	return &notifier{secret: secret, j: j, log: log, client: &http.Client{Timeout: partnerlink.DefaultTimeout}, stop: make(chan struct{})}
}

// send delivers notes in the background, in order, each once it is due
// and the one before it is delivered (or given up on).
func (nt *notifier) send(notes ...note) {
	nt.wg.Add(1)
	go func() {
		defer nt.wg.Done()
		for _, n := range notes {
			if !nt.deliver(n) {
				return
			}
		}
	}()
}

// deliver posts n once it is due until it is taken or refused; false when
// the notifier stops first.
func (nt *notifier) deliver(n note) bool {
	if !nt.wait(time.Until(n.At)) {
		return false
	}
	wait, refusals := 200*time.Millisecond, 0
	deadline := time.Now().Add(24 * time.Hour)
	for time.Now().Before(deadline) {
		nt.log.Info("delivering notification", "id", n.ID)
		status, err := nt.post(n)
		switch {
		case err == nil && status >= 200 && status < 300:
			// Not synced: a mark lost to a crash only sends the
			// notification again, which its receiver takes as a repeat.
			if err := nt.j.appendUnsynced(delivered{n.ID}); err != nil {
				nt.log.Error("journal", "error", err.Error())
			}
			return true
		case err == nil && status >= 400 && status < 500 && status != 408 && status != 409 && status != 429:
			// Refused for what it is — but a receipt may reach the API
			// before the order's documents are stored: a few tries.
			if refusals++; refusals >= 8 {
				nt.log.Error("notification refused", "id", n.ID, "status", status)
				_ = nt.j.appendUnsynced(delivered{n.ID})
				return true
			}
		case err != nil:
			nt.log.Warn("notification not delivered", "id", n.ID, "error", err.Error())
		}
		if !nt.wait(wait) {
			return false
		}
		wait = min(2*wait, 30*time.Second)
	}
	return true
}

func (nt *notifier) wait(d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-nt.stop:
		return false
	case <-t.C:
		return true
	}
}

func (nt *notifier) post(n note) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), partnerlink.DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL, bytes.NewReader(n.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := partnerlink.Sign(req.Header, n.ID, time.Now(), n.Body, nt.secret); err != nil {
		return 0, err
	}
	resp, err := nt.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// close stops the deliveries (what is left is delivered on the next start).
func (nt *notifier) close() {
	nt.once.Do(func() { close(nt.stop) })
	nt.wg.Wait()
}
