package screening

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

func cleanOrder() *order.Order {
	return &order.Order{Draft: order.Draft{
		Buyer:     order.Party{Name: "Lena Fischer", Address: order.Address{Country: "SG"}},
		Consignee: order.Party{Name: "Lena Fischer", Address: order.Address{Country: "DE"}},
		Lines:     []order.Line{line("610910", "Cotton T-shirt"), line("851713", "Smartphone")},
	}}
}

// TestScreen keeps the old test's intent: a clean order passes, a firearm
// and a denied party are refused, with the entry that refused them.
func TestScreen(t *testing.T) {
	s := Default()
	if h := s.Screen(cleanOrder(), day); h != nil {
		t.Fatalf("clean order refused: %+v", *h)
	}

	o := cleanOrder()
	o.Lines = append(o.Lines, line("9303200000", "Rifle"))
	if h := s.Screen(o, day); h == nil || h.Reason != RestrictedGoods || h.EntryID != "ALL.weapons-ammunition" || h.Field != "/lines/2/hsCode" {
		t.Fatalf("firearm: %+v", h)
	}

	o = cleanOrder()
	o.Consignee.Name = "  ACME, Sanctioned-Trading  Co."
	if h := s.Screen(o, day); h == nil || h.Reason != DeniedParty || h.EntryID != "SAMPLE-SDN-0001" || h.Field != "/consignee/name" || h.List != "SDN" {
		t.Fatalf("denied party: %+v", h)
	}
}

// TestScreenOrder: goods first, then the buyer, then the consignee; the
// destination is the consignee's country, not the buyer's.
func TestScreenOrder(t *testing.T) {
	s := Default()
	o := cleanOrder()
	o.Buyer.Name = "Zorblax"
	o.Consignee.Name = "Blocked Entity Ltd"
	if h := s.Screen(o, day); h == nil || h.Field != "/buyer/name" || h.EntryID != "SAMPLE-DPL-0006" {
		t.Fatalf("buyer before consignee: %+v", h)
	}
	o.Lines = append(o.Lines, line("360410", "Rockets"))
	if h := s.Screen(o, day); h == nil || h.Reason != RestrictedGoods {
		t.Fatalf("goods before parties: %+v", h)
	}

	gum := cleanOrder()
	gum.Lines = []order.Line{line("170410", "Chewing gum")}
	if h := s.Screen(gum, day); h != nil { // buyer in SG, consignee in DE
		t.Fatalf("chewing gum to DE: %+v", *h)
	}
	gum.Consignee.Address.Country = "SG"
	if h := s.Screen(gum, day); h == nil || h.EntryID != "SG.chewing-gum" {
		t.Fatalf("chewing gum to SG: %+v", h)
	}
}

// TestScreenHitHasNoPersonalData: a hit names what the list says, never the
// order's own name.
func TestScreenHitHasNoPersonalData(t *testing.T) {
	o := cleanOrder()
	o.Buyer.Name = "ACME Sanctioned Trading Shanghai Branch"
	h := Default().Screen(o, day)
	if h == nil {
		t.Fatal("no hit")
	}
	raw, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(strings.ToLower(string(raw)), "shanghai") || h.Matched != "Acme Sanctioned Trading Co., Ltd." {
		t.Fatalf("hit carries the order's name: %s", raw)
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"reason": "denied_party", "entryId": "SAMPLE-SDN-0001", "list": "SDN", "matched": "Acme Sanctioned Trading Co., Ltd.", "field": "/buyer/name", "source": h.Source, "listDate": "2026-12-01"}
	if !reflect.DeepEqual(fields, want) {
		t.Fatalf("JSON %s, want %v", raw, want)
	}
}

// TestNewWithout: a Screener without one of its lists skips that screen.
func TestNewWithout(t *testing.T) {
	o := cleanOrder()
	o.Lines = append(o.Lines, line("930320", "Rifle"))
	o.Buyer.Name = "Zorblax"
	if h := New(nil, DefaultParties()).Screen(o, day); h == nil || h.Reason != DeniedParty {
		t.Fatalf("parties only: %+v", h)
	}
	if h := New(DefaultGoods(), nil).Screen(o, day); h == nil || h.Reason != RestrictedGoods {
		t.Fatalf("goods only: %+v", h)
	}
	if h := New(nil, nil).Screen(o, day); h != nil {
		t.Fatalf("neither: %+v", *h)
	}
	if h := Default().Screen(nil, day); h != nil {
		t.Fatalf("nil order: %+v", *h)
	}
}

// TestEmbeddedData: the embedded files parse (so Default cannot panic), once,
// and hold what the package promises.
func TestEmbeddedData(t *testing.T) {
	if _, err := parseGoods(embeddedGoods); err != nil {
		t.Fatalf("embedded restricted goods: %v", err)
	}
	if _, err := parseParties(embeddedParties); err != nil {
		t.Fatalf("embedded denied parties: %v", err)
	}
	s := Default()
	if s != Default() || s.Goods() != DefaultGoods() || s.Parties() != DefaultParties() {
		t.Fatal("Default is parsed more than once")
	}
	ids := map[string]bool{}
	for _, r := range s.Goods().Rules() {
		ids[r.ID] = true
	}
	for _, id := range []string{"ALL.weapons-ammunition", "ALL.explosives-fireworks", "ALL.aerosols-flammable", "AIRMAIL.lithium-batteries-alone", "ALL.narcotics", "ALL.drug-paraphernalia", "ALL.counterfeit", "SG.e-cigarettes", "AU.vapes", "SG.chewing-gum", "ALL.ivory", "CN.live-animals", "CN.seeds-live-plants"} {
		if !ids[id] {
			t.Errorf("embedded rules lack %s", id)
		}
	}
	if n := len(s.Parties().Entries()); n < 10 {
		t.Errorf("embedded list has %d entries", n)
	}
	if !strings.Contains(s.Parties().Source(), "replace with the real list") {
		t.Errorf("embedded list source %q does not say it is a sample", s.Parties().Source())
	}
}

// TestMustPanicsOnBrokenData: what Default does with broken embedded data.
func TestMustPanicsOnBrokenData(t *testing.T) {
	for name, parse := range map[string]func() any{
		"goods":   func() any { return must(parseGoods([]byte(`{"version":`))) },
		"parties": func() any { return must(parseParties([]byte(`{"entries":[]}`))) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			parse()
		}()
	}
}

// TestScreenNoAllocs: screening a clean order allocates nothing: the
// indexes are built at load, not per check.
func TestScreenNoAllocs(t *testing.T) {
	s, o := Default(), order10Lines()
	if h := s.Screen(o, day); h != nil {
		t.Fatalf("fixture refused: %+v", *h)
	}
	if n := testing.AllocsPerRun(100, func() { s.Screen(o, day) }); n != 0 {
		t.Fatalf("%v allocations per Screen, want 0", n)
	}
}

// order10Lines is a clean 10-line order to Australia, the destination with
// the most rules, with titles and two different names with diacritics.
func order10Lines() *order.Order {
	titles := []string{
		"Product number 0 — cotton blend", "Smartphone 128 GB with lithium-ion battery", "Men's jeans, slim fit",
		"Crème hydratante visage 50 ml", "Wooden toy train", "Laptop 14\" with built-in battery",
		"Running shoes", "Matte lipstick, shade Vapeur", "Ivory white cotton dress", "Stainless steel water bottle 750 ml",
	}
	hs := []string{"851830", "851713", "620342", "330499", "950300", "847130", "640411", "330410", "610442", "732393"}
	o := &order.Order{Draft: order.Draft{
		Buyer:     order.Party{Name: "Zoë Müller-Lüdenscheidt", Address: order.Address{Country: "AU"}},
		Consignee: order.Party{Name: "Søren Ødegård c/o Zoë Müller", Address: order.Address{Country: "AU"}},
	}}
	for i := range titles {
		o.Lines = append(o.Lines, line(hs[i], titles[i]))
	}
	return o
}

// BenchmarkScreen10Lines screens a clean 10-line order.
func BenchmarkScreen10Lines(b *testing.B) {
	s, o := Default(), order10Lines()
	on := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if s.Screen(o, on) != nil {
			b.Fatal("fixture refused")
		}
	}
}
