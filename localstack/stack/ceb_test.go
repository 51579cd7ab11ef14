package stack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
)

// Orders shipped from China in each export mode, and a bonded retail import
// into China (1210), carry their CEB messages through the pipeline: the customs step renders them (valid against the
// official schema), the simulated E-Port answers each, and the receipts
// reach the order — found by order number or, for the waybill, by the
// reference kept in DynamoDB. An operator downloads the messages, and the
// E-Port receipt forwarder — a machine identity with one scope, its token
// from the client-credentials grant of the operators' sign-in — posts a
// receipt of customs' own through the ops API; that token opens nothing
// else.
func TestChinaDeclarationsAndReceiptsEndToEnd(t *testing.T) {
	tp := sharedPipeline(t)
	api := tp.api.URL
	customer, _ := auth.MintLocal(auth.DevSecret, "e2e-china", nil, time.Hour, time.Now())
	ops, _ := auth.MintLocal(auth.DevSecret, "e2e-operator", []string{auth.GroupOps}, time.Hour, time.Now())
	// A consumer order served from the Sydney warehouse ships from
	// Australia: nothing is declared to China for it ("none"; its stock's
	// export to the warehouse is 9810's).
	samples := map[string]string{"9610": "mobile-b2c-de.json", "9710": "b2b-us.json", "none": "m2b2c-au-overseas-warehouse.json",
		"1210": "b2c-cn-import.json"}
	ids := map[string]string{}
	run := time.Now().UnixNano()
	for mode, file := range samples {
		body, err := os.ReadFile("../../events/orders/" + file)
		if err != nil {
			t.Fatal(err)
		}
		ids[mode] = apiCall(t, api, customer, http.MethodPost, "/v1/orders", body, fmt.Sprintf("e2e-ceb-%s-%d", mode, run))["orderId"].(string)
	}
	for mode, id := range ids {
		got := waitFor(t, func() (map[string]any, bool) {
			o := apiCall(t, api, customer, http.MethodGet, "/v1/orders/"+id, nil, "")
			return o, order.Status(o["status"].(string)) == order.StatusDispatched
		})
		_ = got
		// China's supervision mode is the filing's, in the operators' view.
		detail := apiCall(t, api, ops, http.MethodGet, "/v1/ops/orders/"+id, nil, "")
		c, _ := detail["order"].(map[string]any)["customs"].(map[string]any)
		if mode == "none" {
			d := apiCall(t, api, ops, http.MethodGet, "/v1/ops/orders/"+id+"/declarations", nil, "")
			assessed, _ := c["assessed"].(map[string]any)
			if c["supervisionMode"] != nil || len(d["declarations"].([]any)) != 0 || assessed["regime"] != "DOMESTIC" ||
				detail["order"].(map[string]any)["customsDeclaration"] != "NO-CUSTOMS-DUE" {
				t.Errorf("%s, served from the Sydney warehouse: supervision mode %v, declarations %v, assessed %v, declaration %v; want none, a domestic supply",
					id, c["supervisionMode"], d["declarations"], assessed, detail["order"].(map[string]any)["customsDeclaration"])
			}
			continue
		}
		if c["supervisionMode"] != mode {
			t.Errorf("%s: supervision mode %v", id, c["supervisionMode"])
		}
		// Every message answered: the inventory list released, the others cleared.
		decls := waitFor(t, func() (map[string]any, bool) {
			d := apiCall(t, api, ops, http.MethodGet, "/v1/ops/orders/"+id+"/declarations", nil, "")
			list, _ := d["declarations"].([]any)
			want := 4
			if mode == "9710" { // USD 13,400 of goods: a declaration form, no CEB603
				want = 3
			}
			settled := len(list) == want && (d["declarationForm"] == true) == (mode == "9710")
			for _, x := range list {
				x := x.(map[string]any)
				want := "cleared"
				if x["type"] == "CEB603" || x["type"] == "CEB621" {
					want = "released"
				}
				settled = settled && x["latest"] == want
			}
			return d, settled
		})
		for _, x := range decls["declarations"].([]any) {
			typ := x.(map[string]any)["type"].(string)
			xml := download(t, api, ops, "/v1/ops/orders/"+id+"/declarations/"+typ)
			switch {
			case mode != "1210":
				validate(t, "export.xsd", mode+"-"+typ, xml)
			case typ != "CEB621": // CEB621 is valid only once the enterprise has signed it
				validate(t, "import.xsd", mode+"-"+typ, xml)
			}
		}
	}

	// China's customs reject goods declared without their Chinese name (not
	// in the merchant's register): the order ends CUSTOMS_REJECTED, the
	// hold on the card voided, nothing dispatched.
	body, err := os.ReadFile("../../events/demo/unregistered-goods-cn-export.json")
	if err != nil {
		t.Fatal(err)
	}
	refusedID := apiCall(t, api, customer, http.MethodPost, "/v1/orders", body, fmt.Sprintf("e2e-ceb-refused-%d", run))["orderId"].(string)
	refused := waitFor(t, func() (map[string]any, bool) {
		o := apiCall(t, api, customer, http.MethodGet, "/v1/orders/"+refusedID, nil, "")
		return o, order.Status(o["status"].(string)).Terminal()
	})
	charge, _ := refused["charge"].(map[string]any)
	if refused["status"] != string(order.StatusCustomsRejected) || refused["reason"] != "china_customs_rejected" || charge["status"] != "voided" {
		t.Errorf("unregistered goods: %v %v, charge %v", refused["status"], refused["reason"], charge)
	}

	// Customs holds a parcel for inspection after the fact: the logistics
	// company's receipt names only the waybill.
	id := ids["9610"]
	o := apiCall(t, api, customer, http.MethodGet, "/v1/orders/"+id, nil, "")
	held, err := ceb.RenderReceipt("CEB506", []ceb.Return{{GUID: ceb.GUID(id, "CEB506", "e2e-held"), LogisticsCode: "DEMO00000000LOG001",
		LogisticsNo: o["trackingNumber"].(string), Status: 500, Time: time.Now(), Info: "查验 inspection"}})
	if err != nil {
		t.Fatal(err)
	}
	forwarder := forwarderToken(t, tp.signIn)
	for _, path := range []string{"/v1/ops/orders/" + id, "/v1/ops/summary", "/v1/orders"} {
		req, _ := http.NewRequest(http.MethodGet, api+path, nil)
		req.Header.Set("Authorization", "Bearer "+forwarder)
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("the forwarder's token on GET %s: %v %v, want 403", path, resp.StatusCode, err)
		}
	}
	for attempt := range 2 { // the forwarder retries: recorded once
		res := postReceipt(t, api, forwarder, held)
		r := res["results"].([]any)[0].(map[string]any)
		if r["orderId"] != id || r["outcome"] != "held" || r["recorded"] != (attempt == 0) {
			t.Fatalf("attempt %d: %v", attempt, r)
		}
	}
	detail := apiCall(t, api, ops, http.MethodGet, "/v1/ops/orders/"+id, nil, "")
	notes := map[string]int{}
	for _, e := range detail["history"].([]any) {
		e := e.(map[string]any)
		if reason, _ := e["reason"].(string); e["actor"] == "china-eport" && reason != "" {
			notes[reason]++
		}
		if e["to"] == string(order.StatusCustomsCleared) && e["from"] != e["to"] && e["actor"] != "china-eport" {
			t.Errorf("cleared by %v, not on China's release", e["actor"])
		}
	}
	for _, want := range []string{"customs_receipt:CEB304:399:cleared", "customs_receipt:CEB604:800:released", "customs_receipt:CEB506:500:held"} {
		if notes[want] != 1 {
			t.Errorf("history notes %v: want one %s", notes, want)
		}
	}
}

// waitFor polls f for up to 30 s.
func waitFor(t *testing.T, f func() (map[string]any, bool)) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		v, ok := f()
		if ok {
			return v
		}
		if time.Now().After(deadline) {
			b, _ := json.Marshal(v)
			t.Fatalf("not reached in 30 s: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func download(t *testing.T, api, token, path string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, api+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/xml") {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return b
}

func postReceipt(t *testing.T, api, token string, x []byte) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, api+"/v1/ops/customs/receipts", bytes.NewReader(x))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST receipt: %d %v", resp.StatusCode, m)
	}
	return m
}

func validate(t *testing.T, xsd, name string, x []byte) {
	t.Helper()
	lint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Fatal("xmllint is not installed: make test installs libxml2-utils")
	}
	f := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(f, x, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(lint, "--noout", "--schema", "../../testdata/ceb/xsd/"+xsd, f).CombinedOutput(); err != nil {
		t.Errorf("%s does not validate: %v\n%s", name, err, out)
	}
}

// forwarderToken is the E-Port receipt forwarder's access token: the
// client-credentials grant at the operators' sign-in (localstack/operators.json).
func forwarderToken(t *testing.T, signIn string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, signIn+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {auth.ScopeReceipts}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("local-eport-forwarder", "local-forwarder-secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil || resp.StatusCode != http.StatusOK || tr.AccessToken == "" {
		t.Fatalf("the forwarder's token: %d %v", resp.StatusCode, err)
	}
	return tr.AccessToken
}
