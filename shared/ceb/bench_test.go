package ceb

import (
	"testing"
	"time"
)

func benchRender(b *testing.B, fx fixture) {
	t := &testing.T{}
	d := build(t, fx.order(t))
	opts := testOptions(d)
	if _, err := Render(d, opts); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Render(d, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderExport9610 renders the four messages of a two-line 9610
// export: the per-order cost of the customs step's rendering.
func BenchmarkRenderExport9610(b *testing.B) { benchRender(b, fixtures[0]) }

// BenchmarkRenderImport1210 renders the four messages of a two-line 1210
// import (amounts in renminbi).
func BenchmarkRenderImport1210(b *testing.B) { benchRender(b, fixtures[4]) }

// BenchmarkParseReceipt reads one CEB604 release.
func BenchmarkParseReceipt(b *testing.B) {
	t := &testing.T{}
	d := build(t, fixtures[0].order(t))
	r, _ := AnswerFor(d, "CEB603")
	r.Status, r.Time, r.PreNo, r.InvtNo = 800, time.Now(), "I20260314000000001", "51412026E000000001"
	x, err := RenderReceipt("CEB604", []Return{r})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(x)))
	for b.Loop() {
		if _, err := ParseReceipt(x); err != nil {
			b.Fatal(err)
		}
	}
}
