package httpapi_test

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/xborder/xborder/shared/httpapi"
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
	Responses map[string]any `yaml:"responses"`
}

type openAPISchema struct {
	Ref                  string                   `yaml:"$ref"`
	Type                 string                   `yaml:"type"`
	Properties           map[string]openAPISchema `yaml:"properties"`
	Items                *openAPISchema           `yaml:"items"`
	AdditionalProperties *bool                    `yaml:"additionalProperties"`
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
	post := doc.Paths["/v1/orders"]["post"]
	for _, code := range []string{"202", "400", "401", "409", "413", "415", "422"} {
		if post.Responses[code] == nil {
			t.Errorf("POST /v1/orders does not document %s", code)
		}
	}
}

// TestOpenAPIRequestSchemaMatchesDraft compares the documented request body
// with the fields the decoder accepts, at every depth.
func TestOpenAPIRequestSchemaMatchesDraft(t *testing.T) {
	doc := loadOpenAPI(t)
	var walk func(path string, s openAPISchema, typ reflect.Type)
	walk = func(path string, s openAPISchema, typ reflect.Type) {
		for s.Ref != "" {
			s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
		}
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
			if s.Items != nil {
				s = *s.Items
				for s.Ref != "" {
					s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
				}
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
	walk("", doc.Components.Schemas["OrderRequest"], reflect.TypeOf(order.Draft{}))
}
