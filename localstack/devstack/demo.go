package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/partner"
)

type demoOrder struct {
	File   string `json:"file"`
	Cancel bool   `json:"cancel"`
	Expect string `json:"expect"`
	// Quote: ask POST /v1/quotes for the landed cost first and place the
	// order with the quote, as a checkout does under DDP.
	Quote bool `json:"quote"`
	// Partner: post the file to this partner's webhook, signed with its
	// secret from localstack/partners.json.
	Partner string `json:"partner"`

	id      string
	posted  time.Time
	done    time.Duration
	current map[string]any
}

// demo posts the demo orders to a running stack (or starts one), follows
// them to their terminal states with a progress bar, and prints a table.
func demo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	api := fs.String("api", "http://"+defaultAPIAddr, "the API of a running stack")
	repo := fs.String("repo", ".", "the repository (for events/)")
	tools := fs.String("tools", ".tools", "where `make tools` installed the services (if a stack must be started)")
	data := fs.String("data", ".local", "the stack's state (if one must be started)")
	timeout := fs.Duration("timeout", 60*time.Second, "how long the orders may take")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !reachable(*api) {
		fmt.Fprintf(out, "no stack at %s: starting one (run `make dev` in another terminal to keep it)\n", *api)
		sctx, stop := context.WithCancel(ctx)
		defer stop()
		done := make(chan error, 1)
		go func() { done <- up(sctx, []string{"-tools", *tools, "-data", *data, "-repo", *repo}) }()
		for deadline := time.Now().Add(120 * time.Second); !reachable(*api); time.Sleep(200 * time.Millisecond) {
			select {
			case err := <-done:
				return fmt.Errorf("starting the stack: %v", err)
			default:
			}
			if time.Now().After(deadline) {
				return errors.New("the stack did not come up")
			}
		}
		defer func() { stop(); <-done }()
	}
	var manifest struct{ Orders []*demoOrder }
	b, err := os.ReadFile(filepath.Join(*repo, "events", "demo", "demo.json"))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, &manifest); err != nil {
		return fmt.Errorf("events/demo/demo.json: %w", err)
	}
	partners, err := partner.Load(ctx, "file:"+filepath.Join(*repo, "localstack", "partners.json"), nil)
	if err != nil {
		return err
	}
	tokens := map[string]string{}
	tokenOf := func(sub string) string {
		if tokens[sub] == "" {
			tokens[sub], _ = auth.MintLocal(jwtSecret(), sub, nil, time.Hour, time.Now())
		}
		return tokens[sub]
	}
	client := &http.Client{Timeout: 10 * time.Second}
	// call sends a request as the demo customer, or — for a partner's
	// webhook — signed by the partner (and follows its orders as it).
	var as *partner.Partner
	call := func(method, path string, body []byte, key string) (map[string]any, error) {
		req, _ := http.NewRequestWithContext(ctx, method, *api+path, bytes.NewReader(body))
		switch {
		case as != nil && strings.HasPrefix(path, "/v1/webhooks/"):
			req.Header.Set(partner.SignatureHeader, partner.Sign(body, time.Now(), as.Secrets[0]))
			req.Header.Set(partner.DeliveryHeader, key)
		case as != nil:
			req.Header.Set("Authorization", "Bearer "+tokenOf("partner:"+as.ID))
		default:
			req.Header.Set("Authorization", "Bearer "+tokenOf("demo-customer"))
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		if resp.StatusCode >= 300 {
			return nil, fmt.Errorf("%s %s: %d %v", method, path, resp.StatusCode, m["detail"])
		}
		return m, nil
	}
	run := time.Now().UnixNano()
	for i, o := range manifest.Orders {
		body, err := os.ReadFile(filepath.Join(*repo, "events", o.File))
		if err != nil {
			return err
		}
		if o.Quote {
			if body, err = withQuote(body, func(req []byte) (map[string]any, error) {
				return call(http.MethodPost, "/v1/quotes", req, fmt.Sprintf("demo-quote-%d-%d", run, i))
			}); err != nil {
				return fmt.Errorf("%s: quote: %w", o.File, err)
			}
		}
		o.posted = time.Now()
		path := "/v1/orders"
		as = nil
		if o.Partner != "" {
			p, ok := partners.Get(o.Partner)
			if !ok {
				return fmt.Errorf("%s: no partner %s in localstack/partners.json", o.File, o.Partner)
			}
			as, path = p, "/v1/webhooks/"+p.ID
		}
		m, err := call(http.MethodPost, path, body, fmt.Sprintf("demo-%d-%d", run, i))
		if err != nil {
			return fmt.Errorf("%s: %w", o.File, err)
		}
		o.id, o.current = m["orderId"].(string), m
		if o.Cancel {
			if _, err := call(http.MethodPost, "/v1/orders/"+o.id+"/cancel", nil, ""); err != nil {
				return fmt.Errorf("cancel %s: %w", o.id, err)
			}
		}
	}
	deadline := time.Now().Add(*timeout)
	for {
		finished := 0
		for _, o := range manifest.Orders {
			if o.done > 0 {
				finished++
				continue
			}
			as = nil
			if p, ok := partners.Get(o.Partner); ok {
				as = p
			}
			m, err := call(http.MethodGet, "/v1/orders/"+o.id, nil, "")
			if err != nil {
				return err
			}
			o.current = m
			if st := order.Status(fmt.Sprint(m["status"])); st.Terminal() || st == order.StatusDispatched {
				o.done = time.Since(o.posted)
				finished++
			}
		}
		progress(out, finished, len(manifest.Orders))
		if finished == len(manifest.Orders) || time.Now().After(deadline) {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	fmt.Fprintln(out)
	// The report shows what an operator sees — the merchant's customs cost,
	// China's supervision mode — which the owner's view leaves out.
	opsToken, _ := auth.MintLocal(jwtSecret(), "demo-operator", []string{auth.GroupOps}, time.Hour, time.Now())
	for _, o := range manifest.Orders {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, *api+"/v1/ops/orders/"+o.id, nil)
		req.Header.Set("Authorization", "Bearer "+opsToken)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		var detail struct {
			Order map[string]any `json:"order"`
		}
		err = json.NewDecoder(resp.Body).Decode(&detail)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || detail.Order == nil {
			return fmt.Errorf("the operators' view of %s: %d %v", o.id, resp.StatusCode, err)
		}
		o.current = detail.Order
	}
	err = report(out, manifest.Orders)
	chinaDeclarations(ctx, out, client, *api, opsToken, manifest.Orders)
	return err
}

// chinaDeclarations lists, for each order declared to Chinese customs, its
// CEB messages and the latest receipt of each (waiting a little for the
// simulated E-Port's answers), with where to download them.
func chinaDeclarations(ctx context.Context, out io.Writer, client *http.Client, api, token string, orders []*demoOrder) {
	type declaration struct {
		Type   string `json:"type"`
		Latest string `json:"latest"`
	}
	get := func(id string) ([]declaration, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api+"/v1/ops/orders/"+id+"/declarations", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		var body struct{ Declarations []declaration }
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("declarations of %s: %d", id, resp.StatusCode)
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		return body.Declarations, err
	}
	first := true
	for _, o := range orders {
		c, _ := o.current["customs"].(map[string]any)
		mode, _ := c["supervisionMode"].(string)
		if mode == "" {
			continue
		}
		var list []declaration
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			var err error
			if list, err = get(o.id); err != nil {
				fmt.Fprintf(out, "  %s: %v\n", o.id, err)
				break
			}
			// Settled: every message answered past pending, and the
			// inventory list past cleared (customs releases the goods last).
			settled := len(list) > 0
			for _, d := range list {
				inventory := d.Type == "CEB603" || d.Type == "CEB621"
				settled = settled && d.Latest != "awaiting" && d.Latest != "pending" && !(inventory && d.Latest == "cleared")
			}
			if settled || time.Now().After(deadline) {
				break
			}
		}
		if first {
			fmt.Fprintln(out, "\n  China customs (CEB messages and the simulated E-Port's latest receipt):")
			first = false
		}
		var parts []string
		for _, d := range list {
			parts = append(parts, d.Type+" "+d.Latest)
		}
		if form, _ := c["declarationForm"].(bool); form {
			parts = append(parts, "goods on a customs declaration form (报关单, over ¥5,000)")
		}
		if len(parts) == 0 {
			parts = append(parts, "no messages rendered (see the stack's log)")
		}
		fmt.Fprintf(out, "  %s  %s  %s\n", o.id, mode, strings.Join(parts, " · "))
	}
	if !first {
		fmt.Fprintf(out, "  download one: curl -H \"Authorization: Bearer $(make -s token GROUPS=ops)\" %s/v1/ops/orders/<id>/declarations/CEB303\n", api)
	}
}

func reachable(api string) bool {
	resp, err := (&http.Client{Timeout: time.Second}).Get(api + "/v1/orders")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusUnauthorized
}

func progress(out io.Writer, done, total int) {
	const width = 30
	n := done * width / max(total, 1)
	fmt.Fprintf(out, "\r  [%s%s] %d/%d orders at their terminal status", strings.Repeat("█", n), strings.Repeat("░", width-n), done, total)
}

// report prints the table and fails when an order missed its expected status.
func report(out io.Writer, orders []*demoOrder) error {
	w := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\n  ORDER\tSAMPLE\tTRADE\tROUTE\tSTATUS\tREASON\tDUTIES & TAXES\tTRACKING\tELAPSED\t")
	missed := 0
	for _, o := range orders {
		m := o.current
		status := fmt.Sprint(m["status"])
		mark := "✓"
		if status != o.Expect {
			mark, missed = "✗ want "+o.Expect, missed+1
		}
		dest := ""
		if c, ok := m["consignee"].(map[string]any); ok {
			if a, ok := c["address"].(map[string]any); ok {
				dest = fmt.Sprint(a["country"])
			}
		}
		sample := strings.TrimSuffix(filepath.Base(o.File), ".json")
		if o.Cancel {
			sample += " (cancelled)"
		}
		elapsed := "—"
		if o.done > 0 {
			elapsed = o.done.Round(time.Millisecond).String()
		}
		fmt.Fprintf(w, "  %s\t%s\t%v\t%s\t%s %s\t%s\t%s\t%s\t%s\t\n", o.id, sample, m["tradeMode"], route(m, dest), status, mark,
			orDash(m["reason"]), landed(m), orDash(m["trackingNumber"]), elapsed)
	}
	w.Flush()
	if missed > 0 {
		return fmt.Errorf("%d of %d orders did not reach their expected status", missed, len(orders))
	}
	fmt.Fprintf(out, "\n  all %d orders reached their expected status\n", len(orders))
	return nil
}

// withQuote asks for the landed cost of an order's cart and returns the
// order with the quote's id.
func withQuote(body []byte, post func([]byte) (map[string]any, error)) ([]byte, error) {
	var o map[string]any
	if err := json.Unmarshal(body, &o); err != nil {
		return nil, err
	}
	country, region := "", ""
	if c, ok := o["consignee"].(map[string]any); ok {
		if a, ok := c["address"].(map[string]any); ok {
			country, _ = a["country"].(string)
			region, _ = a["region"].(string)
		}
	}
	req := map[string]any{"lines": o["lines"], "consigneeCountry": country, "currency": o["currency"], "tradeMode": o["tradeMode"]}
	if region != "" {
		req["consigneeRegion"] = region // Canada's HST is by province
	}
	for _, k := range []string{"shipping", "insurance", "incoterm", "gift", "fulfilment", "carrier"} {
		if v, ok := o[k]; ok {
			req[k] = v
		}
	}
	raw, _ := json.Marshal(req)
	q, err := post(raw)
	if err != nil {
		return nil, err
	}
	id, _ := q["quoteId"].(string)
	if id == "" {
		return nil, errors.New("the quote has no quoteId")
	}
	o["quoteId"] = id
	return json.Marshal(o)
}

// route is where the order shipped from and whether it crossed a border:
// "AU→AU domestic", "DE→FR intra-EU (OSS)", "US→CA import".
func route(m map[string]any, dest string) string {
	from, _ := m["shipFrom"].(string)
	if from == "" {
		return "→" + dest
	}
	regime := "import"
	if c, ok := m["customs"].(map[string]any); ok {
		if a, ok := c["assessed"].(map[string]any); ok {
			switch a["regime"] {
			case "DOMESTIC":
				regime = "domestic"
			case "INTRA_EU":
				regime = "intra-EU (OSS)"
			}
		}
	}
	return from + "→" + dest + " " + regime
}

// landed is the order's duties, taxes and fees as the customs step assessed
// them, with what was quoted and what the merchant bears.
func landed(m map[string]any) string {
	c, _ := m["customs"].(map[string]any)
	if c == nil {
		return "—"
	}
	sum := func(charges any) (money.Money, bool) {
		ch, ok := charges.(map[string]any)
		if !ok {
			return money.Money{}, false
		}
		var total money.Money
		for _, k := range []string{"duty", "tax", "fees"} {
			if a, ok := ch[k].(map[string]any); ok {
				n, _ := a["amount"].(float64)
				total.Amount += int64(n)
				total.Currency, _ = a["currency"].(string)
			}
		}
		return total, true
	}
	assessed, ok := sum(c["assessed"])
	if !ok {
		if q, ok := sum(c["quoted"]); ok {
			return q.String() + " quoted"
		}
		return "—"
	}
	s := assessed.String()
	if q, ok := sum(c["quoted"]); ok {
		s += " (quoted " + q.String() + ")"
	}
	if mc, ok := c["merchantCost"].(map[string]any); ok {
		n, _ := mc["amount"].(float64)
		cur, _ := mc["currency"].(string)
		s += " merchant pays " + money.New(int64(n), cur).String()
	}
	return s
}

func orDash(v any) string {
	if v == nil || v == "" {
		return "—"
	}
	return fmt.Sprint(v)
}
