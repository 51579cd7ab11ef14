// Package country knows the ISO 3166-1 alpha-2 country codes and the groupings
// that cross-border rules depend on (such as EU membership).
package country
