package dynamostore

import (
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxImages bounds the order images a store remembers: a Lambda handles one
// order at a time, an API a few hundred a minute; an image is under 4 KB.
const maxImages = 512

// images remembers the order items this store last read or wrote, each as
// stored at its version, so that SaveTransition writes only the attributes
// an order's change touched. An order's version names its item exactly:
// every write of the order item moves its version on (CreateOrder and
// SaveTransition are the only ones), so the item at version v is the image
// of version v, whoever wrote it. It is safe for concurrent use.
type images struct {
	mu     sync.Mutex
	byKey  map[imageKey]map[string]types.AttributeValue
	oldest []imageKey // in the order kept, to forget the oldest first
}

type imageKey struct {
	id      string
	version int64
}

func newImages() *images { return &images{byKey: map[imageKey]map[string]types.AttributeValue{}} }

// keep remembers item as the order's item at version. Nobody changes item
// afterwards: the store keeps what it marshalled or read.
func (m *images) keep(id string, version int64, item map[string]types.AttributeValue) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := imageKey{id, version}
	if _, ok := m.byKey[k]; !ok {
		m.oldest = append(m.oldest, k)
	}
	m.byKey[k] = item
	for len(m.oldest) > maxImages {
		delete(m.byKey, m.oldest[0])
		m.oldest = m.oldest[1:]
	}
}

// image returns the order's item at version, or nil if it is not kept.
func (m *images) image(id string, version int64) map[string]types.AttributeValue {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byKey[imageKey{id, version}]
}

// orderWrite is the write of the order item in SaveTransition's
// transaction, on condition that the stored order is at version previous.
// With the item's image at that version it is an Update that sets the
// attributes that changed and removes those that are gone; without one, a
// Put of the whole item. Either leaves the same item; the Update sends
// less, and leaves the attributes it does not name as they are.
func orderWrite(table string, previous int64, image, item map[string]types.AttributeValue) types.TransactWriteItem {
	if image == nil {
		return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: item,
			ConditionExpression:                 aws.String("#version = :previous"),
			ExpressionAttributeNames:            map[string]string{"#version": attrVersion},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":previous": num(previous)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
	}
	set, remove := changedAttributes(image, item)
	names := map[string]string{"#version": attrVersion}
	values := map[string]types.AttributeValue{":previous": num(previous)}
	var clauses []string
	for i, name := range set {
		n, v := "#a"+strconv.Itoa(i), ":a"+strconv.Itoa(i)
		names[n], values[v] = name, item[name]
		clauses = append(clauses, n+" = "+v)
	}
	expr := "SET " + strings.Join(clauses, ", ")
	if len(remove) > 0 {
		var gone []string
		for i, name := range remove {
			n := "#r" + strconv.Itoa(i)
			names[n] = name
			gone = append(gone, n)
		}
		expr += " REMOVE " + strings.Join(gone, ", ")
	}
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table),
		Key:                                 itemKey(stringOf(item[AttrPK]), stringOf(item[AttrSK])),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String("#version = :previous"),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

// changedAttributes lists, sorted, the attributes of item that image lacks
// or holds with another value, and those image holds that item does not.
// The key never changes. A change moves the version on, so set is never
// empty.
func changedAttributes(image, item map[string]types.AttributeValue) (set, remove []string) {
	for name, v := range item {
		if name == AttrPK || name == AttrSK {
			continue
		}
		if old, ok := image[name]; !ok || !reflect.DeepEqual(old, v) {
			set = append(set, name)
		}
	}
	for name := range image {
		if _, ok := item[name]; !ok {
			remove = append(remove, name)
		}
	}
	sort.Strings(set)
	sort.Strings(remove)
	return set, remove
}

func stringOf(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
