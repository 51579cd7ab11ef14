// Package chinagoods is a merchant's register of goods for China's customs
// (商品备案): for each SKU, the Chinese name customs expects in the CEB
// messages (itemName, gname) and the declaration elements of the goods
// (申报要素, gmodel). The order holds the shop's titles, in any language;
// customs wants the registered Chinese description. Default is the
// demonstration merchant's register, embedded; Parse reads another.
package chinagoods

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Record is one registered article.
type Record struct {
	// Name is the goods' Chinese name (商品名称), at most 250 characters.
	Name string `json:"name"`
	// Model is the declaration elements (规格型号), "|"-separated, at most
	// 250 characters (CEB603's gmodel; CEB621 allows 510).
	Model string `json:"model"`
	// BarCode is the article's bar code, if it has one.
	BarCode string `json:"barCode,omitempty"`
}

// Register maps SKUs to their records.
type Register struct {
	Source string
	bySKU  map[string]Record
}

// Lookup returns the record of sku.
func (r *Register) Lookup(sku string) (Record, bool) {
	rec, ok := r.bySKU[sku]
	return rec, ok
}

// Len is the number of registered articles.
func (r *Register) Len() int { return len(r.bySKU) }

//go:embed goods.json
var defaultGoods []byte

// defaultRegister is parsed on first use (Default), not at every
// function's start.
var defaultRegister = sync.OnceValue(func() *Register { return mustParse(defaultGoods) })

// Default is the demonstration merchant's register (goods.json).
func Default() *Register { return defaultRegister() }

func mustParse(b []byte) *Register {
	r, err := Parse(b)
	if err != nil {
		panic(err)
	}
	return r
}

// Parse reads a register, refusing unknown fields, a missing source, and
// any record whose name is empty, not Chinese (no Han character), or over
// its length; every problem is named at once.
func Parse(b []byte) (*Register, error) {
	var f struct {
		Register string            `json:"register"`
		Source   string            `json:"source"`
		Goods    map[string]Record `json:"goods"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("chinagoods: %w", err)
	}
	var problems []string
	if strings.TrimSpace(f.Source) == "" {
		problems = append(problems, "source: say where the records come from")
	}
	skus := make([]string, 0, len(f.Goods))
	for sku := range f.Goods {
		skus = append(skus, sku)
	}
	sort.Strings(skus)
	for _, sku := range skus {
		rec := f.Goods[sku]
		switch {
		case rec.Name == "":
			problems = append(problems, sku+": name is required")
		case !Chinese(rec.Name):
			problems = append(problems, sku+": name must be the Chinese name customs registers")
		case utf8.RuneCountInString(rec.Name) > 250:
			problems = append(problems, sku+": name is over 250 characters")
		}
		switch {
		case rec.Model == "":
			problems = append(problems, sku+": model (the declaration elements) is required")
		case utf8.RuneCountInString(rec.Model) > 250:
			problems = append(problems, sku+": model is over 250 characters")
		}
		if utf8.RuneCountInString(rec.BarCode) > 50 {
			problems = append(problems, sku+": barCode is over 50 characters")
		}
	}
	if len(problems) > 0 {
		return nil, errors.New("chinagoods: " + strings.Join(problems, "; "))
	}
	return &Register{Source: f.Source, bySKU: f.Goods}, nil
}

// Chinese reports whether s has a Chinese (Han) character: what customs
// asks of a goods name.
func Chinese(s string) bool {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return true
		}
	}
	return false
}
