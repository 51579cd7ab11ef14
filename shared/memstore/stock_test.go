package memstore_test

import (
	"testing"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/stock"
	"github.com/xborder/xborder/shared/storetest"
)

func TestStockContract(t *testing.T) {
	storetest.RunStock(t, func(_ *testing.T, sharding stock.Sharding) storetest.Stock {
		s := memstore.NewStock()
		s.Sharding = sharding
		return s
	})
}
