package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Request bodies. Every route that takes JSON reads its body with
// readJSONBody (the media type, its charset, the size limit) and checks it
// with checkJSONObject (UTF-8, one object, no key twice, not too deep)
// before anything decodes it. The API's own bodies go through
// decodeJSONBody, which does both and decodes strictly; a partner's webhook
// reads the body first and checks it only once the signature over the raw
// bytes is verified, before the partner's format is mapped.

// maxJSONDepth is how deeply a body may nest objects and arrays. An order
// is 4 deep (/lines/0/unitPrice/amount), a Shopify orders/create payload
// about 7; encoding/json's own limit, 10,000, is no limit for a 256 KiB body.
const maxJSONDepth = 32

var (
	errNotObject    = errors.New("the body must be a JSON object")
	errSingleObject = errors.New("the body must hold a single JSON object")
	errTruncated    = errors.New("the body is empty or truncated JSON")
)

// errDuplicateKey is the error for key, given twice in one object, at the
// JSON pointer of its second appearance; first is the key as the object
// had it first (another case of it, perhaps).
func errDuplicateKey(key, first, pointer string) error {
	if key == first {
		return fmt.Errorf("duplicate key %q at %s: each key may appear once in an object", key, pointer)
	}
	return fmt.Errorf("duplicate key %q at %s: the object has %q already, and keys that differ only in case name the same field",
		key, pointer, first)
}

// errTooDeep is the error for an object or array opening at pointer,
// maxJSONDepth levels down already.
func errTooDeep(pointer string) error {
	return fmt.Errorf("the body nests objects and arrays more than %d deep (at %s)", maxJSONDepth, pointer)
}

// decodeJSONBody reads a request body (readJSONBody), checks it
// (checkJSONObject) and decodes it into v, refusing fields v does not have.
// It answers 400, 413 or 415 itself and returns false when it cannot; the
// raw body comes back for the idempotency fingerprint.
func decodeJSONBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	raw, ok := readJSONBody(w, r)
	if !ok {
		return nil, false
	}
	if err := decodeStrict(raw, v); err != nil {
		badRequest(w, r, err.Error())
		return nil, false
	}
	return raw, true
}

// readJSONBody enforces the media type and the size limit and returns the
// raw body, unchecked: a webhook verifies its signature over these bytes
// before anything reads them as JSON.
func readJSONBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if !jsonMediaType(r.Header.Get("Content-Type")) {
		writeProblem(w, r, Problem{Type: problemMediaType, Status: http.StatusUnsupportedMediaType,
			Detail: "Send the body as application/json in UTF-8 (no charset parameter, or charset=utf-8)."})
		return nil, false
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		writeProblem(w, r, Problem{Type: problemTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The body is larger than %d bytes.", MaxBodyBytes)})
		return nil, false
	}
	if err != nil {
		badRequest(w, r, "The body could not be read.")
		return nil, false
	}
	return raw, true
}

// jsonMediaType reports whether a Content-Type names JSON in UTF-8:
// application/json or a +json type, with no charset or charset utf-8 (any
// case; "utf8", the WHATWG label for it, too). JSON is UTF-8 (RFC 8259) and
// is read as such: a body its sender says is UTF-16 or Latin-1 would be
// misread, so it is refused rather than guessed at.
func jsonMediaType(contentType string) bool {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || (mt != "application/json" && !(len(mt) > len("+json") && strings.HasSuffix(mt, "+json"))) {
		return false
	}
	charset, ok := params["charset"]
	return !ok || strings.EqualFold(charset, "utf-8") || strings.EqualFold(charset, "utf8")
}

// decodeStrict decodes exactly one JSON object (checkJSONObject) into v,
// refusing fields v does not have.
func decodeStrict(raw []byte, v any) error {
	if err := checkJSONObject(raw); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

// checkJSONObject reports, in words for the client, why raw is not one
// JSON object that decodes to what it says; nil if it is. It refuses what
// decoding would let through or misread: invalid UTF-8 (decoding turns it
// into U+FFFD), a body that is not an object (null would decode as an empty
// request), a key given twice in one object (decoding keeps the last, so two
// readers of one body could see two different orders), nesting deeper than
// maxJSONDepth, and anything after the object. A malformed body is told so
// first; one it passes may still be malformed further on, which decoding
// then reports.
func checkJSONObject(raw []byte) error {
	if !utf8.Valid(raw) {
		return fmt.Errorf("the body is not valid UTF-8 (byte %d)", invalidUTF8At(raw))
	}
	err := scanObject(raw)
	if err != nil && !json.Valid(raw) {
		if syntax := firstValueError(raw); syntax != nil {
			return syntax
		}
	}
	return err
}

// invalidUTF8At is the offset of the first byte of raw that is not UTF-8.
func invalidUTF8At(raw []byte) int {
	for i := 0; i < len(raw); {
		r, n := utf8.DecodeRune(raw[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(raw)
}

// firstValueError is the decoder's error for the first JSON value in raw,
// or nil if that value is well formed (what follows it is not).
func firstValueError(raw []byte) error {
	var v json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

// scanObject walks raw, a JSON object, for its structure only — where each
// object and array opens and closes, which strings are keys — keeping the
// keys of each open object, to find a key given twice, nesting deeper than
// maxJSONDepth, or anything after the object. Values and the grammar are
// the decoder's to check: on well-formed JSON the walk is exact, on
// malformed JSON it only has to end. It finds what a walk with
// json.Decoder.Token would (the tests hold it to that) at a fraction of the
// cost: Token decodes every key and value into an interface, which costs
// about three times as much as decoding the body itself.
func scanObject(raw []byte) error {
	i := skipSpace(raw, 0)
	switch {
	case i == len(raw):
		return errTruncated
	case raw[i] != '{':
		return errNotObject
	}
	// Room for an order's nesting and keys at once, not append by append.
	s := keyScan{frames: make([]scanFrame, 0, 8), keys: make([]seenKey, 0, 32), folded: make([]byte, 0, 512)}
	for ; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{', '[':
			if len(s.frames) == maxJSONDepth {
				return errTooDeep(s.pointer(raw))
			}
			s.push(c == '{')
		case '}', ']':
			s.pop()
			if len(s.frames) == 0 {
				if skipSpace(raw, i+1) != len(raw) {
					return errSingleObject
				}
				return nil
			}
		case ',':
			if f := &s.frames[len(s.frames)-1]; f.isObject {
				f.wantKey = true
			} else {
				f.index++
			}
		case '"':
			end := stringEnd(raw, i)
			if end < 0 {
				return errTruncated
			}
			if f := &s.frames[len(s.frames)-1]; f.isObject && f.wantKey {
				f.key, f.wantKey = i, false
				if first, dup := s.addKey(f, raw[i:end+1]); dup {
					return s.duplicate(raw, first)
				}
			}
			i = end
		}
	}
	return errTruncated
}

func skipSpace(raw []byte, i int) int {
	for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
		i++
	}
	return i
}

// stringEnd is the offset of the quote that closes the string opening at
// raw[start], or -1 if it does not close.
func stringEnd(raw []byte, start int) int {
	for i := start + 1; i < len(raw); i++ {
		switch raw[i] {
		case '\\':
			i++ // the escaped character, a quote perhaps
		case '"':
			return i
		}
	}
	return -1
}

// keyScan is where scanObject is: one frame per object or array open
// around the current byte, and the keys of the open objects.
type keyScan struct {
	frames []scanFrame
	// keys are the keys of every open object, innermost last, each folded
	// (appendFoldedKey) into folded. An object's keys are few: looking
	// through them costs less than a map would.
	keys   []seenKey
	folded []byte
}

// seenKey is a key an open object has had: folded[start:end], first written
// at offset at (its opening quote).
type seenKey struct{ start, end, at int }

// manyKeys is how many keys an object may have before they are kept in a
// map, so that an object of thousands of keys takes no quadratic time.
const manyKeys = 16

type scanFrame struct {
	isObject bool
	// wantKey: the object's next string is a key.
	wantKey bool
	key     int // where the key of the member being read is written
	index   int // the array's element being read
	// firstKey and firstFolded are where the object's keys begin in keys
	// and folded; byKey holds them instead once there are manyKeys.
	firstKey, firstFolded int
	byKey                 map[string]int
}

func (s *keyScan) push(isObject bool) {
	s.frames = append(s.frames, scanFrame{isObject: isObject, wantKey: isObject, firstKey: len(s.keys), firstFolded: len(s.folded)})
}

func (s *keyScan) pop() {
	f := s.frames[len(s.frames)-1]
	s.keys, s.folded = s.keys[:f.firstKey], s.folded[:f.firstFolded]
	s.frames = s.frames[:len(s.frames)-1]
}

// addKey records a key of f's object, quoted as written; if the object had
// it already (as appendFoldedKey sees keys), it reports true and where it
// was first written.
func (s *keyScan) addKey(f *scanFrame, quoted []byte) (first int, dup bool) {
	start := len(s.folded)
	s.folded = appendFoldedKey(s.folded, quoted)
	key := s.folded[start:]
	if f.byKey != nil {
		s.folded = s.folded[:start]
		if first, dup = f.byKey[string(key)]; !dup {
			f.byKey[string(key)] = f.key
		}
		return first, dup
	}
	for _, k := range s.keys[f.firstKey:] {
		if bytes.Equal(s.folded[k.start:k.end], key) {
			s.folded = s.folded[:start]
			return k.at, true
		}
	}
	s.keys = append(s.keys, seenKey{start: start, end: len(s.folded), at: f.key})
	if len(s.keys)-f.firstKey == manyKeys {
		f.byKey = make(map[string]int, 2*manyKeys)
		for _, k := range s.keys[f.firstKey:] {
			f.byKey[string(s.folded[k.start:k.end])] = k.at
		}
		s.keys, s.folded = s.keys[:f.firstKey], s.folded[:f.firstFolded]
	}
	return 0, false
}

// duplicate is the error for the key being read, which its object had
// already, first written at offset first.
func (s *keyScan) duplicate(raw []byte, first int) error {
	return errDuplicateKey(keyAt(raw, s.frames[len(s.frames)-1].key), keyAt(raw, first), s.pointer(raw))
}

// pointer is the RFC 6901 JSON pointer of the member or element being read
// ("/lines/0/sku").
func (s *keyScan) pointer(raw []byte) string {
	var b strings.Builder
	for _, f := range s.frames {
		b.WriteByte('/')
		if f.isObject {
			b.WriteString(pointerEscaper.Replace(keyAt(raw, f.key)))
		} else {
			b.WriteString(strconv.Itoa(f.index))
		}
	}
	return b.String()
}

var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// keyAt is the key whose quoted string starts at raw[start], unescaped as
// the decoder unescapes it.
func keyAt(raw []byte, start int) string {
	end := stringEnd(raw, start)
	if end < 0 {
		return ""
	}
	return unquote(raw[start : end+1])
}

// unquote is a quoted JSON string's text: the bytes between the quotes
// when there is no escape in them (the usual case), else what the decoder
// makes of the escapes.
func unquote(quoted []byte) string {
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	var s string
	if json.Unmarshal(quoted, &s) != nil {
		return string(inner) // malformed: the decoder will say so
	}
	return s
}

// appendFoldedKey appends to dst a key, quoted as written, unescaped and
// folded as encoding/json matches keys to struct fields: keys that differ
// only in case ("channel", "Channel", "CHANNEL", even "\u212a", the Kelvin
// sign, for "k") fill the same field, the last one winning, so they count
// as the same key.
func appendFoldedKey(dst, quoted []byte) []byte {
	key := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		key = []byte(unquote(quoted))
	}
	for i := 0; i < len(key); {
		if c := key[i]; c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(key[i:])
		dst = utf8.AppendRune(dst, foldRune(r))
		i += n
	}
	return dst
}

// foldRune is the rune that stands for r's case-folding class: the smallest
// of the runes unicode.SimpleFold cycles through, in lower case for an ASCII
// letter (as appendFoldedKey folds ASCII).
func foldRune(r rune) rune {
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	if 'A' <= least && least <= 'Z' {
		least += 'a' - 'A'
	}
	return least
}

func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return fmt.Errorf("malformed JSON at byte %d", syntax.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return fmt.Errorf("field %q must be a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()))
		}
		return errNotObject
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return errTruncated
	}
	// DisallowUnknownFields: `json: unknown field "x"`.
	return fmt.Errorf("%s", trimJSONPrefix(err.Error()))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int64", "int32":
		return "integer"
	case "struct", "map":
		return "object"
	case "slice":
		return "array"
	}
	return goKind
}

func trimJSONPrefix(s string) string {
	const p = "json: "
	if len(s) > len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}
