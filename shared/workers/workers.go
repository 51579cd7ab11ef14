// Package workers consumes the workflow's long steps from SQS: the customs
// broker and the overseas warehouse. Each message carries the order id and
// the Step Functions task token the workflow waits on; the worker calls the
// outside party and answers the token with success or a named failure.
//
// Exactly once in effect: SQS may deliver a message twice, so the worker
// reads the order first — a step already done is answered again, not redone —
// and the outside parties are called with the order id as their key.
package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/chinagoods"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/money"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
	"github.com/xborder/xborder/shared/steps"
	"github.com/xborder/xborder/shared/workflow"
)

// TaskMessage is the body the workflow sends with sqs:sendMessage.waitForTaskToken.
type TaskMessage = workflow.TaskMessage

// Tasks answers task tokens (Step Functions SendTask*).
type Tasks interface {
	SucceedTask(ctx context.Context, token, output string) error
	FailTask(ctx context.Context, token, errorName, cause string) error
	Heartbeat(ctx context.Context, token string) error
}

// Refused is an outside party's business refusal, with its reason code.
type Refused struct{ Reason string }

func (e *Refused) Error() string { return "refused: " + e.Reason }

// ErrPending is a partner's answer that it has the request and decides
// later: the step waits, woken by the partner's notification or, failing
// that, by its own recheck (SetRecheck).
var ErrPending = errors.New("workers: the partner answers later")

// Broker clears an order through customs.
type Broker interface {
	// Clear files the declaration and returns its reference; *Refused when
	// the broker or the authority refuses it; any other error is transient.
	// It is keyed by the declaration's order: filing twice is harmless.
	Clear(ctx context.Context, d *customs.Declaration) (string, error)
}

// Warehouse ships an order.
type Warehouse interface {
	// Ship hands the goods to the carrier and returns the tracking number;
	// *Refused when it cannot ship; any other error is transient.
	Ship(ctx context.Context, o *order.Order) (string, error)
}

// worker is what both workers share: one long step's message loop.
type worker struct {
	steps *steps.Steps
	tasks Tasks
	log   *slog.Logger
	name  string
	// waiting is the history note written when the token is stored.
	waiting string
	// done reads the step's result off the order ("" while not done).
	done func(o *order.Order) string
	// call asks the outside party; record writes its result on the order
	// and returns the history event to store with it.
	call   func(ctx context.Context, o *order.Order) (string, error)
	record func(o *order.Order, result string, now time.Time) (order.Event, error)
	// refusal names the business error a *Refused becomes.
	refusal string
	// output is what the waiting step receives.
	output func(result string) any
	// paced, when set, reports whether call heartbeats the task itself on
	// this order, as the outside party's progress warrants (customs waiting
	// for China's receipts); otherwise one heartbeats before every call.
	paced func(o *order.Order) bool
	// rearm, when set, resets on the order what the step counts per task
	// token, when a new token — a redrive — is stored.
	rearm func(o *order.Order)
	// now is the clock (time.Now when nil).
	now func() time.Time
	// recheck, when set, asks the partner again later about a request it
	// answered pending (SetRecheck).
	recheck Recheck
}

// Recheck sends a step's task message back to its queue after a delay
// (queue.Tasks.WakeAfter): a durable timer that asks a partner again
// about a request it answered pending, should its notification not come.
type Recheck interface {
	WakeAfter(ctx context.Context, orderID, taskToken string, delay time.Duration) error
}

// DefaultRecheck is how long a step waits on a pending partner before
// asking again: well within the steps' heartbeat (900 s), which each
// recheck renews.
const DefaultRecheck = 2 * time.Minute

// failure is call's way of failing the task with a named error other than
// the worker's refusal.
type failure struct{ name, cause string }

func (e *failure) Error() string { return e.name + ": " + e.cause }

func (w *worker) clock() time.Time {
	if w.now == nil {
		return time.Now()
	}
	return w.now()
}

// handle processes a batch; failed messages come back after the queue's
// visibility timeout, and after maxReceiveCount go to its dead-letter queue.
func (w *worker) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var resp events.SQSEventResponse
	for _, m := range ev.Records {
		if err := w.one(ctx, m.Body); err != nil {
			w.log.ErrorContext(ctx, "task message", "messageId", m.MessageId, "worker", w.name, "error", err.Error())
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (w *worker) succeed(ctx context.Context, token, result string) error {
	out, _ := json.Marshal(w.output(result))
	return w.tasks.SucceedTask(ctx, token, string(out))
}

// conflictAttempts bounds how often a worker reads an order again after a
// concurrent change (a receipt, a cancellation, the same task delivered
// twice after a restart) before its message goes back to the queue — for
// the queue's visibility timeout, minutes: conflicts settle in far less.
const conflictAttempts = 10

// again waits a moment, longer each time and jittered so that two workers
// on one order do not collide again, and reports whether to try once more.
func (w *worker) again(ctx context.Context, attempt int) bool {
	if attempt+1 >= conflictAttempts {
		return false
	}
	d := time.Duration(rand.Int64N(int64(10*time.Millisecond) << min(attempt, 5)))
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

func (w *worker) one(ctx context.Context, body string) error {
	var msg TaskMessage
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.OrderID == "" || msg.TaskToken == "" {
		return fmt.Errorf("unusable message (want orderId and taskToken): %v", err)
	}
	for attempt := 0; ; attempt++ {
		o, err := w.steps.Orders.GetOrder(ctx, msg.OrderID)
		if err != nil {
			return fmt.Errorf("read order %s: %w", msg.OrderID, err)
		}
		if r := w.done(o); r != "" {
			return w.succeed(ctx, msg.TaskToken, r) // a redelivery: answer again, do nothing again
		}
		if o.CancelRequested {
			return w.tasks.FailTask(ctx, msg.TaskToken, workflow.ErrOrderCancelled, "cancelled")
		}
		if o.Status.Terminal() {
			return nil // the workflow has ended; nobody waits on this token
		}
		if o.TaskToken != msg.TaskToken {
			// Keep the token with the order so a cancellation can fail it.
			o.TaskToken = msg.TaskToken
			if w.rearm != nil {
				w.rearm(o)
			}
			err := w.steps.Orders.SaveTransition(ctx, o, o.Note(w.waiting, "workflow", w.clock()))
			if errors.Is(err, order.ErrVersionConflict) && w.again(ctx, attempt) {
				continue
			}
			if err != nil {
				return fmt.Errorf("store task token of %s: %w", o.ID, err)
			}
		}
		if w.paced == nil || !w.paced(o) {
			if err := w.tasks.Heartbeat(ctx, msg.TaskToken); err != nil {
				return err
			}
		}
		result, err := w.call(ctx, o)
		var refused *Refused
		if errors.As(err, &refused) {
			return w.tasks.FailTask(ctx, msg.TaskToken, w.refusal, refused.Reason)
		}
		var failed *failure
		if errors.As(err, &failed) {
			return w.tasks.FailTask(ctx, msg.TaskToken, failed.name, failed.cause)
		}
		if errors.Is(err, errAnswerLater) {
			return nil // the order holds the token; whoever answers later wakes the step
		}
		if errors.Is(err, ErrPending) {
			// The partner decides later and notifies; should it not, the
			// step asks again after DefaultRecheck. Without a recheck the
			// message comes back after the queue's visibility timeout.
			if w.recheck == nil {
				return fmt.Errorf("%s of %s: %w", w.name, o.ID, err)
			}
			if err := w.recheck.WakeAfter(ctx, o.ID, msg.TaskToken, DefaultRecheck); err != nil {
				return fmt.Errorf("recheck %s of %s later: %w", w.name, o.ID, err)
			}
			w.log.InfoContext(ctx, "partner answers later", "orderId", o.ID, "worker", w.name)
			return nil
		}
		if errors.Is(err, order.ErrVersionConflict) && w.again(ctx, attempt) {
			continue
		}
		if err != nil {
			return err // transient: the message comes back
		}
		ev, err := w.record(o, result, w.clock())
		if err != nil {
			return err
		}
		o.TaskToken = ""
		err = w.steps.Orders.SaveTransition(ctx, o, ev)
		if errors.Is(err, order.ErrVersionConflict) && w.again(ctx, attempt) {
			continue // the party is keyed by order id: asking again is safe
		}
		if err != nil {
			return fmt.Errorf("record %s result of %s: %w", w.name, o.ID, err)
		}
		if ev.From != ev.To {
			w.steps.Announce(ctx, o, ev)
		}
		return w.succeed(ctx, msg.TaskToken, result)
	}
}

// Customs is the customs-worker: it recomputes the order's landed cost with
// the engine that quoted it, builds the declaration (and China's, where
// Chinese customs declares the goods), files it with the broker, records on
// the order what was assessed and what the merchant bears, and keeps the
// declaration and China's messages beside the order (Documents).
type Customs struct {
	w          worker
	engine     *customs.Engine
	parties    chinacustoms.Parties
	cebOptions func(d *chinacustoms.Declaration) ceb.Options
	refs       References
	docs       Documents
	waits      Waits
	eport      EPort
	wait       ChinaWait
}

// Documents keeps what the customs step files, and customs' receipts,
// beside the order rather than in it (dynamostore.Store): written once,
// read when the step needs them.
type Documents interface {
	// PutCustomsDocuments stores the declaration and the messages, each
	// once, and returns them as stored: those of an earlier attempt stay.
	PutCustomsDocuments(ctx context.Context, id string, d order.CustomsDocuments) (order.CustomsDocuments, error)
	// CustomsDocuments reads the declaration, the messages and the receipts.
	CustomsDocuments(ctx context.Context, id string) (order.CustomsDocuments, error)
	// CustomsReceipts reads the receipts, in the order they arrived.
	CustomsReceipts(ctx context.Context, id string) ([]order.CustomsReceipt, error)
}

// EPort transmits rendered CEB messages to the China E-Port (through the
// enterprise's data exchange client); the receipts come back later through
// the receipts intake (package receipts). It is keyed by the messages'
// guids, which re-rendering keeps: submitting twice is harmless.
type EPort interface {
	Submit(ctx context.Context, d *chinacustoms.Declaration, msgs []ceb.Message) error
}

// References records which order a reference names (ceb.Refs: the waybill
// number, the payment transaction, the inventory's copNo), so that a
// receipt carrying only one of them finds its order.
type References interface {
	PutReferences(ctx context.Context, id string, refs []string) error
}

// NewCustoms returns the customs worker. It declares with the embedded
// customs rules and, for China, the demonstration enterprise codes
// (chinacustoms.DemoParties) until SetChinaParties gives the real ones.
func NewCustoms(s *steps.Steps, tasks Tasks, broker Broker, log *slog.Logger) *Customs {
	c := &Customs{engine: customs.Default(), parties: chinacustoms.DemoParties(), cebOptions: DemoCEBOptions}
	if refs, ok := s.Orders.(References); ok {
		c.refs = refs // the order store keeps the references when it can
	}
	if docs, ok := s.Orders.(Documents); ok {
		c.docs = docs // and the documents: without them nothing is kept, and nothing waits for China
	}
	if waits, ok := s.Orders.(Waits); ok {
		c.waits = waits // and when a wait is due, for the reconciler
	}
	c.w = worker{steps: s, tasks: tasks, log: log, name: "customs", waiting: "awaiting_customs",
		done: func(o *order.Order) string {
			if steps.Reached(o, order.StatusCustomsCleared) {
				return o.CustomsDeclaration
			}
			return ""
		},
		call: func(ctx context.Context, o *order.Order) (string, error) {
			now := c.w.clock()
			if c.waitingForChina(o) {
				return c.awaitChina(ctx, o, now) // woken by a receipt or the reconciler
			}
			// Not submitted yet: from the start — the broker takes the same
			// declaration again.
			d, err := c.declare(o, now)
			if err != nil {
				return "", err
			}
			if customs.NoImport(o.Customs.Assessed) {
				// A domestic supply or an intra-EU distance sale crosses no
				// customs border: nothing to declare to the broker or to
				// China; the assessment recorded on the order says why.
				c.w.log.Info("no customs due", "orderId", o.ID, "regime", o.Customs.Assessed.Regime, "shipFrom", o.ShipFrom)
				return NoCustomsDue, nil
			}
			ref, err := broker.Clear(ctx, d)
			if err != nil {
				return "", err
			}
			var msgs []ceb.Message
			if d.China != nil {
				if msgs, err = c.renderCEB(ctx, o, d.China); err != nil {
					return "", err
				}
			}
			stored, err := c.keep(ctx, o, d, msgs, now)
			if err != nil || d.China == nil || c.eport == nil || c.docs == nil || len(msgs) == 0 {
				return ref, err
			}
			// What is stored is what is submitted: an earlier attempt's
			// documents, if it stored them, with the same guids.
			china, msgs, err := submitted(o.ID, stored)
			if err != nil {
				return "", err
			}
			// Wait for China's release of the inventory list; a B2B export
			// on a declaration form has none, and goes on.
			wait := releasedBy(msgs)
			if err := c.submit(ctx, o, ref, china, msgs, wait, now); err != nil || wait {
				return "", err
			}
			return ref, nil
		},
		record: func(o *order.Order, ref string, now time.Time) (order.Event, error) {
			o.CustomsDeclaration = ref
			if ref == NoCustomsDue {
				return o.Transition(order.StatusCustomsCleared, "no_import", "workflow", now)
			}
			actor := "customs-broker"
			if o.Customs != nil && o.Customs.AwaitingChina {
				o.Customs.AwaitingChina, actor = false, receipts.Actor
			}
			return o.Transition(order.StatusCustomsCleared, "", actor, now)
		},
		refusal: workflow.ErrCustomsRejected,
		output:  func(ref string) any { return map[string]string{"declaration": ref} },
		paced:   c.waitingForChina,
		rearm:   rearmChinaWait,
	}
	return c
}

// NoCustomsDue is the customs step's reference for an order that crosses
// no customs border (customs.NoImport): cleared with nothing declared.
const NoCustomsDue = "NO-CUSTOMS-DUE"

// renderCEB renders China's CEB messages of the declaration and records
// the references their receipts may name the order by. A message that
// cannot be rendered — an import without the buyer's identity number, a
// unit without a customs code — is logged with the field; the broker
// clears on the declaration itself. Errors recording the references are
// transient: the step is retried.
func (c *Customs) renderCEB(ctx context.Context, o *order.Order, d *chinacustoms.Declaration) ([]ceb.Message, error) {
	msgs, err := ceb.Render(d, c.cebOptions(d))
	if err != nil {
		c.w.log.Warn("china customs messages not rendered", "orderId", o.ID, "mode", string(d.Mode), "error", err.Error())
		return nil, nil
	}
	if c.refs != nil {
		err := c.refs.PutReferences(ctx, o.ID, ceb.Refs(d))
		switch {
		case errors.Is(err, order.ErrReferenceTaken):
			// Another order has this waybill or payment: its receipts cannot
			// be told apart. Customs will refuse one of the two; say so.
			c.w.log.Warn("customs reference names another order", "orderId", o.ID, "error", err.Error())
		case err != nil:
			return nil, fmt.Errorf("record the customs references of %s: %w", o.ID, err)
		}
	}
	return msgs, nil
}

// keep stores the declaration and China's messages beside the order (the
// ops API serves them, a resubmission submits them again), each once, and
// notes on the order when the declaration was stored. It returns the
// documents as stored: an earlier attempt's, if it stored them. Without a
// document store nothing is kept. An error is transient: the step is
// retried, and files the same again.
func (c *Customs) keep(ctx context.Context, o *order.Order, d *customs.Declaration, msgs []ceb.Message, now time.Time) (order.CustomsDocuments, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return order.CustomsDocuments{}, fmt.Errorf("encode declaration of %s: %w", o.ID, err)
	}
	docs := order.CustomsDocuments{Declaration: raw}
	for _, m := range msgs {
		docs.Messages = append(docs.Messages, order.CustomsMessage{Type: m.Type, XML: string(m.XML), At: now.UTC()})
	}
	if c.docs == nil {
		return docs, nil
	}
	stored, err := c.docs.PutCustomsDocuments(ctx, o.ID, docs)
	if err != nil {
		return order.CustomsDocuments{}, fmt.Errorf("store the customs documents of %s: %w", o.ID, err)
	}
	if o.Customs.DeclaredAt.IsZero() {
		o.Customs.DeclaredAt = now.UTC()
	}
	return stored, nil
}

// errAnswerLater is call's way of saying the step is not done: the order
// holds the task token, and a receipt wakes the step again.
var errAnswerLater = errors.New("workers: the answer comes later")

// releasedBy reports whether msgs include an inventory list, whose release
// (returnStatus 800) lets the goods go; a B2B export on a declaration form
// has none, and is cleared on the broker's answer.
func releasedBy(msgs []ceb.Message) bool {
	return slices.ContainsFunc(msgs, func(m ceb.Message) bool { return m.Type == "CEB603" || m.Type == "CEB621" })
}

// submit stores the order — after its messages (keep), so that no receipt
// can arrive before them — waiting for China's customs when wait is set,
// with the time of submission, then sends the messages to the E-Port; it
// returns errAnswerLater when the order waits. A failure is transient:
// before the order is stored the step runs again from the start; after,
// the order waits, and a wake submits the messages again once the wait
// falls quiet (awaitChina) — submitting again is harmless.
func (c *Customs) submit(ctx context.Context, o *order.Order, ref string, d *chinacustoms.Declaration, msgs []ceb.Message, wait bool, now time.Time) error {
	if wait {
		if err := c.due(ctx, o.ID, now); err != nil {
			return err
		}
	}
	o.CustomsDeclaration, o.Customs.AwaitingChina, o.Customs.SubmittedAt = ref, wait, now.UTC()
	if err := c.w.steps.Orders.SaveTransition(ctx, o, o.Note("submitted_to_china_eport", "workflow", now)); err != nil {
		return fmt.Errorf("store the CEB messages of %s: %w", o.ID, err)
	}
	if err := c.eport.Submit(ctx, d, msgs); err != nil {
		return fmt.Errorf("submit the CEB messages of %s: %w", o.ID, err)
	}
	c.w.log.Info("submitted to the china e-port", "orderId", o.ID, "messages", len(msgs), "awaitingRelease", wait)
	if wait {
		return errAnswerLater
	}
	return nil
}

// chinaAnswer is what China's customs said of a submitted order, read off
// its receipts: a rejection (100), a failure to reach customs (4, below 0)
// or a return (700) of any message refuses it; the inventory list's release
// (800, 899) clears it; anything else is still waiting.
func (c *Customs) chinaAnswer(o *order.Order, receipts []order.CustomsReceipt) (string, error) {
	released := false
	for _, r := range receipts {
		switch ceb.Outcome(r.Outcome) {
		case ceb.OutcomeRejected, ceb.OutcomeFailed, ceb.OutcomeReturned:
			c.w.log.Warn("china customs refused the order", "orderId", o.ID, "receipt", r.Type, "returnStatus", r.Status)
			return "", &Refused{Reason: "china_customs_rejected"}
		case ceb.OutcomeReleased:
			released = released || r.Answers == "CEB603" || r.Answers == "CEB621"
		}
	}
	if released {
		return o.CustomsDeclaration, nil
	}
	return "", errAnswerLater
}

// SetEPort sets where the rendered CEB messages are submitted. With one, an
// order whose messages include an inventory list waits in the customs step
// for China's customs: the receipts intake wakes the step (Waker), which
// goes on once the inventory list is released and refuses the order
// (china_customs_rejected) when customs rejects any message; a wait whose
// receipts stop short is paced by SetChinaWait. Without one
// the messages are kept beside the order for an operator to download and
// transmit, and the step ends on the broker's answer.
func (c *Customs) SetEPort(e EPort) { c.eport = e }

// DemoCEBOptions are demonstration values for what a CEB message needs and
// an order does not hold: the E-Port data exchange id, the transport mode,
// the port, the packing, each line's legal quantity (one piece, 件), its
// Chinese name and declaration elements from the demonstration merchant's
// goods register (chinagoods.Default; an unregistered SKU keeps the order's
// title) and, for bonded imports (1210), a fictitious bonded account book
// item number per line ("DEMOREC-" and the SKU), for direct-purchase imports
// (9610) the flight and departure country. Production sets them from the enterprise's
// registration, the bonded account book and the product catalogue
// (SetCEBOptions). The buyer's identity number is not among them: the
// declaration carries it (chinacustoms.Build takes it from the order's
// buyer).
func DemoCEBOptions(d *chinacustoms.Declaration) ceb.Options {
	opts := ceb.Options{DXPID: "DXPENTDEMO000001", TrafMode: "5", POD: "0000", WrapType: "2", Lines: map[int]ceb.LineExtra{}}
	for _, l := range d.Order.Lines {
		x := ceb.LineExtra{LegalQty: strconv.FormatInt(l.Qty, 10), LegalUnit: "011"}
		if rec, ok := chinagoods.Default().Lookup(l.ItemNo); ok {
			x.Name, x.Model, x.BarCode = rec.Name, rec.Model, rec.BarCode
		}
		if d.Mode == chinacustoms.Mode1210 {
			x.ItemRecordNo = "DEMOREC-" + l.ItemNo[:min(len(l.ItemNo), 22)] // itemRecordNo C..30
		}
		opts.Lines[l.GNum] = x
	}
	if d.Direction == chinacustoms.Import && d.Mode == chinacustoms.Mode9610 {
		// A direct-purchase parcel flies in on the carrier's consolidated
		// flight: its flight and master air waybill (demonstration values),
		// from the country its goods come from.
		opts.TrafNo, opts.VoyageNo = "DEMO AIRLINE", "XB0"+appDay(d)
		if len(d.Order.Lines) > 0 {
			opts.DepartureCountry = d.Order.Lines[0].OriginCountry
		}
	}
	return opts
}

// SetCEBOptions sets how the CEB messages' extra values are found.
func (c *Customs) SetCEBOptions(f func(d *chinacustoms.Declaration) ceb.Options) { c.cebOptions = f }

// SetChinaParties sets the enterprises declared to Chinese customs.
func (c *Customs) SetChinaParties(p chinacustoms.Parties) { c.parties = p }

// declare assesses o and builds its declaration, recording the assessment
// on o. Business problems come back as *Refused.
func (c *Customs) declare(o *order.Order, now time.Time) (*customs.Declaration, error) {
	q, err := c.engine.Quote(customs.CartOf(o))
	switch {
	case errors.Is(err, customs.ErrUnsupportedDestination):
		return nil, &Refused{Reason: "destination_not_supported"}
	case err != nil:
		c.w.log.Warn("landed cost", "orderId", o.ID, "error", err.Error())
		return nil, &Refused{Reason: "landed_cost_unavailable"}
	}
	if o.Customs == nil {
		o.Customs = &order.CustomsRecord{}
	}
	rec := o.Customs
	rec.Assessed = q.Record(now)
	// The shopper never pays more than quoted: what the assessment adds to
	// what was collected at checkout is the merchant's.
	quoted := int64(0)
	if rec.Quoted != nil {
		quoted = rec.Quoted.AtCheckout.Amount
	}
	rec.MerchantCost = nil
	if extra := rec.Assessed.AtCheckout.Amount - quoted; extra > 0 {
		m := money.New(extra, o.Currency)
		rec.MerchantCost = &m
	}
	china, err := c.china(o, now)
	if err != nil {
		return nil, err
	}
	if china != nil {
		rec.SupervisionMode, rec.DeclarationForm = string(china.Mode), china.DeclarationForm
	}
	return customs.Declare(o, q, china, now), nil
}

// china builds China's declaration when Chinese customs declares the goods:
// exports shipped from China, and cross-border retail imports into it.
func (c *Customs) china(o *order.Order, now time.Time) (*chinacustoms.Declaration, error) {
	dir, ok := chinacustoms.DirectionOf(o)
	if !ok {
		return nil, nil
	}
	mode, err := chinacustoms.SelectMode(dir, o.TradeMode, o.Fulfilment)
	if errors.Is(err, chinacustoms.ErrNotRetailImport) {
		return nil, nil // general trade: the import declaration alone
	}
	if err != nil {
		return nil, &Refused{Reason: "supervision_mode_unsupported"}
	}
	pay := chinacustoms.PaymentInput{PaidAt: now}
	if o.Payment.Method == order.PaymentPartnerAccount {
		// Paid on the partner's account: the partner's order is the payment record.
		amount := o.ChargeAmount()
		ref := o.PartnerOrderRef
		if ref == "" {
			ref = o.ID
		}
		pay.TransactionID, pay.Amount, pay.PaidAt = o.PartnerID+":"+ref, &amount, o.CreatedAt
	}
	if dir == chinacustoms.Import && o.Currency != "CNY" {
		if o.FX == nil || o.FX.To != "CNY" {
			return nil, &Refused{Reason: "no_renminbi_rate"}
		}
		conv, err := chinacustoms.RateConverter(o.FX.From, o.FX.Rate)
		if err != nil {
			return nil, fmt.Errorf("renminbi rate of %s: %w", o.ID, err)
		}
		pay.ToCNY = conv
	}
	ship := chinacustoms.WaybillInput{LogisticsNo: WaybillNumber(o)}
	if mode == chinacustoms.Mode9610 && dir == chinacustoms.Import {
		ship.BillNo = MasterWaybillNumber(now)
	}
	d, err := chinacustoms.Build(o, pay, ship, c.parties, now)
	var limit *chinacustoms.LimitError
	var mismatch *chinacustoms.MismatchError
	switch {
	case errors.As(err, &limit):
		return nil, &Refused{Reason: "over_retail_import_limit"}
	case errors.As(err, &mismatch):
		c.w.log.Warn("three documents disagree", "orderId", o.ID, "fields", strings.Join(mismatch.Fields(), ","))
		return nil, &Refused{Reason: "three_documents_mismatch"}
	case err != nil:
		c.w.log.Warn("china declaration", "orderId", o.ID, "mode", string(mode), "error", err.Error())
		return nil, &Refused{Reason: "declaration_incomplete"}
	}
	if dir == chinacustoms.Export && (mode == chinacustoms.Mode9710 || mode == chinacustoms.Mode9810) {
		if err := chinacustoms.RequireDeclarationForm(d, c.renminbi(o, now)); err != nil {
			return nil, fmt.Errorf("declaration form of %s: %w", o.ID, err)
		}
		if d.DeclarationForm {
			c.w.log.Info("china declaration form", "orderId", o.ID, "mode", string(mode),
				"why", "a B2B consignment over the inventory list's ¥5,000 (or of unknown value in renminbi) goes on a customs declaration form")
		}
	}
	return d, nil
}

// renminbi converts the order's currency into the renminbi at the
// reference rate of the day, or is nil when there is no such rate.
func (c *Customs) renminbi(o *order.Order, now time.Time) chinacustoms.Converter {
	if o.Currency == chinacustoms.Renminbi {
		return func(m money.Money) (money.Money, error) { return m, nil }
	}
	r, err := c.engine.LockRate(o.Currency, "CN", now)
	if err != nil {
		c.w.log.Warn("no renminbi rate", "orderId", o.ID, "currency", o.Currency, "error", err.Error())
		return nil
	}
	conv, err := chinacustoms.RateConverter(r.From, r.Rate)
	if err != nil {
		c.w.log.Warn("no renminbi rate", "orderId", o.ID, "currency", o.Currency, "error", err.Error())
		return nil
	}
	return conv
}

// WaybillNumber is the logistics waybill number of an order, booked with the
// carrier before customs and kept as the tracking number at dispatch.
func WaybillNumber(o *order.Order) string {
	return "XB" + o.ID[max(len(o.ID)-10, 0):] + o.Destination()
}

// MasterWaybillNumber is the master air waybill of the consolidated flight
// that carries a direct-purchase import (9610) into China: one a day, in
// this demonstration ("XBM" and the date in China).
func MasterWaybillNumber(at time.Time) string {
	return "XBM" + at.In(ceb.ChinaTime).Format("20060102")
}

// appDay is the declaration's day in China (yyyyMMdd), a flight number's
// suffix in the demonstration options.
func appDay(d *chinacustoms.Declaration) string {
	return d.Inventory.DeclaredAt.In(ceb.ChinaTime).Format("0102")
}

// SetRecheck sets how the customs step asks the broker again about a
// declaration it answered pending.
func (c *Customs) SetRecheck(r Recheck) { c.w.recheck = r }

// Handle consumes the customs queue.
func (c *Customs) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return c.w.handle(ctx, ev)
}

// Dispatch is the warehouse-worker: the overseas warehouse ships the goods
// for the Dispatch step; MarkDispatched then records the status.
type Dispatch struct{ w worker }

// NewDispatch returns the warehouse worker.
func NewDispatch(s *steps.Steps, tasks Tasks, wh Warehouse, log *slog.Logger) *Dispatch {
	return &Dispatch{w: worker{steps: s, tasks: tasks, log: log, name: "warehouse", waiting: "awaiting_warehouse",
		done: func(o *order.Order) string { return o.TrackingNumber },
		call: wh.Ship,
		// The goods left: the order is dispatched in the same write that
		// records the parcel's tracking number (MarkDispatched, the step
		// after, then finds it done), one write where there were two.
		record: func(o *order.Order, tracking string, now time.Time) (order.Event, error) {
			o.TrackingNumber = tracking
			if order.CanTransition(o.Status, order.StatusDispatched) {
				return o.Transition(order.StatusDispatched, "", "warehouse:"+o.Warehouse, now)
			}
			return o.Note("shipped", "warehouse:"+o.Warehouse, now), nil
		},
		refusal: workflow.ErrOrderFailed,
		output:  func(tracking string) any { return map[string]string{"trackingNumber": tracking} },
	}}
}

// SetRecheck sets how the dispatch step asks the warehouse again about a
// shipment it answered pending.
func (d *Dispatch) SetRecheck(r Recheck) { d.w.recheck = r }

// Handle consumes the warehouse queue.
func (d *Dispatch) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return d.w.handle(ctx, ev)
}
