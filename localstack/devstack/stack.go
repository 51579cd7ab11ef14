package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssfn "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/xborder/xborder/localstack/hostedui"
	"github.com/xborder/xborder/localstack/iam"
	"github.com/xborder/xborder/localstack/partnersim"
	"github.com/xborder/xborder/localstack/services"
	"github.com/xborder/xborder/localstack/sfn"
	"github.com/xborder/xborder/localstack/stack"
	"github.com/xborder/xborder/shared/auth"
	"github.com/xborder/xborder/shared/dynamostore"
	"github.com/xborder/xborder/shared/partner"
)

// The local stack is one fixed account and region, like LocalStack.
const (
	localRegion       = "us-east-1"
	localTable        = "xborder-orders"
	defaultDynamoPort = 8000
	defaultSQSPort    = 9324
	defaultSFNAddr    = "127.0.0.1:8083"
	defaultAPIAddr    = "127.0.0.1:8080"
	// defaultSignInAddr serves the stand-in of the operators' hosted UI.
	defaultSignInAddr = "127.0.0.1:8085"
	// defaultCallbackAddr receives the demo partners' status callbacks
	// (their callbackUrl in localstack/partners.json).
	defaultCallbackAddr = "127.0.0.1:8089"
	stopGraceful        = 10 * time.Second
)

// localAWSEnv points every AWS SDK client at loopback with dummy credentials,
// the standard way, so production code needs no local-only branches.
func localAWSEnv(dynamoEndpoint string) []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + dynamoEndpoint,
		"AWS_REGION=" + localRegion,
		"AWS_ACCESS_KEY_ID=local",
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// serveLoopback serves h on a free loopback port.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// checkedServices serves the checker's proxies to DynamoDB Local and to
// the queue and topic emulator; writes to DynamoDB wait writeLatency
// first (0: none).
func checkedServices(c *iam.Checker, dynamo, queues string, writeLatency time.Duration) (string, string, func(), error) {
	var urls []string
	var stops []func()
	stop := func() {
		for _, s := range stops {
			s()
		}
	}
	for _, upstream := range []string{dynamo, queues} {
		h, err := c.Proxy(upstream)
		if err != nil {
			stop()
			return "", "", nil, err
		}
		if upstream == dynamo && writeLatency > 0 {
			h = slowWrites(h, writeLatency)
		}
		u, s, err := serveLoopback(h)
		if err != nil {
			stop()
			return "", "", nil, err
		}
		urls, stops = append(urls, u), append(stops, s)
	}
	return urls[0], urls[1], stop, nil
}

// slowWrites delays the DynamoDB writes through h by d: the latency a
// table under strain shows, which the chaos tests use to widen the window
// between a step's call to a partner and its record of it.
func slowWrites(h http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_20120810.") {
		case "PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem":
			time.Sleep(d)
		}
		h.ServeHTTP(w, r)
	})
}

// launchFunctions builds the functions' mains into buildDir — or takes
// those in prebuilt — and prepares their processes, each function's output
// appended to logDir/<function>.log.
func launchFunctions(ctx context.Context, repo, prebuilt, buildDir, logDir string, l stack.Launch) (*stack.Processes, func(), error) {
	var err error
	if prebuilt != "" {
		l.Bins = map[string]string{}
		mains, _ := filepath.Glob(filepath.Join(repo, "functions", "*", "main.go"))
		for _, m := range mains {
			name := filepath.Base(filepath.Dir(m))
			l.Bins[name] = filepath.Join(prebuilt, name)
		}
	} else {
		fmt.Fprintln(os.Stderr, "devstack: building the functions' mains…")
		if l.Bins, err = stack.BuildFunctions(ctx, repo, buildDir); err != nil {
			return nil, nil, err
		}
	}
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, nil, err
	}
	var files []*os.File
	closeLogs := func() {
		for _, f := range files {
			f.Close()
		}
	}
	for name := range l.Bins {
		f, err := os.OpenFile(filepath.Join(logDir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			closeLogs()
			return nil, nil, err
		}
		files = append(files, f)
	}
	byName := map[string]io.Writer{}
	for _, f := range files {
		byName[strings.TrimSuffix(filepath.Base(f.Name()), ".log")] = f
	}
	l.Logs = func(name string) io.Writer { return byName[name] }
	procs, err := stack.LaunchFunctions(l)
	if err != nil {
		closeLogs()
		return nil, nil, err
	}
	return procs, closeLogs, nil
}

// partnerLines lists the partner simulators for the banner.
func partnerLines(s *services.PartnerSet) string {
	var b strings.Builder
	for _, name := range partnersim.Roles {
		if ep, ok := s.Config.Endpoints[name]; ok {
			fmt.Fprintf(&b, "    %-16s %s\n", name, ep.URL)
		}
	}
	return b.String()
}

// devstackBinary is the devstack binary that serves the partner
// simulators: this one, or — in a test binary, which is not devstack — the
// one `devstack with-services` names.
func devstackBinary() (string, error) {
	if bin := os.Getenv(services.EnvDevstack); bin != "" {
		return bin, nil
	}
	return os.Executable()
}

// EnvStripeMockURL tells tests where stripe-mock listens.
const EnvStripeMockURL = "STRIPE_MOCK_URL"

func startTestServices(ctx context.Context, tools string) (env []string, stop func(), err error) {
	var procs []*services.Process
	stop = func() {
		for _, p := range procs {
			_ = p.Stop(stopGraceful)
		}
	}
	ddb, err := services.DynamoDBLocal{ToolsDir: tools}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, ddb)
	q, err := services.Fauxqs{ToolsDir: tools}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, q)
	sm, err := services.StripeMock{ToolsDir: tools}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, sm)
	self, err := devstackBinary()
	if err != nil {
		return nil, stop, err
	}
	// The partners decide within the request (an order with a line of
	// SKU SIM-ANSWER-LATER is answered later, by notification); the
	// E-Port answers by notification 200 ms after a submission.
	partners, err := services.Partners{Binary: self, EPortDelay: 200 * time.Millisecond, StripeMock: sm.Endpoint}.Start(ctx)
	if err != nil {
		return nil, stop, err
	}
	procs = append(procs, partners.Processes...)
	stopServices := stop
	fmt.Fprintf(os.Stderr, "devstack: DynamoDB Local at %s, SQS/SNS (fauxqs) at %s, stripe-mock at %s (recorded at %s), partners in %s\n",
		ddb.Endpoint, q.Endpoint, sm.Endpoint, partners.StripeRecorder, partners.File)
	return append(localAWSEnv(ddb.Endpoint), "AWS_ENDPOINT_URL_SQS="+q.Endpoint, "AWS_ENDPOINT_URL_SNS="+q.Endpoint,
		EnvStripeMockURL+"="+sm.Endpoint, services.EnvPartnerEndpoints+"="+partners.File, services.EnvStripeRecorder+"="+partners.StripeRecorder,
		services.EnvDevstack+"="+self), func() { stopServices(); partners.Stop() }, nil
}

// up runs the local stack until ctx ends (Ctrl-C): DynamoDB Local, the
// SQS/SNS emulator, the Step Functions engine, the partner simulators,
// every function as processes of its own main, and the HTTP API in front
// of the api function, all from the synthesized template.
func up(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("up", flag.ContinueOnError)
	tools := fs.String("tools", ".tools", "where `make tools` installed the services")
	data := fs.String("data", ".local", "where state persists across restarts")
	apiAddr := fs.String("api", defaultAPIAddr, "address the API listens on")
	dynamoPort := fs.Int("dynamodb-port", defaultDynamoPort, "port of DynamoDB Local")
	sqsPort := fs.Int("sqs-port", defaultSQSPort, "port of the SQS/SNS emulator")
	sfnAddr := fs.String("sfn", defaultSFNAddr, "address of the Step Functions engine")
	repo := fs.String("repo", ".", "the repository (for testdata/cdk and events/)")
	callbackAddr := fs.String("callbacks", defaultCallbackAddr, "address of the demo partners' callback receiver")
	eportDelay := fs.Duration("eport-delay", 500*time.Millisecond, "how long the simulated China E-Port takes to answer")
	functions := fs.String("functions", "", "the functions' built mains (default: built from the repository into DATA/functions)")
	partnerDelay := fs.Duration("partner-delay", time.Second, "how long the simulated customs broker and warehouse take to decide (0: within the request)")
	signInAddr := fs.String("signin", defaultSignInAddr, "address of the operators' sign-in (the stand-in of the hosted UI)")
	writeLatency := fs.Duration("write-latency", 0, "delay every DynamoDB write of the functions by this much (the chaos tests; 0: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if abs, err := filepath.Abs(*repo); err == nil {
		*repo = abs // the functions' processes read its files
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", *dynamoPort), fmt.Sprintf("127.0.0.1:%d", *sqsPort), *sfnAddr, *apiAddr, *callbackAddr} {
		if l, err := net.Listen("tcp", addr); err != nil {
			return fmt.Errorf("%s is taken (is another `make dev` running?): %w", addr, err)
		} else {
			l.Close()
		}
	}
	logs := filepath.Join(*data, "logs")
	ddb, err := services.DynamoDBLocal{ToolsDir: *tools, Port: *dynamoPort, DataDir: filepath.Join(*data, "dynamodb"),
		LogPath: filepath.Join(logs, "dynamodb.log")}.Start(ctx)
	if err != nil {
		return err
	}
	defer ddb.Stop(stopGraceful)
	// Supervised, as a service manager would: a local service that crashes
	// starts again with what it had persisted (the chaos tests kill them).
	ddb.Supervise(ctx, logger)
	q, err := services.Fauxqs{ToolsDir: *tools, Port: *sqsPort, DataDir: filepath.Join(*data, "fauxqs"), LogPath: filepath.Join(logs, "fauxqs.log")}.Start(ctx)
	if err != nil {
		return err
	}
	defer q.Stop(stopGraceful)
	q.Supervise(ctx, logger)
	self, err := devstackBinary()
	if err != nil {
		return err
	}
	// The partners: each simulator a process of its own, state in data/partners.
	sims, err := services.Partners{Binary: self, StateDir: filepath.Join(*data, "partners"), LogDir: logs,
		Delay: *partnerDelay, EPortDelay: *eportDelay}.Start(ctx)
	if err != nil {
		return err
	}
	defer sims.Stop()
	sims.Supervise(ctx, logger)

	store, err := sfn.OpenStore(filepath.Join(*data, "stepfunctions"))
	if err != nil {
		return err
	}
	engine := sfn.NewEngine()
	engine.Store, engine.Logger = store, logger
	// The engine shares this process; SIGUSR1 crashes it alone — as a
	// SIGKILL of an engine process would — and starts a new one from its
	// store (sfn.Slot): how the chaos tests kill the engine.
	slot := sfn.NewSlot(engine)
	crashes := make(chan os.Signal, 1)
	signal.Notify(crashes, syscall.SIGUSR1)
	defer signal.Stop(crashes)
	// What was running when the stack stopped is known before anything can
	// start an execution: a StartExecution of the same order returns it.
	// stack.Start resumes it once the functions and queues are wired.
	if err := engine.Load(); err != nil {
		return err
	}
	// Every AWS call a function makes is checked against its role in the
	// template (package iam): the engine's API here, DynamoDB Local and the
	// queue emulator behind proxies below.
	checker, err := iam.ForTemplate(filepath.Join(*repo, "testdata", "cdk", "template.json"), localTable)
	if err != nil {
		return err
	}
	checker.TaskTokens, checker.Log = slot.TokenStateMachine, logger
	rawTemplate, err := os.ReadFile(filepath.Join(*repo, "testdata", "cdk", "template.json"))
	if err != nil {
		return err
	}
	if err := checker.Secrets(rawTemplate); err != nil {
		return err
	}
	sfnLn, err := net.Listen("tcp", *sfnAddr)
	if err != nil {
		return err
	}
	sfnSrv := &http.Server{Handler: checker.Wrap(slot.Handler()), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = sfnSrv.Serve(sfnLn) }()
	sfnURL := "http://" + *sfnAddr

	for _, kv := range append(localAWSEnv(ddb.Endpoint), "AWS_ENDPOINT_URL_SQS="+q.Endpoint, "AWS_ENDPOINT_URL_SNS="+q.Endpoint, "AWS_ENDPOINT_URL_SFN="+sfnURL) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	awsCfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("AWS config: %w", err)
	}
	// The workflow's dynamodb, sns and events tasks reach the local services.
	engine.Services = sfn.AWSServices{Config: awsCfg}
	clients := stack.Clients{
		// DynamoDB Local omits X-Amz-Crc32 on error responses; without this the
		// SDK logs a spurious warning for every failed condition (aws/aws-sdk-go-v2#3545).
		DynamoDB: dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true }),
		SQS:      sqs.NewFromConfig(awsCfg),
		SNS:      sns.NewFromConfig(awsCfg),
	}
	tmpl, err := stack.ReadTemplate(filepath.Join(*repo, "testdata", "cdk", "template.json"))
	if err != nil {
		return err
	}
	res, err := stack.Provision(ctx, tmpl, clients, localTable)
	if err != nil {
		return err
	}
	if err := stack.SeedStock(ctx, dynamostore.NewStock(clients.DynamoDB, localTable), 1000,
		filepath.Join(*repo, "events", "orders"), filepath.Join(*repo, "events", "demo"), filepath.Join(*repo, "events", "partners")); err != nil {
		return err
	}
	partners, err := partner.Load(ctx, "file:"+filepath.Join(*repo, "localstack", "partners.json"), nil)
	if err != nil {
		return err
	}
	stopReceiver, err := callbackReceiver(*callbackAddr, partners, logger)
	if err != nil {
		return err
	}
	defer stopReceiver()
	asl, err := os.ReadFile(filepath.Join(*repo, "testdata", "cdk", "order-workflow.asl.json"))
	if err != nil {
		return err
	}
	// Operators sign in to the console at the stand-in of the operators'
	// hosted UI (code flow with PKCE, TOTP), with localstack/operators.json.
	operators, err := hostedui.Load(filepath.Join(*repo, "localstack", "operators.json"))
	if err != nil {
		return err
	}
	signInLn, err := net.Listen("tcp", *signInAddr)
	if err != nil {
		return err
	}
	signInSrv := &http.Server{Handler: hostedui.New(operators, jwtSecret()).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = signInSrv.Serve(signInLn) }()
	defer signInSrv.Close()
	signInURL := "http://" + *signInAddr
	// Every function is its own main, built for this machine, a process
	// per execution environment behind the Lambda Runtime API, with the
	// environment the template gives it; its output in logs/functions/.
	// Their DynamoDB, SQS and SNS calls go through proxies that check each
	// against the function's role in the template, as its Step Functions
	// calls do.
	checkedDynamo, checkedQueues, stopIAM, err := checkedServices(checker, ddb.Endpoint, q.Endpoint, *writeLatency)
	if err != nil {
		return err
	}
	defer stopIAM()
	procs, closeLogs, err := launchFunctions(ctx, *repo, *functions, filepath.Join(*data, "functions"), filepath.Join(logs, "functions"),
		stack.Launch{Template: tmpl, Resources: res, Repo: *repo, Endpoints: sims.File, APIURL: "http://" + *apiAddr, SignInURL: signInURL,
			AWS: map[string]string{"DYNAMODB": checkedDynamo, "SQS": checkedQueues, "SNS": checkedQueues, "SFN": sfnURL}})
	if err != nil {
		return err
	}
	defer closeLogs()
	defer procs.Close()
	if *writeLatency > 0 {
		logger.Warn("every DynamoDB write of the functions waits first", "latency", writeLatency.String())
	}
	pctx, stopPipeline := context.WithCancel(context.Background())
	p, err := stack.Start(pctx, res, stack.Options{Clients: clients, SFN: awssfn.NewFromConfig(awsCfg), Engine: engine,
		ASL: string(asl), JWTSecret: jwtSecret(), Logger: logger,
		Endpoints: sims.Config, APIURL: "http://" + *apiAddr, APIRoutes: stack.APIRoutes(tmpl), Processes: procs,
		MappingSQS: stack.SQSAs(checkedQueues)})
	if err != nil {
		stopPipeline()
		return err
	}
	srv := &http.Server{Addr: *apiAddr, Handler: p.API, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		stopPipeline()
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go func() {
		for range crashes {
			logger.Warn("SIGUSR1: the Step Functions engine crashes and starts again from its store")
			if err := slot.CrashAndRestart(); err != nil {
				logger.Error("the engine could not start again", "error", err.Error())
			}
		}
	}()

	tok, _ := auth.MintLocal(jwtSecret(), "dev-customer", nil, 24*time.Hour, time.Now())
	fmt.Printf(`
xborder local stack is up (Ctrl-C stops it; state persists in %s, `+"`make dev-reset`"+` wipes it)

  API              http://%s/v1/orders
  Step Functions   %s   (state machine %s)
  SQS and SNS      %s
  DynamoDB Local   %s   (table %s)
  functions        each its own main, processes behind the Lambda Runtime API; logs in %s
  partners (simulated, sandbox "local", each a process; endpoints in %s, logs in %s):
%s
  ops console       http://%s/ops/  (operators sign in at %s: olga@ops.xborder.local, password
                   Local-operator-1!, and the code `+"`make -s totp`"+` prints; rita@… reads only: localstack/operators.json)
  development token for customer "dev-customer" (24 h):
  export TOKEN=%s

  another one:     make -s token SUB=alice
  any AWS SDK or CLI: AWS_ENDPOINT_URL_SFN=%s AWS_ENDPOINT_URL_SQS=%s AWS_ENDPOINT_URL_DYNAMODB=%s, any credentials

`, *data, *apiAddr, sfnURL, p.StateMachineARN, q.Endpoint, ddb.Endpoint, localTable, filepath.Join(logs, "functions"), sims.File, logs, partnerLines(sims),
		*apiAddr, signInURL, tok, sfnURL, q.Endpoint, ddb.Endpoint)

	select {
	case <-ctx.Done():
		fmt.Println("\nstopping…")
	case err = <-served:
		err = fmt.Errorf("API server: %w", err)
	case <-ddb.Exited():
		err = errors.New("DynamoDB Local exited; see " + filepath.Join(logs, "dynamodb.log"))
	case <-q.Exited():
		err = errors.New("the SQS/SNS emulator exited; see " + filepath.Join(logs, "fauxqs.log"))
	}
	sctx, cancel := context.WithTimeout(context.Background(), stopGraceful)
	defer cancel()
	_ = srv.Shutdown(sctx)
	stopPipeline()
	p.Wait()
	_ = sfnSrv.Shutdown(sctx)
	slot.Engine().Close() // running executions stay RUNNING on disk and resume next time
	return err
}
