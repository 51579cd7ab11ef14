package chinacustoms

import (
	"fmt"

	"github.com/xborder/xborder/shared/money"
)

// B2BInventoryLimit is the most a 9710 or 9810 consignment may be worth to
// be declared on the inventory list (CEB603) through the cross-border
// e-commerce system: ¥5,000, inclusive (GACC announcement 2020 No. 75;
// over it, or needing a licence, inspection or export duty, the goods go on
// a customs declaration form through H2018).
var B2BInventoryLimit = money.New(500000, Renminbi)

// RequireDeclarationForm sets d.DeclarationForm when d is a 9710 or 9810
// export whose goods value, converted to the renminbi with toCNY, is over
// B2BInventoryLimit. Without a conversion (toCNY nil) the value cannot be
// told, and the form is required: declaring an over-limit consignment on
// the inventory list would be refused.
func RequireDeclarationForm(d *Declaration, toCNY Converter) error {
	if d.Direction != Export || (d.Mode != Mode9710 && d.Mode != Mode9810) {
		return nil
	}
	if toCNY == nil {
		d.DeclarationForm = true
		return nil
	}
	value := d.Order.GoodsValue
	if value.Currency != Renminbi {
		cny, err := toCNY(value)
		if err != nil {
			return fmt.Errorf("chinacustoms: the goods value in renminbi: %w", err)
		}
		value = cny
	}
	d.DeclarationForm = value.Amount > B2BInventoryLimit.Amount
	return nil
}
