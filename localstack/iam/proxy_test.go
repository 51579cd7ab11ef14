package iam

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// withoutGrant is the template with action taken out of every statement of
// function's role.
func withoutGrant(t *testing.T, raw []byte, action string) []byte {
	t.Helper()
	var tmpl map[string]any
	if err := json.Unmarshal(raw, &tmpl); err != nil {
		t.Fatal(err)
	}
	for _, r := range tmpl["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::IAM::Policy" {
			continue
		}
		props := res["Properties"].(map[string]any)
		for _, s := range props["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			st := s.(map[string]any)
			if acts, ok := st["Action"].([]any); ok {
				var kept []any
				for _, a := range acts {
					if a != action {
						kept = append(kept, a)
					}
				}
				st["Action"] = kept
			}
		}
	}
	out, _ := json.Marshal(tmpl)
	return out
}

// TestDynamoDBRefusesWhatTheRoleDoesNotGrant: through the proxy, a
// function's call the template's role allows reaches DynamoDB Local; with
// the grant taken out of a copy of the template the same call is refused
// with DynamoDB's own AccessDeniedException, which the SDK names so — the
// check is live — and the caller that is no function passes unchecked.
func TestDynamoDBRefusesWhatTheRoleDoesNotGrant(t *testing.T) {
	endpoint := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if endpoint == "" {
		t.Fatal("no DynamoDB Local: run the tests through `make test`")
	}
	raw, err := os.ReadFile("../../testdata/cdk/template.json")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	table := "iam-check-" + strings.ReplaceAll(t.Name(), "/", "-")
	client := func(url, key string) *dynamodb.Client {
		return dynamodb.NewFromConfig(aws.Config{Region: Region, Credentials: credentials.NewStaticCredentialsProvider(key, "local", "")},
			func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url); o.RetryMaxAttempts = 1 })
	}
	admin := client(endpoint, "local")
	if _, err := admin.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddbtypes.KeyTypeHash}}}); err != nil {
		t.Fatal(err)
	}
	defer admin.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	put := &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "ORDER#1"}}}
	for _, tc := range []struct {
		name     string
		template []byte
		denied   bool
	}{
		{"the template", raw, false},
		{"without dynamodb:PutItem", withoutGrant(t, raw, "dynamodb:PutItem"), true},
	} {
		arns, _ := LocalARNs(tc.template, table, "order-workflow")
		p, err := FromTemplate(tc.template, arns)
		if err != nil {
			t.Fatal(err)
		}
		d, err := NewDynamoDB(p, endpoint)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(d)
		_, err = client(srv.URL, KeyFor("screen")).PutItem(ctx, put)
		var api smithy.APIError
		if tc.denied {
			if !errors.As(err, &api) || api.ErrorCode() != "AccessDeniedException" || !strings.Contains(api.ErrorMessage(), "dynamodb:PutItem") {
				t.Errorf("%s: screen's PutItem: %v, want AccessDeniedException", tc.name, err)
			}
			if len(d.Denied()) != 1 {
				t.Errorf("%s: denied %v", tc.name, d.Denied())
			}
		} else if err != nil {
			t.Errorf("%s: screen's PutItem: %v", tc.name, err)
		}
		// The stack's own clients are no function: unchecked.
		if _, err := client(srv.URL, "local").PutItem(ctx, put); err != nil {
			t.Errorf("%s: an unchecked caller: %v", tc.name, err)
		}
		if used := d.Used()["screen"]; len(used) != 1 || !strings.HasPrefix(used[0], "dynamodb:PutItem arn:aws:dynamodb:us-east-1:000000000000:table/"+table) {
			t.Errorf("%s: screen used %v", tc.name, used)
		}
		srv.Close()
	}
}
