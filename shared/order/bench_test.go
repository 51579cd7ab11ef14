package order

import (
	"encoding/json"
	"os"
	"testing"
)

// The goal (issue 2): validating a 10-line order costs at most 2× decoding
// the same JSON. `make bench` compares the two from one run.

func load10Lines(b *testing.B) []byte {
	raw, err := os.ReadFile("testdata/order_10_lines.json")
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

func BenchmarkDecode10Lines(b *testing.B) {
	raw := load10Lines(b)
	b.ReportAllocs()
	for b.Loop() {
		var d Draft
		if err := json.Unmarshal(raw, &d); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidate10Lines(b *testing.B) {
	var d Draft
	if err := json.Unmarshal(load10Lines(b), &d); err != nil {
		b.Fatal(err)
	}
	if errs := d.Validate(); errs != nil {
		b.Fatalf("fixture is not valid: %v", errs)
	}
	b.ReportAllocs()
	for b.Loop() {
		if d.Validate() != nil {
			b.Fatal("invalid")
		}
	}
}

// BenchmarkValidateInvalidOrder measures the error path: the same order with
// one problem in every line, all of them reported.
func BenchmarkValidateInvalidOrder(b *testing.B) {
	var d Draft
	if err := json.Unmarshal(load10Lines(b), &d); err != nil {
		b.Fatal(err)
	}
	for i := range d.Lines {
		d.Lines[i].HSCode = "6109.10"
	}
	b.ReportAllocs()
	for b.Loop() {
		if len(d.Validate()) != len(d.Lines) {
			b.Fatal("want one problem a line")
		}
	}
}
