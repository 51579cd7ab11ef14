package sfn

import (
	"fmt"
	"sort"
	"strings"
)

// A template is a Parameters, ResultSelector or ItemSelector payload: keys
// ending in ".$" take a path or an intrinsic function; others are literal.
type template struct {
	literal any                  // for non-objects
	fields  map[string]*template // for objects
	keys    []string
	array   []*template
	path    *path
	call    *call
	isObj   bool
	isArr   bool
}

func compileTemplate(v any) (*template, error) {
	if v == nil {
		return nil, nil
	}
	return compileValue(v)
}

func compileValue(v any) (*template, error) {
	switch x := v.(type) {
	case map[string]any:
		t := &template{isObj: true, fields: map[string]*template{}}
		for k, val := range x {
			if name, ok := strings.CutSuffix(k, ".$"); ok {
				expr, isStr := val.(string)
				if !isStr {
					return nil, fmt.Errorf("%q must be a path or an intrinsic function", k)
				}
				sub := &template{}
				if strings.HasPrefix(expr, "States.") {
					c, err := parseCall(expr)
					if err != nil {
						return nil, fmt.Errorf("%q: %w", k, err)
					}
					sub.call = c
				} else {
					p, err := parsePath(expr)
					if err != nil {
						return nil, fmt.Errorf("%q: %w", k, err)
					}
					sub.path = &p
				}
				t.fields[name] = sub
				continue
			}
			sub, err := compileValue(val)
			if err != nil {
				return nil, err
			}
			t.fields[k] = sub
		}
		for k := range t.fields {
			t.keys = append(t.keys, k)
		}
		sort.Strings(t.keys)
		return t, nil
	case []any:
		t := &template{isArr: true}
		for _, e := range x {
			sub, err := compileValue(e)
			if err != nil {
				return nil, err
			}
			t.array = append(t.array, sub)
		}
		return t, nil
	}
	return &template{literal: v}, nil
}

// eval builds the payload from input and the context object.
func (t *template) eval(input, ctx any) (any, error) {
	switch {
	case t.path != nil:
		return t.path.get(input, ctx)
	case t.call != nil:
		return t.call.eval(input, ctx)
	case t.isObj:
		out := make(map[string]any, len(t.fields))
		for _, k := range t.keys {
			v, err := t.fields[k].eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[k] = v
		}
		return out, nil
	case t.isArr:
		out := make([]any, len(t.array))
		for i, e := range t.array {
			v, err := e.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return t.literal, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// usesContext reports whether evaluating the template reads $$.
func (t *template) usesContext() bool {
	switch {
	case t == nil:
		return false
	case t.path != nil:
		return t.path.context
	case t.call != nil:
		return t.call.usesContext()
	}
	for _, f := range t.fields {
		if f.usesContext() {
			return true
		}
	}
	for _, a := range t.array {
		if a.usesContext() {
			return true
		}
	}
	return false
}

func (c *call) usesContext() bool {
	for _, a := range c.args {
		if (a.path != nil && a.path.context) || (a.call != nil && a.call.usesContext()) {
			return true
		}
	}
	return false
}
