package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
)

func TestQuotes(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Run("issue and read back", func(t *testing.T) { testQuoteIssue(t, newHarness(t, b.store(t))) })
			t.Run("invalid carts", func(t *testing.T) { testQuoteInvalid(t, newHarness(t, b.store(t))) })
			t.Run("bad requests", func(t *testing.T) { testQuoteBadRequests(t, newHarness(t, b.store(t))) })
			t.Run("an order accepts its quote", func(t *testing.T) { testOrderAcceptsQuote(t, newHarness(t, b.store(t))) })
			t.Run("quotes an order cannot accept", func(t *testing.T) { testOrderRefusesQuote(t, newHarness(t, b.store(t))) })
			t.Run("a retry after the quote expired is a replay", func(t *testing.T) { testQuoteReplayAfterExpiry(t, newHarness(t, b.store(t))) })
			t.Run("exchange rate locked at intake", func(t *testing.T) { testOrderLocksRate(t, newHarness(t, b.store(t))) })
			t.Run("orders customs could not declare", func(t *testing.T) { testOrderUnsupported(t, newHarness(t, b.store(t))) })
			t.Run("the screening entry is not shown to the customer", func(t *testing.T) { testScreeningHidden(t, newHarness(t, b.store(t))) })
		})
	}
}

func quoteSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("../../events/quotes/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// quoteRequest is the DE sample cart, changed by edit.
func quoteRequest(t *testing.T, edit func(q *httpapi.QuoteRequest)) []byte {
	t.Helper()
	var q httpapi.QuoteRequest
	if err := json.Unmarshal(quoteSample(t, "cart-de.json"), &q); err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(&q)
	}
	b, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inCurrency moves every amount of the cart into currency cur.
func inCurrency(q *httpapi.QuoteRequest, cur string) {
	q.Currency = cur
	for i := range q.Lines {
		q.Lines[i].UnitPrice.Currency, q.Lines[i].LineTotal.Currency = cur, cur
	}
	for _, m := range []*money.Money{q.Shipping, q.Insurance} {
		if m != nil {
			m.Currency = cur
		}
	}
}

func (h *harness) quote(sub string, body []byte) (response, *customs.Quote) {
	h.t.Helper()
	r := h.do(http.MethodPost, "/v1/quotes", sub, body, nil)
	wantStatus(h.t, r, http.StatusCreated)
	var q customs.Quote
	if err := json.Unmarshal(r.body, &q); err != nil {
		h.t.Fatalf("quote: %v\n%s", err, r.body)
	}
	return r, &q
}

// withQuote is an order sample that accepts quoteID.
func withQuote(t *testing.T, body []byte, quoteID string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	m["quoteId"] = quoteID
	b, _ := json.Marshal(m)
	return b
}

func fieldErrors(t *testing.T, p map[string]any) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, e := range p["errors"].([]any) {
		fe := e.(map[string]any)
		if fe["message"] == "" {
			t.Fatalf("field error without a message: %v", fe)
		}
		got[fe["field"].(string)] = fe["code"].(string)
	}
	return got
}

func testQuoteIssue(t *testing.T, h *harness) {
	ttl := httpapi.DefaultQuoteTTL
	for _, tc := range []struct {
		name  string
		body  []byte
		check func(t *testing.T, q *customs.Quote)
	}{
		{"the DE sample cart, today", quoteSample(t, "cart-de.json"), func(t *testing.T, q *customs.Quote) {
			if q.Destination != "DE" || q.Currency != "EUR" || q.Incoterm != order.IncotermDDP || q.OrderDate != time.Now().UTC().Format(time.DateOnly) {
				t.Fatalf("quote for %s in %s (%s) on %s", q.Destination, q.Currency, q.Incoterm, q.OrderDate)
			}
		}},
		{"DE before the EU customs reform: €150 duty relief", quoteRequest(t, func(q *httpapi.QuoteRequest) { q.OrderDate = "2026-06-30" }),
			func(t *testing.T, q *customs.Quote) {
				if q.OrderDate != "2026-06-30" || !q.DutyRelief.Applied || len(q.Fees) != 0 || q.Totals.Duty.Amount != 0 {
					t.Fatalf("before 2026-07-01: relief %+v, fees %+v, duty %v", q.DutyRelief, q.Fees, q.Totals.Duty)
				}
			}},
		{"DE after the EU customs reform: flat duty per subheading", quoteRequest(t, func(q *httpapi.QuoteRequest) { q.OrderDate = "2026-07-01T10:00:00+02:00" }),
			func(t *testing.T, q *customs.Quote) {
				if q.OrderDate != "2026-07-01" || q.DutyRelief.Applied || len(q.Fees) != 1 || q.Fees[0].Rule != "eu.flat-duty-3" || q.Fees[0].Count != 2 {
					t.Fatalf("from 2026-07-01: relief %+v, fees %+v", q.DutyRelief, q.Fees)
				}
			}},
		{"GB at most £135: VAT at the point of sale, even under DAP", quoteRequest(t, func(q *httpapi.QuoteRequest) {
			inCurrency(q, "GBP")
			q.ConsigneeCountry, q.Incoterm, q.OrderDate = "GB", order.IncotermDAP, "2026-11-30"
			q.Insurance = &money.Money{Amount: 150, Currency: "GBP"}
		}), func(t *testing.T, q *customs.Quote) {
			if q.Collection != customs.CollectionPointOfSale || q.Incoterm != order.IncotermDAP || q.Totals.Tax.Amount == 0 ||
				q.DueAtCheckout.Amount != q.Totals.Goods.Amount+q.Totals.Shipping.Amount+q.Totals.Insurance.Amount+q.Totals.Tax.Amount {
				t.Fatalf("GB ≤ £135 under DAP: collection %s, totals %+v, due at checkout %v", q.Collection, q.Totals, q.DueAtCheckout)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := h.clock.Now()
			r, q := h.quote("alice", tc.body)
			after := h.clock.Now()
			if len(q.QuoteID) != 26 || r.header.Get("Location") != "/v1/quotes/"+q.QuoteID {
				t.Fatalf("quoteId %q, Location %q", q.QuoteID, r.header.Get("Location"))
			}
			if q.ExpiresAt.Before(before.Add(ttl).Truncate(time.Second)) || q.ExpiresAt.After(after.Add(ttl)) {
				t.Fatalf("expiresAt %v, want %v after the request", q.ExpiresAt, ttl)
			}
			var links struct{ Links map[string]string }
			_ = json.Unmarshal(r.body, &links)
			if links.Links["self"] != "/v1/quotes/"+q.QuoteID {
				t.Fatalf("links %v", links.Links)
			}
			// Every cent adds up.
			tot := q.Totals
			goods := int64(0)
			var req httpapi.QuoteRequest
			_ = json.Unmarshal(tc.body, &req)
			for _, l := range req.Lines {
				goods += l.LineTotal.Amount
			}
			if tot.Goods.Amount != goods {
				t.Fatalf("goods %v, want the line totals %d", tot.Goods, goods)
			}
			if sum := tot.Goods.Amount + tot.Shipping.Amount + tot.Insurance.Amount + tot.Duty.Amount + tot.Tax.Amount + tot.Fees.Amount; tot.LandedTotal.Amount != sum {
				t.Fatalf("landedTotal %d, but goods+shipping+insurance+duty+tax+fees = %d (%+v)", tot.LandedTotal.Amount, sum, tot)
			}
			if q.DueAtCheckout.Amount+q.DueOnDelivery.Amount != tot.LandedTotal.Amount {
				t.Fatalf("due at checkout %v + on delivery %v ≠ landed total %v", q.DueAtCheckout, q.DueOnDelivery, tot.LandedTotal)
			}
			var duty, tax int64
			for _, l := range q.Lines {
				duty, tax = duty+l.Duty.Amount, tax+l.Tax.Amount
			}
			if duty != tot.Duty.Amount || tax != tot.Tax.Amount || len(q.Rules) == 0 || q.FX.Rate == "" {
				t.Fatalf("lines' duty %d and tax %d against totals %+v; rules %v; fx %+v", duty, tax, tot, q.Rules, q.FX)
			}
			tc.check(t, q)

			// Its owner reads it back as issued; nobody else can.
			g := h.do(http.MethodGet, "/v1/quotes/"+q.QuoteID, "alice", nil, nil)
			wantStatus(t, g, http.StatusOK)
			if string(g.body) != string(r.body) {
				t.Fatalf("GET returned\n%s\nPOST returned\n%s", g.body, r.body)
			}
			wantProblem(t, h.do(http.MethodGet, "/v1/quotes/"+q.QuoteID, "mallory", nil, nil), http.StatusNotFound, "/problems/not-found")
		})
	}
	wantProblem(t, h.do(http.MethodGet, "/v1/quotes/01J00000000000000000000000", "alice", nil, nil), http.StatusNotFound, "/problems/not-found")

	// An expired quote is still shown; its expiresAt says it expired.
	_, q := h.quote("alice", quoteSample(t, "cart-de.json"))
	h.clock.advance(ttl + time.Minute)
	defer h.clock.reset()
	g := h.do(http.MethodGet, "/v1/quotes/"+q.QuoteID, "alice", nil, nil)
	wantStatus(t, g, http.StatusOK)
	var again customs.Quote
	_ = json.Unmarshal(g.body, &again)
	if again.QuoteID != q.QuoteID || !again.ExpiresAt.Before(h.clock.Now()) {
		t.Fatalf("expired quote: %s", g.body)
	}
}

func testQuoteInvalid(t *testing.T, h *harness) {
	for _, tc := range []struct {
		name string
		edit func(q *httpapi.QuoteRequest)
		want map[string]string // field → code, exactly
	}{
		{"unknown country", func(q *httpapi.QuoteRequest) { q.ConsigneeCountry = "XX" },
			map[string]string{"/consigneeCountry": "invalid"}},
		{"a country without rules", func(q *httpapi.QuoteRequest) { q.ConsigneeCountry = "BR" },
			map[string]string{"/consigneeCountry": "unsupported"}},
		{"malformed HS code", func(q *httpapi.QuoteRequest) { q.Lines[0].HSCode = "61.09" },
			map[string]string{"/lines/0/hsCode": "invalid"}},
		{"currency without a reference rate", func(q *httpapi.QuoteRequest) { inCurrency(q, "ISK") },
			map[string]string{"/currency": "unsupported"}},
		{"malformed order date", func(q *httpapi.QuoteRequest) { q.OrderDate = "30/06/2026" },
			map[string]string{"/orderDate": "invalid"}},
		{"no rate published that early", func(q *httpapi.QuoteRequest) {
			inCurrency(q, "USD")
			q.OrderDate = "2024-12-31"
		}, map[string]string{"/orderDate": "out_of_range"}},
		{"gift outside C2C", func(q *httpapi.QuoteRequest) { q.Gift = true },
			map[string]string{"/gift": "not_allowed"}},
		{"shipping in another currency", func(q *httpapi.QuoteRequest) { q.Shipping.Currency = "USD" },
			map[string]string{"/shipping/currency": "mismatch"}},
		{"region too long", func(q *httpapi.QuoteRequest) { q.ConsigneeRegion = strings.Repeat("r", 101) },
			map[string]string{"/consigneeRegion": "too_long"}},
		{"restricted goods: a firearm part", func(q *httpapi.QuoteRequest) { q.Lines[1].HSCode = "930320" },
			map[string]string{"/lines/1/hsCode": "restricted"}},
		{"several problems at once", func(q *httpapi.QuoteRequest) {
			inCurrency(q, "BRL")
			q.ConsigneeCountry, q.Lines[0].HSCode, q.Lines[1].Quantity, q.OrderDate, q.TradeMode = "XX", "61.09", 0, "yesterday", ""
		}, map[string]string{"/currency": "unsupported", "/consigneeCountry": "invalid", "/lines/0/hsCode": "invalid",
			"/lines/1/quantity": "out_of_range", "/orderDate": "invalid", "/tradeMode": "required"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := wantProblem(t, h.do(http.MethodPost, "/v1/quotes", "alice", quoteRequest(t, tc.edit), nil),
				http.StatusUnprocessableEntity, "/problems/validation-failed")
			if got := fieldErrors(t, p); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("field errors %v, want %v", got, tc.want)
			}
		})
	}
}

func testQuoteBadRequests(t *testing.T, h *harness) {
	good := quoteSample(t, "cart-de.json")
	for name, body := range map[string]string{
		"unknown field": strings.Replace(string(good), `"consigneeCountry"`, `"country"`, 1),
		"malformed":     `{"lines": [`,
		"two objects":   string(good) + `{}`,
		"wrong type":    strings.Replace(string(good), `"quantity": 1`, `"quantity": "one"`, 1),
	} {
		t.Run(name, func(t *testing.T) {
			wantProblem(t, h.do(http.MethodPost, "/v1/quotes", "alice", []byte(body), nil), http.StatusBadRequest, "/problems/bad-request")
		})
	}
	wantProblem(t, h.do(http.MethodPost, "/v1/quotes", "alice", good, map[string]string{"Content-Type": "text/plain"}),
		http.StatusUnsupportedMediaType, "/problems/unsupported-media-type")
	huge := append(append([]byte(`{"consigneeRegion":"`), make([]byte, httpapi.MaxBodyBytes)...), `"}`...)
	wantProblem(t, h.do(http.MethodPost, "/v1/quotes", "alice", huge, nil), http.StatusRequestEntityTooLarge, "/problems/payload-too-large")
	r := h.do(http.MethodDelete, "/v1/quotes/x", "alice", nil, nil)
	wantProblem(t, r, http.StatusMethodNotAllowed, "/problems/method-not-allowed")
	if r.header.Get("Allow") != "GET" {
		t.Fatalf("Allow %q", r.header.Get("Allow"))
	}
	// An Idempotency-Key is ignored: each request is a new quote.
	key := map[string]string{"Idempotency-Key": "same"}
	a, b := h.do(http.MethodPost, "/v1/quotes", "alice", good, key), h.do(http.MethodPost, "/v1/quotes", "alice", good, key)
	wantStatus(t, a, http.StatusCreated)
	wantStatus(t, b, http.StatusCreated)
	if a.json(t)["quoteId"] == b.json(t)["quoteId"] || b.header.Get("Idempotent-Replayed") != "" {
		t.Fatal("two quote requests gave one quote")
	}
}

func testOrderAcceptsQuote(t *testing.T, h *harness) {
	ctx := context.Background()
	_, q := h.quote("alice", quoteSample(t, "cart-de.json"))
	body := withQuote(t, sample(t, "mobile-b2c-de.json"), q.QuoteID)
	r := h.post("alice", "accept-1", body)
	wantStatus(t, r, http.StatusAccepted)
	var view struct {
		ID      string               `json:"orderId"`
		QuoteID string               `json:"quoteId"`
		FX      *order.FXRate        `json:"fx"`
		Customs *order.CustomsRecord `json:"customs"`
	}
	if err := json.Unmarshal(r.body, &view); err != nil {
		t.Fatal(err)
	}
	if view.QuoteID != q.QuoteID || view.Customs == nil || view.Customs.QuoteID != q.QuoteID || view.Customs.Quoted == nil {
		t.Fatalf("the order does not record the quote: %s", r.body)
	}
	quoted := view.Customs.Quoted
	if quoted.LandedTotal != q.Totals.LandedTotal || quoted.Duty != q.Totals.Duty || quoted.Tax != q.Totals.Tax ||
		quoted.Fees != q.Totals.Fees || quoted.AtCheckout != q.Charges() || quoted.Collection != string(q.Collection) || len(quoted.Rules) != len(q.Rules) {
		t.Fatalf("customs.quoted %+v, the quote said %+v (charges %v)", quoted, q.Totals, q.Charges())
	}
	if view.FX == nil || *view.FX != *q.OrderFX() {
		t.Fatalf("fx %+v, want the quote's %+v", view.FX, q.OrderFX())
	}
	// The record is stored with the order, and the shopper is charged the
	// total plus what the quote collects at checkout.
	o, err := h.store.GetOrder(ctx, view.ID)
	if err != nil || o.Customs == nil || o.Customs.Quoted == nil || o.FX == nil {
		t.Fatalf("stored order %+v %v", o, err)
	}
	if want := o.Total.Amount + q.Charges().Amount; o.ChargeAmount().Amount != want || q.Charges().Amount <= 0 {
		t.Fatalf("charge %v, want total + %v = %d", o.ChargeAmount(), q.Charges(), want)
	}
	g := h.do(http.MethodGet, "/v1/orders/"+view.ID, "alice", nil, nil)
	wantStatus(t, g, http.StatusOK)
	if got := g.json(t); got["customs"] == nil || got["fx"] == nil {
		t.Fatalf("GET does not show customs and fx: %s", g.body)
	}
	// A retry is the same answer.
	again := h.post("alice", "accept-1", body)
	if again.status != http.StatusAccepted || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(r.body) {
		t.Fatalf("retry: %d %s", again.status, again.body)
	}
	// A quote can be accepted by the customer's next identical order too.
	wantStatus(t, h.post("alice", "accept-2", body), http.StatusAccepted)
}

func testOrderRefusesQuote(t *testing.T, h *harness) {
	tomorrow := time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	for _, tc := range []struct {
		name     string
		quotedBy string
		cart     func(q *httpapi.QuoteRequest) // the quoted cart, from the order's
		quoteID  string                        // instead of the one issued
		advance  time.Duration                 // between quote and order
		code     string
	}{
		{name: "another customer's quote", quotedBy: "bob", code: "invalid"},
		{name: "an unknown quote", quotedBy: "alice", quoteID: "01J00000000000000000000000", code: "invalid"},
		{name: "an expired quote", quotedBy: "alice", advance: httpapi.DefaultQuoteTTL, code: "expired"},
		{name: "another cart", quotedBy: "alice", cart: func(q *httpapi.QuoteRequest) { q.Shipping.Amount = 0 }, code: "mismatch"},
		{name: "another incoterm", quotedBy: "alice", cart: func(q *httpapi.QuoteRequest) { q.Incoterm = order.IncotermDAP }, code: "mismatch"},
		{name: "another day", quotedBy: "alice", cart: func(q *httpapi.QuoteRequest) { q.OrderDate = tomorrow }, code: "mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.clock.reset()
			defer h.clock.reset()
			_, q := h.quote(tc.quotedBy, quoteRequest(t, tc.cart))
			id := q.QuoteID
			if tc.quoteID != "" {
				id = tc.quoteID
			}
			h.clock.advance(tc.advance)
			key := "refused-" + strings.ReplaceAll(tc.name, " ", "-")
			p := wantProblem(t, h.post("alice", key, withQuote(t, sample(t, "mobile-b2c-de.json"), id)),
				http.StatusUnprocessableEntity, "/problems/validation-failed")
			if got := fieldErrors(t, p); fmt.Sprint(got) != fmt.Sprint(map[string]string{"/quoteId": tc.code}) {
				t.Fatalf("field errors %v, want /quoteId %s", got, tc.code)
			}
			// Nothing was stored and the key is still free.
			r := h.post("alice", key, sample(t, "mobile-b2c-de.json"))
			wantStatus(t, r, http.StatusAccepted)
			if r.header.Get("Idempotent-Replayed") != "" || r.json(t)["customs"] != nil {
				t.Fatalf("after the refusal: %s", r.body)
			}
		})
	}
	if list, _, _ := h.store.ListByCustomer(context.Background(), "bob", 10, ""); len(list) != 0 {
		t.Fatal("bob has orders")
	}
}

func testQuoteReplayAfterExpiry(t *testing.T, h *harness) {
	defer h.clock.reset()
	_, q := h.quote("carol", quoteSample(t, "cart-de.json"))
	body := withQuote(t, sample(t, "mobile-b2c-de.json"), q.QuoteID)
	first := h.post("carol", "late-retry", body)
	wantStatus(t, first, http.StatusAccepted)

	h.clock.advance(httpapi.DefaultQuoteTTL + time.Hour) // the quote expired, the key did not
	again := h.post("carol", "late-retry", body)
	if again.status != http.StatusAccepted || again.header.Get("Idempotent-Replayed") != "true" || string(again.body) != string(first.body) {
		t.Fatalf("a retry after the quote expired: %d %s", again.status, again.body)
	}
	// The same key with another body is still a reused key, not a quote problem.
	other := strings.Replace(string(body), "Lena Fischer", "Lena Fischer-Weber", 1)
	wantProblem(t, h.post("carol", "late-retry", []byte(other)), http.StatusUnprocessableEntity, "/problems/idempotency-key-reused")
	// A new key with the expired quote is refused.
	p := wantProblem(t, h.post("carol", "late-new", body), http.StatusUnprocessableEntity, "/problems/validation-failed")
	if got := fieldErrors(t, p); got["/quoteId"] != "expired" {
		t.Fatalf("field errors %v", got)
	}
	if list, _, _ := h.store.ListByCustomer(context.Background(), "carol", 10, ""); len(list) != 1 {
		t.Fatalf("carol has %d orders, want 1", len(list))
	}
}

func testOrderLocksRate(t *testing.T, h *harness) {
	ctx := context.Background()
	for _, tc := range []struct {
		sample, from, to string
		edit             func(m map[string]any)
	}{
		{"mobile-b2c-de.json", "EUR", "EUR", nil},
		{"b2b-us.json", "USD", "USD", nil},
		{"c2c-gb.json", "GBP", "GBP", nil},
		{"m2b2c-au-overseas-warehouse.json", "AUD", "AUD", nil},
	} {
		t.Run(tc.sample+"→"+tc.to, func(t *testing.T) {
			body := sample(t, tc.sample)
			if tc.edit != nil {
				var m map[string]any
				_ = json.Unmarshal(body, &m)
				tc.edit(m)
				body, _ = json.Marshal(m)
			}
			r := h.post("dave", "rate-"+tc.sample+tc.to, body)
			wantStatus(t, r, http.StatusAccepted)
			o, err := h.store.GetOrder(ctx, r.json(t)["orderId"].(string))
			if err != nil {
				t.Fatal(err)
			}
			supported := slices.Contains(customs.Default().Countries(), o.Destination())
			switch {
			case !supported && o.FX != nil:
				t.Fatalf("%s has no rules, yet the order locked %+v", o.Destination(), o.FX)
			case supported && (o.FX == nil || o.FX.From != tc.from || o.FX.To != tc.to || o.FX.Rate == "" || o.FX.Date == ""):
				t.Fatalf("fx %+v, want %s→%s", o.FX, tc.from, tc.to)
			}
			if o.Customs != nil {
				t.Fatalf("an order without a quote records %+v", o.Customs)
			}
		})
	}
}

// testOrderUnsupported: an order the customs step could not assess — a
// destination without rules, a currency without a reference rate — is
// refused at intake, before any money is authorized, and nothing is stored.
func testOrderUnsupported(t *testing.T, h *harness) {
	edit := func(f func(m map[string]any)) []byte {
		var m map[string]any
		_ = json.Unmarshal(sample(t, "mobile-b2c-de.json"), &m)
		f(m)
		b, _ := json.Marshal(m)
		return b
	}
	cases := []struct {
		name, field string
		body        []byte
	}{
		{"destination without customs rules", "/consignee/address/country", edit(func(m map[string]any) {
			m["consignee"].(map[string]any)["address"].(map[string]any)["country"] = "CH"
		})},
		{"currency without a reference rate", "/currency", []byte(strings.ReplaceAll(string(sample(t, "mobile-b2c-de.json")), `"EUR"`, `"ISK"`))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.post("erin", "unsupported-"+tc.field, tc.body)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if got := fieldErrors(t, r.json(t)); got[tc.field] != customs.CodeUnsupported {
				t.Fatalf("field errors %v, want %s unsupported", got, tc.field)
			}
		})
	}
	if list, _, _ := h.store.ListByCustomer(context.Background(), "erin", 10, ""); len(list) != 0 {
		t.Fatalf("%d orders stored", len(list))
	}
}

func testScreeningHidden(t *testing.T, h *harness) {
	ctx := context.Background()
	r := h.post("frank", "screened", sample(t, "mobile-b2c-de.json"))
	wantStatus(t, r, http.StatusAccepted)
	id := r.json(t)["orderId"].(string)
	o, err := h.store.GetOrder(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	o.Screening = &order.ScreeningHit{Reason: "denied_party", EntryID: "DP-0001", List: "SDN", Matched: "Listed Name", Field: "/buyer/name"}
	if err := h.store.SaveTransition(ctx, o, o.Note("denied_party", "workflow", time.Now())); err != nil {
		t.Fatal(err)
	}
	g := h.do(http.MethodGet, "/v1/orders/"+id, "frank", nil, nil)
	wantStatus(t, g, http.StatusOK)
	if strings.Contains(string(g.body), "DP-0001") || strings.Contains(string(g.body), "screening") {
		t.Fatalf("the customer sees the screening entry: %s", g.body)
	}
}
