package memstore_test

import (
	"testing"

	"github.com/xborder/xborder/shared/memstore"
	"github.com/xborder/xborder/shared/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memstore.New() })
}
