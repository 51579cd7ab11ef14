package sfn

import (
	"bytes"
	"net/http"
	"sync"
	"sync/atomic"
)

// Slot holds the engine the local stack runs now, serves its API, and
// replaces it after a crash with a new engine on the same store, as a
// supervisor restarting a killed engine process would: the chaos tests
// kill the engine alone this way (CrashAndRestart), the engine sharing
// its process with the rest of the local stack.
type Slot struct {
	cur      atomic.Pointer[Engine]
	mu       sync.Mutex
	handlers map[*Engine]http.Handler
	restarts atomic.Int32
}

// NewSlot holds e.
func NewSlot(e *Engine) *Slot {
	s := &Slot{handlers: map[*Engine]http.Handler{}}
	s.cur.Store(e)
	return s
}

// Engine is the engine running now.
func (s *Slot) Engine() *Engine { return s.cur.Load() }

// Restarts counts the crashes the slot has restarted from.
func (s *Slot) Restarts() int { return int(s.restarts.Load()) }

// TokenStateMachine is the running engine's TokenStateMachine.
func (s *Slot) TokenStateMachine(token string) string { return s.Engine().TokenStateMachine(token) }

// Handler serves the API of the engine running at each request. An answer
// of an engine that crashed while it handled the request is never sent:
// the connection is cut, as a killed process's would be, and the caller's
// SDK retries on the engine that replaced it.
func (s *Slot) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e := s.Engine()
		s.mu.Lock()
		h, ok := s.handlers[e]
		if !ok {
			h = e.Handler()
			s.handlers[e] = h
		}
		s.mu.Unlock()
		buf := &bufferedResponse{header: http.Header{}, status: http.StatusOK}
		h.ServeHTTP(buf, r)
		if e.Crashed() {
			panic(http.ErrAbortHandler)
		}
		for k, v := range buf.header {
			w.Header()[k] = v
		}
		w.WriteHeader(buf.status)
		_, _ = w.Write(buf.body.Bytes())
	})
}

// CrashAndRestart crashes the running engine (Crash) and starts a new one
// on a store opened anew from the same folder, with the same wiring: it
// loads what the crashed one had written and resumes its executions.
func (s *Slot) CrashAndRestart() error {
	old := s.Engine()
	old.Crash()
	old.mu.Lock()
	fresh := NewEngine()
	fresh.Invoker, fresh.Queues, fresh.Services = old.Invoker, old.Queues, old.Services
	fresh.TimeScale, fresh.Logger, fresh.Now, fresh.OnStatusChange = old.TimeScale, old.Logger, old.Now, old.OnStatusChange
	old.mu.Unlock()
	if old.Store != nil {
		store, err := OpenStore(old.Store.dir)
		if err != nil {
			return err
		}
		store.Sync, store.Logger = old.Store.Sync, old.Store.Logger
		fresh.Store = store
	}
	if err := fresh.Load(); err != nil {
		return err
	}
	s.cur.Store(fresh)
	s.mu.Lock()
	delete(s.handlers, old)
	s.mu.Unlock()
	s.restarts.Add(1)
	fresh.log().Warn("the engine crashed and was started again from its store")
	fresh.Resume()
	return nil
}

// bufferedResponse keeps an answer until the engine is known to have
// lived through it.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header         { return b.header }
func (b *bufferedResponse) WriteHeader(status int)      { b.status = status }
func (b *bufferedResponse) Write(p []byte) (int, error) { return b.body.Write(p) }
