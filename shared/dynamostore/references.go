package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/order"
)

const refSK = "REF"

func refPK(ref string) string { return "REF#" + ref }

// refItem says which order a reference (a waybill number, a payment
// transaction, a customs copNo) names, so that an answer carrying only the
// reference finds its order.
type refItem struct {
	PK      string `dynamodbav:"PK"`
	SK      string `dynamodbav:"SK"`
	Type    string `dynamodbav:"type"`
	OrderID string `dynamodbav:"orderId"`
}

// PutReferences records that each reference names order id, each on
// condition that it is new or names id already. A reference that names
// another order is left as it is and reported with order.ErrReferenceTaken;
// the others are recorded.
func (s *Store) PutReferences(ctx context.Context, id string, refs []string) error {
	var errs []error
	for _, ref := range refs {
		item, err := marshal(refItem{PK: refPK(ref), SK: refSK, Type: "reference", OrderID: id})
		if err != nil {
			return fmt.Errorf("dynamostore: reference %s: %w", ref, err)
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
			ConditionExpression:       aws.String("attribute_not_exists(PK) OR orderId = :id"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":id": &types.AttributeValueMemberS{Value: id}}})
		var failed *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &failed):
			errs = append(errs, fmt.Errorf("dynamostore: reference %s: %w", ref, order.ErrReferenceTaken))
		case err != nil:
			return fmt.Errorf("dynamostore: reference %s: %w", ref, err)
		}
	}
	return errors.Join(errs...)
}

// OrderByReference returns the id of the order ref names (strongly
// consistent), or order.ErrNotFound.
func (s *Store) OrderByReference(ctx context.Context, ref string) (string, error) {
	if id, ok := s.settled.get("REF#" + ref); ok {
		return id.(string), nil
	}
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(refPK(ref), refSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return "", fmt.Errorf("dynamostore: reference %s: %w", ref, err)
	}
	if len(out.Item) == 0 {
		return "", fmt.Errorf("dynamostore: reference %s: %w", ref, order.ErrNotFound)
	}
	var it refItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return "", fmt.Errorf("dynamostore: decode reference %s: %w", ref, err)
	}
	s.settled.put("REF#"+ref, it.OrderID)
	return it.OrderID, nil
}

// A partner's own order reference (partnerOrderRef) makes at most one order
// of that partner: CreateOrder claims it, in the order's own transaction,
// with an item of its own that is never deleted. A delivery under another
// id (a partner's resend, a replayed capture) finds the claim and is
// answered with the order it made.

const partnerRefSK = "PARTNER_ORDER_REF"

// partnerRefPK length-prefixes the partner, as idempotencyPK does its
// scope: no (partner, reference) pair spells another's key.
func partnerRefPK(partnerID, ref string) string {
	return "PARTNERREF#" + strconv.Itoa(len(partnerID)) + ":" + partnerID + "#" + ref
}

// partnerRefItem is a claimed reference: the order it made and the answer
// its delivery got (the delivery's key, body hash and response), kept for
// good — the delivery's own record expires. No TTL attribute, and no
// scope (the partner is in the key): the item stays under 1 KB, one write
// (two units in the transaction), at the longest partner id, reference and
// delivery id.
type partnerRefItem struct {
	PK          string    `dynamodbav:"PK"`
	SK          string    `dynamodbav:"SK"`
	Type        string    `dynamodbav:"type"`
	OrderID     string    `dynamodbav:"orderId"`
	Key         string    `dynamodbav:"key"`
	RequestHash string    `dynamodbav:"requestHash"`
	StatusCode  int       `dynamodbav:"statusCode,omitempty"`
	Location    string    `dynamodbav:"location,omitempty"`
	Body        []byte    `dynamodbav:"bodyDeflated,omitempty"`
	CreatedAt   time.Time `dynamodbav:"createdAt"`
}

// partnerRefPut is the claim of o's partner order reference with done's
// answer, or nil for an order that claims none (no partner, or no
// reference).
func partnerRefPut(table string, o *order.Order, done idempotency.Record) (*types.Put, error) {
	if o.PartnerID == "" || o.PartnerOrderRef == "" {
		return nil, nil
	}
	it := partnerRefItem{PK: partnerRefPK(o.PartnerID, o.PartnerOrderRef), SK: partnerRefSK, Type: "partnerOrderRef",
		OrderID: o.ID, Key: done.Key, RequestHash: done.RequestHash, StatusCode: done.StatusCode,
		Location: done.Location, CreatedAt: done.CreatedAt}
	if len(done.Body) > 0 {
		z, err := deflate(done.Body)
		if err != nil {
			return nil, fmt.Errorf("deflate response body: %w", err)
		}
		it.Body = z
	}
	item, err := marshal(it)
	if err != nil {
		return nil, err
	}
	return &types.Put{TableName: aws.String(table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}, nil
}

// decodePartnerRef reads a claimed reference as the completed record of the
// delivery that claimed it (ResourceID the order; no scope and no expiry:
// the claim keeps neither).
func decodePartnerRef(item map[string]types.AttributeValue) (idempotency.Record, bool, error) {
	if len(item) == 0 {
		return idempotency.Record{}, false, nil
	}
	var it partnerRefItem
	if err := attributevalue.UnmarshalMap(item, &it); err != nil {
		return idempotency.Record{}, false, fmt.Errorf("decode partner order reference: %w", err)
	}
	rec := idempotency.Record{Key: it.Key, RequestHash: it.RequestHash, State: idempotency.StateCompleted,
		StatusCode: it.StatusCode, Location: it.Location, ResourceID: it.OrderID, CreatedAt: it.CreatedAt}
	if it.Body != nil {
		body, err := inflate(it.Body)
		if err != nil {
			return idempotency.Record{}, false, fmt.Errorf("decode partner order reference: response body: %w", err)
		}
		rec.Body = body
	}
	return rec, true, nil
}
