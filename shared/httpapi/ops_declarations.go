package httpapi

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/receipts"
)

// declarationView lists one rendered customs message of an order.
type declarationView struct {
	Type  string            `json:"type"`
	Bytes int               `json:"bytes"`
	At    time.Time         `json:"at"`
	Links map[string]string `json:"links"`
	// Receipts are the answers to this message, oldest first; Latest is
	// the newest one's outcome (pending, cleared, released, rejected, …),
	// or "awaiting" before the first.
	Receipts []order.CustomsReceipt `json:"receipts"`
	Latest   string                 `json:"latest"`
}

// declarationsOf lists the customs messages rendered for order id (China's
// CEB messages, when Chinese customs declares it), each with its receipts,
// from the documents kept beside the order.
func declarationsOf(id string, docs order.CustomsDocuments) []declarationView {
	list := []declarationView{}
	for _, m := range docs.Messages {
		v := declarationView{Type: m.Type, Bytes: len(m.XML), At: m.At, Receipts: []order.CustomsReceipt{}, Latest: "awaiting",
			Links: map[string]string{"xml": "/v1/ops/orders/" + id + "/declarations/" + m.Type}}
		var latest time.Time
		for _, rc := range docs.Receipts {
			if rc.Answers == m.Type {
				v.Receipts = append(v.Receipts, rc)
				if !rc.At.Before(latest) {
					v.Latest, latest = rc.Outcome, rc.At
				}
			}
		}
		list = append(list, v)
	}
	return list
}

// opsDeclarations lists the customs messages rendered for an order.
func (a *API) opsDeclarations(w http.ResponseWriter, r *http.Request) {
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	docs, err := a.cfg.Store.CustomsDocuments(r.Context(), o.ID)
	if err != nil {
		a.internalError(w, r, "get customs documents", err)
		return
	}
	body := map[string]any{"orderId": o.ID, "declarations": declarationsOf(o.ID, docs)}
	if o.Customs != nil && o.Customs.DeclarationForm {
		body["declarationForm"] = true
	}
	a.writeValue(w, r, http.StatusOK, body)
}

// opsDeclaration returns one customs message as application/xml, read from
// its own item.
func (a *API) opsDeclaration(w http.ResponseWriter, r *http.Request) {
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	want := r.PathValue("messageType")
	m, err := a.cfg.Store.CustomsMessage(r.Context(), o.ID, want)
	switch {
	case errors.Is(err, order.ErrNotFound):
		writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No " + want + " message for this order."})
		return
	case err != nil:
		a.internalError(w, r, "get customs message", err)
		return
	}
	// The message carries the buyer's identity number in full: each
	// download is recorded, with who and when, in the audit log (the
	// number itself never is).
	a.cfg.Logger.InfoContext(r.Context(), "identity number disclosed", "audit", "customs-message-download",
		"operator", identity(r.Context()).Subject, "orderId", o.ID, "messageType", m.Type,
		"at", a.cfg.Now().UTC().Format(time.RFC3339Nano), "requestId", requestID(r.Context()))
	h := w.Header()
	h.Set("Content-Type", "application/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(m.XML)))
	h.Set("Content-Disposition", `attachment; filename="`+o.ID+"-"+m.Type+`.xml"`)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(m.XML))
}

// MaxReceiptBytes bounds a receipt message: 100 returns with 1,000-character
// reasons.
const MaxReceiptBytes = 1 << 20

// opsCustomsReceipt records one CEB receipt message (CEB304, CEB404, CEB506,
// CEB604, CEB312, CEB412, CEB512, CEB622), as the E-Port's data exchange
// client received it, on the orders whose messages it answers.
func (a *API) opsCustomsReceipt(w http.ResponseWriter, r *http.Request) {
	if a.cfg.Receipts == nil {
		notConfigured(w, r, "a receipts recorder")
		return
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mt != "application/xml" && mt != "text/xml") {
		writeProblem(w, r, Problem{Type: problemMediaType, Status: http.StatusUnsupportedMediaType,
			Detail: "Send the receipt message as application/xml, as the E-Port delivered it."})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxReceiptBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		writeProblem(w, r, Problem{Type: problemTooLarge, Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The receipt is larger than %d bytes.", MaxReceiptBytes)})
		return
	case err != nil:
		badRequest(w, r, "The body could not be read.")
		return
	}
	results, err := a.cfg.Receipts.Record(r.Context(), body, a.cfg.Now())
	var bad *ceb.ReceiptError
	var unknown *receipts.UnknownError
	switch {
	case errors.As(err, &bad):
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Detail: "The receipt cannot be read; nothing was recorded.",
			Errors: []order.FieldError{{Field: bad.Field, Code: "invalid_receipt", Message: bad.Problem}}})
		return
	case errors.As(err, &unknown):
		writeProblem(w, r, Problem{Type: problemValidation, Status: http.StatusUnprocessableEntity,
			Detail: "The receipt answers a message this system did not declare; nothing was recorded.",
			Errors: []order.FieldError{{Field: unknown.Field, Code: "unknown_document", Message: unknown.Problem}}})
		return
	case err != nil:
		a.internalError(w, r, "record customs receipt", err)
		return
	}
	a.cfg.Logger.InfoContext(r.Context(), "customs receipt posted", "by", opsActor(r.Context()), "receipt", results[0].Type,
		"returns", len(results))
	a.writeValue(w, r, http.StatusOK, map[string]any{"receipt": results[0].Type, "answers": results[0].Answers, "results": results})
}
