package sfn

import (
	"fmt"
	"strconv"
	"strings"
)

// A path is a parsed JSONPath as Amazon States Language uses it: "$" (the
// input) or "$$" (the context object), then .field, ['field'], [index],
// [*] and .* steps. Recursive descent and filter expressions are refused
// when the state machine is created, never ignored.
type path struct {
	context bool
	steps   []step
	raw     string
}

type step struct {
	field    string
	index    int
	isIndex  bool
	wildcard bool
}

// definite reports whether the path names one value (a reference path).
func (p path) definite() bool {
	for _, s := range p.steps {
		if s.wildcard {
			return false
		}
	}
	return true
}

func parsePath(raw string) (path, error) {
	p := path{raw: raw}
	s := raw
	switch {
	case strings.HasPrefix(s, "$$"):
		p.context, s = true, s[2:]
	case strings.HasPrefix(s, "$"):
		s = s[1:]
	default:
		return p, fmt.Errorf("path %q must start with $ or $$", raw)
	}
	for s != "" {
		switch {
		case strings.HasPrefix(s, ".."):
			return p, fmt.Errorf("path %q: recursive descent (..) is not supported", raw)
		case strings.HasPrefix(s, ".*"):
			p.steps, s = append(p.steps, step{wildcard: true}), s[2:]
		case s[0] == '.':
			end := strings.IndexAny(s[1:], ".[")
			if end < 0 {
				end = len(s) - 1
			}
			name := s[1 : end+1]
			if name == "" {
				return p, fmt.Errorf("path %q: empty field name", raw)
			}
			p.steps, s = append(p.steps, step{field: name}), s[end+1:]
		case s[0] == '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return p, fmt.Errorf("path %q: unclosed [", raw)
			}
			in := s[1:end]
			switch {
			case in == "*":
				p.steps = append(p.steps, step{wildcard: true})
			case len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0]:
				p.steps = append(p.steps, step{field: in[1 : len(in)-1]})
			case strings.HasPrefix(in, "?"):
				return p, fmt.Errorf("path %q: filter expressions are not supported", raw)
			default:
				n, err := strconv.Atoi(in)
				if err != nil {
					return p, fmt.Errorf("path %q: %q is not an index, a quoted name or *", raw, in)
				}
				p.steps = append(p.steps, step{index: n, isIndex: true})
			}
			s = s[end+1:]
		default:
			return p, fmt.Errorf("path %q: unexpected %q", raw, s)
		}
	}
	return p, nil
}

// errPathMissing: the path names nothing in the data (States.Runtime).
type errPathMissing struct{ path string }

func (e errPathMissing) Error() string {
	return fmt.Sprintf("the JSONPath %s could not be found in the input", e.path)
}

// get evaluates the path against root (input or context). A path with a
// wildcard returns the list of matches.
func (p path) get(input, context any) (any, error) {
	root := input
	if p.context {
		root = context
	}
	if p.definite() {
		cur := root
		for _, s := range p.steps {
			next, ok := stepInto(cur, s)
			if !ok {
				return nil, errPathMissing{p.raw}
			}
			cur = next
		}
		return cur, nil
	}
	cur := []any{root}
	for _, s := range p.steps {
		var next []any
		for _, c := range cur {
			if s.wildcard {
				switch x := c.(type) {
				case []any:
					next = append(next, x...)
				case map[string]any:
					for _, k := range sortedKeys(x) {
						next = append(next, x[k])
					}
				}
				continue
			}
			if v, ok := stepInto(c, s); ok {
				next = append(next, v)
			}
		}
		cur = next
	}
	if cur == nil {
		cur = []any{}
	}
	return cur, nil
}

func stepInto(cur any, s step) (any, bool) {
	if s.isIndex {
		arr, ok := cur.([]any)
		i := s.index
		if i < 0 {
			i += len(arr)
		}
		if !ok || i < 0 || i >= len(arr) {
			return nil, false
		}
		return arr[i], true
	}
	obj, ok := cur.(map[string]any)
	if !ok {
		return nil, false
	}
	v, ok := obj[s.field]
	return v, ok
}

// set returns root with value placed at the (reference) path, creating
// objects on the way as ResultPath does; the root itself is not mutated.
func (p path) set(root, value any) (any, error) {
	if len(p.steps) == 0 {
		return value, nil
	}
	obj, ok := root.(map[string]any)
	if !ok {
		if root != nil {
			return nil, fmt.Errorf("ResultPath %s: the input is not an object", p.raw)
		}
		obj = map[string]any{}
	}
	s := p.steps[0]
	if s.isIndex || s.wildcard {
		return nil, fmt.Errorf("ResultPath %s: only field names can be set", p.raw)
	}
	out := make(map[string]any, len(obj)+1)
	for k, v := range obj {
		out[k] = v
	}
	child, err := path{steps: p.steps[1:], raw: p.raw}.set(obj[s.field], value)
	if err != nil {
		return nil, err
	}
	out[s.field] = child
	return out, nil
}
