package screening

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/order"
)

// day is a date of the embedded rules' era.
var day = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func line(hs, title string) order.Line {
	return order.Line{SKU: "SKU-1", HSCode: hs, Title: title, Quantity: 1}
}

// TestGoodsRulesHit: every kind of embedded rule hits for its destination,
// and a destination-specific rule does not hit elsewhere.
func TestGoodsRulesHit(t *testing.T) {
	tests := []struct {
		name, dest string
		line       order.Line
		id         string // "" for no hit
		field      string
		matched    string
	}{
		{"rifle", "DE", line("9303200000", "Hunting rifle"), "ALL.weapons-ammunition", "/lines/0/hsCode", "HS 9303"},
		{"cartridges", "US", line("930630", "Cartridges .22"), "ALL.weapons-ammunition", "/lines/0/hsCode", "HS 9306"},
		{"air gun", "BR", line("930420", "Air gun"), "ALL.weapons-ammunition", "/lines/0/hsCode", "HS 9304"},
		{"fireworks by HS", "GB", line("360410", "Party rockets"), "ALL.explosives-fireworks", "/lines/0/hsCode", "HS 3604"},
		{"detonators", "MY", line("360300", "Detonators"), "ALL.explosives-fireworks", "/lines/0/hsCode", "HS 3603"},
		{"firecrackers by title", "FR", line("950590", "Firecrackers, 100 pack"), "ALL.explosives-fireworks", "/lines/0/title", "keyword firecracker"},
		{"aerosol by title", "AU", line("321290", "Aerosol spray paint, matte black"), "ALL.aerosols-flammable", "/lines/0/title", "keyword aerosol"},
		{"spray paint", "NZ", line("320890", "Spray paint can 400 ml"), "ALL.aerosols-flammable", "/lines/0/title", "keyword spray paint"},
		{"lighter fluid", "CA", line("271019", "Lighter fluid 125 ml"), "ALL.aerosols-flammable", "/lines/0/title", "keyword lighter fluid"},
		{"butane", "JP", line("961390", "Butane refill canister"), "ALL.aerosols-flammable", "/lines/0/title", "keyword butane"},
		{"lighter fuel by HS", "BR", line("360610", "Refill"), "ALL.aerosols-flammable", "/lines/0/hsCode", "HS 360610"},
		{"li-ion alone US", "US", line("850760", "18650 lithium-ion cells, 2-pack"), "AIRMAIL.lithium-batteries-alone", "/lines/0/hsCode", "HS 850760"},
		{"li-metal alone JP", "JP", line("8506500000", "CR2032 coin cells"), "AIRMAIL.lithium-batteries-alone", "/lines/0/hsCode", "HS 850650"},
		{"li-ion alone NL", "NL", line("8507600090", "Spare battery"), "AIRMAIL.lithium-batteries-alone", "/lines/0/hsCode", "HS 850760"},
		{"power bank by title", "FR", line("850440", "10000 mAh Power Bank"), "AIRMAIL.lithium-batteries-alone", "/lines/0/title", "keyword power bank"},
		{"li-ion alone, destination not listed", "BR", line("850760", "Spare battery"), "", "", ""},
		{"li-ion alone, CN not listed", "CN", line("850760", "Spare battery"), "", "", ""},
		{"opium by HS", "DE", line("130211", "Extract"), "ALL.narcotics", "/lines/0/hsCode", "HS 130211"},
		{"THC by title", "US", line("210690", "THC gummies"), "ALL.narcotics", "/lines/0/title", "keyword thc"},
		{"marijuana", "GB", line("121190", "Dried marijuana"), "ALL.narcotics", "/lines/0/title", "keyword marijuana"},
		{"bong", "DE", line("701399", "Glass bong 30 cm"), "ALL.drug-paraphernalia", "/lines/0/title", "keyword bong"},
		{"crack pipe", "GB", line("701399", "Crack pipe"), "ALL.drug-paraphernalia", "/lines/0/title", "keyword crack pipe"},
		{"replica watch", "US", line("910211", "Replica watch, Submariner style"), "ALL.counterfeit", "/lines/0/title", "keyword replica watch"},
		{"replica handbags", "IT", line("420221", "Replica handbags"), "ALL.counterfeit", "/lines/0/title", "keyword replica handbag"},
		{"vape by HS SG", "SG", line("854340", "Device"), "SG.e-cigarettes", "/lines/0/hsCode", "HS 854340"},
		{"vape by title SG", "SG", line("392690", "Disposable vape pen"), "SG.e-cigarettes", "/lines/0/title", "keyword vape"},
		{"e-cigarette SG", "SG", line("392690", "E-Cigarette starter kit"), "SG.e-cigarettes", "/lines/0/title", "keyword e-cigarette"},
		{"e-liquid SG", "SG", line("240412", "Mango e-liquid 10 ml"), "SG.e-cigarettes", "/lines/0/hsCode", "HS 240412"},
		{"vape AU", "AU", line("854340", "Pod vape"), "AU.vapes", "/lines/0/hsCode", "HS 854340"},
		{"vape by title AU", "AU", line("392690", "Vapes, assorted flavours"), "AU.vapes", "/lines/0/title", "keyword vape"},
		{"vape DE", "DE", line("854340", "Disposable vape pen"), "", "", ""},
		{"vape US", "US", line("392690", "E-cigarette starter kit"), "", "", ""},
		{"chewing gum by HS SG", "SG", line("170410", "Spearmint, 10 sticks"), "SG.chewing-gum", "/lines/0/hsCode", "HS 170410"},
		{"chewing gum by title SG", "SG", line("210690", "Sugar-free chewing gum"), "SG.chewing-gum", "/lines/0/title", "keyword chewing gum"},
		{"chewing gum MY", "MY", line("170410", "Sugar-free chewing gum"), "", "", ""},
		{"worked ivory by HS", "GB", line("960110", "Figurine"), "ALL.ivory", "/lines/0/hsCode", "HS 960110"},
		{"carved ivory by title", "JP", line("442090", "Carved ivory figurine"), "ALL.ivory", "/lines/0/title", "keyword carved ivory"},
		{"live animals CN", "CN", line("010619", "Live hamster"), "CN.live-animals", "/lines/0/hsCode", "HS 01"},
		{"live animals DE", "DE", line("010619", "Live hamster"), "", "", ""},
		{"seeds CN", "CN", line("120930", "Sunflower seeds for sowing"), "CN.seeds-live-plants", "/lines/0/hsCode", "HS 1209"},
		{"bonsai CN", "CN", line("060290", "Bonsai tree"), "CN.seeds-live-plants", "/lines/0/hsCode", "HS 0602"},
		{"seeds US", "US", line("120930", "Sunflower seeds for sowing"), "", "", ""},
		{"weapons CN too", "CN", line("930190", "Rifle"), "ALL.weapons-ammunition", "/lines/0/hsCode", "HS 9301"},
		{"lower-case destination", "sg", line("170410", "Gum"), "SG.chewing-gum", "/lines/0/hsCode", "HS 170410"},
	}
	g := DefaultGoods()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := g.Check(tt.dest, []order.Line{tt.line}, day)
			if tt.id == "" {
				if h != nil {
					t.Fatalf("hit %+v, want none", *h)
				}
				return
			}
			if h == nil {
				t.Fatalf("no hit, want %s", tt.id)
			}
			want := Hit{Reason: RestrictedGoods, EntryID: tt.id, List: GoodsList, Matched: tt.matched, Field: tt.field, Source: ruleSource(t, g, tt.id), ListDate: g.Date()}
			if *h != want {
				t.Fatalf("hit\n %+v\nwant\n %+v", *h, want)
			}
		})
	}
}

func ruleSource(t *testing.T, g *GoodsRules, id string) string {
	t.Helper()
	for _, r := range g.Rules() {
		if r.ID == id {
			return r.Source
		}
	}
	t.Fatalf("no rule %s", id)
	return ""
}

// TestInnocentGoodsPass: phones (batteries inside), computers, apparel, toys
// and cosmetics pass for every destination, named or not.
func TestInnocentGoodsPass(t *testing.T) {
	lines := []order.Line{
		line("851713", "Smartphone 128 GB with lithium-ion battery"),
		line("851762", "Smartwatch, rechargeable battery included"),
		line("847130", "Laptop 14\" with built-in battery"),
		line("610910", "Cotton T-shirt"),
		line("610442", "Ivory white cotton dress"),
		line("620342", "Men's jeans — slim fit"),
		line("640411", "Running shoes"),
		line("950300", "Wooden toy train"),
		line("950300", "Bongo drums for kids"),
		line("950300", "1:43 scale replica of a 1960s race car"),
		line("330499", "Moisturising face cream"),
		line("330499", "Cannabis Sativa Seed Oil Herbal Concentrate"),
		line("330410", "Matte lipstick, shade Vapeur"),
		line("330300", "Replica eau de toilette 100 ml"),
		line("330510", "Shampoo"),
		line("851640", "Fer à repasser vapeur"),
		line("851830", "Product number 0 — cotton blend"),
		line("610910", "Official replica football shirt 2026 home"),
		line("850440", "USB-C charger 65 W"),
		line("090210", "Gunpowder green tea"),
	}
	dests := []string{"US", "GB", "AU", "NZ", "SG", "JP", "CA", "DE", "FR", "IT", "NL", "ES", "CN", "BR", "MY", "CH", ""}
	g := DefaultGoods()
	for _, dest := range dests {
		for i := range lines {
			if h := g.Check(dest, lines[i:i+1], day); h != nil {
				t.Errorf("%s %q (HS %s): hit %+v", dest, lines[i].Title, lines[i].HSCode, *h)
			}
		}
	}
}

// TestHSPrefix: prefixes are digit prefixes of the line's code, no more.
func TestHSPrefix(t *testing.T) {
	tests := []struct {
		dest, hs string
		id       string
	}{
		{"US", "851713", ""},                                // phone: batteries inside a device
		{"US", "8517130000", ""},                            // the same, 10 digits
		{"US", "850760", "AIRMAIL.lithium-batteries-alone"}, // lithium-ion battery alone
		{"US", "8507600010", "AIRMAIL.lithium-batteries-alone"},
		{"US", "8507.60", "AIRMAIL.lithium-batteries-alone"}, // an unvalidated cart with a dot
		{"US", "850780", ""},                                 // other accumulators
		{"US", "850610", ""},                                 // manganese dioxide cells
		{"US", "85076", ""},                                  // shorter than the prefix
		{"US", "930", ""},                                    // shorter than the heading
		{"US", "9300", ""},                                   // not a heading of 9301–9306
		{"US", "9307000000", ""},                             // swords: not in 9301–9306
		{"US", "", ""},
		{"CN", "010511", "CN.live-animals"}, // live poultry
		{"CN", "020130", ""},                // meat: chapter 02, not 01
		{"CN", "100199", ""},                // wheat: 10, not 01
		{"CN", "1209", "CN.seeds-live-plants"},
	}
	g := DefaultGoods()
	for _, tt := range tests {
		h := g.Check(tt.dest, []order.Line{line(tt.hs, "Item")}, day)
		switch {
		case tt.id == "" && h != nil:
			t.Errorf("%s %q: hit %s, want none", tt.dest, tt.hs, h.EntryID)
		case tt.id != "" && (h == nil || h.EntryID != tt.id):
			t.Errorf("%s %q: hit %+v, want %s", tt.dest, tt.hs, h, tt.id)
		}
	}
}

// TestKeywordsWholeWords: keywords match whole words, case- and
// diacritic-insensitive, punctuation a word break, the last word also with
// s/es. Negation is not understood ("aerosol-free" hits: documented).
func TestKeywordsWholeWords(t *testing.T) {
	tests := []struct {
		dest, title string
		matched     string // "" for no hit
	}{
		{"SG", "Disposable vape pen", "keyword vape"},
		{"SG", "VAPE", "keyword vape"},
		{"SG", "Vapes", "keyword vape"},
		{"SG", "Fer à repasser vapeur", ""},
		{"SG", "Vaporwave poster", ""},
		{"SG", "Evaporated milk", ""},
		{"SG", "E\u2011cigarette (non-breaking hyphen)", "keyword e-cigarette"},
		{"SG", "Ecigarette", "keyword ecigarette"},
		{"SG", "Chewing-gum, mint", "keyword chewing gum"},
		{"SG", "Gum massager for teething", ""},
		{"US", "Replica watch", "keyword replica watch"},
		{"US", "REPLICA-WATCHES x2", "keyword replica watch"},
		{"US", "Replica", ""},
		{"US", "Watch replica", ""}, // phrases keep their word order
		{"US", "Aerosols", "keyword aerosol"},
		{"US", "Aerosol-free hair gel", "keyword aerosol"}, // negation not handled
		{"US", "Aerosolized", ""},
		{"US", "Bongs", "keyword bong"},
		{"US", "Bongo drums", ""},
		{"US", "Pyrotechnics kit", "keyword pyrotechnic"},
		{"US", "New Year's fireworks", "keyword firework"},
		{"US", "Thermal mug", ""},
		{"US", "Carvéd Ívory", "keyword carved ivory"},
		{"US", "Ivory", ""},
		{"US", "Lighter", ""},
		{"US", "Butane-free lighter", "keyword butane"}, // negation not handled
	}
	g := DefaultGoods()
	for _, tt := range tests {
		h := g.Check(tt.dest, []order.Line{line("999999", tt.title)}, day)
		got := ""
		if h != nil {
			got = h.Matched
		}
		if got != tt.matched {
			t.Errorf("%s %q: matched %q, want %q", tt.dest, tt.title, got, tt.matched)
		}
	}
}

// TestGoodsFirstHit: line order first; within a line HS before title; the
// earlier rule in the file before a later one.
func TestGoodsFirstHit(t *testing.T) {
	g := DefaultGoods()
	lines := []order.Line{line("610910", "T-shirt"), line("392690", "Disposable vape pen"), line("930320", "Rifle")}
	if h := g.Check("SG", lines, day); h == nil || h.Field != "/lines/1/title" || h.EntryID != "SG.e-cigarettes" {
		t.Fatalf("hit %+v, want SG.e-cigarettes at /lines/1/title", h)
	}
	if h := g.Check("SG", []order.Line{line("360410", "Aerosol")}, day); h == nil || h.Field != "/lines/0/hsCode" || h.EntryID != "ALL.explosives-fireworks" {
		t.Fatalf("hit %+v, want the HS hit first", h)
	}

	custom, err := LoadGoodsFile("testdata/custom-goods.json")
	if err != nil {
		t.Fatal(err)
	}
	// Both rules match 847150 in NZ while the first is in force; it wins
	// though the second's prefix is shorter.
	if h := custom.Check("NZ", []order.Line{line("847150", "Server")}, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)); h == nil || h.EntryID != "NZ.future-widgets" {
		t.Fatalf("hit %+v, want NZ.future-widgets", h)
	}
	if custom.Version() != "test-1" || custom.Date() != "2027-01-15" || len(custom.Rules()) != 2 {
		t.Fatalf("version %q date %q rules %d", custom.Version(), custom.Date(), len(custom.Rules()))
	}
}

// TestEffectiveDates: a rule hits only from its first to its last day, on
// the calendar date of on in on's location.
func TestEffectiveDates(t *testing.T) {
	custom, err := LoadGoodsFile("testdata/custom-goods.json")
	if err != nil {
		t.Fatal(err)
	}
	date := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 12, 0, 0, 0, time.UTC) }
	tests := []struct {
		on    time.Time
		title string
		id    string
	}{
		{date(2026, 12, 31), "Flux capacitor", ""}, // not yet in force
		{date(2027, 1, 1), "Flux capacitor", "NZ.future-widgets"},
		{date(2027, 6, 30), "Flux capacitor", "NZ.future-widgets"}, // last day included
		{date(2027, 7, 1), "Flux capacitor", ""},
		{date(2025, 12, 31), "Gadget", ""},
		{date(2026, 1, 1), "Gadget", "ALL.gadgets"},
		{date(2040, 1, 1), "Gadget", "ALL.gadgets"}, // no end
	}
	for _, tt := range tests {
		h := custom.Check("NZ", []order.Line{line("999999", tt.title)}, tt.on)
		got := ""
		if h != nil {
			got = h.EntryID
		}
		if got != tt.id {
			t.Errorf("%s %q: hit %q, want %q", tt.on.Format(time.DateOnly), tt.title, got, tt.id)
		}
	}
	// HS 847150 in NZ: the future rule, else the later ALL rule.
	if h := custom.Check("NZ", []order.Line{line("847150", "Server")}, date(2026, 12, 31)); h == nil || h.EntryID != "ALL.gadgets" {
		t.Errorf("before the NZ rule: %+v, want ALL.gadgets", h)
	}

	// The embedded AU vape ban starts on 2024-01-01.
	g := DefaultGoods()
	vape := []order.Line{line("854340", "Pod vape")}
	if h := g.Check("AU", vape, date(2023, 12, 31)); h != nil {
		t.Errorf("AU vape on 2023-12-31: %+v, want none", *h)
	}
	if h := g.Check("AU", vape, date(2024, 1, 1)); h == nil || h.EntryID != "AU.vapes" {
		t.Errorf("AU vape on 2024-01-01: %+v, want AU.vapes", h)
	}
	// 14:00 UTC on 31 December is already 1 January in Sydney.
	utc := time.Date(2023, 12, 31, 14, 0, 0, 0, time.UTC)
	if h := g.Check("AU", vape, utc); h != nil {
		t.Errorf("AU vape at %s: %+v, want none", utc, *h)
	}
	if sydney := utc.In(time.FixedZone("AEDT", 11*3600)); g.Check("AU", vape, sydney) == nil {
		t.Errorf("AU vape at %s: no hit", sydney)
	}
	// A zero time is now.
	if g.Check("AU", vape, time.Time{}) == nil {
		t.Errorf("AU vape at the zero time: no hit")
	}
}

// TestLoadGoodsErrors: a broken rules file is an error naming the problem.
func TestLoadGoodsErrors(t *testing.T) {
	const base = `"id":"X.r","destinations":["NZ"],"hsPrefixes":["8471"],"action":"reject","description":"d","source":"s","effectiveFrom":"2026-01-01"`
	rule := func(fields string) string { return `{"version":"v","date":"2026-01-01","rules":[{` + fields + `}]}` }
	with := func(old, new string) string { return rule(strings.Replace(base, old, new, 1)) }
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "empty file"},
		{"not JSON", "version: 1", "invalid JSON at line 1, column 1"},
		{"syntax error line", "{\n\"version\": \"v\",\n\"date\" \"2026-01-01\"}", "invalid JSON at line 3"},
		{"truncated", `{"version":"v"`, "ends too early"},
		{"trailing data", rule(base) + ` {}`, "data after the end"},
		{"unknown field", with(`"hsPrefixes"`, `"hsPrefix"`), `unknown field "hsPrefix"`},
		{"wrong type", with(`["NZ"]`, `"NZ"`), `field "rules.destinations" must be []string`},
		{"no version", `{"date":"2026-01-01","rules":[]}`, `"version" is missing`},
		{"bad date", `{"version":"v","date":"1/1/2026","rules":[]}`, `"date": "1/1/2026" is not a date`},
		{"no rules", `{"version":"v","date":"2026-01-01","rules":[]}`, "no rules"},
		{"no id", with(`"id":"X.r"`, `"id":""`), `rule 0: "id" is missing`},
		{"no destinations", with(`["NZ"]`, `[]`), `rule 0 ("X.r"): "destinations" is empty`},
		{"bad destination", with(`["NZ"]`, `["nzl"]`), `"nzl" is not an ISO 3166-1 alpha-2 code`},
		{"star with others", with(`["NZ"]`, `["*","NZ"]`), `"*" must stand alone`},
		{"dotted prefix", with(`["8471"]`, `["8471.30"]`), `"8471.30" must be 2 to 10 digits`},
		{"short prefix", with(`["8471"]`, `["8"]`), `"8" must be 2 to 10 digits`},
		{"nothing to match", with(`"hsPrefixes":["8471"],`, ``), `neither "hsPrefixes" nor "keywords"`},
		{"empty keyword", with(`"hsPrefixes":["8471"]`, `"keywords":["--"]`), `"keywords": "--" has no letters or digits`},
		{"hold", with(`"reject"`, `"hold"`), `"action" "hold" is not supported`},
		{"no description", with(`"description":"d"`, `"description":" "`), `"description" is missing`},
		{"no source", with(`"source":"s"`, `"source":""`), `"source" is missing`},
		{"no effectiveFrom", with(`,"effectiveFrom":"2026-01-01"`, ``), `"effectiveFrom": "" is not a date`},
		{"to before from", with(`"effectiveFrom":"2026-01-01"`, `"effectiveFrom":"2026-01-01","effectiveTo":"2025-12-31"`), `"effectiveTo" 2025-12-31 is before "effectiveFrom" 2026-01-01`},
		{"duplicate id", `{"version":"v","date":"2026-01-01","rules":[` + strings.Repeat(`{"id":"X.r","destinations":["NZ"],"hsPrefixes":["8471"],"action":"reject","description":"d","source":"s","effectiveFrom":"2026-01-01"},`, 2) + `{"id":"X.s","destinations":["NZ"],"hsPrefixes":["8471"],"action":"reject","description":"d","source":"s","effectiveFrom":"2026-01-01"}]}`, `rule 1: id "X.r" is used twice`},
	}
	if _, err := LoadGoods(strings.NewReader(rule(base))); err != nil {
		t.Fatalf("the base file must load: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := LoadGoods(strings.NewReader(tt.file))
			if err == nil {
				t.Fatalf("loaded %+v, want an error", g)
			}
			if !strings.HasPrefix(err.Error(), "screening: restricted-goods rules: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	_, err := LoadGoodsFile("testdata/no-such-file.json")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no-such-file.json") {
		t.Fatalf("missing file: %v", err)
	}
}
