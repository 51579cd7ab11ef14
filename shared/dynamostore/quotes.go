package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/xborder/xborder/shared/idempotency"
	"github.com/xborder/xborder/shared/quotes"
)

const quoteSK = "QUOTE"

func quotePK(id string) string { return "QUOTE#" + id }

// quoteItem is an issued quote. The quote itself is kept as JSON text, as
// the API answered it; validUntil is the record's ExpiresAt to the
// nanosecond, and the table's TTL attribute (epoch seconds) a day later, so
// an expired quote can still be shown as expired for a while.
type quoteItem struct {
	PK         string    `dynamodbav:"PK"`
	SK         string    `dynamodbav:"SK"`
	Type       string    `dynamodbav:"type"`
	ID         string    `dynamodbav:"quoteId"`
	CustomerID string    `dynamodbav:"customerId"`
	CartHash   string    `dynamodbav:"cartHash"`
	Quote      string    `dynamodbav:"quote"`
	CreatedAt  time.Time `dynamodbav:"createdAt"`
	ValidUntil time.Time `dynamodbav:"validUntil"`
	TTL        int64     `dynamodbav:"expiresAt"`
}

// PutQuote stores a new quote, on condition that its id is new (else
// quotes.ErrExists, and the stored one is kept).
func (s *Store) PutQuote(ctx context.Context, q quotes.Record) error {
	item, err := marshal(quoteItem{PK: quotePK(q.ID), SK: quoteSK, Type: "quote", ID: q.ID, CustomerID: q.CustomerID,
		CartHash: q.CartHash, Quote: string(q.Quote), CreatedAt: q.CreatedAt.UTC(), ValidUntil: q.ExpiresAt.UTC(),
		TTL: q.ExpiresAt.Add(quotes.Retention).Unix()})
	if err != nil {
		return fmt.Errorf("dynamostore: put quote %s: %w", q.ID, err)
	}
	_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item,
		ConditionExpression: aws.String("attribute_not_exists(PK)")})
	var failed *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &failed):
		return fmt.Errorf("dynamostore: put quote %s: %w", q.ID, quotes.ErrExists)
	case err != nil:
		return fmt.Errorf("dynamostore: put quote %s: %w", q.ID, err)
	}
	return nil
}

// GetQuote reads one quote, strongly consistent; quotes.ErrNotFound if
// there is none (TTL deletes a quote a day or more after it expired).
func (s *Store) GetQuote(ctx context.Context, id string) (*quotes.Record, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(quotePK(id), quoteSK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("dynamostore: get quote %s: %w", id, err)
	}
	if len(out.Item) == 0 {
		return nil, fmt.Errorf("dynamostore: get quote %s: %w", id, quotes.ErrNotFound)
	}
	var it quoteItem
	if err := attributevalue.UnmarshalMap(out.Item, &it); err != nil {
		return nil, fmt.Errorf("dynamostore: decode quote %s: %w", id, err)
	}
	return &quotes.Record{ID: it.ID, CustomerID: it.CustomerID, CartHash: it.CartHash, Quote: []byte(it.Quote),
		CreatedAt: it.CreatedAt, ExpiresAt: it.ValidUntil}, nil
}

// LookupKey reads the record of an idempotency key, strongly consistent;
// found is false when there is none or it has expired at now (TTL deletes
// lazily).
func (s *Store) LookupKey(ctx context.Context, scope, key string, now time.Time) (rec idempotency.Record, found bool, err error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(s.table), Key: itemKey(idempotencyPK(scope, key), idempotencySK), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return idempotency.Record{}, false, fmt.Errorf("dynamostore: look up idempotency key: %w", err)
	}
	rec, ok, err := decodeRecord(out.Item)
	if err != nil {
		return idempotency.Record{}, false, fmt.Errorf("dynamostore: look up idempotency key: %w", err)
	}
	if !ok || !now.Before(rec.ExpiresAt) {
		return idempotency.Record{}, false, nil
	}
	return rec, true, nil
}
