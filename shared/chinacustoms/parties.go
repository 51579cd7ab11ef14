package chinacustoms

import (
	"errors"
	"fmt"
)

// Enterprise is a company registered with China customs.
type Enterprise struct {
	// Code is the enterprise's 10-character customs registration code
	// (海关注册登记编号) or its 18-character unified social credit code
	// (统一社会信用代码): digits and upper-case letters.
	Code string
	// Name is the name the enterprise is registered under.
	Name string
}

// NoPlatformCode is what an export order may carry as ebpCode when the
// platform is abroad and has no Chinese code (境外平台企业 ... 可填"无").
const NoPlatformCode = "无"

// Parties is the configuration naming the enterprises of a declaration and
// where it is declared. It is deployment configuration, not order data.
type Parties struct {
	// Platform is the e-commerce platform: ebpCode, ebpName.
	Platform Enterprise
	// ECommerce is the e-commerce enterprise selling the goods, the consignor
	// or consignee (收发货人) of the inventory list: ebcCode, ebcName. It is
	// also taken as the producer/seller (ownerCode, ownerName) of export
	// inventories and as the guarantor (assureCode) of import inventories.
	ECommerce Enterprise
	// Payment is the payment company: payCode, payName.
	Payment Enterprise
	// Logistics is the logistics company: logisticsCode, logisticsName.
	Logistics Enterprise
	// Agent is the declaring enterprise (申报企业): agentCode, agentName.
	Agent Enterprise
	// BondedWarehouse is the warehousing enterprise inside the special
	// customs supervision zone: iacCode, iacName (CEB603) or areaCode,
	// areaName (CEB621). Required for 1210, unused otherwise.
	BondedWarehouse Enterprise
	// BondedAccountNo is that enterprise's customs account book number
	// (账册编号): emsNo. Required for 1210, unused otherwise.
	BondedAccountNo string
	// CustomsCode is the 4-digit code (JGS/T 18 海关关区代码) of the customs
	// office where the inventory is declared: customsCode.
	CustomsCode string
	// PortCode is the 4-digit code of the customs office at the port where
	// the goods cross the border: portCode.
	PortCode string
}

// ErrInvalidParties reports a Parties configuration that cannot be declared.
var ErrInvalidParties = errors.New("chinacustoms: invalid parties configuration")

// Validate reports every problem with p at once, for a declaration of mode
// in direction dir: every enterprise needs a code of 10 or 18 digits and
// upper-case letters and a name (an export's platform may have the code
// NoPlatformCode), CustomsCode and PortCode 4 digits each, and 1210 needs
// BondedWarehouse and BondedAccountNo. The errors wrap ErrInvalidParties.
func (p Parties) Validate(dir Direction, mode Mode) error {
	var errs []error
	bad := func(format string, a ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidParties}, a...)...))
	}
	checkEnterprise := func(role string, e Enterprise, allowNone bool) {
		switch {
		case allowNone && e.Code == NoPlatformCode:
		case !enterpriseCode(e.Code):
			bad("%s code must be 10 or 18 digits and upper-case letters, not %d characters", role, len([]rune(e.Code)))
		}
		if e.Name == "" {
			bad("%s name is required", role)
		}
	}
	checkEnterprise("platform", p.Platform, dir == Export)
	checkEnterprise("e-commerce enterprise", p.ECommerce, false)
	checkEnterprise("payment company", p.Payment, false)
	checkEnterprise("logistics company", p.Logistics, false)
	checkEnterprise("declaring agent", p.Agent, false)
	if mode == Mode1210 {
		checkEnterprise("bonded warehouse enterprise", p.BondedWarehouse, false)
		if p.BondedAccountNo == "" || len(p.BondedAccountNo) > 30 {
			bad("bonded account number (emsNo) is required for 1210, at most 30 characters")
		}
	}
	if !digits(p.CustomsCode, 4) {
		bad("customs code must be 4 digits")
	}
	if !digits(p.PortCode, 4) {
		bad("port code must be 4 digits")
	}
	return errors.Join(errs...)
}

// DemoParties returns a configuration for demonstrations and tests. Every
// value is fictitious: the codes start with DEMO, which no real customs
// registration code or unified social credit code does, the names say
// "fictitious", and 9999 is used as a placeholder customs and port code.
// Never declare with it.
func DemoParties() Parties {
	return Parties{
		Platform:        Enterprise{Code: "DEMOEBP001", Name: "xborder demo platform (fictitious)"},
		ECommerce:       Enterprise{Code: "DEMO00000000EBC001", Name: "xborder demo e-commerce enterprise (fictitious)"},
		Payment:         Enterprise{Code: "DEMO00000000PAY001", Name: "xborder demo payment company (fictitious)"},
		Logistics:       Enterprise{Code: "DEMOLOG001", Name: "xborder demo logistics company (fictitious)"},
		Agent:           Enterprise{Code: "DEMOAGT001", Name: "xborder demo customs agent (fictitious)"},
		BondedWarehouse: Enterprise{Code: "DEMOWHS001", Name: "xborder demo bonded warehouse (fictitious)"},
		BondedAccountNo: "DEMOEMS0000000000001",
		CustomsCode:     "9999",
		PortCode:        "9999",
	}
}

func enterpriseCode(s string) bool {
	if len(s) != 10 && len(s) != 18 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

func digits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
