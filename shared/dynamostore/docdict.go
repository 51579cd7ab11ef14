package dynamostore

import _ "embed"

// docDictionary is the preset dictionary doc, the idempotency records'
// response bodies and the customs documents are deflated with (doc format
// 1): the doc of one sample order of each path at the end of its life
// (events/orders, placed through the local stack) with every value that is
// the order's own blanked — names, addresses, contacts, products, ids,
// times, amounts — so that it holds what every order shares (attribute
// names, the shape of money and of a landed cost, rule ids, sources,
// statuses, currencies) and nothing of any one order, and compresses
// orders the measurements never saw as well as the samples. Each doc is
// there twice: as plain JSON (the shape of the API's responses, which the
// idempotency records keep) and in DynamoDB's JSON shape (doc's own),
// nearest the end, where matches cost least. It is part of the
// stored format: never change docdict.json; a new dictionary is a new
// docFormat, and readers keep this one.
//
//go:embed docdict.json
var docDictionary []byte
