package partner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/xborder/xborder/shared/order"
)

const (
	secretA = "partner-a-secret-0123456789abcdefghij"
	secretB = "partner-a-secret-rotated-0123456789xyz"
	secretC = "partner-b-secret-9876543210zyxwvutsrq"
)

var directoryJSON = `{"partners": [
  {"id": "market-a", "secrets": ["` + secretA + `", "` + secretB + `"], "format": "native",
   "callbackUrl": "https://market-a.example/xborder/callbacks", "tradeModes": ["B2C", "M2B2C"]},
  {"id": "shop-b", "secrets": ["` + secretC + `"], "format": "shopify",
   "callbackUrl": "http://127.0.0.1:8089/callbacks", "tradeModes": ["B2C"]}]}`

// fakeSecrets is Secrets Manager holding secrets by name (or ARN).
type fakeSecrets struct {
	values map[string]*secretsmanager.GetSecretValueOutput
	err    error
	asked  []string
}

func (f *fakeSecrets) GetSecretValue(_ context.Context, in *secretsmanager.GetSecretValueInput, _ ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	id := ""
	if in.SecretId != nil {
		id = *in.SecretId
	}
	f.asked = append(f.asked, id)
	if f.err != nil {
		return nil, f.err
	}
	out, ok := f.values[id]
	if !ok {
		return nil, errors.New("ResourceNotFoundException: Secrets Manager can't find the specified secret")
	}
	return out, nil
}

func secretString(s string) *secretsmanager.GetSecretValueOutput {
	return &secretsmanager.GetSecretValueOutput{SecretString: &s}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "partners.json")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkDirectory: the two partners of directoryJSON, as configured.
func checkDirectory(t *testing.T, d *Directory) {
	t.Helper()
	if got := d.IDs(); !reflect.DeepEqual(got, []string{"market-a", "shop-b"}) {
		t.Fatalf("ids %v", got)
	}
	a, ok := d.Get("market-a")
	want := &Partner{ID: "market-a", Secrets: []string{secretA, secretB}, Format: FormatNative,
		CallbackURL: "https://market-a.example/xborder/callbacks", TradeModes: []order.TradeMode{order.TradeB2C, order.TradeM2B2C}}
	if !ok || !reflect.DeepEqual(a, want) {
		t.Fatalf("market-a: %+v", a)
	}
	if b, ok := d.Get("shop-b"); !ok || b.Format != FormatShopify || !b.Allows(order.TradeB2C) || b.Allows(order.TradeB2B) {
		t.Fatalf("shop-b: %+v", b)
	}
	if _, ok := d.Get("nobody"); ok {
		t.Fatal("an unknown id was found")
	}
	if _, ok := d.Get(""); ok {
		t.Fatal("the empty id was found")
	}
}

func TestLoadFile(t *testing.T) {
	d, err := Load(context.Background(), "file:"+writeFile(t, directoryJSON), nil)
	if err != nil {
		t.Fatal(err)
	}
	checkDirectory(t, d)
}

func TestLoadSecretsManager(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:xborder/partners-AbCdEf"
	sm := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{
		"xborder/partners": secretString(directoryJSON),
		arn:                secretString(directoryJSON),
		"binary":           {SecretBinary: []byte(directoryJSON)},
	}}
	for _, name := range []string{"xborder/partners", arn, "binary"} {
		d, err := Load(context.Background(), "secretsmanager:"+name, sm)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkDirectory(t, d)
	}
	if !reflect.DeepEqual(sm.asked, []string{"xborder/partners", arn, "binary"}) {
		t.Fatalf("asked for %q", sm.asked)
	}
}

func TestLoadSecretsManagerErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("the reader's error is reported with the secret's name", func(t *testing.T) {
		denied := errors.New("AccessDeniedException: not authorized to perform secretsmanager:GetSecretValue")
		_, err := Load(ctx, "secretsmanager:xborder/partners", &fakeSecrets{err: denied})
		if !errors.Is(err, denied) || !strings.Contains(err.Error(), "xborder/partners") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no reader", func(t *testing.T) {
		_, err := Load(ctx, "secretsmanager:xborder/partners", nil)
		if err == nil || !strings.Contains(err.Error(), "xborder/partners") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("no value", func(t *testing.T) {
		sm := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{"empty": {}}}
		if _, err := Load(ctx, "secretsmanager:empty", sm); err == nil || !strings.Contains(err.Error(), "empty") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("an invalid directory names the secret, never a secret's value", func(t *testing.T) {
		bad := strings.Replace(directoryJSON, `"`+secretC+`"`, `"`+secretC+`", "short-one", "`+secretA+`"`, 1)
		sm := &fakeSecrets{values: map[string]*secretsmanager.GetSecretValueOutput{"xborder/partners": secretString(bad)}}
		_, err := Load(ctx, "secretsmanager:xborder/partners", sm)
		if err == nil || !strings.Contains(err.Error(), "secret xborder/partners") || !strings.Contains(err.Error(), "not 3") {
			t.Fatalf("got %v", err)
		}
		noSecrets(t, err, secretA, secretB, secretC, "short-one")
	})
}

func TestLoadSourceForms(t *testing.T) {
	for _, source := range []string{"", "partners.json", "/etc/partners.json", "s3://bucket/partners.json", "FILE:x", "file:", "secretsmanager:", "ssm:/xborder/partners"} {
		_, err := Load(context.Background(), source, &fakeSecrets{})
		if err == nil {
			t.Fatalf("%q: no error", source)
		}
	}
	if _, err := Load(context.Background(), "file:/nonexistent/partners.json", nil); err == nil || !strings.Contains(err.Error(), "/nonexistent/partners.json") {
		t.Fatalf("missing file: %v", err)
	}
	_, err := Load(context.Background(), "s3://bucket/partners.json", nil)
	if !strings.Contains(err.Error(), "file:<path>") || !strings.Contains(err.Error(), "secretsmanager:<secret name or ARN>") {
		t.Fatalf("the error does not say what is expected: %v", err)
	}
}

// TestLoadDemoDirectory: localstack/partners.json, the demo partners of
// the README.
func TestLoadDemoDirectory(t *testing.T) {
	d, err := Load(context.Background(), "file:../../localstack/partners.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.IDs(); !reflect.DeepEqual(got, []string{"demo-marketplace", "demo-shopify"}) {
		t.Fatalf("ids %v", got)
	}
	m, _ := d.Get("demo-marketplace")
	s, _ := d.Get("demo-shopify")
	if m.Format != FormatNative || s.Format != FormatShopify || !m.Allows(order.TradeM2B2C) || len(m.Secrets[0]) < 40 || len(s.Secrets[0]) < 40 {
		t.Fatalf("%+v %+v", m, s)
	}
}

func noSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) {
			t.Fatalf("the error holds a secret's value: %v", err)
		}
	}
}

// partnerJSON is one partner entry with fields replaced (raw JSON values).
func partnerJSON(replace map[string]string) string {
	fields := map[string]string{
		"id": `"acme"`, "secrets": `["` + secretA + `"]`, "format": `"native"`,
		"callbackUrl": `"https://acme.example/callbacks"`, "tradeModes": `["B2C"]`,
	}
	for k, v := range replace {
		if v == "" {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	var b strings.Builder
	b.WriteString("{")
	for _, k := range []string{"id", "secrets", "format", "callbackUrl", "tradeModes", "paymentMethods", "extra"} {
		if v, ok := fields[k]; ok {
			if b.Len() > 1 {
				b.WriteString(", ")
			}
			b.WriteString(`"` + k + `": ` + v)
		}
	}
	b.WriteString("}")
	return b.String()
}

func TestParseRules(t *testing.T) {
	for _, tc := range []struct {
		name, raw, want string
	}{
		{"bad JSON", `{"partners": [`, "unexpected EOF"},
		{"not an object", `["acme"]`, "cannot unmarshal"},
		{"unknown top-level field", `{"partners": [], "version": 2}`, `unknown field "version"`},
		{"unknown partner field", `{"partners": [` + partnerJSON(map[string]string{"extra": `true`}) + `]}`, `unknown field "extra"`},
		{"data after the object", `{"partners": []} {"partners": []}`, "data after"},
		{"null entry", `{"partners": [null]}`, "partners[0]: null"},
		{"three secrets", `{"partners": [` + partnerJSON(map[string]string{"secrets": `["` + secretA + `", "` + secretB + `", "` + secretC + `"]`}) + `]}`, "one or two active secrets, not 3"},
		{"no secrets", `{"partners": [` + partnerJSON(map[string]string{"secrets": `[]`}) + `]}`, "one or two active secrets, not 0"},
		{"secrets missing", `{"partners": [` + partnerJSON(map[string]string{"secrets": ""}) + `]}`, "not 0"},
		{"short secret", `{"partners": [` + partnerJSON(map[string]string{"secrets": `["` + secretA + `", "0123456789abcdefghijklm"]`}) + `]}`, "secrets[1] is shorter than 24"},
		{"unknown format", `{"partners": [` + partnerJSON(map[string]string{"format": `"xml"`}) + `]}`, `format "xml" is not one of native, shopify`},
		{"no format", `{"partners": [` + partnerJSON(map[string]string{"format": ""}) + `]}`, `format "" is not one of`},
		{"callback over http", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"http://acme.example/callbacks"`}) + `]}`, "callbackUrl must be an https URL"},
		{"callback not a URL", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"acme.example/callbacks"`}) + `]}`, "callbackUrl"},
		{"callback another scheme", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"ftp://acme.example/"`}) + `]}`, "callbackUrl"},
		{"callback unparsable", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"https://[::1"`}) + `]}`, "callbackUrl"},
		{"unknown trade mode", `{"partners": [` + partnerJSON(map[string]string{"tradeModes": `["B2C", "D2C"]`}) + `]}`, `trade mode "D2C" is unknown`},
		{"no trade modes", `{"partners": [` + partnerJSON(map[string]string{"tradeModes": `[]`}) + `]}`, "tradeModes lists none"},
		{"duplicate id", `{"partners": [` + partnerJSON(nil) + `, ` + partnerJSON(map[string]string{"secrets": `["` + secretB + `"]`}) + `]}`, "partners[1] (acme): id used twice"},
		{"bad id", `{"partners": [` + partnerJSON(map[string]string{"id": `"Acme Corp"`}) + `]}`, "partners[0]: id must be"},
		{"empty id", `{"partners": [` + partnerJSON(map[string]string{"id": `""`}) + `]}`, "partners[0]: id must be"},
		{"a whsec_ secret that is not base64", `{"partners": [` + partnerJSON(map[string]string{"secrets": `["whsec_0123456789abcdefghijklm!"]`}) + `]}`, "secrets[0] starts with whsec_ but is not base64"},
		{"a whsec_ secret of too few bytes", `{"partners": [` + partnerJSON(map[string]string{"secrets": `["whsec_MDEyMzQ1Njc4OWFiY2Q="]`}) + `]}`, "secrets[0] starts with whsec_"},
		{"callback to the metadata service", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"https://169.254.169.254/latest/meta-data/"`}) + `]}`, "169.254.169.254 is cloud metadata service"},
		{"callback to a private address", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"https://10.0.0.8/cb"`}) + `]}`, "10.0.0.8 is private"},
		{"callback to a mapped metadata address", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"https://[::ffff:169.254.169.254]/cb"`}) + `]}`, "is cloud metadata service"},
		{"callback to unique-local", `{"partners": [` + partnerJSON(map[string]string{"callbackUrl": `"https://[fd00:ec2::254]/cb"`}) + `]}`, "is cloud metadata service"},
		{"unknown payment method", `{"partners": [` + partnerJSON(map[string]string{"paymentMethods": `["partner_account", "crypto"]`}) + `]}`, `payment method "crypto" is not partner_account or card`},
		{"payment method twice", `{"partners": [` + partnerJSON(map[string]string{"paymentMethods": `["card", "card"]`}) + `]}`, "payment method card listed twice"},
		{"a secret pasted as the id", `{"partners": [` + partnerJSON(map[string]string{"id": `"Whsec_0123456789abcdefghijklm"`}) + `]}`, "partners[0]: id must be"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(tc.raw))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error saying %q, got %v", tc.want, err)
			}
			if d != nil {
				t.Fatal("a directory came back with the error")
			}
			noSecrets(t, err, secretA, secretB, secretC, "0123456789abcdefghijklm", "Whsec_")
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	raw := `{"partners": [` + partnerJSON(map[string]string{"format": `"xml"`, "tradeModes": `[]`}) + `, ` +
		partnerJSON(map[string]string{"id": `"other"`, "callbackUrl": `"http://other.example/"`}) + `]}`
	_, err := Parse([]byte(raw))
	for _, want := range []string{"partners[0] (acme): format", "partners[0] (acme): tradeModes", "partners[1] (other): callbackUrl"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("want %q in %v", want, err)
		}
	}
}

func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct{ name, entry string }{
		{"no callback URL", partnerJSON(map[string]string{"callbackUrl": ""})},
		{"an empty callback URL", partnerJSON(map[string]string{"callbackUrl": `""`})},
		{"http to localhost", partnerJSON(map[string]string{"callbackUrl": `"http://localhost:8089/cb"`})},
		{"http to ::1", partnerJSON(map[string]string{"callbackUrl": `"http://[::1]:8089/cb"`})},
		{"two secrets", partnerJSON(map[string]string{"secrets": `["` + secretA + `", "` + secretB + `"]`})},
		{"a secret of exactly the minimum length", partnerJSON(map[string]string{"secrets": `["` + strings.Repeat("s", MinSecretLength) + `"]`})},
		{"every trade mode", partnerJSON(map[string]string{"tradeModes": `["B2B", "B2C", "C2C", "M2B2C"]`})},
		{"shopify", partnerJSON(map[string]string{"format": `"shopify"`})},
		{"a whsec_ secret", partnerJSON(map[string]string{"secrets": `["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]`})},
		{"callback to a public address", partnerJSON(map[string]string{"callbackUrl": `"https://203.0.114.7/cb"`})},
		{"http to 127.0.0.1", partnerJSON(map[string]string{"callbackUrl": `"http://127.0.0.1:8089/cb"`})},
		{"card allowed", partnerJSON(map[string]string{"paymentMethods": `["partner_account", "card"]`})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse([]byte(`{"partners": [` + tc.entry + `]}`))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := d.Get("acme"); !ok {
				t.Fatal("acme not found")
			}
		})
	}
	d, err := Parse([]byte(`{"partners": []}`))
	if err != nil || len(d.IDs()) != 0 {
		t.Fatalf("an empty directory: %v", err)
	}
}

// Card payments are allowed only when the directory lists them: a partner
// posting card tokens could test stolen cards through us.
func TestPaymentMethods(t *testing.T) {
	for _, tc := range []struct {
		methods       string
		account, card bool
	}{
		{"", true, false},
		{`["partner_account"]`, true, false},
		{`["partner_account", "card"]`, true, true},
		{`["card"]`, false, true},
	} {
		d, err := Parse([]byte(`{"partners": [` + partnerJSON(map[string]string{"paymentMethods": tc.methods}) + `]}`))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := d.Get("acme")
		if p.AllowsPayment(order.PaymentPartnerAccount) != tc.account || p.AllowsPayment(PaymentCard) != tc.card || p.AllowsPayment("cash") {
			t.Errorf("paymentMethods %s: account %v, card %v; want %v, %v", tc.methods, p.AllowsPayment(order.PaymentPartnerAccount),
				p.AllowsPayment(PaymentCard), tc.account, tc.card)
		}
	}
}
