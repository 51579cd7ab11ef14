package wiring

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/xborder/xborder/shared/partner"
)

// Partner configuration.
const (
	// EnvPartnersSource is where the partner directory is: file:<path> or
	// secretsmanager:<name> (it holds the partners' signing secrets).
	EnvPartnersSource = "PARTNERS_SOURCE"
	// EnvCatalogueSource is where the product catalogue is (HS codes,
	// origins and weights by SKU, for partner formats that lack them).
	EnvCatalogueSource = "CATALOGUE_SOURCE"
)

// PartnerConfig is the partner directory and the product catalogue.
type PartnerConfig struct {
	// Directory is read again from its source after a while and when a
	// signature fails (partner.Refreshing): a rotated or revoked secret
	// takes effect without a redeploy.
	Directory *partner.Refreshing
	Catalogue *partner.Catalogue
}

// Partners reads the partner directory and the catalogue the environment
// names; without EnvPartnersSource there are no partners (every webhook is
// 404), without EnvCatalogueSource the catalogue is empty.
func Partners(ctx context.Context, secrets partner.SecretReader) (PartnerConfig, error) {
	var pc PartnerConfig
	var err error
	if src := os.Getenv(EnvPartnersSource); src != "" {
		pc.Directory, err = partner.NewRefreshing(ctx, src, secrets, Logger())
	} else {
		var none *partner.Directory
		none, err = partner.Parse([]byte(`{"partners":[]}`))
		pc.Directory = partner.Static(none)
	}
	if err != nil {
		return PartnerConfig{}, fmt.Errorf("wiring: partners: %w", err)
	}
	if src := os.Getenv(EnvCatalogueSource); src != "" {
		pc.Catalogue, err = partner.LoadCatalogueSource(ctx, src, secrets)
	} else {
		pc.Catalogue, err = partner.LoadCatalogue(strings.NewReader(`{"products":[]}`))
	}
	if err != nil {
		return PartnerConfig{}, fmt.Errorf("wiring: catalogue: %w", err)
	}
	return pc, nil
}
