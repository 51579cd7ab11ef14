package sfn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A conformance vector: a definition, an input, what its tasks return, and
// the expected status, output (or error) and event types.
type vector struct {
	name       string
	definition string
	input      string
	// tasks maps a function name to its result: a JSON string, or an error
	// as "!ErrorType:message", or a list of those for successive calls.
	tasks  map[string][]string
	status string
	output string // compared as JSON
	errorN string
	events []string // the event types, in order (nil: not checked)
}

// fakeInvoker answers with canned results and records the payloads.
type fakeInvoker struct {
	results  map[string][]string
	payloads map[string][]string
}

func (f *fakeInvoker) Invoke(_ context.Context, arn string, payload []byte) ([]byte, error) {
	name := arn[strings.LastIndex(arn, ":")+1:]
	f.payloads[name] = append(f.payloads[name], string(payload))
	list := f.results[name]
	if len(list) == 0 {
		return nil, fmt.Errorf("no result for %s", name)
	}
	r := list[0]
	if len(list) > 1 {
		f.results[name] = list[1:]
	}
	if typ, ok := strings.CutPrefix(r, "!"); ok {
		t, msg, _ := strings.Cut(typ, ":")
		return nil, &FunctionError{Type: t, Message: msg}
	}
	return []byte(r), nil
}

// discard accepts every SQS message and delivers none.
type discard struct{}

func (discard) SendMessage(context.Context, string, string, map[string]any, string, string) (string, error) {
	return "m-1", nil
}

func runVector(t *testing.T, v vector) (*execution, *fakeInvoker) {
	t.Helper()
	e := NewEngine()
	e.TimeScale = 0.0001
	inv := &fakeInvoker{results: map[string][]string{}, payloads: map[string][]string{}}
	for k, r := range v.tasks {
		inv.results[k] = append([]string{}, r...)
	}
	e.Invoker, e.Queues = inv, discard{}
	def := strings.ReplaceAll(v.definition, "FN:", "arn:aws:lambda:us-east-1:000000000000:function:")
	sm, err := e.CreateStateMachine("m", def, "arn:aws:iam::000000000000:role/r", "")
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	x, err := e.StartExecution(sm.ARN, "x", v.input)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-e.Done(x.ARN):
	case <-time.After(5 * time.Second):
		t.Fatal("execution did not end")
	}
	e.Wait()
	snap := e.snapshot(x)
	return &snap, inv
}

func jsonSame(a, b string) bool {
	va, err1 := decodeJSON([]byte(a))
	vb, err2 := decodeJSON([]byte(b))
	return err1 == nil && err2 == nil && mustJSON(va) == mustJSON(vb)
}

func checkVectors(t *testing.T, vectors []vector) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			x, _ := runVector(t, v)
			want := v.status
			if want == "" {
				want = StatusSucceeded
			}
			if x.Status != want {
				t.Fatalf("status %s (%s: %s), want %s", x.Status, x.Error, x.Cause, want)
			}
			if v.output != "" && !jsonSame(x.Output, v.output) {
				t.Fatalf("output\n got  %s\n want %s", x.Output, v.output)
			}
			if v.errorN != "" && x.Error != v.errorN {
				t.Fatalf("error %s (%s), want %s", x.Error, x.Cause, v.errorN)
			}
			if v.events != nil {
				var got []string
				for _, ev := range x.history {
					got = append(got, ev.Type)
				}
				if strings.Join(got, ",") != strings.Join(v.events, ",") {
					t.Fatalf("events\n got  %v\n want %v", got, v.events)
				}
				for i, ev := range x.history {
					if ev.ID != int64(i+1) || ev.PreviousEventID != int64(i) {
						t.Fatalf("event %d has id %d previous %d", i, ev.ID, ev.PreviousEventID)
					}
				}
			}
		})
	}
}

// The developer guide's worked examples of input and output processing.
func TestConformanceInputOutput(t *testing.T) {
	checkVectors(t, []vector{
		{
			name: "InputPath, ResultPath and OutputPath (developer guide)",
			definition: `{"StartAt":"Hello","States":{"Hello":{"Type":"Task","Resource":"FN:hello",
				"InputPath":"$.lambda","ResultPath":"$.data.lambdaresult","OutputPath":"$.data","End":true}}}`,
			input:  `{"comment":"An input comment.","data":{"val1":23,"val2":17},"extra":"foo","lambda":{"who":"AWS Step Functions"}}`,
			tasks:  map[string][]string{"hello": {`"Hello, AWS Step Functions!"`}},
			output: `{"val1":23,"val2":17,"lambdaresult":"Hello, AWS Step Functions!"}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted",
				"LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name: "Parameters with static values and paths (developer guide)",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"comment":"Selecting what I care about.",
				"MyDetails":{"size.$":"$.product.details.size","exists.$":"$.product.availability","StaticValue":"foo"}},"End":true}}}`,
			input: `{"comment":"Example for Parameters.","product":{"details":{"color":"blue","size":"small","material":"cotton"},
				"availability":"in stock","sku":"2317","cost":"$23"}}`,
			output: `{"comment":"Selecting what I care about.","MyDetails":{"size":"small","exists":"in stock","StaticValue":"foo"}}`,
			events: []string{"ExecutionStarted", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"},
		},
		{
			name: "ResultSelector picks from the task result",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:emr",
				"ResultSelector":{"ClusterId.$":"$.output.ClusterId","ResourceType.$":"$.resourceType"},"ResultPath":"$.EMROutput","End":true}}}`,
			input:  `{"cluster":"mine"}`,
			tasks:  map[string][]string{"emr": {`{"resourceType":"elasticmapreduce","resource":"createCluster.sync","output":{"SdkHttpMetadata":{"HttpStatusCode":200},"ClusterId":"AKIAIOSFODNN7EXAMPLE"}}`}},
			output: `{"cluster":"mine","EMROutput":{"ClusterId":"AKIAIOSFODNN7EXAMPLE","ResourceType":"elasticmapreduce"}}`,
		},
		{
			name:       "ResultPath $ replaces the input",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","ResultPath":"$","End":true}}}`,
			input:      `{"a":1}`, tasks: map[string][]string{"f": {`"Hello"`}}, output: `"Hello"`,
		},
		{
			name:       "ResultPath null keeps the input",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","ResultPath":null,"End":true}}}`,
			input:      `{"a":1}`, tasks: map[string][]string{"f": {`{"ignored":true}`}}, output: `{"a":1}`,
		},
		{
			name:       "ResultPath into a new nested field",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Result":{"x":1},"ResultPath":"$.a.b.c","End":true}}}`,
			input:      `{"a":{"keep":true}}`, output: `{"a":{"keep":true,"b":{"c":{"x":1}}}}`,
		},
		{
			name:       "OutputPath null gives an empty object",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","OutputPath":null,"End":true}}}`,
			input:      `{"a":1}`, output: `{}`,
		},
		{
			name:       "InputPath null gives an empty object",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":null,"End":true}}}`,
			input:      `{"a":1}`, output: `{}`,
		},
		{
			name: "context object",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"name.$":"$$.Execution.Name","state.$":"$$.State.Name",
				"machine.$":"$$.StateMachine.Name","first.$":"$$.Execution.Input.items[0]","retry.$":"$$.State.RetryCount"},"End":true}}}`,
			input: `{"items":["x","y"]}`, output: `{"name":"x","state":"P","machine":"m","first":"x","retry":0}`,
		},
		{
			name:       "wildcard paths return lists",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"ids.$":"$.lines[*].sku","last.$":"$.lines[-1].sku"},"End":true}}}`,
			input:      `{"lines":[{"sku":"A"},{"sku":"B"}]}`, output: `{"ids":["A","B"],"last":"B"}`,
		},
		{
			name:       "a missing path fails with States.Runtime",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$.nope","End":true}}}`,
			input:      `{"a":1}`, status: StatusFailed, errorN: "States.Runtime",
		},
		{
			name:       "numbers keep their precision",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
			input:      `{"amount":12345678901234567890}`, output: `{"amount":12345678901234567890}`,
		},
	})
}

// The developer guide's examples of the intrinsic functions.
func TestConformanceIntrinsics(t *testing.T) {
	call := func(expr, input, output string) vector {
		return vector{name: expr, input: input, output: `{"r":` + output + `}`,
			definition: fmt.Sprintf(`{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":%q},"End":true}}}`, expr)}
	}
	nine := `{"inputArray":[1,2,3,4,5,6,7,8,9]}`
	checkVectors(t, []vector{
		call("States.Format('Hello, my name is {}.', $.name)", `{"name":"Arnav"}`, `"Hello, my name is Arnav."`),
		call(`States.Format('{} \\{braces\\} {}', $.a, $.b)`, `{"a":1,"b":true}`, `"1 {braces} true"`),
		call("States.StringToJson($.someString)", `{"someString":"{\"number\": 20}"}`, `{"number":20}`),
		call("States.JsonToString($.someJson)", `{"someJson":{"name":"Foo","year":2020}}`, `"{\"name\":\"Foo\",\"year\":2020}"`),
		call("States.Array('Foo', 2020, $.someJson, null)", `{"someJson":{"random":"abcdefg"}}`, `["Foo",2020,{"random":"abcdefg"},null]`),
		call("States.ArrayPartition($.inputArray,4)", nine, `[[1,2,3,4],[5,6,7,8],[9]]`),
		call("States.ArrayContains($.inputArray, $.lookingFor)", `{"inputArray":[1,2,3,4,5,6,7,8,9],"lookingFor":5}`, `true`),
		call("States.ArrayRange(1, 9, 2)", `{}`, `[1,3,5,7,9]`),
		call("States.ArrayGetItem($.inputArray, $.index)", `{"inputArray":[1,2,3,4,5,6,7,8,9],"index":5}`, `6`),
		call("States.ArrayLength($.inputArray)", nine, `9`),
		call("States.ArrayUnique($.inputArray)", `{"inputArray":[1,2,3,3,3,3,3,3,4]}`, `[1,2,3,4]`),
		call("States.Base64Encode($.input)", `{"input":"Data to encode"}`, `"RGF0YSB0byBlbmNvZGU="`),
		call("States.Base64Decode($.base64)", `{"base64":"RGF0YSB0byBlbmNvZGU="}`, `"Data to encode"`),
		call("States.Hash($.Data, $.Algorithm)", `{"Data":"input data","Algorithm":"SHA-1"}`, `"aaff4a450a104cd177d28d18d74485e8cae074b7"`),
		call("States.JsonMerge($.json1, $.json2, false)", `{"json1":{"a":{"a1":1,"a2":2},"b":2},"json2":{"a":{"a3":1,"a4":2},"c":3}}`, `{"a":{"a3":1,"a4":2},"b":2,"c":3}`),
		call("States.MathAdd($.value1, $.step)", `{"value1":111,"step":-1}`, `110`),
		call("States.StringSplit($.inputString, $.splitter)", `{"inputString":"1,2,3,4,5","splitter":","}`, `["1","2","3","4","5"]`),
		call("States.StringSplit($.inputString, $.splitter)", `{"inputString":"This.is+a,test=string","splitter":".+,="}`, `["This","is","a","test","string"]`),
		call("States.ArrayLength(States.Array(1, 2, 3))", `{}`, `3`),
		{name: "intrinsic failure", status: StatusFailed, errorN: "States.IntrinsicFailure", input: `{"a":"x"}`,
			definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"r.$":"States.MathAdd($.a, 1)"},"End":true}}}`},
	})
	x, _ := runVector(t, vector{input: `{}`, definition: `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"u.$":"States.UUID()","r.$":"States.MathRandom(1, 10)"},"End":true}}}`})
	var out struct {
		U string
		R int
	}
	_ = json.Unmarshal([]byte(x.Output), &out)
	if len(out.U) != 36 || out.U[14] != '4' || out.R < 1 || out.R >= 10 {
		t.Fatalf("UUID/MathRandom: %s", x.Output)
	}
}

func TestConformanceChoice(t *testing.T) {
	choice := func(name, rule, input, want string) vector {
		return vector{name: name, input: input, output: `"` + want + `"`,
			definition: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[` + rule + `],"Default":"No"},
				"Yes":{"Type":"Pass","Result":"yes","End":true},"No":{"Type":"Pass","Result":"no","End":true}}}`}
	}
	checkVectors(t, []vector{
		choice("NumericEquals", `{"Variable":"$.value","NumericEquals":0,"Next":"Yes"}`, `{"value":0}`, "yes"),
		choice("NumericLessThanPath", `{"Variable":"$.a","NumericLessThanPath":"$.b","Next":"Yes"}`, `{"a":1,"b":2}`, "yes"),
		choice("NumericGreaterThanEquals", `{"Variable":"$.a","NumericGreaterThanEquals":20,"Next":"Yes"}`, `{"a":19.5}`, "no"),
		choice("StringEquals", `{"Variable":"$.type","StringEquals":"Private","Next":"Yes"}`, `{"type":"Private"}`, "yes"),
		choice("StringLessThan", `{"Variable":"$.s","StringLessThan":"b","Next":"Yes"}`, `{"s":"a"}`, "yes"),
		choice("StringMatches", `{"Variable":"$.file","StringMatches":"log-*.txt","Next":"Yes"}`, `{"file":"log-2026-11.txt"}`, "yes"),
		choice("StringMatches escaped star", `{"Variable":"$.s","StringMatches":"a\\*b","Next":"Yes"}`, `{"s":"axxb"}`, "no"),
		choice("BooleanEquals", `{"Variable":"$.b","BooleanEquals":true,"Next":"Yes"}`, `{"b":true}`, "yes"),
		choice("TimestampLessThan", `{"Variable":"$.t","TimestampLessThan":"2026-11-24T00:00:00Z","Next":"Yes"}`, `{"t":"2026-01-01T00:00:00Z"}`, "yes"),
		choice("IsPresent false", `{"Variable":"$.missing","IsPresent":false,"Next":"Yes"}`, `{}`, "yes"),
		choice("IsNull", `{"Variable":"$.n","IsNull":true,"Next":"Yes"}`, `{"n":null}`, "yes"),
		choice("IsNumeric", `{"Variable":"$.n","IsNumeric":true,"Next":"Yes"}`, `{"n":"1"}`, "no"),
		choice("IsString", `{"Variable":"$.n","IsString":true,"Next":"Yes"}`, `{"n":"1"}`, "yes"),
		choice("IsBoolean", `{"Variable":"$.n","IsBoolean":true,"Next":"Yes"}`, `{"n":false}`, "yes"),
		choice("IsTimestamp", `{"Variable":"$.n","IsTimestamp":true,"Next":"Yes"}`, `{"n":"2026-11-24T10:00:00Z"}`, "yes"),
		choice("And (developer guide)", `{"And":[{"Variable":"$.value","IsPresent":true},{"Variable":"$.value","NumericGreaterThanEquals":20},
			{"Variable":"$.value","NumericLessThan":30}],"Next":"Yes"}`, `{"value":25}`, "yes"),
		choice("Or", `{"Or":[{"Variable":"$.a","StringEquals":"x"},{"Variable":"$.a","StringEquals":"y"}],"Next":"Yes"}`, `{"a":"y"}`, "yes"),
		choice("Not", `{"Not":{"Variable":"$.type","StringEquals":"Private"},"Next":"Yes"}`, `{"type":"Public"}`, "yes"),
		{name: "no rule and no Default", status: StatusFailed, errorN: "States.NoChoiceMatched", input: `{"a":1}`,
			definition: `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$.a","NumericEquals":2,"Next":"Y"}]},"Y":{"Type":"Succeed"}}}`,
			events:     []string{"ExecutionStarted", "ChoiceStateEntered", "ExecutionFailed"}},
	})
}

func TestConformanceRetryCatchFail(t *testing.T) {
	checkVectors(t, []vector{
		{
			name:       "retry then succeed",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Retry":[{"ErrorEquals":["Flaky"],"IntervalSeconds":1,"MaxAttempts":2}],"End":true}}}`,
			input:      `{}`, tasks: map[string][]string{"f": {"!Flaky:first", "!Flaky:second", `{"ok":true}`}}, output: `{"ok":true}`,
			events: []string{"ExecutionStarted", "TaskStateEntered", "LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed",
				"LambdaFunctionScheduled", "LambdaFunctionStarted", "LambdaFunctionFailed", "LambdaFunctionScheduled", "LambdaFunctionStarted",
				"LambdaFunctionSucceeded", "TaskStateExited", "ExecutionSucceeded"},
		},
		{
			name:       "retries run out: the execution fails with the function's error",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Retry":[{"ErrorEquals":["Flaky"],"MaxAttempts":1}],"End":true}}}`,
			input:      `{}`, tasks: map[string][]string{"f": {"!Flaky:a", "!Flaky:b"}}, status: StatusFailed, errorN: "Flaky",
		},
		{
			name:       "MaxAttempts 0 never retries",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Retry":[{"ErrorEquals":["States.ALL"],"MaxAttempts":0}],"End":true}}}`,
			input:      `{}`, tasks: map[string][]string{"f": {"!Boom:a", `{}`}}, status: StatusFailed, errorN: "Boom",
		},
		{
			name: "Catch with ResultPath keeps the input and adds the error",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Catch":[{"ErrorEquals":["Declined"],"ResultPath":"$.error","Next":"H"}],"End":true},
				"H":{"Type":"Pass","End":true}}}`,
			input: `{"orderId":"o1"}`, tasks: map[string][]string{"f": {"!Declined:card_declined"}},
			output: `{"orderId":"o1","error":{"Error":"Declined","Cause":"{\"errorMessage\":\"card_declined\",\"errorType\":\"Declined\"}"}}`,
		},
		{
			name: "States.ALL catches what earlier catchers do not",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Catch":[{"ErrorEquals":["Other"],"Next":"A"},{"ErrorEquals":["States.ALL"],"Next":"B"}],"End":true},
				"A":{"Type":"Pass","Result":"a","End":true},"B":{"Type":"Pass","Result":"b","End":true}}}`,
			input: `{}`, tasks: map[string][]string{"f": {"!Boom:x"}}, output: `"b"`,
		},
		{
			name: "States.TaskFailed matches a function error",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"FN:f","Catch":[{"ErrorEquals":["States.TaskFailed"],"Next":"B"}],"End":true},
				"B":{"Type":"Pass","Result":"b","End":true}}}`,
			input: `{}`, tasks: map[string][]string{"f": {"!Boom:x"}}, output: `"b"`,
		},
		{
			name:       "Fail with Error and Cause",
			definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","Error":"OrderRejected","Cause":"restricted"}}}`,
			input:      `{}`, status: StatusFailed, errorN: "OrderRejected",
			events: []string{"ExecutionStarted", "FailStateEntered", "ExecutionFailed"},
		},
		{
			name:       "Fail with ErrorPath",
			definition: `{"StartAt":"F","States":{"F":{"Type":"Fail","ErrorPath":"$.e","CausePath":"$.c"}}}`,
			input:      `{"e":"FromInput","c":"why"}`, status: StatusFailed, errorN: "FromInput",
		},
		{
			name:       "Wait then Succeed",
			definition: `{"StartAt":"W","States":{"W":{"Type":"Wait","SecondsPath":"$.s","Next":"S"},"S":{"Type":"Succeed"}}}`,
			input:      `{"s":5}`, output: `{"s":5}`,
			events: []string{"ExecutionStarted", "WaitStateEntered", "WaitStateExited", "SucceedStateEntered", "SucceedStateExited", "ExecutionSucceeded"},
		},
		{
			name:       "a task timeout is States.Timeout",
			definition: `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","TimeoutSeconds":1,"Parameters":{"QueueUrl":"q","MessageBody":{"t.$":"$$.Task.Token"}},"End":true}}}`,
			input:      `{}`, status: StatusFailed, errorN: "States.Timeout",
		},
	})
}

func TestUnsupportedFeaturesAreRefusedAtCreation(t *testing.T) {
	for name, def := range map[string]string{
		"JSONata":          `{"QueryLanguage":"JSONata","StartAt":"P","States":{"P":{"Type":"Pass","End":true}}}`,
		"JSONata state":    `{"StartAt":"P","States":{"P":{"Type":"Pass","Output":"{% 1 %}","End":true}}}`,
		"activity":         `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:us-east-1:000000000000:activity:a","End":true}}}`,
		"sync":             `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::ecs:runTask.sync","End":true}}}`,
		"distributed map":  `{"StartAt":"M","States":{"M":{"Type":"Map","ItemReader":{},"ItemProcessor":{"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
		"distributed mode": `{"StartAt":"M","States":{"M":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"P","States":{"P":{"Type":"Pass","End":true}}},"End":true}}}`,
		"recursive path":   `{"StartAt":"P","States":{"P":{"Type":"Pass","InputPath":"$..a","End":true}}}`,
		"filter path":      `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"$.a[?(@.b)]"},"End":true}}}`,
		"unknown function": `{"StartAt":"P","States":{"P":{"Type":"Pass","Parameters":{"x.$":"States.Nope(1)"},"End":true}}}`,
	} {
		_, err := NewEngine().CreateStateMachine("m", def, "", "")
		var ae *APIError
		if !errors.As(err, &ae) || ae.Code != "InvalidDefinition" {
			t.Errorf("%s: %v, want InvalidDefinition", name, err)
			continue
		}
		if !strings.Contains(ae.Message, "not support") && !strings.Contains(ae.Message, "not supported") {
			t.Errorf("%s: the message must say what is not supported: %s", name, ae.Message)
		}
	}
	for name, def := range map[string]string{
		"missing Next target": `{"StartAt":"P","States":{"P":{"Type":"Pass","Next":"Q"}}}`,
		"bad StartAt":         `{"StartAt":"Q","States":{"P":{"Type":"Pass","End":true}}}`,
		"unknown field":       `{"StartAt":"P","States":{"P":{"Type":"Pass","End":true,"Bogus":1}}}`,
	} {
		if _, err := NewEngine().CreateStateMachine("m", def, "", ""); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestConformanceParallelAndMap(t *testing.T) {
	checkVectors(t, []vector{
		{
			name: "Parallel: branch outputs in branch order",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Parallel","ResultPath":"$.branches","End":true,"Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Pass","Result":"a","End":true}}},
				{"StartAt":"B","States":{"B":{"Type":"Task","Resource":"FN:b","End":true}}}]}}}`,
			input: `{"x":1}`, tasks: map[string][]string{"b": {`{"b":true}`}}, output: `{"x":1,"branches":["a",{"b":true}]}`,
		},
		{
			name: "Parallel: a failing branch is caught on the Parallel state",
			definition: `{"StartAt":"P","States":{"P":{"Type":"Parallel","Next":"Done","Branches":[
				{"StartAt":"A","States":{"A":{"Type":"Fail","Error":"BranchFailed","Cause":"no"}}},
				{"StartAt":"B","States":{"B":{"Type":"Pass","End":true}}}],
				"Catch":[{"ErrorEquals":["BranchFailed"],"ResultPath":"$.err","Next":"Done"}]},"Done":{"Type":"Succeed"}}}`,
			input: `{}`, output: `{"err":{"Error":"BranchFailed","Cause":"no"}}`,
		},
		{
			name: "Map: ProcessorConfig Mode INLINE, as AWS's documentation writes it",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.xs",
				"ItemProcessor":{"ProcessorConfig":{"Mode":"INLINE"},"StartAt":"T","States":{"T":{"Type":"Pass","End":true}}},"End":true}}}`,
			input: `{"xs":[1,2]}`, output: `[1,2]`,
		},
		{
			name: "Map: ItemsPath, ItemSelector with $$.Map.Item, results in order",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.lines","MaxConcurrency":2,
				"ItemSelector":{"index.$":"$$.Map.Item.Index","sku.$":"$$.Map.Item.Value.sku","currency.$":"$.currency"},
				"ItemProcessor":{"StartAt":"T","States":{"T":{"Type":"Pass","End":true}}},"ResultPath":"$.out","End":true}}}`,
			input:  `{"currency":"EUR","lines":[{"sku":"A"},{"sku":"B"},{"sku":"C"}]}`,
			output: `{"currency":"EUR","lines":[{"sku":"A"},{"sku":"B"},{"sku":"C"}],"out":[{"index":0,"sku":"A","currency":"EUR"},{"index":1,"sku":"B","currency":"EUR"},{"index":2,"sku":"C","currency":"EUR"}]}`,
		},
		{
			name: "Map: an iteration failure fails the state",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
				"ItemProcessor":{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[{"Variable":"$","NumericEquals":2,"Next":"F"}],"Default":"S"},
				"F":{"Type":"Fail","Error":"Two"},"S":{"Type":"Succeed"}}},"End":true}}}`,
			input: `{"items":[1,2,3]}`, status: StatusFailed, errorN: "Two",
		},
		{
			name: "Map over an empty list",
			definition: `{"StartAt":"M","States":{"M":{"Type":"Map","ItemsPath":"$.items",
				"ItemProcessor":{"StartAt":"S","States":{"S":{"Type":"Succeed"}}},"End":true}}}`,
			input: `{"items":[]}`, output: `[]`,
			events: []string{"ExecutionStarted", "MapStateEntered", "MapStateStarted", "MapStateSucceeded", "MapStateExited", "ExecutionSucceeded"},
		},
	})
}
