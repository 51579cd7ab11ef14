package httpapi

import _ "embed"

// OpenAPI is the OpenAPI 3.1 document of this API.
//
//go:embed openapi.yaml
var OpenAPI []byte
