// Command backfill runs the one-off passes that move an existing orders
// table to the sharded index layout (see infra/README.md, "Moving an
// existing table"): it gives every order the keys of the current indexes
// and each order waiting for China's customs a due time (Backfill), then
// sets the status counters from the orders (Recount).
//
//	go run ./shared/dynamostore/backfill -table <TableName output of the stack> [-backfill=false] [-recount=false]
//
// It uses the AWS configuration of the environment (credentials, region,
// AWS_ENDPOINT_URL_DYNAMODB for DynamoDB Local), like the AWS CLI.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/xborder/xborder/shared/dynamostore"
)

func main() {
	table := flag.String("table", "", "the orders table (the stack's TableName output)")
	backfill := flag.Bool("backfill", true, "give every order the new index keys, and the waits for China's customs a due time")
	recount := flag.Bool("recount", true, "then set the status counters from the orders (run it when few orders move)")
	flag.Parse()
	if *table == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *table, *backfill, *recount); err != nil {
		fmt.Fprintln(os.Stderr, "backfill:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, table string, backfill, recount bool) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	s := dynamostore.New(dynamodb.NewFromConfig(cfg), table)
	if backfill {
		start := time.Now()
		rep, err := s.Backfill(ctx, start.UTC())
		if err != nil {
			return err
		}
		fmt.Printf("%d orders: %d given the new keys, %d had them, %d changed meanwhile (their writer set them); %d waits for China's customs due now (%s)\n",
			rep.Orders, rep.Moved, rep.Current, rep.Raced, rep.Waits, time.Since(start).Round(time.Second))
	}
	if !recount {
		return nil
	}
	counts, err := s.Recount(ctx)
	if err != nil {
		return err
	}
	fmt.Println("status counters set:", counts)
	return nil
}
