package capacity

import (
	"encoding/json"
	"fmt"
	"os"
)

// Prices is docs/prices.json: the list prices and default quotas the
// counts are weighed with, each with the pages it was read from.
type Prices struct {
	Date   string           `json:"date"`
	Region string           `json:"region"`
	Notes  []string         `json:"notes"`
	Prices map[string]Price `json:"prices"`
	Quotas map[string]Quota `json:"quotas"`
}

// Price is what Per units cost.
type Price struct {
	USD       float64  `json:"usd"`
	Per       float64  `json:"per"`
	Unit      string   `json:"unit"`
	Confirmed bool     `json:"confirmed"`
	Note      string   `json:"note,omitempty"`
	Sources   []string `json:"sources"`
}

// Quota is a default limit, per second unless its unit says otherwise.
type Quota struct {
	Value     float64  `json:"value"`
	Unit      string   `json:"unit"`
	Raisable  bool     `json:"raisable"`
	Confirmed bool     `json:"confirmed"`
	Note      string   `json:"note,omitempty"`
	Sources   []string `json:"sources"`
}

// The lines of the bill, in the order they are shown, with the price each
// is charged at.
var bill = []struct{ line, price string }{
	{"DynamoDB writes", "dynamodb-write-request-unit"},
	{"DynamoDB reads", "dynamodb-read-request-unit"},
	{"Step Functions", "stepfunctions-state-transition"},
	{"Lambda requests", "lambda-request"},
	{"Lambda duration", "lambda-gb-second-arm64"},
	{"SQS", "sqs-request"},
	{"SNS", "sns-publish"},
	{"API Gateway", "apigateway-http-request"},
}

// ReadPrices reads a price file and checks it has every price the bill
// needs.
func ReadPrices(path string) (*Prices, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("capacity: prices: %w", err)
	}
	var p Prices
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("capacity: prices %s: %w", path, err)
	}
	for _, l := range bill {
		if pr, ok := p.Prices[l.price]; !ok || pr.Per <= 0 {
			return nil, fmt.Errorf("capacity: prices %s: no price %q", path, l.price)
		}
	}
	return &p, nil
}

// cost is what quantity units of the named price cost.
func (p *Prices) cost(price string, quantity float64) float64 {
	pr := p.Prices[price]
	return quantity * pr.USD / pr.Per
}
