package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/callbacks"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/egress"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/orderevents"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/payment"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/stock"
	"github.com/xborder/xborder/shared/storetest"
)

// MaxOrderItemBytes bounds the order item of a 10-line order, whatever its
// life brings: one write unit in four KB, one read unit.
const MaxOrderItemBytes = 4 << 10

// anyStock has every SKU, in one warehouse.
type anyStock struct{}

func (anyStock) Reserve(context.Context, string, string, []stock.Item) (string, error) {
	return "CN-SZX-1", nil
}
func (anyStock) Release(context.Context, string) error { return nil }

// announced collects the order events the workflow publishes, for the
// callback sender.
type announced struct {
	mu   sync.Mutex
	msgs []orderevents.Message
}

func (a *announced) Publish(_ context.Context, o *order.Order, ev order.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.msgs = append(a.msgs, orderevents.NewMessage(o, ev))
	return nil
}

func (a *announced) take() []orderevents.Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.msgs
	a.msgs = nil
	return m
}

// A China export's order item stays small whatever its life brings: a
// 10-line partner order taken through the whole workflow on DynamoDB —
// stock, payment, customs with China's four messages and their nine
// receipts, capture, dispatch, and a callback to the partner for every
// status change, the first of them refused once — is under
// MaxOrderItemBytes as stored. The declaration, the messages, the receipts
// and the callback attempts are items of their own, and of the receipts
// and callbacks only the release that settles the wait writes the order.
func TestAChinaExportsOrderItemStaysSmall(t *testing.T) {
	db := dynamotest.Client(t)
	table := dynamotest.Table(t, db)
	store := dynamostore.New(db, table)
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)

	var refused sync.Once
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		status := http.StatusNoContent
		refused.Do(func() { status = http.StatusServiceUnavailable })
		w.WriteHeader(status)
	}))
	t.Cleanup(hook.Close)
	partners, err := partner.Parse(fmt.Appendf(nil, `{"partners": [{"id": "shop", "secrets": ["whsec_0123456789abcdefghijklmnopqrstuv"],
		"format": "native", "callbackUrl": %q, "tradeModes": ["B2C"]}]}`, hook.URL))
	if err != nil {
		t.Fatal(err)
	}
	sender := &callbacks.Sender{Orders: store, Partners: partners, Logger: log, // the hook listens on loopback, as on the local stack
		HTTP: callbacks.NewHTTPClient(callbacks.DefaultTimeout, egress.ForSandbox(egress.LocalSandbox).Dialer())}
	published := &announced{}
	s := &steps.Steps{Orders: store, Stock: anyStock{}, Payments: payment.NewSimulator(), Events: published, Logger: log}
	tell := func() { // the partner-callbacks queue, each message until it is through
		for _, m := range published.take() {
			for try := 1; ; try++ {
				body, _ := json.Marshal(m)
				resp, _ := sender.Handle(ctx, sqsEvent(string(body)))
				if len(resp.BatchItemFailures) == 0 {
					break
				}
				if try == 3 {
					t.Fatalf("the callback of version %d keeps failing", m.Version)
				}
			}
		}
	}

	o := tenLineExport(t, store)
	for _, step := range []func(context.Context, steps.Input) (steps.Result, error){s.Screen, s.ReserveStock, s.AuthorizePayment} {
		if _, err := step(ctx, steps.Input{OrderID: o.ID}); err != nil {
			t.Fatal(err)
		}
		tell()
	}
	customs := NewCustoms(s, &taskLog{}, &BrokerSimulator{}, log)
	wake := receipts.WakeFunc(func(ctx context.Context, id, token string) error {
		_, err := customs.Handle(ctx, batch(TaskMessage{OrderID: id, TaskToken: token}))
		return err
	})
	eport := &EPortSimulator{Deliver: DeliverTo(&receipts.Recorder{Orders: store, Wake: wake, Logger: log}), Logger: log}
	t.Cleanup(eport.Close)
	customs.SetEPort(eport)
	if resp, _ := customs.Handle(ctx, batch(TaskMessage{OrderID: o.ID, TaskToken: "t-customs"})); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("customs: %+v", resp)
	}
	eport.Drain()
	tell()
	if _, err := s.CapturePayment(ctx, steps.Input{OrderID: o.ID}); err != nil {
		t.Fatal(err)
	}
	tell()
	if resp, _ := NewDispatch(s, &taskLog{}, &WarehouseSimulator{}, log).Handle(ctx, batch(TaskMessage{OrderID: o.ID, TaskToken: "t-wh"})); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("dispatch: %+v", resp)
	}
	if _, err := s.MarkDispatched(ctx, steps.Input{OrderID: o.ID}); err != nil {
		t.Fatal(err)
	}
	tell()

	got, err := store.GetOrder(ctx, o.ID)
	if err != nil || got.Status != order.StatusDispatched {
		t.Fatalf("the order ended %v (%v), want DISPATCHED", got, err)
	}
	docs, _ := store.CustomsDocuments(ctx, o.ID)
	told, _ := store.Callbacks(ctx, o.ID)
	if len(docs.Declaration) == 0 || len(docs.Messages) != 4 || len(docs.Receipts) != 9 || told.DeliveredVersion != got.Version ||
		len(told.Attempts) != 7 {
		t.Fatalf("beside the order: declaration of %d bytes, %d messages, %d receipts, told up to %d (want %d) in %d attempts (want 7)",
			len(docs.Declaration), len(docs.Messages), len(docs.Receipts), told.DeliveredVersion, got.Version, len(told.Attempts))
	}
	raw, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "ORDER#" + o.ID}, "SK": &types.AttributeValueMemberS{Value: "ORDER"}}})
	if err != nil {
		t.Fatal(err)
	}
	size := dynamostore.ItemSize(raw.Item)
	t.Logf("the order item: %d bytes; beside it a declaration of %d bytes, %d messages, %d receipts, %d callback attempts",
		size, len(docs.Declaration), len(docs.Messages), len(docs.Receipts), len(told.Attempts))
	if size >= MaxOrderItemBytes {
		t.Fatalf("the order item is %d bytes, want under %d", size, MaxOrderItemBytes)
	}
	// Every version has its event; the rest of the history are notes that
	// did not write the order: eight receipts (the ninth, the release, is
	// the order's own event) and the seven callback attempts.
	h, _ := store.History(ctx, o.ID)
	versions := map[int64]bool{}
	for _, e := range h {
		versions[e.Version] = true
	}
	if int64(len(versions)) != got.Version || len(h)-int(got.Version) != 8+7 {
		t.Fatalf("%d events over %d versions (the order is at %d): want %d notes beside the versions", len(h), len(versions), got.Version, 8+7)
	}
}

// tenLineExport stores the sample 10-line order, shipped from China to
// Germany with goods of the merchant's register, as a partner placed it.
func tenLineExport(t *testing.T, store *dynamostore.Store) *order.Order {
	t.Helper()
	raw, err := os.ReadFile("../order/testdata/order_10_lines.json")
	if err != nil {
		t.Fatal(err)
	}
	var d order.Draft
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	registered := []string{"TSHIRT-COTTON-M", "EARBUDS-BT5", "LAPTOP-14-I7", "CHARGER-65W", "SERUM-HYA-30ML", "TOTE-LEATHER-BLK"}
	for i := range d.Lines {
		d.Lines[i].SKU = registered[i%len(registered)]
	}
	d.Channel, d.PartnerOrderRef = order.ChannelPartner, "PO-2026-0042"
	if errs := d.Validate(); errs != nil {
		t.Fatalf("not a valid order: %+v", errs)
	}
	at := time.Now().UTC()
	o, first := order.Accept(d, "01KLIFE0000000000000000001", "partner:shop", "partner:shop", at)
	o.PartnerID = "shop"
	if _, err := store.CreateOrder(context.Background(), o, first, storetest.Completed("partner:shop", "d-1", o.ID, at), at); err != nil {
		t.Fatal(err)
	}
	return o
}

// sqsEvent is a partner-callbacks queue message as Lambda hands it over.
func sqsEvent(body string) events.SQSEvent {
	return events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m", Body: body, Attributes: map[string]string{"ApproximateReceiveCount": "1"}}}}
}
