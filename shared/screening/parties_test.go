package screening

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

// TestPartyMatch: names are compared after normalisation, word order
// ignored; a listed name of two or more words also hits a name containing
// all its words; a one-word listed name hits only that word alone.
func TestPartyMatch(t *testing.T) {
	tests := []struct {
		name    string
		id      string // "" for no hit
		matched string
	}{
		// exact, case, punctuation, legal forms
		{"Acme Sanctioned Trading Co., Ltd.", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"Acme Sanctioned Trading", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"acme sanctioned trading", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"  ACME, Sanctioned-Trading  Co.", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"Acme Sanctioned Trading Co.Ltd", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"ＡＣＭＥ Sanctioned Trading", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."}, // full-width letters
		// word order
		{"Trading Acme Sanctioned", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"Sidorov Ivan Petrovich", "SAMPLE-SDN-0003", "Ivan Petrovich Sidorov"},
		{"SIDOROV, Ivan P.", "SAMPLE-SDN-0003", "Ivan P. Sidorov"},
		{"GOMEZ RUIZ Alejandro Ficticio", "SAMPLE-SDN-0005", "Gómez Ruiz, Alejandro Ficticio"},
		// superset of a multi-word listed name
		{"ACME Sanctioned Trading Shanghai Branch", "SAMPLE-SDN-0001", "Acme Sanctioned Trading Co., Ltd."},
		{"Dr. Ivan Petrovich Sidorov Jr", "SAMPLE-SDN-0003", "Ivan Petrovich Sidorov"},
		// near misses: a subset of the listed words is not a hit
		{"Acme Trading", "", ""},
		{"Acme Sanctioned", "", ""},
		{"Acme Sanctioned Tradings", "", ""},
		{"Ivan Sidorov", "", ""},
		{"Société Générale", "", ""},
		{"Blocked Entities", "", ""},
		// aliases
		{"ASTC Trading Ltd", "SAMPLE-SDN-0001", "ASTC Trading"},
		{"Acme Sanktionierter Handel", "SAMPLE-SDN-0001", "Acme Sanktionierter Handel GmbH"},
		{"Иван Петрович Сидоров", "SAMPLE-SDN-0003", "Иван Петрович Сидоров"},
		{"BLOCKED ENTITY LIMITED", "SAMPLE-EL-0002", "Blocked Entity Ltd"},
		// diacritics and letters that do not decompose
		{"SOCIETE GENERALE D'ARMEMENT FICTIVE", "SAMPLE-EL-0004", "Société Générale d'Armement Fictive"},
		{"Societe Generale d Armement Fictive", "SAMPLE-EL-0004", "Société Générale d'Armement Fictive"},
		{"Societe Generale dArmement Fictive", "SAMPLE-EL-0004", "Société Générale d'Armement Fictive"},
		{"Société Générale d’Armement Fictive S.A.", "SAMPLE-EL-0004", "Société Générale d'Armement Fictive"},
		{"Weissfluss Oresund Lodz Logistik", "SAMPLE-UVL-0007", "Weißfluss Øresund Łódź Logistik AG"},
		{"WEISSFLUSS ØRESUND ŁÓDŹ LOGISTIK GMBH", "SAMPLE-UVL-0007", "Weißfluss Øresund Łódź Logistik AG"},
		{"Nguyen Van Hu Cau", "SAMPLE-SDN-0008", "Nguyễn Văn Hư Cấu"},
		{"NGUYỄN VĂN HƯ CẤU", "SAMPLE-SDN-0008", "Nguyễn Văn Hư Cấu"},
		// "the" and "company" are dropped
		{"Phantom Shipping", "SAMPLE-ISN-0009", "The Phantom Shipping Company"},
		{"The Phantom Shipping Co", "SAMPLE-ISN-0009", "The Phantom Shipping Company"},
		// one-word listed name: that word alone, legal forms aside
		{"Zorblax", "SAMPLE-DPL-0006", "Zorblax"},
		{"ZORBLAX LTD.", "SAMPLE-DPL-0006", "Zorblax"},
		{"Zorblax zorblax", "SAMPLE-DPL-0006", "Zorblax"},
		{"Zorblax Trading", "", ""},
		{"Lena Zorblax", "", ""},
		// clean names and degenerate input
		{"Lena Fischer", "", ""},
		{"Trading", "", ""},
		{"Ltd.", "", ""},
		{"", "", ""},
		{"!!!", "", ""},
	}
	l := DefaultParties()
	for _, tt := range tests {
		h := l.Check(tt.name, "/buyer/name")
		if tt.id == "" {
			if h != nil {
				t.Errorf("%q: hit %s (%q), want none", tt.name, h.EntryID, h.Matched)
			}
			continue
		}
		if h == nil {
			t.Errorf("%q: no hit, want %s", tt.name, tt.id)
			continue
		}
		if h.Reason != DeniedParty || h.EntryID != tt.id || h.Matched != tt.matched || h.Field != "/buyer/name" || h.ListDate != l.ListDate() || h.List == "" || h.Source == "" {
			t.Errorf("%q: hit %+v, want %s matching %q", tt.name, *h, tt.id, tt.matched)
		}
	}
}

// TestLoadCustomList: an operator's list replaces the embedded one.
func TestLoadCustomList(t *testing.T) {
	l, err := LoadFile("testdata/custom-parties.json")
	if err != nil {
		t.Fatal(err)
	}
	if l.ListDate() != "2027-01-15" || l.Source() != "test list (fictitious)" || len(l.Entries()) != 1 {
		t.Fatalf("list date %q source %q entries %d", l.ListDate(), l.Source(), len(l.Entries()))
	}
	h := l.Check("Frobnication Quux Works GmbH", "/consignee/name")
	want := Hit{Reason: DeniedParty, EntryID: "TEST-1", List: "Test List", Matched: "Quux Frobnication Works", Field: "/consignee/name", Source: "test source 1", ListDate: "2027-01-15"}
	if h == nil || *h != want {
		t.Fatalf("hit %+v, want %+v", h, want)
	}
	if h := l.Check("QFW Holdings", "/buyer/name"); h == nil || h.Matched != "QFW Holdings" {
		t.Fatalf("alias: %+v", h)
	}
	if h := l.Check("Acme Sanctioned Trading", "/buyer/name"); h != nil {
		t.Fatalf("an embedded entry hit a custom list: %+v", *h)
	}
}

// TestLoadPartiesErrors: a broken list is an error naming the problem, never
// a panic.
func TestLoadPartiesErrors(t *testing.T) {
	const base = `"id":"E1","name":"Foo Bar","aliases":["Foo B"],"list":"SDN","countries":["US"],"source":"s"`
	list := func(entry string) string {
		return `{"listDate":"2026-01-01","source":"s","entries":[{` + entry + `}]}`
	}
	with := func(old, new string) string { return list(strings.Replace(base, old, new, 1)) }
	tests := []struct {
		name, file, want string
	}{
		{"empty", "", "empty file"},
		{"CSV", "id,name\n1,Foo", "invalid JSON at line 1, column 1"},
		{"syntax error line", "{\n\"listDate\": \"2026-01-01\",\n\"entries\": [,]}", "invalid JSON at line 3"},
		{"truncated", `{"listDate":"2026-01-01","entries":[`, "ends too early"},
		{"trailing data", list(base) + "]", "data after the end"},
		{"unknown field", with(`"aliases"`, `"alias"`), `unknown field "alias"`},
		{"wrong type", with(`["Foo B"]`, `"Foo B"`), `field "entries.aliases" must be []string`},
		{"no list date", `{"source":"s","entries":[{` + base + `}]}`, `"listDate": "" is not a date`},
		{"bad list date", `{"listDate":"2026-13-01","source":"s","entries":[{` + base + `}]}`, `"listDate": "2026-13-01" is not a date`},
		{"no source", `{"listDate":"2026-01-01","entries":[{` + base + `}]}`, `"source" is missing`},
		{"no entries", `{"listDate":"2026-01-01","source":"s","entries":[]}`, "no entries"},
		{"no id", with(`"id":"E1"`, `"id":""`), `entry 0: "id" is missing`},
		{"no name", with(`"name":"Foo Bar"`, `"name":""`), `entry 0 ("E1"): "name" is missing`},
		{"name of legal forms", with(`"name":"Foo Bar"`, `"name":"The Company Ltd."`), `"name" "The Company Ltd." has no words`},
		{"alias of punctuation", with(`["Foo B"]`, `["--"]`), `alias "--" has no words`},
		{"no list", with(`"list":"SDN"`, `"list":""`), `"list" is missing`},
		{"no entry source", with(`"source":"s"`, `"source":""`), `entry 0 ("E1"): "source" is missing`},
		{"bad country", with(`["US"]`, `["USA"]`), `"countries": "USA" is not an ISO 3166-1 alpha-2 code`},
		{"duplicate id", `{"listDate":"2026-01-01","source":"s","entries":[{` + base + `},{` + base + `}]}`, `entry 1: id "E1" is used twice`},
	}
	if _, err := Load(strings.NewReader(list(base))); err != nil {
		t.Fatalf("the base list must load: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, err := Load(strings.NewReader(tt.file))
			if err == nil {
				t.Fatalf("loaded %+v, want an error", l)
			}
			if !strings.HasPrefix(err.Error(), "screening: denied-party list: ") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	_, err := LoadFile("testdata/no-such-list.json")
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no-such-list.json") {
		t.Fatalf("missing file: %v", err)
	}
}

// TestLoadTruncatedNeverPanics: every truncation of the embedded files is an
// error, not a panic nor a shorter list.
func TestLoadTruncatedNeverPanics(t *testing.T) {
	for _, data := range [][]byte{embeddedParties, embeddedGoods} {
		end := len(strings.TrimRight(string(data), "\n"))
		for n := 0; n < end; n += 7 {
			if _, err := Load(strings.NewReader(string(data[:n]))); err == nil {
				t.Fatalf("Load of the first %d bytes: no error", n)
			}
			if _, err := LoadGoods(strings.NewReader(string(data[:n]))); err == nil {
				t.Fatalf("LoadGoods of the first %d bytes: no error", n)
			}
		}
	}
}
