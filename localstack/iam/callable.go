package iam

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// sdkOperation is an AWS SDK for Go v2 operation method in a binary's
// symbol table: service/<package>.(*Client).<Operation>.
var sdkOperation = regexp.MustCompile(`service/(dynamodb|sqs|sns|sfn|secretsmanager)\.\(\*Client\)\.([A-Z][A-Za-z]+)$`)

// iamPrefix is each SDK package's IAM service prefix.
var iamPrefix = map[string]string{"dynamodb": "dynamodb", "sqs": "sqs", "sns": "sns", "sfn": "states", "secretsmanager": "secretsmanager"}

// Callable is what a binary's code can call of AWS, as IAM actions: the
// SDK operations its symbol table holds (the linker keeps only what can be
// reached, or called through an interface of the same method). SQS's and
// SNS's batch operations are authorized as their single forms; a DynamoDB
// write transaction as the actions of its items, which shared/dynamostore
// only ever puts and updates; DescribeEndpoints (endpoint discovery, off)
// is no call of the code's.
func Callable(symbols []byte) []string {
	seen := map[string]bool{}
	for _, line := range bytes.Split(symbols, []byte("\n")) {
		m := sdkOperation.FindSubmatch(bytes.TrimSpace(line))
		if m == nil {
			continue
		}
		service, op := string(m[1]), string(m[2])
		switch {
		case op == "DescribeEndpoints":
			continue
		case service == "dynamodb" && op == "TransactWriteItems":
			seen["dynamodb:PutItem"], seen["dynamodb:UpdateItem"] = true, true
			continue
		case service == "dynamodb" && op == "TransactGetItems":
			op = "GetItem"
		case service == "sqs" || service == "sns":
			op = strings.TrimSuffix(op, "Batch")
		}
		seen[iamPrefix[service]+":"+op] = true
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// CallableIn is Callable of the binary at path (go tool nm reads it).
func CallableIn(ctx context.Context, path string) ([]string, error) {
	out, err := exec.CommandContext(ctx, "go", "tool", "nm", path).Output()
	if err != nil {
		return nil, fmt.Errorf("iam: go tool nm %s: %w", path, err)
	}
	return Callable(out), nil
}
