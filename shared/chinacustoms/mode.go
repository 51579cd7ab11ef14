// Package chinacustoms builds what China customs' unified cross-border
// e-commerce system needs for an order: the customs supervision mode (9610,
// 9710, 9810, 1210) and the three documents of the "three-document match" —
// the platform's order, the payment company's payment record and the logistics
// company's waybill — plus the inventory list declared to customs, and it
// checks that they agree the way customs does.
//
// The structures are shaped after the field tables of the CEB message
// specification, 2022-05 edition (/work/shared/reference/china-customs-ceb-202205):
// CEB303 order, CEB403 receipt of payment, CEB505 waybill and CEB603
// inventory for exports; CEB311, CEB411, CEB511 and CEB621 for retail
// imports. Each field names its message field in a comment (// orderNo).
// Rendering the XML messages is left to another package: codes are kept as
// this project holds them (ISO 4217 currencies, ISO 3166-1 alpha-2
// countries, weights in grams, amounts in integer minor units), and the
// renderer maps them to the JGS-20 code tables (CNY → 142, CN → 142), to
// kilograms and to N19,5 decimals.
//
// Goods lines are named by their gnum, counted from 1, which links an order
// line to its inventory line: "lines[2].gcode" in a Mismatch or in
// Declaration.Incomplete is the HS code of the second line.
//
// Personal data (names, telephone numbers, addresses, identity numbers) is
// held as Personal, which fmt and log/slog print as "[withheld]"; errors
// never quote it.
//
// The package is pure Go and knows nothing of AWS.
package chinacustoms

import (
	"errors"
	"fmt"

	"github.com/xborder/xborder/shared/order"
)

// Mode is a China customs supervision mode (监管方式) for cross-border
// e-commerce: the tradeMode of the CEB603/CEB621 inventory list.
type Mode string

// Supervision modes. Legal basis: GACC announcements 2014 No. 12 (9610),
// 2014 No. 57 (1210), 2020 No. 75 (9710, 9810).
const (
	// Mode9610 is cross-border e-commerce retail (跨境电子商务): B2C parcels
	// exported by direct mail, and direct-purchase retail imports (直购进口).
	Mode9610 Mode = "9610"
	// Mode9710 is cross-border e-commerce B2B direct export.
	Mode9710 Mode = "9710"
	// Mode9810 is cross-border e-commerce export to an overseas warehouse.
	Mode9810 Mode = "9810"
	// Mode1210 is bonded cross-border e-commerce (保税跨境贸易电子商务): goods
	// held in a special customs supervision zone; mostly bonded retail
	// imports (网购保税进口), also bonded exports.
	Mode1210 Mode = "1210"
)

// OrderType is the export orderType of CEB303 for the mode: "E" (B2C
// export order) for 9610, "B" (B2B export order) for 9710, "W" (overseas
// warehouse booking, 海外仓订仓单) for 9810. 1210 bonded exports are retail
// export orders and take "E", the only other code CEB303 has. Retail imports
// (CEB311) always take "I", whatever the mode: see OrderTypeImport. An
// unknown mode gives "".
func (m Mode) OrderType() string {
	switch m {
	case Mode9610, Mode1210:
		return "E"
	case Mode9710:
		return "B"
	case Mode9810:
		return "W"
	}
	return ""
}

// OrderTypeImport is the orderType of every CEB311 retail-import order.
const OrderTypeImport = "I"

// Direction is which way the goods cross China's border.
type Direction string

// Directions.
const (
	// Export: the goods leave China.
	Export Direction = "export"
	// Import: the goods enter China as a cross-border retail import.
	Import Direction = "import"
)

// IEFlag is the ieFlag of the inventory list: "E" for exports, "I" for
// imports, "" for anything else.
func (d Direction) IEFlag() string {
	switch d {
	case Export:
		return "E"
	case Import:
		return "I"
	}
	return ""
}

// China is China's ISO 3166-1 alpha-2 code.
const China = "CN"

// Errors of mode selection.
var (
	// ErrNotRetailImport: a B2B import into China is general trade, declared
	// on an ordinary customs declaration, not a cross-border e-commerce
	// retail import.
	ErrNotRetailImport = errors.New("chinacustoms: a B2B import into China is general trade, not a cross-border e-commerce retail import")
	// ErrUnsupportedCombination: no supervision mode fits the direction,
	// trade mode and fulfilment.
	ErrUnsupportedCombination = errors.New("chinacustoms: no supervision mode fits")
	// ErrNotChinaCustoms: the order neither enters nor leaves China.
	ErrNotChinaCustoms = errors.New("chinacustoms: the order neither enters nor leaves China")
)

// SelectMode picks the supervision mode for an order's direction, trade mode
// and fulfilment.
//
// Exports, in this order of precedence:
//   - bonded_warehouse fulfilment → 1210, whatever the trade mode;
//   - overseas_warehouse fulfilment → 9810: goods leaving China for a
//     warehouse abroad — the bulk shipment that stocks it. A consumer
//     order served from that warehouse ships from abroad and is not
//     declared to China at all (DirectionOf);
//   - B2B → 9710;
//   - every other parcel shipped from China (B2C, C2C, M2B2C) → 9610.
//
// Imports into China:
//   - B2B → ErrNotRetailImport, whatever the fulfilment;
//   - B2C, C2C, M2B2C by bonded_warehouse → 1210 (bonded retail import);
//   - B2C, C2C, M2B2C by direct_mail, supplier_direct or
//     overseas_warehouse → 9610 (direct-purchase import).
//
// Anything else (an unknown direction, trade mode or fulfilment) wraps
// ErrUnsupportedCombination and names the combination.
func SelectMode(dir Direction, tm order.TradeMode, f order.Fulfilment) (Mode, error) {
	switch tm {
	case order.TradeB2B, order.TradeB2C, order.TradeC2C, order.TradeM2B2C:
	default:
		return "", fmt.Errorf("%w: unknown trade mode %q (%s, fulfilment %q)", ErrUnsupportedCombination, tm, dir, f)
	}
	switch f {
	case order.FulfilOverseasWarehouse, order.FulfilDirectMail, order.FulfilSupplierDirect, order.FulfilBondedWarehouse:
	default:
		return "", fmt.Errorf("%w: unknown fulfilment %q (%s, trade mode %s)", ErrUnsupportedCombination, f, dir, tm)
	}
	switch dir {
	case Export:
		switch {
		case f == order.FulfilBondedWarehouse:
			return Mode1210, nil
		case f == order.FulfilOverseasWarehouse:
			return Mode9810, nil
		case tm == order.TradeB2B:
			return Mode9710, nil
		default: // B2C, C2C or M2B2C shipped from China
			return Mode9610, nil
		}
	case Import:
		switch {
		case tm == order.TradeB2B:
			return "", fmt.Errorf("%w (fulfilment %s)", ErrNotRetailImport, f)
		case f == order.FulfilBondedWarehouse:
			return Mode1210, nil
		default: // B2C, C2C or M2B2C, direct_mail, supplier_direct or overseas_warehouse
			return Mode9610, nil
		}
	}
	return "", fmt.Errorf("%w: unknown direction %q (trade mode %s, fulfilment %s)", ErrUnsupportedCombination, dir, tm, f)
}

// DirectionOf says whether China customs is involved in o, and which way.
//
// Import: the destination (o.Consignee.Address.Country) is CN.
//
// Export: the parcel ships from China (o.ShipFrom, the country of its
// warehouse) to another country. A China-made line shipped from a
// warehouse abroad is not an export: it left China with the warehouse's
// stock, declared then (9810). An order stored before routes existed has
// no ShipFrom: it is taken for an export when every line's origin is CN
// and it is not served from an overseas warehouse.
//
// ok is false otherwise: China customs is not involved.
func DirectionOf(o *order.Order) (dir Direction, ok bool) {
	if o == nil {
		return "", false
	}
	if o.Consignee.Address.Country == China {
		if o.ShipFrom == China && o.Fulfilment != order.FulfilBondedWarehouse {
			return "", false // a domestic sale in China
		}
		return Import, true // from abroad, or out of a bonded zone (1210)
	}
	if o.ShipFrom != "" {
		return Export, o.ShipFrom == China
	}
	if o.Fulfilment == order.FulfilOverseasWarehouse {
		return "", false // stored before routes: served from the warehouse abroad
	}
	if len(o.Lines) == 0 {
		return "", false
	}
	for _, l := range o.Lines {
		if l.OriginCountry != China {
			return "", false
		}
	}
	return Export, true
}
