// Package ceb renders a chinacustoms.Declaration as the XML messages of
// China customs' unified cross-border e-commerce system (CEB, 2022-05
// edition): CEB303 order, CEB403 receipt of payment, CEB505 waybill and
// CEB603 inventory list for exports; CEB311, CEB411, CEB511 and CEB621 for
// retail imports into China. Codes are mapped to the JGS-20 tables in
// codes/*.json; a value that cannot be mapped, a field over the schema's
// length, or documents that disagree are refused with a *FieldError naming
// the field.
package ceb

import (
	"crypto/sha1"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Namespace is the CEB messages' XML namespace.
const Namespace = "http://www.chinaport.gov.cn/ceb"

// Message is one rendered message.
type Message struct {
	Type string // "CEB303", ...
	XML  []byte
}

// Signer signs a rendered message (enveloped XML-DSig with the enterprise
// certificate), returning the signed XML.
type Signer interface {
	Sign(msgType string, xml []byte) ([]byte, error)
}

// Unsigned is the default Signer: it returns the message as it is. Note that
// import.xsd requires ds:Signature in CEB621, so an unsigned CEB621 is not
// schema-valid; it must be signed before submission.
type Unsigned struct{}

// Sign returns xml unchanged.
func (Unsigned) Sign(_ string, xml []byte) ([]byte, error) { return xml, nil }

// ErrInvalid is wrapped by every FieldError.
var ErrInvalid = errors.New("ceb: cannot render")

// FieldError names the field that prevents rendering.
type FieldError struct {
	Field   string // e.g. "CEB303 OrderList[1].itemName"
	Problem string
}

func (e *FieldError) Error() string { return "ceb: " + e.Field + ": " + e.Problem }

// Unwrap returns ErrInvalid.
func (e *FieldError) Unwrap() error { return ErrInvalid }

func fieldErr(field, problem string) error { return &FieldError{Field: field, Problem: problem} }

// ChinaTime is China Standard Time, UTC+8 (no DST), in which appTime and the
// dates are written.
var ChinaTime = time.FixedZone("CST", 8*3600)

func appTime(t time.Time) string { return t.In(ChinaTime).Format("20060102150405") }
func appDate(t time.Time) string { return t.In(ChinaTime).Format("20060102") }

// guidNamespace is the name-based UUID namespace of this package's guids
// (a UUIDv5 of the URL namespace and the package path).
var guidNamespace = uuid5([16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8},
	"github.com/xborder/xborder/shared/ceb")

// GUID is the deterministic, upper-case 36-character guid of a message
// (part "message") or of its entity (part "entity") for an order number:
// a name-based (version 5) UUID, so re-rendering gives the same guids.
func GUID(orderNo, msgType, part string) string {
	u := uuid5(guidNamespace, orderNo+"\x00"+msgType+"\x00"+part)
	h := fmt.Sprintf("%x", u[:])
	return strings.ToUpper(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32])
}

func uuid5(ns [16]byte, name string) [16]byte {
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = (u[6] & 0x0f) | 0x50
	u[8] = (u[8] & 0x3f) | 0x80
	return u
}
