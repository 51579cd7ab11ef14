package httpapi

import (
	"net/http"
	"strconv"
	"time"
)

// declarationView lists one rendered customs message of an order.
type declarationView struct {
	Type  string            `json:"type"`
	Bytes int               `json:"bytes"`
	At    time.Time         `json:"at"`
	Links map[string]string `json:"links"`
}

// opsDeclarations lists the customs messages rendered for an order (China's
// CEB messages, when Chinese customs declares it).
func (a *API) opsDeclarations(w http.ResponseWriter, r *http.Request) {
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	list := []declarationView{}
	if o.Customs != nil {
		for _, m := range o.Customs.Messages {
			list = append(list, declarationView{Type: m.Type, Bytes: len(m.XML), At: m.At,
				Links: map[string]string{"xml": "/v1/ops/orders/" + o.ID + "/declarations/" + m.Type}})
		}
	}
	a.writeValue(w, r, http.StatusOK, map[string]any{"orderId": o.ID, "declarations": list})
}

// opsDeclaration returns one customs message as application/xml.
func (a *API) opsDeclaration(w http.ResponseWriter, r *http.Request) {
	o, ok := a.opsOrder(w, r)
	if !ok {
		return
	}
	want := r.PathValue("messageType")
	if o.Customs != nil {
		for _, m := range o.Customs.Messages {
			if m.Type == want {
				h := w.Header()
				h.Set("Content-Type", "application/xml; charset=utf-8")
				h.Set("Content-Length", strconv.Itoa(len(m.XML)))
				h.Set("Content-Disposition", `attachment; filename="`+o.ID+"-"+m.Type+`.xml"`)
				h.Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
				_, _ = w.Write([]byte(m.XML))
				return
			}
		}
	}
	writeProblem(w, r, Problem{Type: problemNotFound, Status: http.StatusNotFound, Detail: "No " + want + " message for this order."})
}
