package dynamostore_test

import (
	"testing"

	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/dynamostore/dynamotest"
	"github.com/xborder/xborder/shared/storetest"
)

func TestContract(t *testing.T) {
	db := dynamotest.Client(t)
	storetest.Run(t, func(t *testing.T) storetest.Store { return dynamostore.New(db, dynamotest.Table(t, db)) })
}
