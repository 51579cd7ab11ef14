package wiring

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/xborder/xborder/shared/ceb"
	"github.com/xborder/xborder/shared/chinacustoms"
	"github.com/xborder/xborder/shared/partner"
	"github.com/xborder/xborder/shared/partnerlink"
	"github.com/xborder/xborder/shared/workers"
)

// Partner endpoints and the deployment's kind.
const (
	// EnvSandbox names the deployment a sandbox ("local", "staging-eu"):
	// only then may an endpoint be a partner's sandbox or a simulator, and
	// the payment provider the simulator; every log line then carries
	// "sandbox": <name>. Unset: production.
	EnvSandbox = "XBORDER_SANDBOX"
	// EnvPartnerEndpoints is where the partner endpoints are
	// (partnerlink.Config): file:<path> or secretsmanager:<name>.
	EnvPartnerEndpoints = "PARTNER_ENDPOINTS_SOURCE"
	// EnvAPIURL is the API's public base URL: partners post their
	// notifications to its /v1/partners/{partner}/notifications.
	EnvAPIURL = "API_URL"
	// EnvChinaDeclarant is where China's declaration parties are (the
	// enterprises declared and the E-Port data exchange id): file:<path>
	// or secretsmanager:<name>.
	EnvChinaDeclarant = "CHINA_DECLARANT_SOURCE"
)

// Sandbox is the deployment's sandbox name, empty in production.
func Sandbox() string { return os.Getenv(EnvSandbox) }

// Endpoints reads the partner endpoints the environment names and returns
// those of names, or an error naming every partner missing: a production
// function does not start without its partners (nor with a sandbox
// endpoint, unless the deployment is a sandbox).
func Endpoints(ctx context.Context, secrets partner.SecretReader, names ...string) ([]partnerlink.Endpoint, error) {
	cfg, err := PartnerEndpoints(ctx, secrets)
	if err != nil {
		return nil, err
	}
	eps, err := cfg.Require(Sandbox(), names...)
	if err != nil {
		return nil, fmt.Errorf("wiring: %w (%s)", err, os.Getenv(EnvPartnerEndpoints))
	}
	return eps, nil
}

// PartnerEndpoints reads the whole endpoint configuration.
func PartnerEndpoints(ctx context.Context, secrets partner.SecretReader) (partnerlink.Config, error) {
	src, err := Env(EnvPartnerEndpoints)
	if err != nil {
		return partnerlink.Config{}, fmt.Errorf("%w: the partner endpoints (file:<path> or secretsmanager:<name>) are required", err)
	}
	raw, where, err := partner.ReadSource(ctx, src, secrets)
	if err != nil {
		return partnerlink.Config{}, fmt.Errorf("wiring: partner endpoints: %w", err)
	}
	cfg, err := partnerlink.ParseConfig(raw)
	if err != nil {
		return partnerlink.Config{}, fmt.Errorf("wiring: %w (from %s)", err, where)
	}
	return cfg, nil
}

// ChinaDeclarant is what a deployment declares to China's customs with.
type ChinaDeclarant struct {
	Parties chinacustoms.Parties
	// DXPID is the enterprise's E-Port data exchange id.
	DXPID string
}

type enterpriseJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ChinaDeclarantFromEnv reads the declarant the environment names; there
// is no default: demonstration parties never reach a declaration by
// omission.
func ChinaDeclarantFromEnv(ctx context.Context, secrets partner.SecretReader) (ChinaDeclarant, error) {
	src, err := Env(EnvChinaDeclarant)
	if err != nil {
		return ChinaDeclarant{}, fmt.Errorf("%w: China's declaration parties are required", err)
	}
	raw, where, err := partner.ReadSource(ctx, src, secrets)
	if err != nil {
		return ChinaDeclarant{}, fmt.Errorf("wiring: china declarant: %w", err)
	}
	var v struct {
		DXPID           string         `json:"dxpId"`
		Platform        enterpriseJSON `json:"platform"`
		ECommerce       enterpriseJSON `json:"ecommerce"`
		Payment         enterpriseJSON `json:"payment"`
		Logistics       enterpriseJSON `json:"logistics"`
		Agent           enterpriseJSON `json:"agent"`
		BondedWarehouse enterpriseJSON `json:"bondedWarehouse"`
		BondedAccountNo string         `json:"bondedAccountNo"`
		CustomsCode     string         `json:"customsCode"`
		PortCode        string         `json:"portCode"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return ChinaDeclarant{}, fmt.Errorf("wiring: china declarant from %s: %w", where, err)
	}
	e := func(x enterpriseJSON) chinacustoms.Enterprise {
		return chinacustoms.Enterprise{Code: x.Code, Name: x.Name}
	}
	d := ChinaDeclarant{DXPID: v.DXPID, Parties: chinacustoms.Parties{Platform: e(v.Platform), ECommerce: e(v.ECommerce),
		Payment: e(v.Payment), Logistics: e(v.Logistics), Agent: e(v.Agent), BondedWarehouse: e(v.BondedWarehouse),
		BondedAccountNo: v.BondedAccountNo, CustomsCode: v.CustomsCode, PortCode: v.PortCode}}
	if err := d.Parties.Validate(chinacustoms.Import, chinacustoms.Mode9610); err != nil {
		return ChinaDeclarant{}, fmt.Errorf("wiring: china declarant from %s: %w", where, err)
	}
	if d.DXPID == "" {
		return ChinaDeclarant{}, fmt.Errorf("wiring: china declarant from %s: dxpId is required", where)
	}
	return d, nil
}

// CEBOptions are the CEB messages' values an order does not hold: the
// declarant's E-Port data exchange id and, until the product catalogue and
// the bonded account book carry them, the rest as workers.DemoCEBOptions
// sets them (transport mode, port, packing, legal quantities, the goods
// register's Chinese names).
func (d ChinaDeclarant) CEBOptions(x *chinacustoms.Declaration) ceb.Options {
	o := workers.DemoCEBOptions(x)
	o.DXPID = d.DXPID
	return o
}
