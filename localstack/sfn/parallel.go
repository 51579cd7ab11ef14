package sfn

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// runParallel runs every branch on the same input, concurrently; the result
// is the list of branch outputs, in branch order. The first failure stops
// the other branches and fails the state.
func (e *Engine) runParallel(ctx context.Context, x *execution, s *State, in any) (any, error) {
	e.event(x, "ParallelStateStarted", nil)
	bctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(s.Branches))
	first := &firstError{cancel: cancel}
	var wg sync.WaitGroup
	for i, b := range s.Branches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, _, _, err := e.runStates(bctx, x, b, b.StartAt, in)
			if err != nil {
				first.set(err)
				return
			}
			results[i] = out
		}()
	}
	wg.Wait()
	return e.groupResult(ctx, x, "Parallel", results, first.err)
}

// firstError keeps the first failure of a group and stops the rest.
type firstError struct {
	once   sync.Once
	err    error
	cancel context.CancelFunc
}

func (f *firstError) set(err error) { f.once.Do(func() { f.err = err; f.cancel() }) }

// groupResult ends a Parallel or Map state: its results, or its first failure.
func (e *Engine) groupResult(ctx context.Context, x *execution, kind string, results []any, first error) (any, error) {
	if first != nil {
		if ctx.Err() != nil {
			return nil, errStopped
		}
		se := runtimeError(first)
		e.event(x, kind+"StateFailed", map[string]any{"error": se.Name, "cause": se.Cause})
		return nil, se
	}
	e.event(x, kind+"StateSucceeded", nil)
	return results, nil
}

// runMap runs the item processor once per item of ItemsPath (at most
// MaxConcurrency at a time; 0 means no limit); the result is the list of
// the iterations' outputs, in item order.
func (e *Engine) runMap(ctx context.Context, x *execution, s *State, raw any, entered time.Time, retryCount int) (any, error) {
	in, err := inputPathOnly(s, raw)
	if err != nil {
		return nil, runtimeError(err)
	}
	itemsV, err := s.itemsPath.get(in, nil)
	if err != nil {
		return nil, runtimeError(err)
	}
	items, ok := itemsV.([]any)
	if !ok {
		return nil, &stateError{"States.Runtime", fmt.Sprintf("ItemsPath of %q does not point at an array", s.name)}
	}
	proc := s.ItemProcessor
	if proc == nil {
		proc = s.Iterator
	}
	e.event(x, "MapStateStarted", map[string]any{"length": len(items)})
	limit := s.MaxConcurrency
	if limit <= 0 {
		limit = len(items)
	}
	sem := make(chan struct{}, max(limit, 1))
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]any, len(items))
	first := &firstError{cancel: cancel}
	var wg sync.WaitGroup
	for i, item := range items {
		select {
		case sem <- struct{}{}:
		case <-mctx.Done():
		}
		if mctx.Err() != nil {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			iter := map[string]any{"name": s.name, "index": i}
			itemIn := item
			if s.params != nil {
				cobj := e.contextWith(x, s, entered, retryCount, "", map[string]any{
					"Map": map[string]any{"Item": map[string]any{"Index": i, "Value": item}}})
				v, err := s.params.eval(in, cobj)
				if err != nil {
					first.set(runtimeError(err))
					return
				}
				itemIn = v
			}
			e.event(x, "MapIterationStarted", iter)
			out, _, _, err := e.runStates(mctx, x, proc, proc.StartAt, itemIn)
			if err != nil {
				if mctx.Err() == nil {
					e.event(x, "MapIterationFailed", iter)
				}
				first.set(err)
				return
			}
			e.event(x, "MapIterationSucceeded", iter)
			results[i] = out
		}()
	}
	wg.Wait()
	return e.groupResult(ctx, x, "Map", results, first.err)
}
