package dynamostore

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

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
