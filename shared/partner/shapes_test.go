package partner

import (
	"strings"
	"testing"
)

// TestIDAndSKUShapes pins the shapes the loops accept (they replaced
// regular expressions: ^[a-z0-9][a-z0-9-]{0,62}$ and ^[A-Za-z0-9._-]{1,64}$).
func TestIDAndSKUShapes(t *testing.T) {
	long := func(c byte, n int) string { return strings.Repeat(string(c), n) }
	for id, ok := range map[string]bool{"a": true, "acme-1": true, "9": true, long('a', 63): true,
		"": false, "-a": false, "Acme": false, "a_b": false, "a.b": false, long('a', 64): false, "é": false} {
		if validID(id) != ok {
			t.Errorf("validID(%q) = %v", id, !ok)
		}
	}
	for sku, ok := range map[string]bool{"A": true, "CAM-FILM_35.mm": true, long('x', 64): true,
		"": false, long('x', 65): false, "a b": false, "a/b": false, "é": false} {
		if validSKU(sku) != ok {
			t.Errorf("validSKU(%q) = %v", sku, !ok)
		}
	}
}
