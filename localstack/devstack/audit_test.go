package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/xborder/xborder/shared/payment"
)

// TestTheAuditorCatchesWhatItMust: the chaos and crash audits fail on the
// histories a broken build would leave — an execution started again from
// its beginning, a step run twice, a second capture, money given back for
// a dispatched order — and pass a clean one.
func TestTheAuditorCatchesWhatItMust(t *testing.T) {
	ev := func(id int64, typ sfntypes.HistoryEventType, state string) sfntypes.HistoryEvent {
		e := sfntypes.HistoryEvent{Id: id, Type: typ}
		if state != "" {
			e.StateEnteredEventDetails = &sfntypes.StateEnteredEventDetails{Name: aws.String(state)}
		}
		return e
	}
	clean := []sfntypes.HistoryEvent{ev(1, sfntypes.HistoryEventTypeExecutionStarted, ""), ev(2, sfntypes.HistoryEventTypeTaskStateEntered, "ReserveStock"),
		ev(3, sfntypes.HistoryEventTypeTaskStateEntered, "AuthorizePayment"), ev(4, sfntypes.HistoryEventTypeExecutionSucceeded, "")}
	if f := historyFindings("x", clean); len(f) != 0 {
		t.Fatalf("a clean history: %v", f)
	}
	for name, c := range map[string]struct {
		events []sfntypes.HistoryEvent
		want   string
	}{
		"restarted from its beginning": {append(clean[:1:1], ev(2, sfntypes.HistoryEventTypeExecutionStarted, ""), ev(3, sfntypes.HistoryEventTypeTaskStateEntered, "ReserveStock"),
			ev(4, sfntypes.HistoryEventTypeExecutionSucceeded, "")), "2 starts"},
		"a step run twice": {append(clean[:3:3], ev(4, sfntypes.HistoryEventTypeTaskStateEntered, "AuthorizePayment"), ev(5, sfntypes.HistoryEventTypeExecutionSucceeded, "")),
			"AuthorizePayment entered 2 times"},
		"events lost": {[]sfntypes.HistoryEvent{clean[0], clean[2]}, "event 2 has id 3"},
	} {
		if f := historyFindings("x", c.events); len(f) == 0 || !strings.Contains(strings.Join(f, "\n"), c.want) {
			t.Errorf("%s: findings %v, want %q", name, f, c.want)
		}
	}
	for _, clean := range []struct {
		want expectation
		l    payment.OrderLedger
	}{
		{dispatchedByCard, payment.OrderLedger{Authorizations: 1, Captures: 1}},
		{customsRefused, payment.OrderLedger{Authorizations: 1, Voids: 1}},
		{dispatchedAccount, payment.OrderLedger{}},
	} {
		if f := ledgerFinding("o", clean.want, clean.l); f != "" {
			t.Errorf("a clean ledger: %s", f)
		}
	}
	for name, c := range map[string]struct {
		want expectation
		l    payment.OrderLedger
	}{
		"captured twice":                 {dispatchedByCard, payment.OrderLedger{Authorizations: 1, Captures: 2}},
		"authorized twice":               {dispatchedByCard, payment.OrderLedger{Authorizations: 2, Captures: 1}},
		"refunded though dispatched":     {dispatchedByCard, payment.OrderLedger{Authorizations: 1, Captures: 1, Refunds: 1}},
		"never captured":                 {dispatchedByCard, payment.OrderLedger{Authorizations: 1}},
		"refused by customs, not voided": {customsRefused, payment.OrderLedger{Authorizations: 1}},
		"refused by customs, captured":   {customsRefused, payment.OrderLedger{Authorizations: 1, Captures: 1, Voids: 1}},
		"a declined card charged":        {cardDeclined, payment.OrderLedger{Authorizations: 1}},
		"an account order charged":       {dispatchedAccount, payment.OrderLedger{Authorizations: 1, Captures: 1}},
	} {
		if ledgerFinding("o", c.want, c.l) == "" {
			t.Errorf("%s: no finding", name)
		}
	}
}
