package capacity

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestAssignments(t *testing.T) {
	values := map[string]value{":s": {"S": json.RawMessage(`"STATUS#B"`)}, ":t": {"S": json.RawMessage(`"now"`)}}
	set, removed := assignments("SET #s = :s, updatedAt = :t, n = if_not_exists(n, :z) + :one REMOVE #old, y.z ADD cnt :one",
		map[string]string{"#s": "GSI2PK", "#old": "x"}, values)
	if set["GSI2PK"].text() != "STATUS#B" || set["updatedAt"].text() != "now" || set["n"] != nil || set["cnt"] != nil || len(set) != 4 {
		t.Errorf("set %v", set)
	}
	if !reflect.DeepEqual(removed, []string{"x", "y"}) {
		t.Errorf("removed %v", removed)
	}
	if v := equalityValue("#pk = :pk AND begins_with(#sk, :e)", "PK", map[string]string{"#pk": "PK"},
		map[string]value{":pk": {"S": json.RawMessage(`"ORDER#1"`)}}); v != "ORDER#1" {
		t.Errorf("key condition value %q", v)
	}
}

// TestIndexWritesFollowTheKey follows one order item through a create, a
// status change in a transaction and an in-place update: the table's units
// go to its partition, the index's to the status partitions it left and
// entered, in proportion to the items' sizes.
func TestIndexWritesFollowTheKey(t *testing.T) {
	l := newLedger()
	s := &schema{pk: "PK", sk: "SK", indexes: map[string]index{"byStatus": {hash: "GSI2PK", all: true}}}
	schemas := map[string]*schema{"t": s}
	order := func(status string) string {
		return `{"PK":{"S":"ORDER#1"},"SK":{"S":"ORDER"},"GSI2PK":{"S":"` + status + `"},"d":{"S":"` + strings.Repeat("x", 1500) + `"}}`
	}
	call := func(op, req, resp string) {
		t.Helper()
		var q request
		var p response
		if err := json.Unmarshal([]byte(req), &q); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(resp), &p); err != nil {
			t.Fatal(err)
		}
		l.record(op, &q, &p, schemas)
	}
	call("PutItem", `{"TableName":"t","Item":`+order("STATUS#A")+`}`,
		`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":4,"Table":{"CapacityUnits":2},"GlobalSecondaryIndexes":{"byStatus":{"CapacityUnits":2}}}}`)
	call("TransactWriteItems", `{"TransactItems":[{"Put":{"TableName":"t","Item":`+order("STATUS#B")+`}},
		{"Put":{"TableName":"t","Item":{"PK":{"S":"ORDER#1"},"SK":{"S":"EVENT#1"}}}},
		{"Update":{"TableName":"t","Key":{"PK":{"S":"STOCK#W"},"SK":{"S":"SKU#1"}},"UpdateExpression":"SET available = available - :q"}}]}`,
		`{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":16,"Table":{"CapacityUnits":8},"GlobalSecondaryIndexes":{"byStatus":{"CapacityUnits":8}}}]}`)
	call("UpdateItem", `{"TableName":"t","Key":{"PK":{"S":"ORDER#1"},"SK":{"S":"ORDER"}},"UpdateExpression":"SET note = :n","ExpressionAttributeValues":{":n":{"S":"x"}}}`,
		`{"ConsumedCapacity":{"TableName":"t","CapacityUnits":4,"Table":{"CapacityUnits":2},"GlobalSecondaryIndexes":{"byStatus":{"CapacityUnits":2}}}}`)
	want := map[Partition]float64{
		{Table: "t", Key: "ORDER#1"}:                     2 + 4 + 2 + 2, // the order (2 units) and its event (1) of the transaction's 8, by size
		{Table: "t", Key: "STOCK#W"}:                     2,
		{Table: "t", Index: "byStatus", Key: "STATUS#A"}: 2 + 2, // entered, then left (the transaction's index units counted once)
		{Table: "t", Index: "byStatus", Key: "STATUS#B"}: 2 + 2, // entered, then rewritten in place
	}
	if !reflect.DeepEqual(l.tally.Written, want) {
		t.Errorf("written %v, want %v", l.tally.Written, want)
	}
	if l.tally.TransactionTableUnits != 8 || l.tally.TransactionTableUnitsPerItem != 2*(2+1+1) {
		t.Errorf("transactions' table units %v reported, %v by the per-item rule", l.tally.TransactionTableUnits, l.tally.TransactionTableUnitsPerItem)
	}
	if l.tally.TransactionIndexExcess != 4 || l.tally.WriteUnits["t/byStatus"] != 2+4+2 {
		t.Errorf("transaction index excess %v, index units %v", l.tally.TransactionIndexExcess, l.tally.WriteUnits)
	}
	if l.tally.UnknownIndexKeys != 0 || len(l.tally.Unattributed) != 0 { // the stock item, never seen, is taken to be in no index
		t.Errorf("unknown index keys %d, unattributed %v", l.tally.UnknownIndexKeys, l.tally.Unattributed)
	}
}

func TestTellCapacity(t *testing.T) {
	one := `{"Item":{},"ConsumedCapacity":{"TableName":"t","CapacityUnits":1,"Table":{"CapacityUnits":1}}}`
	list := `{"ConsumedCapacity":[{"TableName":"t","CapacityUnits":6,"Table":{"CapacityUnits":3},"GlobalSecondaryIndexes":{"g":{"CapacityUnits":3}}}]}`
	for _, c := range []struct{ resp, asked, want string }{
		{one, "", `{"Item":{}}`},
		{one, "NONE", `{"Item":{}}`},
		{one, "TOTAL", `{"ConsumedCapacity":{"CapacityUnits":1,"TableName":"t"},"Item":{}}`},
		{one, "INDEXES", one},
		{list, "TOTAL", `{"ConsumedCapacity":[{"CapacityUnits":6,"TableName":"t"}]}`},
		{list, "", `{}`},
	} {
		if got := string(tellCapacity([]byte(c.resp), c.asked)); got != c.want {
			t.Errorf("asked %q: %s, want %s", c.asked, got, c.want)
		}
	}
	body, asked := askCapacity([]byte(`{"TableName":"t","ReturnConsumedCapacity":"TOTAL"}`))
	if asked != "TOTAL" || string(body) != `{"ReturnConsumedCapacity":"INDEXES","TableName":"t"}` {
		t.Errorf("asked %q, sent %s", asked, body)
	}
}
