package dynamostore

import "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

// ObserveTransactions hands fn each transaction of s that went through (op
// is put, reserve or release) and the capacity DynamoDB says it consumed.
func (s *Stock) ObserveTransactions(fn func(op string, actions []types.TransactWriteItem, used []types.ConsumedCapacity)) {
	s.observe = fn
}
