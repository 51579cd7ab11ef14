package dynamostore

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The order item as stored
//
// DynamoDB bills a write by the size of the whole item, before or after,
// in 1 KB units, however little of it changes. An order's lines, parties,
// payment and landed cost are most of its bytes and change seldom; its
// status, version and times change at every step. So the order item keeps
// as attributes only what DynamoDB itself reads — the keys of the table and
// of its indexes, what the status index projects (StatusListAttributes),
// and what conditions compare (version, status) — and everything else in
// one binary attribute, doc: the rest of the item in DynamoDB's own JSON
// shape ({"M": {…}}), deflated with a preset dictionary of the words an
// order is made of. A sample order of 1.1–2.6 KB stores in well under 1 KB,
// so each of its changes costs one write unit, not two or three.
//
// Three attributes are not stored at all, as the keys hold them: the
// order's id (PK), its creation (GSI4SK) and the time it entered its
// status (GSI5SK); decoding takes them from there.
//
// Items written before doc existed have every attribute plain; decodeOrder
// reads both, and the first change of such an order writes it the new way.

// attrDoc is the attribute holding the rest of the order item.
const attrDoc = "doc"

// docFormat is the first byte of doc: the encoding of what follows. A new
// dictionary or encoding takes a new number; readers keep every old one.
const docFormat byte = 1

// plainAttributes stay attributes of the order item, outside doc.
var plainAttributes = func() map[string]bool {
	m := map[string]bool{AttrPK: true, AttrSK: true, AttrGSI4PK: true, AttrGSI4SK: true, AttrGSI5PK: true, AttrGSI5SK: true,
		"type": true, attrVersion: true, attrStatus: true, "cancelRequested": true}
	for _, a := range StatusListAttributes() {
		m[a] = true
	}
	return m
}()

// keyHeld are the attributes the keys hold (see above).
var keyHeld = map[string]bool{"orderId": true, "createdAt": true, "statusSince": true}

// encodeOrderItem moves the attributes of a marshalled order item that are
// not plain into doc.
func encodeOrderItem(full map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	item := make(map[string]types.AttributeValue, len(plainAttributes)+1)
	rest := map[string]types.AttributeValue{}
	for name, v := range full {
		if keyHeld[name] {
			continue
		}
		if plainAttributes[name] {
			item[name] = v
		} else {
			rest[name] = v
		}
	}
	if len(rest) == 0 {
		return item, nil
	}
	doc, err := packDoc(rest)
	if err != nil {
		return nil, err
	}
	item[attrDoc] = &types.AttributeValueMemberB{Value: doc}
	return item, nil
}

// decodeOrderItem returns the order item with doc unpacked into its
// attributes, as it was marshalled (an item without doc as it is).
func decodeOrderItem(item map[string]types.AttributeValue) (map[string]types.AttributeValue, error) {
	b, ok := item[attrDoc].(*types.AttributeValueMemberB)
	if !ok {
		return item, nil
	}
	rest, err := unpackDoc(b.Value)
	if err != nil {
		return nil, fmt.Errorf("order item %s: %w", sortKey(item, AttrPK), err)
	}
	full := make(map[string]types.AttributeValue, len(item)+len(rest))
	for name, v := range rest {
		full[name] = v
	}
	for name, v := range item {
		if name != attrDoc {
			full[name] = v
		}
	}
	return full, nil
}

// unmarshalOrderItem decodes a stored order item.
func unmarshalOrderItem(raw map[string]types.AttributeValue) (orderItem, error) {
	var it orderItem
	full, err := decodeOrderItem(raw)
	if err != nil {
		return it, err
	}
	if err := attributevalue.UnmarshalMap(full, &it); err != nil {
		return it, err
	}
	it.ID = orDerived(it.ID, it.PK, orderKeyID)
	it.CreatedAt = orDerivedTime(it.CreatedAt, it.GSI4SK)
	it.StatusSince = orDerivedTime(it.StatusSince, it.GSI5SK)
	if it.StatusSince.IsZero() {
		it.StatusSince = it.UpdatedAt // written before statusSince existed
	}
	return it, nil
}

// orDerived is v, or else what derive finds in key.
func orDerived(v, key string, derive func(string) string) string {
	if v != "" {
		return v
	}
	return derive(key)
}

// orderKeyID is the order id of an order item's PK.
func orderKeyID(pk string) string { return strings.TrimPrefix(pk, "ORDER#") }

// orDerivedTime is t, or else the time a "<time>#<id>" sort key starts
// with (zero if it does not).
func orDerivedTime(t time.Time, sortKey string) time.Time {
	if !t.IsZero() || len(sortKey) < len(sortable) {
		return t
	}
	k, err := time.Parse(sortable, sortKey[:len(sortable)])
	if err != nil {
		return t
	}
	return k
}

// marshalOrderItem is the order item of o, as stored.
func marshalOrderItem(o orderItem) (map[string]types.AttributeValue, error) {
	full, err := marshal(o)
	if err != nil {
		return nil, err
	}
	return encodeOrderItem(full)
}

var (
	deflaters = sync.Pool{New: func() any {
		w, err := flate.NewWriterDict(io.Discard, flate.BestCompression, docDictionary)
		if err != nil {
			panic(err) // only for a bad level
		}
		return w
	}}
	errDocFormat = errors.New("doc: unknown format")
)

// packDoc encodes attributes as doc: the format byte, then their JSON,
// deflated with docDictionary.
func packDoc(attrs map[string]types.AttributeValue) ([]byte, error) {
	var js bytes.Buffer
	if err := writeAV(&js, &types.AttributeValueMemberM{Value: withoutZeroTimes(attrs)}); err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteByte(docFormat)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&out)
	if _, err := w.Write(js.Bytes()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// zeroTime is how attributevalue writes a zero time.Time.
const zeroTime = "0001-01-01T00:00:00Z"

// withoutZeroTimes leaves out of attrs, and of the maps within, the times
// that are zero: absent, they decode as zero all the same.
func withoutZeroTimes(attrs map[string]types.AttributeValue) map[string]types.AttributeValue {
	out := make(map[string]types.AttributeValue, len(attrs))
	for name, v := range attrs {
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			if v.Value == zeroTime {
				continue
			}
		case *types.AttributeValueMemberM:
			out[name] = &types.AttributeValueMemberM{Value: withoutZeroTimes(v.Value)}
			continue
		}
		out[name] = v
	}
	return out
}

// maxDocJSON bounds what a doc may inflate to: an order item is under
// DynamoDB's 400 KB.
const maxDocJSON = 1 << 20

func unpackDoc(doc []byte) (map[string]types.AttributeValue, error) {
	if len(doc) == 0 || doc[0] != docFormat {
		return nil, errDocFormat
	}
	r := flate.NewReaderDict(bytes.NewReader(doc[1:]), docDictionary)
	defer r.Close()
	js, err := io.ReadAll(io.LimitReader(r, maxDocJSON+1))
	if err != nil {
		return nil, fmt.Errorf("doc: inflate: %w", err)
	}
	if len(js) > maxDocJSON {
		return nil, errors.New("doc: inflates past 1 MB")
	}
	var v wireAV
	if err := json.Unmarshal(js, &v); err != nil {
		return nil, fmt.Errorf("doc: %w", err)
	}
	av, err := v.value()
	if err != nil {
		return nil, fmt.Errorf("doc: %w", err)
	}
	m, ok := av.(*types.AttributeValueMemberM)
	if !ok {
		return nil, errors.New("doc: not a map")
	}
	return m.Value, nil
}

// writeAV writes v in DynamoDB's JSON shape, map keys sorted (so equal
// values encode equally, and an unchanged order writes an unchanged doc).
func writeAV(b *bytes.Buffer, v types.AttributeValue) error {
	str := func(s string) { js, _ := json.Marshal(s); b.Write(js) }
	strs := func(tag string, list []string) {
		b.WriteString(`{"` + tag + `":[`)
		for i, s := range list {
			if i > 0 {
				b.WriteByte(',')
			}
			str(s)
		}
		b.WriteString("]}")
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		b.WriteString(`{"S":`)
		str(v.Value)
		b.WriteByte('}')
	case *types.AttributeValueMemberN:
		b.WriteString(`{"N":`)
		str(v.Value)
		b.WriteByte('}')
	case *types.AttributeValueMemberB:
		b.WriteString(`{"B":`)
		str(base64.StdEncoding.EncodeToString(v.Value))
		b.WriteByte('}')
	case *types.AttributeValueMemberBOOL:
		fmt.Fprintf(b, `{"BOOL":%t}`, v.Value)
	case *types.AttributeValueMemberNULL:
		b.WriteString(`{"NULL":true}`)
	case *types.AttributeValueMemberSS:
		strs("SS", v.Value)
	case *types.AttributeValueMemberNS:
		strs("NS", v.Value)
	case *types.AttributeValueMemberBS:
		list := make([]string, len(v.Value))
		for i, x := range v.Value {
			list[i] = base64.StdEncoding.EncodeToString(x)
		}
		strs("BS", list)
	case *types.AttributeValueMemberL:
		b.WriteString(`{"L":[`)
		for i, x := range v.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeAV(b, x); err != nil {
				return err
			}
		}
		b.WriteString("]}")
	case *types.AttributeValueMemberM:
		names := make([]string, 0, len(v.Value))
		for name := range v.Value {
			names = append(names, name)
		}
		sort.Strings(names)
		b.WriteString(`{"M":{`)
		for i, name := range names {
			if i > 0 {
				b.WriteByte(',')
			}
			str(name)
			b.WriteByte(':')
			if err := writeAV(b, v.Value[name]); err != nil {
				return err
			}
		}
		b.WriteString("}}")
	default:
		return fmt.Errorf("doc: attribute value %T", v)
	}
	return nil
}

// wireAV is one attribute value in DynamoDB's JSON shape.
type wireAV struct {
	S, N, B    *string
	BOOL, NULL *bool
	SS, NS, BS []string
	L          []wireAV
	M          map[string]wireAV
}

func (w wireAV) value() (types.AttributeValue, error) {
	switch {
	case w.S != nil:
		return &types.AttributeValueMemberS{Value: *w.S}, nil
	case w.N != nil:
		return &types.AttributeValueMemberN{Value: *w.N}, nil
	case w.B != nil:
		b, err := base64.StdEncoding.DecodeString(*w.B)
		if err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberB{Value: b}, nil
	case w.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *w.BOOL}, nil
	case w.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: true}, nil
	case w.SS != nil:
		return &types.AttributeValueMemberSS{Value: w.SS}, nil
	case w.NS != nil:
		return &types.AttributeValueMemberNS{Value: w.NS}, nil
	case w.BS != nil:
		list := make([][]byte, len(w.BS))
		for i, s := range w.BS {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, err
			}
			list[i] = b
		}
		return &types.AttributeValueMemberBS{Value: list}, nil
	case w.L != nil:
		list := make([]types.AttributeValue, len(w.L))
		for i, x := range w.L {
			v, err := x.value()
			if err != nil {
				return nil, err
			}
			list[i] = v
		}
		return &types.AttributeValueMemberL{Value: list}, nil
	case w.M != nil:
		m := make(map[string]types.AttributeValue, len(w.M))
		for name, x := range w.M {
			v, err := x.value()
			if err != nil {
				return nil, err
			}
			m[name] = v
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	}
	return nil, errors.New("empty attribute value")
}

// deflate compresses b with docDictionary, inflate undoes it.
func deflate(b []byte) ([]byte, error) {
	var out bytes.Buffer
	w, err := flate.NewWriterDict(&out, flate.BestCompression, docDictionary)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(b); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

func inflate(b []byte) ([]byte, error) {
	r := flate.NewReaderDict(bytes.NewReader(b), docDictionary)
	defer r.Close()
	out, err := io.ReadAll(io.LimitReader(r, maxDocJSON+1))
	if err != nil {
		return nil, err
	}
	if len(out) > maxDocJSON {
		return nil, errors.New("inflates past 1 MB")
	}
	return out, nil
}
