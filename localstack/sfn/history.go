package sfn

import (
	"encoding/json"
	"strings"
	"time"
)

// HistoryEvent is one event of an execution's history, shaped as the Step
// Functions API returns it.
type HistoryEvent struct {
	Timestamp       time.Time
	Type            string
	ID              int64
	PreviousEventID int64
	Details         map[string]any
}

// detailsKey is the field AWS puts an event type's details under.
func detailsKey(typ string) string {
	switch {
	case strings.HasSuffix(typ, "StateEntered"):
		return "stateEnteredEventDetails"
	case strings.HasSuffix(typ, "StateExited"):
		return "stateExitedEventDetails"
	}
	return strings.ToLower(typ[:1]) + typ[1:] + "EventDetails"
}

// MarshalJSON writes the AWS wire shape (timestamps in epoch seconds).
func (e HistoryEvent) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"timestamp": float64(e.Timestamp.UnixNano()) / 1e9,
		"type":      e.Type,
		"id":        e.ID,
	}
	if e.PreviousEventID > 0 {
		m["previousEventId"] = e.PreviousEventID
	}
	if len(e.Details) > 0 {
		m[detailsKey(e.Type)] = e.Details
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON wrote (for the durable store).
func (e *HistoryEvent) UnmarshalJSON(b []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	var ts float64
	_ = json.Unmarshal(m["timestamp"], &ts)
	e.Timestamp = time.Unix(0, int64(ts*1e9)).UTC()
	_ = json.Unmarshal(m["type"], &e.Type)
	_ = json.Unmarshal(m["id"], &e.ID)
	_ = json.Unmarshal(m["previousEventId"], &e.PreviousEventID)
	if raw, ok := m[detailsKey(e.Type)]; ok {
		_ = json.Unmarshal(raw, &e.Details)
	}
	return nil
}

// stateEventPrefix is how AWS names a state type's events.
func stateEventPrefix(typ string) string {
	if typ == "Map" {
		return "Map"
	}
	return typ
}

func payloadDetails(key string, v any) map[string]any {
	return map[string]any{key: v, key + "Details": map[string]any{"truncated": false}}
}

// jsonText is a value shown in the history as its JSON text; it is turned
// into text only when the history is read or stored, not on the hot path.
type jsonText struct{ v any }

// MarshalJSON writes the value's JSON as a JSON string.
func (j jsonText) MarshalJSON() ([]byte, error) { return json.Marshal(mustJSON(j.v)) }
