package storetest

import (
	"reflect"
	"strconv"
	"testing"
	"time"
)

var timeType = reflect.TypeFor[time.Time]()

// everyFieldSet fails for each field reachable from v (through structs,
// pointers and slice elements) that holds its zero value, so that a round
// trip of v tests every field, including ones added later.
func everyFieldSet(t *testing.T, v any) {
	t.Helper()
	var walk func(path string, v reflect.Value)
	walk = func(path string, v reflect.Value) {
		switch {
		case v.IsZero():
			t.Errorf("the fixture leaves %s empty: set it, so the round trip covers it", path)
		case v.Type() == timeType:
		case v.Kind() == reflect.Pointer:
			walk(path, v.Elem())
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				walk(path+"."+v.Type().Field(i).Name, v.Field(i))
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(path+"["+strconv.Itoa(i)+"]", v.Index(i))
			}
		}
	}
	walk(reflect.TypeOf(v).String(), reflect.ValueOf(v))
}

// mutateEverything changes, in place, every value reachable from the
// pointer p: if a store kept or handed out memory shared with p, what it
// holds changes too.
func mutateEverything(p any) {
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		switch {
		case v.Type() == timeType:
			v.Set(reflect.ValueOf(v.Interface().(time.Time).Add(time.Hour)))
		case v.Kind() == reflect.Pointer:
			if !v.IsNil() {
				walk(v.Elem())
			}
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					walk(v.Field(i))
				}
			}
		case v.Kind() == reflect.Slice:
			for i := range v.Len() {
				walk(v.Index(i))
			}
		case v.Kind() == reflect.String:
			v.SetString(v.String() + "~")
		case v.CanInt():
			v.SetInt(v.Int() + 1)
		case v.CanUint():
			v.SetUint(v.Uint() + 1)
		case v.Kind() == reflect.Bool:
			v.SetBool(!v.Bool())
		}
	}
	walk(reflect.ValueOf(p))
}
