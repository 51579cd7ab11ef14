package partner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// SecretReader reads a secret (the GetSecretValue method of
// *secretsmanager.Client).
type SecretReader interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Prefixes of a configuration source.
const (
	// SourceFile: "file:<path>", a file on this machine (local runs).
	SourceFile = "file:"
	// SourceSecretsManager: "secretsmanager:<secret name or ARN>", a secret
	// whose SecretString holds the JSON a file would.
	SourceSecretsManager = "secretsmanager:"
)

// Load reads the partner directory from source ("file:<path>" or
// "secretsmanager:<secret name or ARN>", see Parse for the JSON) and checks
// it. secrets is used only for a secretsmanager source. No error holds a
// secret's value.
func Load(ctx context.Context, source string, secrets SecretReader) (*Directory, error) {
	raw, where, err := readSource(ctx, source, secrets)
	if err != nil {
		return nil, err
	}
	d, err := Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w (from %s)", err, where)
	}
	return d, nil
}

// LoadCatalogueSource reads the product catalogue from source, as Load does
// the directory (see LoadCatalogue for the JSON).
func LoadCatalogueSource(ctx context.Context, source string, secrets SecretReader) (*Catalogue, error) {
	raw, where, err := readSource(ctx, source, secrets)
	if err != nil {
		return nil, err
	}
	return loadCatalogue(bytes.NewReader(raw), "catalogue from "+where)
}

// readSource returns the bytes source names and a description of where they
// came from for errors (the path or the secret's name, never its value).
func readSource(ctx context.Context, source string, secrets SecretReader) ([]byte, string, error) {
	switch {
	case strings.HasPrefix(source, SourceFile):
		path := strings.TrimPrefix(source, SourceFile)
		if path == "" {
			return nil, "", errors.New("partner: source file: names no path")
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("partner: source: %w", err)
		}
		return raw, path, nil
	case strings.HasPrefix(source, SourceSecretsManager):
		name := strings.TrimPrefix(source, SourceSecretsManager)
		if name == "" {
			return nil, "", errors.New("partner: source secretsmanager: names no secret")
		}
		if secrets == nil {
			return nil, "", fmt.Errorf("partner: source: no Secrets Manager client to read secret %s", name)
		}
		out, err := secrets.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: &name})
		if err != nil {
			return nil, "", fmt.Errorf("partner: source: read secret %s: %w", name, err)
		}
		switch {
		case out == nil:
			return nil, "", fmt.Errorf("partner: source: secret %s: no value", name)
		case out.SecretString != nil:
			return []byte(*out.SecretString), "secret " + name, nil
		case len(out.SecretBinary) > 0:
			return out.SecretBinary, "secret " + name, nil
		}
		return nil, "", fmt.Errorf("partner: source: secret %s holds neither a string nor binary value", name)
	}
	return nil, "", fmt.Errorf("partner: source %q is neither %s<path> nor %s<secret name or ARN>", clip(source), SourceFile, SourceSecretsManager)
}

// ReadSource returns the bytes a configuration source names ("file:<path>"
// or "secretsmanager:<secret name or ARN>") and where they came from, for
// errors: the path or the secret's name, never its value.
func ReadSource(ctx context.Context, source string, secrets SecretReader) ([]byte, string, error) {
	return readSource(ctx, source, secrets)
}
