package ceb

import (
	"embed"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
)

// The code tables are data, each file naming its source: codes/*.json.
//
//go:embed codes/*.json
var codeFiles embed.FS

// CodeEntry is one row of a code table.
type CodeEntry struct {
	Code    string   `json:"code"`
	Name    string   `json:"name"`
	Aliases []string `json:"aliases,omitempty"`
	// Source is the address of the public copy of the table the value was
	// checked against; empty for a value marked Verify.
	Source string `json:"source,omitempty"`
	// Verify marks a value not yet checked against a public copy of the
	// table.
	Verify bool `json:"verify,omitempty"`
}

// CodeTable is a code table with its source.
type CodeTable struct {
	Table   string               `json:"table"`
	Version string               `json:"version"`
	Source  string               `json:"source"`
	Entries map[string]CodeEntry `json:"entries"`
}

func loadTable(name string) *CodeTable {
	b, err := codeFiles.ReadFile("codes/" + name)
	if err != nil {
		panic(err)
	}
	var t CodeTable
	if err := json.Unmarshal(b, &t); err != nil {
		panic(fmt.Sprintf("ceb: code table %s: %v", name, err))
	}
	if t.Source == "" {
		panic(fmt.Sprintf("ceb: code table %s has no source", name))
	}
	return &t
}

// The code tables are read on first use, not at start: every function's
// cold start would parse them, and only China's customs messages need them.
var (
	// Currencies maps ISO 4217 codes to JGS-20 currency codes.
	Currencies = sync.OnceValue(func() *CodeTable { return loadTable("currencies.json") })
	// Countries maps ISO 3166-1 alpha-2 codes to JGS-20 country codes.
	Countries = sync.OnceValue(func() *CodeTable { return loadTable("countries.json") })
	// Units lists the JGS-20 unit-of-measure codes (keyed by code), with
	// aliases from catalogue unit names.
	Units = sync.OnceValue(func() *CodeTable { return loadTable("units.json") })
)

// CurrencyCode returns the JGS-20 code of an ISO 4217 currency, or an error
// naming field.
func CurrencyCode(field, iso string) (string, error) {
	e, ok := Currencies().Entries[iso]
	if !ok {
		return "", fieldErr(field, fmt.Sprintf("currency %q has no JGS-20 code in codes/currencies.json", iso))
	}
	return e.Code, nil
}

// CountryCode returns the JGS-20 code of an ISO 3166-1 alpha-2 country, or
// an error naming field.
func CountryCode(field, iso string) (string, error) {
	e, ok := Countries().Entries[iso]
	if !ok {
		return "", fieldErr(field, fmt.Sprintf("country %q has no JGS-20 code in codes/countries.json", iso))
	}
	return e.Code, nil
}

// UnitCode returns the JGS-20 unit code for u, which is a JGS-20 code in
// the table, its Chinese name (千克) or one of its aliases (a catalogue unit
// name, matched without regard to case), or an error naming field.
func UnitCode(field, u string) (string, error) {
	if _, ok := Units().Entries[u]; ok {
		return u, nil
	}
	t := strings.TrimSpace(u)
	l := strings.ToLower(t)
	for code, e := range Units().Entries {
		if e.Name == t {
			return code, nil
		}
		for _, a := range e.Aliases {
			if a == l {
				return code, nil
			}
		}
	}
	return "", fieldErr(field, fmt.Sprintf("unit %q has no JGS-20 code in codes/units.json", u))
}

// customsOfficeCode validates a 4-digit customs district or port code
// (JGS/T 18 海关关区代码). Its shape only: the table has about a thousand
// offices and changes, and no authoritative public copy of it was found
// (testdata/ceb/REVIEW.md), so it is not kept as data here.
func customsOfficeCode(field, c string) (string, error) {
	if len(c) != 4 {
		return "", fieldErr(field, "customs/port code must be 4 digits")
	}
	for i := 0; i < 4; i++ {
		if c[i] < '0' || c[i] > '9' {
			return "", fieldErr(field, "customs/port code must be 4 digits")
		}
	}
	return c, nil
}
