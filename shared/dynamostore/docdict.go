package dynamostore

// docDictionary is the preset dictionary doc is deflated with (format 1):
// the attribute names and value shapes an order item is made of, so that
// even a small order compresses. It is part of the stored format: never
// change it; a new dictionary is a new docFormat, and readers keep this one.
var docDictionary = []byte(`{"BOOL":true}{"L":[{"M":{"S":"{"N":"` +
	`"actor""address""answers""assessed""atCheckout""attempts""awaitingChina""businessRegistration""captured"` +
	`"city""collection""country""customsDeclaration""date""decision""declarationForm""declaredAt""delivered"` +
	`"duty""email""entryId""error""estimate""fees""field""fulfilment""gift""guid""hsCode""httpStatus""identity"` +
	`"info""insurance""invtNo""iossNumber""landedTotal""line""matched""meaning""merchantCost""method""noAnswerAt"` +
	`"number""onDelivery""originCountry""outcome""partnerOrderRef""payment""phone""postalCode""preNo""quoteId"` +
	`"receiptCount""receivedAt""refunded""region""resubmits""resubmittedAt""returnStatus""rules""screening"` +
	`"source""stockReserved""submittedAt""supervisionMode""taskToken""title""token""trackingNumber""vatNumber"` +
	`"warehouse""weightGrams""cancelledBy""incoterm":{"S":"DDP"}"incoterm":{"S":"DAP"}` +
	`"rate":{"N":"1"}"fx":{"M":{"from":{"S":"USD"},"to":{"S":"EUR"},"rate":{"N":"0.` +
	`"charge":{"M":{"amount":{"M":{"amount":{"N":"","currency":{"S":"USD"}}},"id":{"S":"ch_","status":{"S":"authorized"}` +
	`"status":{"S":"captured"}"customs":{"M":{"quoted":{"M":{"duty":{"M":{"amount":{"N":"0"},"currency":{"S":"EUR"}}}` +
	`"tax":{"M":{"amount":{"N":"0"},"currency":{"S":"GBP"}}}"fees":{"M":{"amount":{"N":"0"},"currency":{"S":"CNY"}}}` +
	`"buyer":{"M":{"name":{"S":"","email":{"S":"","phone":{"S":"+` +
	`"consignee":{"M":{"address":{"M":{"city":{"S":"","country":{"S":"","line":{"S":"","postalCode":{"S":""name":{"S":"` +
	`"lines":{"L":[{"M":{"hsCode":{"S":"","lineTotal":{"M":{"amount":{"N":"","currency":{"S":"USD"}}},"originCountry":{"S":"CN"},` +
	`"quantity":{"N":"1"},"sku":{"S":"","title":{"S":"","unitPrice":{"M":{"amount":{"N":"","currency":{"S":"USD"}}},"weightGrams":{"N":"`)
