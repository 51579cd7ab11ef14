package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xborder/xborder/shared/httpapi"
	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/order"
)

type openAPIDoc struct {
	OpenAPI    string                                 `yaml:"openapi"`
	Paths      map[string]map[string]openAPIOperation `yaml:"paths"`
	Components struct {
		Schemas map[string]openAPISchema `yaml:"schemas"`
	} `yaml:"components"`
}

type openAPIOperation struct {
	RequestBody struct {
		Content map[string]openAPIMedia `yaml:"content"`
	} `yaml:"requestBody"`
	Responses map[string]openAPIResponse `yaml:"responses"`
}

type openAPIResponse struct {
	Ref     string                  `yaml:"$ref"`
	Content map[string]openAPIMedia `yaml:"content"`
}

type openAPIMedia struct {
	Schema   openAPISchema `yaml:"schema"`
	Examples map[string]struct {
		Value any `yaml:"value"`
	} `yaml:"examples"`
}

type openAPISchema struct {
	Ref                  string                   `yaml:"$ref"`
	Type                 string                   `yaml:"type"`
	Properties           map[string]openAPISchema `yaml:"properties"`
	Required             []string                 `yaml:"required"`
	Enum                 []any                    `yaml:"enum"`
	Items                *openAPISchema           `yaml:"items"`
	AdditionalProperties *bool                    `yaml:"additionalProperties"`
}

// resolve follows $refs to the schema itself.
func (d *openAPIDoc) resolve(s openAPISchema) openAPISchema {
	for s.Ref != "" {
		s = d.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
	}
	return s
}

func loadOpenAPI(t *testing.T) openAPIDoc {
	t.Helper()
	var doc openAPIDoc
	if err := yaml.Unmarshal(httpapi.OpenAPI, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	return doc
}

// TestOpenAPIMatchesRoutes fails when a route is served but not documented, or
// documented but not served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	var documented, served []string
	for path, ops := range doc.Paths {
		for method := range ops {
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, r := range httpapi.Routes {
		served = append(served, r.Method+" "+r.Path)
	}
	sort.Strings(documented)
	sort.Strings(served)
	if !slices.Equal(documented, served) {
		t.Fatalf("routes and openapi.yaml disagree:\n served     %v\n documented %v", served, documented)
	}
	for _, op := range []struct {
		method, path string
		codes        []string
	}{
		{"post", "/v1/orders", []string{"202", "400", "401", "409", "413", "415", "422"}},
		{"post", "/v1/quotes", []string{"201", "400", "401", "413", "415", "422"}},
		{"get", "/v1/quotes/{id}", []string{"200", "401", "404"}},
	} {
		for _, code := range op.codes {
			if _, ok := doc.Paths[op.path][op.method].Responses[code]; !ok {
				t.Errorf("%s %s does not document %s", strings.ToUpper(op.method), op.path, code)
			}
		}
	}
}

// TestOpenAPIRequestSchemaMatchesDraft compares the documented request
// bodies with the fields the decoder accepts, at every depth.
func TestOpenAPIRequestSchemaMatchesDraft(t *testing.T) {
	doc := loadOpenAPI(t)
	for name, typ := range map[string]reflect.Type{
		"OrderRequest": reflect.TypeOf(order.Draft{}),
		"QuoteRequest": reflect.TypeOf(httpapi.QuoteRequest{}),
	} {
		t.Run(name, func(t *testing.T) { checkRequestSchema(t, &doc, doc.Components.Schemas[name], typ) })
	}
}

func checkRequestSchema(t *testing.T, doc *openAPIDoc, schema openAPISchema, typ reflect.Type) {
	var walk func(path string, s openAPISchema, typ reflect.Type)
	walk = func(path string, s openAPISchema, typ reflect.Type) {
		s = doc.resolve(s)
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if s.Items != nil {
				s = doc.resolve(*s.Items)
			}
		}
		if typ.Kind() != reflect.Struct {
			return
		}
		if s.AdditionalProperties == nil || *s.AdditionalProperties {
			t.Errorf("%s: request schemas must say additionalProperties: false (the API refuses unknown fields)", path)
		}
		fields := map[string]reflect.Type{}
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			fields[name] = f.Type
		}
		for name, ft := range fields {
			prop, ok := s.Properties[name]
			if !ok {
				t.Errorf("%s/%s is accepted but not documented", path, name)
				continue
			}
			walk(path+"/"+name, prop, ft)
		}
		for name := range s.Properties {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s/%s is documented but the API refuses it", path, name)
			}
		}
	}
	walk("", schema, typ)
}

// conforms reports, as test errors, where a real response v strays from
// schema s: a property that is not documented, a required one missing, a
// value of another type or outside its enum.
func (d *openAPIDoc) conforms(t *testing.T, path string, s openAPISchema, v any) {
	t.Helper()
	s = d.resolve(s)
	if len(s.Enum) > 0 && !slices.ContainsFunc(s.Enum, func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(v) }) {
		t.Errorf("%s = %v, not one of %v", path, v, s.Enum)
	}
	switch x := v.(type) {
	case map[string]any:
		if s.Type != "" && s.Type != "object" {
			t.Errorf("%s is an object, documented as %s", path, s.Type)
		}
		for _, name := range s.Required {
			if _, ok := x[name]; !ok {
				t.Errorf("%s/%s is required but missing", path, name)
			}
		}
		if len(s.Properties) == 0 {
			return // a free-form object
		}
		for name, value := range x {
			prop, ok := s.Properties[name]
			if !ok {
				t.Errorf("%s/%s is in the response but not documented", path, name)
				continue
			}
			d.conforms(t, path+"/"+name, prop, value)
		}
	case []any:
		if s.Type != "array" || s.Items == nil {
			t.Errorf("%s is an array, documented as %q", path, s.Type)
			return
		}
		for i, e := range x {
			d.conforms(t, fmt.Sprintf("%s/%d", path, i), *s.Items, e)
		}
	case string:
		if s.Type != "" && s.Type != "string" {
			t.Errorf("%s is a string, documented as %s", path, s.Type)
		}
	case bool:
		if s.Type != "" && s.Type != "boolean" {
			t.Errorf("%s is a boolean, documented as %s", path, s.Type)
		}
	case float64:
		if s.Type != "" && s.Type != "integer" && s.Type != "number" || (s.Type == "integer" && x != float64(int64(x))) {
			t.Errorf("%s = %v, documented as %s", path, x, s.Type)
		}
	}
}

// asJSON is v as encoding/json decodes it (YAML examples hold ints where
// JSON has float64s).
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenAPIQuoteExamples posts every documented quote request example and
// expects the documented response of the same name (201 or 422), to the
// cent; the response's ids and times are the only figures that differ. Each
// response, and the order that accepts a quote, must match its schema.
// When the rules or rates change, so must the examples.
func TestOpenAPIQuoteExamples(t *testing.T) {
	doc := loadOpenAPI(t)
	op := doc.Paths["/v1/quotes"]["post"]
	requests := op.RequestBody.Content["application/json"].Examples
	created, invalid := op.Responses["201"].Content["application/json"], op.Responses["422"].Content["application/problem+json"]
	if len(requests) < 6 || len(created.Examples) < 3 || len(invalid.Examples) < 3 {
		t.Fatalf("want at least 6 request, 3 quote and 3 problem examples; have %d, %d, %d",
			len(requests), len(created.Examples), len(invalid.Examples))
	}
	h := newHarness(t, memstore.New())
	for name, req := range requests {
		t.Run(name, func(t *testing.T) {
			body, _ := json.Marshal(req.Value)
			r := h.do(http.MethodPost, "/v1/quotes", "alice", body, nil)
			want, media := created.Examples[name].Value, created
			if r.status == http.StatusUnprocessableEntity {
				want, media = invalid.Examples[name].Value, invalid
			}
			if want == nil {
				t.Fatalf("no documented %d response named %q; got %s", r.status, name, r.body)
			}
			got := r.json(t)
			doc.conforms(t, "", media.Schema, got)
			expected := asJSON(t, want).(map[string]any)
			for _, volatile := range []string{"quoteId", "expiresAt", "links", "requestId"} {
				if _, ok := expected[volatile]; ok != (got[volatile] != nil) {
					t.Errorf("%s: documented %v, answered %v", volatile, ok, got[volatile] != nil)
				}
				delete(expected, volatile)
				delete(got, volatile)
			}
			if !reflect.DeepEqual(got, expected) {
				g, _ := json.MarshalIndent(got, "", "  ")
				t.Fatalf("the documented example is not what the API answers; it answers:\n%s", g)
			}
		})
	}

	// An order accepting a quote shows fx and customs as documented.
	_, q := h.quote("alice", quoteSample(t, "cart-de.json"))
	r := h.post("alice", "openapi", withQuote(t, sample(t, "mobile-b2c-de.json"), q.QuoteID))
	wantStatus(t, r, http.StatusAccepted)
	g := h.do(http.MethodGet, "/v1/orders/"+r.json(t)["orderId"].(string), "alice", nil, nil)
	order := g.json(t)
	if order["fx"] == nil || order["customs"] == nil {
		t.Fatalf("the order shows no fx or customs: %s", g.body)
	}
	doc.conforms(t, "", doc.Paths["/v1/orders/{id}"]["get"].Responses["200"].Content["application/json"].Schema, order)
	doc.conforms(t, "", doc.Components.Schemas["Quote"], h.do(http.MethodGet, "/v1/quotes/"+q.QuoteID, "alice", nil, nil).json(t))
}
