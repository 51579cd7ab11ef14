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

// deepCopy returns a copy of *p that shares no memory with it (every
// pointer, slice and map reachable from it copied), so a test can keep what
// it wrote while it goes on changing the original.
func deepCopy[T any](p *T) *T {
	var copyOf func(v reflect.Value) reflect.Value
	copyOf = func(v reflect.Value) reflect.Value {
		out := reflect.New(v.Type()).Elem()
		switch v.Kind() {
		case reflect.Pointer:
			if !v.IsNil() {
				e := reflect.New(v.Type().Elem())
				e.Elem().Set(copyOf(v.Elem()))
				out.Set(e)
			}
		case reflect.Struct:
			if v.Type() == timeType {
				out.Set(v)
				break
			}
			for i := range v.NumField() {
				if !v.Type().Field(i).IsExported() {
					return v // not expected in the types under test: copy as is
				}
				out.Field(i).Set(copyOf(v.Field(i)))
			}
		case reflect.Slice:
			if !v.IsNil() {
				s := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
				for i := range v.Len() {
					s.Index(i).Set(copyOf(v.Index(i)))
				}
				out.Set(s)
			}
		case reflect.Map:
			if !v.IsNil() {
				m := reflect.MakeMapWithSize(v.Type(), v.Len())
				for it := v.MapRange(); it.Next(); {
					m.SetMapIndex(it.Key(), copyOf(it.Value()))
				}
				out.Set(m)
			}
		default:
			out.Set(v)
		}
		return out
	}
	return copyOf(reflect.ValueOf(p)).Interface().(*T)
}
