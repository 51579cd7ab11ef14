package layers

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/xborder/xborder/"

// pkg is what go list tells of a package.
type pkg struct {
	ImportPath string
	Deps       []string
}

// packages lists the module's packages with their transitive imports.
func packages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var list []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		list = append(list, p)
	}
	if len(list) < 30 {
		t.Fatalf("go list found %d packages", len(list))
	}
	return list
}

func rel(path string) string { return strings.TrimPrefix(path, module) }

// TestLayering: the rules the layout states (README, style), over every
// package's transitive imports.
func TestLayering(t *testing.T) {
	domain := map[string]bool{}
	for _, d := range []string{"order", "money", "customs", "screening", "ceb", "chinacustoms", "chinagoods", "country", "fx",
		"idempotency", "stock", "workflow", "quotes", "receipts"} {
		domain["shared/"+d] = true
	}
	stores := map[string]bool{"shared/dynamostore": true, "shared/memstore": true}
	seenDomain := 0
	for _, p := range packages(t) {
		name := rel(p.ImportPath)
		deployed := strings.HasPrefix(name, "functions/") || strings.HasPrefix(name, "shared/")
		if domain[name] {
			seenDomain++
		}
		for _, d := range p.Deps {
			switch {
			case deployed && strings.HasPrefix(d, module+"localstack/"):
				t.Errorf("%s imports %s: what deploys must not depend on the local stack", name, rel(d))
			case domain[name] && (strings.HasPrefix(d, "github.com/aws/") || strings.HasPrefix(d, "github.com/awslabs/")):
				t.Errorf("%s imports %s: a domain package imports no AWS SDK", name, d)
			case stores[name] && (strings.HasPrefix(d, module+"shared/httpapi") || strings.HasPrefix(d, module+"shared/opsconsole")):
				t.Errorf("%s imports %s: a store does not import the HTTP layer", name, rel(d))
			}
		}
	}
	if seenDomain != len(domain) {
		t.Errorf("found %d of the %d domain packages: update the list", seenDomain, len(domain))
	}
}

// TestNoBuiltBinaryIsCommitted: no file tracked by git is an executable
// built for some machine (ELF, Mach-O or PE).
func TestNoBuiltBinaryIsCommitted(t *testing.T) {
	cmd := exec.Command("git", "ls-files", "-z")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-files: %v (the test runs in a clone of the repository)", err)
	}
	magic := [][]byte{{0x7f, 'E', 'L', 'F'}, {0xcf, 0xfa, 0xed, 0xfe}, {0xfe, 0xed, 0xfa, 0xcf}, {'M', 'Z'}}
	files := bytes.Split(bytes.TrimRight(out, "\x00"), []byte{0})
	if len(files) < 100 {
		t.Fatalf("git tracks %d files", len(files))
	}
	for _, f := range files {
		fh, err := os.Open(filepath.Join("../..", string(f)))
		if err != nil {
			continue // deleted in the working tree
		}
		head := make([]byte, 4)
		n, _ := fh.Read(head)
		fh.Close()
		for _, m := range magic {
			if n >= len(m) && bytes.Equal(head[:len(m)], m) {
				t.Errorf("%s is a built binary: build output stays out of git", f)
			}
		}
	}
}
