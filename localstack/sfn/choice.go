package sfn

import (
	"fmt"
	"strings"
	"time"
)

// ChoiceRule is one entry of Choices (or a nested rule under And/Or/Not).
type ChoiceRule map[string]any

// rule is a compiled choice rule.
type rule struct {
	next     string
	variable *path
	op       string
	operand  any   // literal operand
	opPath   *path // …Path operand
	and, or  []*rule
	not      *rule
}

var comparators = map[string]bool{
	"StringEquals": true, "StringLessThan": true, "StringGreaterThan": true, "StringLessThanEquals": true, "StringGreaterThanEquals": true,
	"StringMatches": true, "NumericEquals": true, "NumericLessThan": true, "NumericGreaterThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThanEquals": true, "BooleanEquals": true, "TimestampEquals": true, "TimestampLessThan": true,
	"TimestampGreaterThan": true, "TimestampLessThanEquals": true, "TimestampGreaterThanEquals": true,
	"IsNull": true, "IsPresent": true, "IsNumeric": true, "IsString": true, "IsBoolean": true, "IsTimestamp": true,
}

func compileRule(c ChoiceRule, top bool) (*rule, error) {
	r := &rule{}
	if top {
		n, _ := c["Next"].(string)
		if n == "" {
			return nil, fmt.Errorf("a choice rule needs Next")
		}
		r.next = n
	}
	sub := func(v any) (*rule, error) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a nested choice rule must be an object")
		}
		return compileRule(m, false)
	}
	for k, v := range c {
		switch k {
		case "Next", "Comment":
		case "Variable":
			s, _ := v.(string)
			p, err := parsePath(s)
			if err != nil {
				return nil, err
			}
			r.variable = &p
		case "And", "Or":
			list, _ := v.([]any)
			for _, e := range list {
				sr, err := sub(e)
				if err != nil {
					return nil, err
				}
				if k == "And" {
					r.and = append(r.and, sr)
				} else {
					r.or = append(r.or, sr)
				}
			}
			r.op = k
		case "Not":
			sr, err := sub(v)
			if err != nil {
				return nil, err
			}
			r.not, r.op = sr, "Not"
		case "Condition":
			return nil, &UnsupportedError{Feature: "JSONata Choice conditions"}
		default:
			base, isPath := strings.CutSuffix(k, "Path")
			if isPath && comparators[base] && !strings.HasPrefix(base, "Is") {
				s, _ := v.(string)
				p, err := parsePath(s)
				if err != nil {
					return nil, err
				}
				r.op, r.opPath = base, &p
				continue
			}
			if !comparators[k] {
				return nil, fmt.Errorf("unknown choice rule field %q", k)
			}
			r.op, r.operand = k, v
		}
	}
	if r.op == "" {
		return nil, fmt.Errorf("a choice rule needs a comparison, And, Or or Not")
	}
	if r.op != "And" && r.op != "Or" && r.op != "Not" && r.variable == nil {
		return nil, fmt.Errorf("choice rule %s needs Variable", r.op)
	}
	return r, nil
}

func (r *rule) match(input, ctx any) (bool, error) {
	switch r.op {
	case "And":
		for _, s := range r.and {
			if ok, err := s.match(input, ctx); err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "Or":
		for _, s := range r.or {
			if ok, err := s.match(input, ctx); err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "Not":
		ok, err := r.not.match(input, ctx)
		return !ok, err
	}
	v, err := r.variable.get(input, ctx)
	present := err == nil
	if r.op == "IsPresent" {
		return present == (r.operand == true), nil
	}
	if !present {
		return false, err // States.Runtime: the variable is missing
	}
	operand := r.operand
	if r.opPath != nil {
		if operand, err = r.opPath.get(input, ctx); err != nil {
			return false, err
		}
	}
	switch r.op {
	case "IsNull":
		return (v == nil) == (operand == true), nil
	case "IsNumeric":
		_, isNum := toFloat(v)
		return isNum == (operand == true), nil
	case "IsString":
		_, isStr := v.(string)
		return isStr == (operand == true), nil
	case "IsBoolean":
		_, isBool := v.(bool)
		return isBool == (operand == true), nil
	case "IsTimestamp":
		_, isTS := timestamp(v)
		return isTS == (operand == true), nil
	case "BooleanEquals":
		b, ok := v.(bool)
		return ok && b == operand, nil
	case "StringMatches":
		s, ok1 := v.(string)
		pat, ok2 := operand.(string)
		return ok1 && ok2 && wildcardMatch(pat, s), nil
	}
	switch {
	case strings.HasPrefix(r.op, "String"):
		a, ok1 := v.(string)
		b, ok2 := operand.(string)
		return ok1 && ok2 && compare(r.op[len("String"):], strings.Compare(a, b)), nil
	case strings.HasPrefix(r.op, "Numeric"):
		a, ok1 := toFloat(v)
		b, ok2 := toFloat(operand)
		c := 0
		if a < b {
			c = -1
		} else if a > b {
			c = 1
		}
		return ok1 && ok2 && compare(r.op[len("Numeric"):], c), nil
	case strings.HasPrefix(r.op, "Timestamp"):
		a, ok1 := timestamp(v)
		b, ok2 := timestamp(operand)
		return ok1 && ok2 && compare(r.op[len("Timestamp"):], a.Compare(b)), nil
	}
	return false, fmt.Errorf("unknown comparison %s", r.op)
}

func compare(op string, c int) bool {
	switch op {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "GreaterThan":
		return c > 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

func timestamp(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// wildcardMatch implements StringMatches: * matches any run of characters
// (including none), \* a literal asterisk, \\ a literal backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		c    byte
	}
	var toks []tok
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; {
		case c == '\\' && i+1 < len(pattern):
			i++
			toks = append(toks, tok{c: pattern[i]})
		case c == '*':
			toks = append(toks, tok{star: true})
		default:
			toks = append(toks, tok{c: c})
		}
	}
	// Greedy match with backtracking to the last star.
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].c == s[si]:
			ti, si = ti+1, si+1
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			starS++
			ti, si = starT+1, starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}

func (r *rule) usesContext() bool {
	if (r.variable != nil && r.variable.context) || (r.opPath != nil && r.opPath.context) {
		return true
	}
	for _, s := range append(append([]*rule{}, r.and...), r.or...) {
		if s.usesContext() {
			return true
		}
	}
	return r.not != nil && r.not.usesContext()
}
