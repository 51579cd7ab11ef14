package sfn

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"math"
	"math/big"
	"strconv"
	"strings"
)

// A call is an intrinsic function: States.Name(arg, …).
type call struct {
	name string
	args []arg
}

type arg struct {
	literal any
	path    *path
	call    *call
}

// intrinsicArity: the number of arguments each function takes (-1: at least one).
var intrinsicArity = map[string][2]int{
	"States.Format": {1, -1}, "States.StringToJson": {1, 1}, "States.JsonToString": {1, 1},
	"States.Array": {0, -1}, "States.ArrayPartition": {2, 2}, "States.ArrayContains": {2, 2},
	"States.ArrayRange": {3, 3}, "States.ArrayGetItem": {2, 2}, "States.ArrayLength": {1, 1},
	"States.ArrayUnique": {1, 1}, "States.Base64Encode": {1, 1}, "States.Base64Decode": {1, 1},
	"States.Hash": {2, 2}, "States.JsonMerge": {3, 3}, "States.MathRandom": {2, 3},
	"States.MathAdd": {2, 2}, "States.StringSplit": {2, 2}, "States.UUID": {0, 0},
}

func parseCall(expr string) (*call, error) {
	c, rest, err := parseCallAt(strings.TrimSpace(expr))
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(rest) != "" {
		return nil, fmt.Errorf("intrinsic function %q: unexpected %q after the call", expr, rest)
	}
	return c, nil
}

func parseCallAt(s string) (*call, string, error) {
	open := strings.IndexByte(s, '(')
	if open < 0 {
		return nil, "", fmt.Errorf("intrinsic function %q: missing (", s)
	}
	c := &call{name: strings.TrimSpace(s[:open])}
	ar, ok := intrinsicArity[c.name]
	if !ok {
		return nil, "", &UnsupportedError{Feature: "the intrinsic function " + c.name}
	}
	s = strings.TrimSpace(s[open+1:])
	for {
		if strings.HasPrefix(s, ")") {
			s = s[1:]
			break
		}
		var a arg
		var err error
		switch {
		case strings.HasPrefix(s, "'"):
			var str string
			str, s, err = parseQuoted(s)
			a.literal = str
		case strings.HasPrefix(s, "States."):
			a.call, s, err = parseCallAt(s)
		case strings.HasPrefix(s, "$"):
			end := strings.IndexAny(s, ",)")
			if end < 0 {
				return nil, "", fmt.Errorf("intrinsic %s: unterminated argument", c.name)
			}
			var p path
			p, err = parsePath(strings.TrimSpace(s[:end]))
			a.path, s = &p, s[end:]
		default:
			end := strings.IndexAny(s, ",)")
			if end < 0 {
				return nil, "", fmt.Errorf("intrinsic %s: unterminated argument", c.name)
			}
			tok := strings.TrimSpace(s[:end])
			switch tok {
			case "true", "false":
				a.literal = tok == "true"
			case "null":
				a.literal = nil
			default:
				if _, perr := strconv.ParseFloat(tok, 64); perr != nil {
					return nil, "", fmt.Errorf("intrinsic %s: argument %q is not a string, number, boolean, null, path or call", c.name, tok)
				}
				a.literal = json.Number(tok)
			}
			s = s[end:]
		}
		if err != nil {
			return nil, "", err
		}
		c.args = append(c.args, a)
		s = strings.TrimSpace(s)
		if strings.HasPrefix(s, ",") {
			s = strings.TrimSpace(s[1:])
			continue
		}
		if !strings.HasPrefix(s, ")") {
			return nil, "", fmt.Errorf("intrinsic %s: expected , or )", c.name)
		}
	}
	if n := len(c.args); n < ar[0] || (ar[1] >= 0 && n > ar[1]) {
		return nil, "", fmt.Errorf("intrinsic %s takes %d to %d arguments, got %d", c.name, ar[0], ar[1], n)
	}
	return c, s, nil
}

// parseQuoted reads a single-quoted string with \' \\ \{ \} escapes (kept
// escaped for braces so States.Format can tell them from placeholders).
func parseQuoted(s string) (string, string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				if s[i] == '{' || s[i] == '}' {
					b.WriteByte('\\')
				}
				b.WriteByte(s[i])
			}
		case '\'':
			return b.String(), s[i+1:], nil
		default:
			b.WriteByte(s[i])
		}
	}
	return "", "", fmt.Errorf("unterminated string %q", s)
}

// IntrinsicError is States.IntrinsicFailure.
type IntrinsicError struct{ msg string }

func (e *IntrinsicError) Error() string { return e.msg }

func fail(format string, a ...any) error { return &IntrinsicError{fmt.Sprintf(format, a...)} }

func (c *call) eval(input, ctx any) (any, error) {
	args := make([]any, len(c.args))
	for i, a := range c.args {
		switch {
		case a.path != nil:
			v, err := a.path.get(input, ctx)
			if err != nil {
				return nil, err
			}
			args[i] = v
		case a.call != nil:
			v, err := a.call.eval(input, ctx)
			if err != nil {
				return nil, err
			}
			args[i] = v
		default:
			args[i] = a.literal
		}
	}
	str := func(i int) (string, error) {
		s, ok := args[i].(string)
		if !ok {
			return "", fail("%s: argument %d must be a string", c.name, i+1)
		}
		return s, nil
	}
	num := func(i int) (float64, error) {
		f, ok := toFloat(args[i])
		if !ok {
			return 0, fail("%s: argument %d must be a number", c.name, i+1)
		}
		return f, nil
	}
	integer := func(i int) (int, error) {
		f, err := num(i)
		if err != nil || f != math.Trunc(f) {
			return 0, fail("%s: argument %d must be an integer", c.name, i+1)
		}
		return int(f), nil
	}
	arr := func(i int) ([]any, error) {
		a, ok := args[i].([]any)
		if !ok {
			return nil, fail("%s: argument %d must be an array", c.name, i+1)
		}
		return a, nil
	}
	switch c.name {
	case "States.Format":
		tmpl, err := str(0)
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		next := 1
		for i := 0; i < len(tmpl); i++ {
			switch {
			case tmpl[i] == '\\' && i+1 < len(tmpl):
				i++
				b.WriteByte(tmpl[i])
			case tmpl[i] == '{' && i+1 < len(tmpl) && tmpl[i+1] == '}':
				if next >= len(args) {
					return nil, fail("States.Format: more {} than arguments")
				}
				b.WriteString(formatArg(args[next]))
				next++
				i++
			default:
				b.WriteByte(tmpl[i])
			}
		}
		if next != len(args) {
			return nil, fail("States.Format: %d arguments for %d placeholders", len(args)-1, next-1)
		}
		return b.String(), nil
	case "States.StringToJson":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		v, err := decodeJSON([]byte(s))
		if err != nil {
			return nil, fail("States.StringToJson: %v", err)
		}
		return v, nil
	case "States.JsonToString":
		b, _ := json.Marshal(args[0])
		return string(b), nil
	case "States.Array":
		return args, nil
	case "States.ArrayPartition":
		a, err := arr(0)
		if err != nil {
			return nil, err
		}
		n, err := integer(1)
		if err != nil || n <= 0 {
			return nil, fail("States.ArrayPartition: the chunk size must be a positive integer")
		}
		out := []any{}
		for i := 0; i < len(a); i += n {
			out = append(out, append([]any{}, a[i:min(i+n, len(a))]...))
		}
		return out, nil
	case "States.ArrayContains":
		a, err := arr(0)
		if err != nil {
			return nil, err
		}
		for _, e := range a {
			if jsonEqual(e, args[1]) {
				return true, nil
			}
		}
		return false, nil
	case "States.ArrayRange":
		start, err1 := integer(0)
		end, err2 := integer(1)
		stepv, err3 := integer(2)
		if err1 != nil || err2 != nil || err3 != nil || stepv == 0 {
			return nil, fail("States.ArrayRange takes integers and a non-zero step")
		}
		out := []any{}
		for i := start; (stepv > 0 && i <= end) || (stepv < 0 && i >= end); i += stepv {
			out = append(out, json.Number(strconv.Itoa(i)))
			if len(out) > 1000 {
				return nil, fail("States.ArrayRange: more than 1000 items")
			}
		}
		return out, nil
	case "States.ArrayGetItem":
		a, err := arr(0)
		if err != nil {
			return nil, err
		}
		i, err := integer(1)
		if err != nil || i < 0 || i >= len(a) {
			return nil, fail("States.ArrayGetItem: index out of range")
		}
		return a[i], nil
	case "States.ArrayLength":
		a, err := arr(0)
		if err != nil {
			return nil, err
		}
		return json.Number(strconv.Itoa(len(a))), nil
	case "States.ArrayUnique":
		a, err := arr(0)
		if err != nil {
			return nil, err
		}
		out := []any{}
		for _, e := range a {
			dup := false
			for _, o := range out {
				if jsonEqual(o, e) {
					dup = true
					break
				}
			}
			if !dup {
				out = append(out, e)
			}
		}
		return out, nil
	case "States.Base64Encode":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		return base64.StdEncoding.EncodeToString([]byte(s)), nil
	case "States.Base64Decode":
		s, err := str(0)
		if err != nil {
			return nil, err
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, fail("States.Base64Decode: %v", err)
		}
		return string(b), nil
	case "States.Hash":
		var data string
		if s, ok := args[0].(string); ok {
			data = s
		} else {
			b, _ := json.Marshal(args[0])
			data = string(b)
		}
		algo, err := str(1)
		if err != nil {
			return nil, err
		}
		var h hash.Hash
		switch algo {
		case "MD5":
			h = md5.New()
		case "SHA-1":
			h = sha1.New()
		case "SHA-256":
			h = sha256.New()
		case "SHA-384":
			h = sha512.New384()
		case "SHA-512":
			h = sha512.New()
		default:
			return nil, fail("States.Hash: unknown algorithm %q", algo)
		}
		h.Write([]byte(data))
		return hex.EncodeToString(h.Sum(nil)), nil
	case "States.JsonMerge":
		a, ok1 := args[0].(map[string]any)
		b, ok2 := args[1].(map[string]any)
		deep, ok3 := args[2].(bool)
		if !ok1 || !ok2 || !ok3 {
			return nil, fail("States.JsonMerge takes two objects and a boolean")
		}
		if deep {
			return nil, fail("States.JsonMerge: deep merge is not supported by Step Functions either (the third argument must be false)")
		}
		out := map[string]any{}
		for k, v := range a {
			out[k] = v
		}
		for k, v := range b {
			out[k] = v
		}
		return out, nil
	case "States.MathRandom":
		lo, err1 := integer(0)
		hi, err2 := integer(1)
		if err1 != nil || err2 != nil || hi <= lo {
			return nil, fail("States.MathRandom takes integers start < end")
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(hi-lo)))
		return json.Number(strconv.FormatInt(int64(lo)+n.Int64(), 10)), nil
	case "States.MathAdd":
		a, err1 := integer(0)
		b, err2 := integer(1)
		if err1 != nil || err2 != nil {
			return nil, fail("States.MathAdd takes two integers")
		}
		return json.Number(strconv.Itoa(a + b)), nil
	case "States.StringSplit":
		s, err1 := str(0)
		sep, err2 := str(1)
		if err1 != nil || err2 != nil {
			return nil, fail("States.StringSplit takes two strings")
		}
		out := []any{}
		for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(sep, r) }) {
			out = append(out, part)
		}
		return out, nil
	case "States.UUID":
		var b [16]byte
		_, _ = rand.Read(b[:])
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
	}
	return nil, fail("unknown intrinsic %s", c.name)
}

func formatArg(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "null"
	}
	b, _ := json.Marshal(v)
	return string(b)
}
