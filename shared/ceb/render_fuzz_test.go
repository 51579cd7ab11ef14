package ceb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/xborder/xborder/shared/chinacustoms"
)

// FuzzRender renders orders that pass validation, with the text a buyer
// controls (names, titles, address) fuzzed, through chinacustoms.Build and
// Render, the customs step's path. Rendering never panics; it either fails
// with an error naming a field (ErrInvalid: a value the schema does not
// take, such as a buyer's name over its 60 characters) or yields, for each
// document of the fixture's mode, a message that is well-formed UTF-8 XML
// with one root element, <ceb:CEBnnnMessage> in the CEB namespace, in which
// every element carrying the fuzzed text reads back exactly as the order
// holds it: escaping neither breaks the document nor changes the text.
func FuzzRender(f *testing.F) {
	for _, seed := range []struct {
		fixture                              uint8
		buyer, consignee, title, line1, city string
	}{
		{0, "Buyer Person", "Consignee Person", "Mug", "1 Buyer Road", "Berlin"},
		{3, "张伟", "李娜", "婴儿配方奶粉 900g", "浦东新区世纪大道100号", "上海"},
		{4, `<Zoë & "Søren">`, "O'Brien ]]> <!--", "Cream <b>&amp;</b>", "Straße 1 & 2", "Köln"},
		{3, "Ivan Petrovich Sidorov with a name far longer than sixty characters", "X", "T", "L", "C"},
		{1, "Buyer Company Ltd", "\u00a0Ж\u00a0", "👩\u200d💻 T-shirt", "Line\u3000one", "City"},
		{2, "a", "b", "c", "d", "e"},
		{4, "Ā\U0001d400\U0010fffd", "\ue000 private use", "\uffef title", "\U0001f600", "Zürich\u2028Nord"},
	} {
		f.Add(seed.fixture, seed.buyer, seed.consignee, seed.title, seed.line1, seed.city)
	}
	f.Fuzz(func(t *testing.T, fixtureNo uint8, buyer, consignee, title, line1, city string) {
		fx := fixtures[int(fixtureNo)%len(fixtures)]
		o := fx.order(t)
		o.Buyer.Name, o.Consignee.Name = buyer, consignee
		o.Consignee.Address.Line1, o.Consignee.Address.City = line1, city
		for i := range o.Lines {
			o.Lines[i].Title = title
		}
		if errs := o.Validate(); errs != nil {
			return // only orders that pass validation reach the customs step
		}
		d, err := chinacustoms.Build(o, chinacustoms.PaymentInput{PaidAt: testPaidAt},
			chinacustoms.WaybillInput{LogisticsNo: "WB" + strings.ReplaceAll(o.ID, "-", ""), BillNo: fx.bill}, chinacustoms.DemoParties(), testNow)
		if err != nil {
			return // Build's own refusals are its tests' business; it must not panic
		}
		opts := testOptions(d)
		for gnum, x := range opts.Lines {
			x.Name, x.Model = "", "" // the order's title, not the catalogue's Chinese name
			opts.Lines[gnum] = x
		}
		msgs, err := Render(d, opts)
		if err != nil {
			var fe *FieldError
			if !errors.Is(err, ErrInvalid) || !errors.As(err, &fe) || fe.Field == "" || fe.Problem == "" {
				t.Fatalf("Render: %v, want a *FieldError (ErrInvalid)", err)
			}
			return
		}
		if len(msgs) != len(fx.types) {
			t.Fatalf("%d messages, want %d", len(msgs), len(fx.types))
		}
		address := d.Order.ConsigneeAddress
		for i, m := range msgs {
			if m.Type != fx.types[i] {
				t.Fatalf("message %d is %s, want %s", i, m.Type, fx.types[i])
			}
			texts := readMessage(t, m)
			want := map[string]string{"itemName": title, "gname": title, "gmodel": title}
			if fx.direction == chinacustoms.Import {
				want["buyerName"], want["payerName"], want["consignee"] = buyer, buyer, consignee
				want["consigneeAddress"] = string(address)
			}
			for elem, value := range want {
				for _, got := range texts[elem] {
					if got != value {
						t.Fatalf("%s %s reads %q, the order holds %q", m.Type, elem, got, value)
					}
				}
			}
		}
	})
}

// readMessage parses a rendered message to its end, failing the test if it
// is not well-formed UTF-8 XML with one root element <ceb:TypeMessage> in
// Namespace, and returns the text of each leaf element by local name.
func readMessage(t *testing.T, m Message) map[string][]string {
	t.Helper()
	if !utf8.Valid(m.XML) {
		t.Fatalf("%s is not valid UTF-8", m.Type)
	}
	dec := xml.NewDecoder(bytes.NewReader(m.XML))
	texts := map[string][]string{}
	depth, roots := 0, 0
	var text strings.Builder
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s is not well-formed XML: %v\n%s", m.Type, err, m.XML)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if tok.Name.Space != Namespace || tok.Name.Local != m.Type+"Message" {
					t.Fatalf("%s: root element %v", m.Type, tok.Name)
				}
			}
			depth++
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			depth--
			texts[tok.Name.Local] = append(texts[tok.Name.Local], text.String())
			text.Reset()
		}
	}
	if roots != 1 || depth != 0 {
		t.Fatalf("%s: %d root elements, depth %d at the end", m.Type, roots, depth)
	}
	return texts
}
