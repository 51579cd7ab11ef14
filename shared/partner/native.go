package partner

import "github.com/xborder/xborder/shared/order"

func init() { registerFormat(FormatNative, nativeMapper{}) }

// nativeMapper reads the project's own order JSON (the body of POST
// /v1/orders, see events/partners/native-order.json) as strictly as that
// endpoint does: one JSON object, no unknown fields. An unknown field, a
// wrong JSON type or trailing data is an error (ErrMalformed; the API's
// 400, as for POST /v1/orders), not a field error: the payload is not
// this format. The channel is always partner, whatever the payload says.
// Field paths are the order's own ("/lines/0/hsCode"), as Validate reports
// them, so they point into the partner's payload too.
type nativeMapper struct{}

func (nativeMapper) Map(raw []byte, _ *Catalogue) (order.Draft, []order.FieldError, error) {
	var d order.Draft
	if err := decodeJSON(raw, &d, true); err != nil {
		return order.Draft{}, nil, err
	}
	d.Channel = order.ChannelPartner
	return d, nil, nil
}
