package capacity

import (
	"bytes"
	"context"
	"encoding/json"
	"hash/crc32"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
)

// TestCountsAtTheEndpoints runs five orders of each sample path through the
// stack behind the recorder and checks the counts against what they must
// add up to: DynamoDB's units call by call, the engine's histories, one
// execution per order, every key attributed.
func TestCountsAtTheEndpoints(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx, Options{Repo: "../..", InFlight: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	samples, _ := filepath.Glob("../../events/orders/*.json")
	if len(samples) != 5 {
		t.Fatalf("want the five sample paths, found %v", samples)
	}
	prices, err := ReadPrices("../../docs/prices.json")
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	for _, sample := range samples {
		p, err := s.RunPath(ctx, sample, n)
		if err != nil {
			t.Fatal(err)
		}
		d := p.Counts.DynamoDB
		var reported, reportedReads float64
		for op, units := range d.Units {
			if writeOps[op] {
				reported += units
			} else {
				reportedReads += units
			}
		}
		if reported <= 0 {
			t.Errorf("%s: no write units reported: %+v", p.Name, d.Units)
		}
		// A transaction's index units count once (TransactionIndexExcess),
		// its table units by DynamoDB's per-item rule where DynamoDB Local
		// reported less (TransactionShortfall).
		if sum := total(d.WriteUnits); !near(sum+d.TransactionIndexExcess-d.TransactionShortfall, reported) || d.TransactionIndexExcess <= 0 {
			t.Errorf("%s: write units by table and index add up to %v (+ %v transaction index excess - %v shortfall), the calls reported %v",
				p.Name, sum, d.TransactionIndexExcess, d.TransactionShortfall, reported)
		}
		attributed := total(d.Unattributed)
		for _, v := range d.Written {
			attributed += v
		}
		if !near(attributed+d.TransactionIndexExcess-d.TransactionShortfall, reported) {
			t.Errorf("%s: write units by key add up to %v (+ %v transaction index excess), the calls reported %v",
				p.Name, attributed, d.TransactionIndexExcess, reported)
		}
		read := 0.0
		for _, v := range d.Read {
			read += v
		}
		if !near(read, reportedReads) || reportedReads <= 0 {
			t.Errorf("%s: read units by key add up to %v, the calls reported %v", p.Name, read, reportedReads)
		}
		if len(d.Unattributed) > 0 || d.UnknownIndexKeys > 0 {
			t.Errorf("%s: units no key was given: %v; writes with an unknown index key: %d", p.Name, d.Unattributed, d.UnknownIndexKeys)
		}
		sharedTableKey := false
		for k, v := range d.Written {
			sharedTableKey = sharedTableKey || k.Index == "" && !strings.HasPrefix(k.Key, "ORDER#") && v > 0
		}
		if !sharedTableKey {
			t.Errorf("%s: no write was given to a table key other than the orders' own", p.Name)
		}

		entered := 0
		for _, arn := range p.Executions {
			out, err := s.SFN.GetExecutionHistory(ctx, &awssfn.GetExecutionHistoryInput{ExecutionArn: aws.String(arn), MaxResults: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, ev := range out.Events {
				if strings.HasSuffix(string(ev.Type), "StateEntered") {
					entered++
				}
			}
		}
		if p.Workflow.Transitions != entered+p.Workflow.Retries || entered == 0 {
			t.Errorf("%s: %d transitions counted, the histories enter %d states and retry %d times", p.Name, p.Workflow.Transitions, entered, p.Workflow.Retries)
		}
		if p.Counts.SFN["StartExecution"] != n || p.Workflow.Executions != n {
			t.Errorf("%s: %d StartExecution requests and %d executions for %d orders", p.Name, p.Counts.SFN["StartExecution"], p.Workflow.Executions, n)
		}
		if p.Counts.API != n || p.Counts.Deliveries["starter"] == 0 || p.Workflow.Invocations["screen"] != n {
			t.Errorf("%s: %d API requests, %d starter invocations, %d screen invocations for %d orders",
				p.Name, p.Counts.API, p.Counts.Deliveries["starter"], p.Workflow.Invocations["screen"], n)
		}

		f := figures(p, s.Table, prices, memoryMB(s.Template))
		if !near(f.WriteUnits*n+d.TransactionIndexExcess-d.TransactionShortfall, reported) || f.HottestWriteKey.Key == "" || f.CostPer1000Total <= 0 || f.Binding.OrdersPerSecond <= 0 {
			t.Errorf("%s: figures %+v", p.Name, f)
		}
	}
}

// TestAnswersCarryWhatTheCallerAskedFor checks that the recorder's own
// ReturnConsumedCapacity never shows: a caller that asks for none gets
// none, one that asks for TOTAL gets no breakdown, and the checksum
// header matches the body as cut.
func TestAnswersCarryWhatTheCallerAskedFor(t *testing.T) {
	ctx := context.Background()
	ddb, err := endpoint("AWS_ENDPOINT_URL_DYNAMODB")
	if err != nil {
		t.Fatal(err)
	}
	r := NewRecorder(nil)
	proxy := &Stack{}
	defer proxy.Stop()
	url, err := proxy.serve(r.DynamoDB(ddb))
	if err != nil {
		t.Fatal(err)
	}
	direct, _ := clients(ddb, ddb, ddb, ddb)
	proxied, _ := clients(url, url, url, url)
	table := "capacity-answers-" + strconv.FormatInt(time.Now().UnixNano(), 10)
	_, err = direct.DynamoDB.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: ddbtypes.BillingModePayPerRequest,
		AttributeDefinitions: []ddbtypes.AttributeDefinition{{AttributeName: aws.String("PK"), AttributeType: ddbtypes.ScalarAttributeTypeS}},
		KeySchema:            []ddbtypes.KeySchemaElement{{AttributeName: aws.String("PK"), KeyType: ddbtypes.KeyTypeHash}}})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.DynamoDB.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(table)})
	key := map[string]ddbtypes.AttributeValue{"PK": &ddbtypes.AttributeValueMemberS{Value: "k"}}
	put, err := proxied.DynamoDB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: key})
	if err != nil {
		t.Fatal(err)
	}
	if put.ConsumedCapacity != nil {
		t.Errorf("PutItem without ReturnConsumedCapacity answered %+v", put.ConsumedCapacity)
	}
	got, err := proxied.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key,
		ReturnConsumedCapacity: ddbtypes.ReturnConsumedCapacityTotal})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.ConsumedCapacity; c == nil || c.Table != nil || aws.ToFloat64(c.CapacityUnits) <= 0 {
		t.Errorf("GetItem with TOTAL answered %+v", c)
	}
	if s := r.Snapshot().DynamoDB; s.Calls["PutItem"] != 1 || s.Written[Partition{Table: table, Key: "k"}] != 1 {
		t.Errorf("recorded %+v", s)
	}

	// The raw answer: no ConsumedCapacity, and a checksum of what is sent.
	body := `{"TableName":"` + table + `","Key":{"PK":{"S":"k"}}}`
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m["Item"] == nil || m["ConsumedCapacity"] != nil {
		t.Errorf("raw GetItem answered %s (%v)", raw, err)
	}
	if want := strconv.FormatUint(uint64(crc32.ChecksumIEEE(raw)), 10); resp.Header.Get("X-Amz-Crc32") != want {
		t.Errorf("X-Amz-Crc32 %q, the body's is %s", resp.Header.Get("X-Amz-Crc32"), want)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }
