package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/customs"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// The wait for China's customs ends. The customs step waits on its task
// token (HeartbeatSeconds 900, TimeoutSeconds 6 h) and is woken by each
// decisive receipt and, every minute, by the reconciler. A wake heartbeats
// the task only while the order's receipts progress; when they fall quiet
// short of a decision the step submits the same messages again (the E-Port
// answers a message it knows with its receipts: a status query), and past
// the last resubmission it fails the task with ChinaCustomsNoAnswer, which
// the workflow does not compensate: the order is STALLED for an operator.
const (
	// DefaultProgressWindow is how recent the order's last receipt or
	// (re)submission must be for a wake to heartbeat the task. It is shorter
	// than the Customs state's heartbeat (900 s): a wait nobody advances is
	// not kept alive by the reconciler's wakes alone.
	DefaultProgressWindow = 5 * time.Minute
	// DefaultQuietPeriod is how long a wait may go without a receipt or a
	// (re)submission before the step submits the messages again.
	DefaultQuietPeriod = 3 * time.Minute
	// DefaultMaxResubmits bounds the resubmissions for one task token: with
	// the defaults the step gives up some 12 to 16 minutes after the last
	// receipt, well within the step's 6-hour timeout.
	DefaultMaxResubmits = 3
)

// ChinaWait paces the customs step's wait for China's customs; a zero field
// takes its default.
type ChinaWait struct {
	// ProgressWindow: a wake heartbeats the task only when the order's last
	// receipt or (re)submission is more recent (DefaultProgressWindow).
	ProgressWindow time.Duration
	// QuietPeriod: a wait with no receipt nor (re)submission for longer is
	// submitted again (DefaultQuietPeriod).
	QuietPeriod time.Duration
	// MaxResubmits bounds the resubmissions per task token; the next quiet
	// wake fails the task with ChinaCustomsNoAnswer (DefaultMaxResubmits).
	MaxResubmits int
}

func (w ChinaWait) progressWindow() time.Duration {
	if w.ProgressWindow <= 0 {
		return DefaultProgressWindow
	}
	return w.ProgressWindow
}

func (w ChinaWait) quietPeriod() time.Duration {
	if w.QuietPeriod <= 0 {
		return DefaultQuietPeriod
	}
	return w.QuietPeriod
}

func (w ChinaWait) maxResubmits() int {
	if w.MaxResubmits <= 0 {
		return DefaultMaxResubmits
	}
	return w.MaxResubmits
}

// SetChinaWait sets how the wait for China's customs is paced.
func (c *Customs) SetChinaWait(w ChinaWait) { c.wait = w }

// Waits keeps when each wait for China's customs is next due
// (dynamostore.Store, in items of their own beside the orders): the
// reconciler wakes the waits that are due, and only those. The step says
// when it must next be woken — the end of the quiet period, when it
// submits again or gives up — whenever it waits on, and clears it when the
// wait ends. A due time set for a wait that then did not begin, or left
// behind, is harmless: the reconciler clears that of an order that does
// not wait.
type Waits interface {
	SetDue(ctx context.Context, id string, at time.Time) error
	ClearDue(ctx context.Context, id string) error
}

// due records that the wait of order id is next due when its quiet period
// ends after last (its latest receipt or submission), before the order
// says it waits: so that no wait goes without one.
func (c *Customs) due(ctx context.Context, id string, last time.Time) error {
	if c.waits == nil {
		return nil
	}
	if err := c.waits.SetDue(ctx, id, last.Add(c.wait.quietPeriod())); err != nil {
		return fmt.Errorf("record when the wait of %s is due: %w", id, err)
	}
	return nil
}

// ended clears the due time of order id's wait, which has ended: decided,
// or given up.
func (c *Customs) ended(ctx context.Context, id string) error {
	if c.waits == nil {
		return nil
	}
	if err := c.waits.ClearDue(ctx, id); err != nil {
		return fmt.Errorf("clear the due time of the wait of %s: %w", id, err)
	}
	return nil
}

// waitingForChina reports whether o's messages were submitted and the step
// waits for China's customs to decide on them.
func (c *Customs) waitingForChina(o *order.Order) bool {
	return c.eport != nil && c.docs != nil && o.Customs != nil && o.Customs.AwaitingChina
}

// rearmChinaWait resets the resubmissions when a new task token — a
// redrive — takes over the wait: the operator's redrive gets a full round.
func rearmChinaWait(o *order.Order) {
	if o.Customs != nil {
		o.Customs.Resubmits, o.Customs.NoAnswerAt = 0, time.Time{}
	}
}

// awaitChina is a wake of the step waiting for China's customs. It reads
// the order's receipts (documents of their own: a query of the order's
// partition) and answers once they decide (chinaAnswer), counting them on
// the order that the answer stores. Otherwise it heartbeats the task if
// the receipts progressed within the progress window; submits the
// messages again once the wait has been quiet for the quiet period; and,
// quiet after the last resubmission, gives up with ChinaCustomsNoAnswer.
// A wait given up on fails its task again on every wake, without reading
// the receipts: the token is spent, and a late release waits for the
// redrive rather than clearing an order whose execution has failed.
func (c *Customs) awaitChina(ctx context.Context, o *order.Order, now time.Time) (string, error) {
	rec := o.Customs
	if !rec.NoAnswerAt.IsZero() {
		if err := c.ended(ctx, o.ID); err != nil {
			return "", err
		}
		return "", noAnswer(rec) // a lost answer is made up for; a spent token is no error
	}
	receipts, err := c.docs.CustomsReceipts(ctx, o.ID)
	if err != nil {
		return "", fmt.Errorf("read the receipts of %s: %w", o.ID, err)
	}
	rec.ReceiptCount = len(receipts)
	if ref, err := c.chinaAnswer(o, receipts); !errors.Is(err, errAnswerLater) {
		if err := c.ended(ctx, o.ID); err != nil {
			return "", err
		}
		return ref, err
	}
	last := lastProgress(rec, receipts)
	quiet := now.Sub(last)
	switch {
	case quiet < c.wait.quietPeriod():
		if err := c.due(ctx, o.ID, last); err != nil {
			return "", err
		}
		if quiet >= c.wait.progressWindow() {
			c.w.log.Debug("china customs quiet: no heartbeat", "orderId", o.ID, "quietFor", quiet.Round(time.Second).String())
			return "", errAnswerLater
		}
		if err := c.w.tasks.Heartbeat(ctx, o.TaskToken); err != nil {
			return "", err
		}
		return "", errAnswerLater
	case rec.Resubmits >= c.wait.maxResubmits():
		return "", c.giveUp(ctx, o, quiet, now)
	}
	return "", c.resubmit(ctx, o, quiet, now)
}

// lastProgress is when the wait last moved: the latest of the submission,
// the last resubmission and the receipts' arrival (a receipt the order
// held already is not recorded again, so a repeated answer is no progress).
func lastProgress(rec *order.CustomsRecord, receipts []order.CustomsReceipt) time.Time {
	last := rec.SubmittedAt
	if rec.ResubmittedAt.After(last) {
		last = rec.ResubmittedAt
	}
	for _, r := range receipts {
		if r.ReceivedAt.After(last) {
			last = r.ReceivedAt
		}
	}
	return last
}

// resubmit records a resubmission on the order — first, so that the count
// holds whatever the E-Port does — then submits the stored messages again
// (the same XML, the same guids), heartbeats the task and waits on. A
// failure is transient: the message comes back, and the wait, now recent,
// is resubmitted once quiet again.
func (c *Customs) resubmit(ctx context.Context, o *order.Order, quiet time.Duration, now time.Time) error {
	docs, err := c.docs.CustomsDocuments(ctx, o.ID)
	if err != nil {
		return fmt.Errorf("read the customs documents of %s: %w", o.ID, err)
	}
	d, msgs, err := submitted(o.ID, docs)
	if err != nil {
		return err
	}
	if err := c.due(ctx, o.ID, now); err != nil {
		return err
	}
	rec := o.Customs
	rec.Resubmits++
	rec.ResubmittedAt = now.UTC()
	if err := c.w.steps.Orders.SaveTransition(ctx, o, o.Note("resubmitted_to_china_eport", "workflow", now)); err != nil {
		return fmt.Errorf("record the resubmission of %s: %w", o.ID, err)
	}
	if err := c.eport.Submit(ctx, d, msgs); err != nil {
		return fmt.Errorf("resubmit the CEB messages of %s: %w", o.ID, err)
	}
	c.w.log.Info("resubmitted to the china e-port", "orderId", o.ID, "resubmits", rec.Resubmits,
		"quietFor", quiet.Round(time.Second).String(), "receipts", rec.ReceiptCount)
	if err := c.w.tasks.Heartbeat(ctx, o.TaskToken); err != nil {
		return err
	}
	return errAnswerLater
}

// giveUp records on the order that the step gave up on China's answer and
// returns the failure the task is failed with.
func (c *Customs) giveUp(ctx context.Context, o *order.Order, quiet time.Duration, now time.Time) error {
	o.Customs.NoAnswerAt = now.UTC()
	if err := c.w.steps.Orders.SaveTransition(ctx, o, o.Note("china_customs_no_answer", "workflow", now)); err != nil {
		return fmt.Errorf("record that china's customs did not answer %s: %w", o.ID, err)
	}
	if err := c.ended(ctx, o.ID); err != nil {
		return err
	}
	c.w.log.Warn("no decision from china's customs: the step fails", "orderId", o.ID, "errorName", workflow.ErrChinaCustomsNoAnswer,
		"resubmits", o.Customs.Resubmits, "quietFor", quiet.Round(time.Second).String(), "receipts", o.Customs.ReceiptCount)
	return noAnswer(o.Customs)
}

// noAnswer is the task failure of a wait given up on.
func noAnswer(rec *order.CustomsRecord) error {
	return &failure{name: workflow.ErrChinaCustomsNoAnswer,
		cause: fmt.Sprintf("china's customs decided nothing on the messages, submitted again %d times (%d receipts)", rec.Resubmits, rec.ReceiptCount)}
}

// submitted is what the step submits for order id, as stored beside it:
// China's declaration and the rendered messages, whose guids the E-Port
// knows them by.
func submitted(id string, docs order.CustomsDocuments) (*chinacustoms.Declaration, []ceb.Message, error) {
	var d customs.Declaration
	if err := json.Unmarshal(docs.Declaration, &d); err != nil {
		return nil, nil, fmt.Errorf("read the declaration of %s: %w", id, err)
	}
	if d.China == nil || len(docs.Messages) == 0 {
		return nil, nil, fmt.Errorf("order %s waits for china's customs without china's declaration or messages", id)
	}
	msgs := make([]ceb.Message, len(docs.Messages))
	for i, m := range docs.Messages {
		msgs[i] = ceb.Message{Type: m.Type, XML: []byte(m.XML)}
	}
	return d.China, msgs, nil
}
