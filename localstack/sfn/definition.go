package sfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Definition is a parsed Amazon States Language document.
type Definition struct {
	Comment        string            `json:"Comment,omitempty"`
	StartAt        string            `json:"StartAt"`
	States         map[string]*State `json:"States"`
	TimeoutSeconds int               `json:"TimeoutSeconds,omitempty"`
	Version        string            `json:"Version,omitempty"`
	QueryLanguage  string            `json:"QueryLanguage,omitempty"`
	// ProcessorConfig belongs to a Map's ItemProcessor: Mode INLINE (the
	// default, run here) or DISTRIBUTED (refused as unsupported).
	ProcessorConfig *ProcessorConfig `json:"ProcessorConfig,omitempty"`
}

// ProcessorConfig is how a Map state runs its ItemProcessor.
type ProcessorConfig struct {
	Mode          string `json:"Mode,omitempty"`
	ExecutionType string `json:"ExecutionType,omitempty"`
}

// State is any state; fields apply by Type.
type State struct {
	Type       string    `json:"Type"`
	Comment    string    `json:"Comment,omitempty"`
	Next       string    `json:"Next,omitempty"`
	End        bool      `json:"End,omitempty"`
	InputPath  pathField `json:"InputPath"`
	OutputPath pathField `json:"OutputPath"`
	ResultPath pathField `json:"ResultPath"`
	// Parameters and ResultSelector are payload templates.
	Parameters     any       `json:"Parameters,omitempty"`
	ResultSelector any       `json:"ResultSelector,omitempty"`
	Result         any       `json:"Result,omitempty"`
	QueryLanguage  string    `json:"QueryLanguage,omitempty"`
	Resource       string    `json:"Resource,omitempty"`
	Credentials    any       `json:"Credentials,omitempty"`
	Arguments      any       `json:"Arguments,omitempty"`
	Output         any       `json:"Output,omitempty"`
	Assign         any       `json:"Assign,omitempty"`
	TimeoutSeconds *int      `json:"TimeoutSeconds,omitempty"`
	TimeoutPath    string    `json:"TimeoutSecondsPath,omitempty"`
	Heartbeat      *int      `json:"HeartbeatSeconds,omitempty"`
	HeartbeatPath  string    `json:"HeartbeatSecondsPath,omitempty"`
	Retry          []Retrier `json:"Retry,omitempty"`
	Catch          []Catcher `json:"Catch,omitempty"`
	// Choice
	Choices []ChoiceRule `json:"Choices,omitempty"`
	Default string       `json:"Default,omitempty"`
	// Wait
	Seconds       *float64 `json:"Seconds,omitempty"`
	SecondsPath   string   `json:"SecondsPath,omitempty"`
	Timestamp     string   `json:"Timestamp,omitempty"`
	TimestampPath string   `json:"TimestampPath,omitempty"`
	// Fail
	Error     string `json:"Error,omitempty"`
	ErrorPath string `json:"ErrorPath,omitempty"`
	Cause     string `json:"Cause,omitempty"`
	CausePath string `json:"CausePath,omitempty"`
	// Parallel and Map
	Branches                   []*Definition `json:"Branches,omitempty"`
	Iterator                   *Definition   `json:"Iterator,omitempty"`
	ItemProcessor              *Definition   `json:"ItemProcessor,omitempty"`
	ItemsPath                  pathField     `json:"ItemsPath"`
	ItemSelector               any           `json:"ItemSelector,omitempty"`
	MaxConcurrency             int           `json:"MaxConcurrency,omitempty"`
	ItemReader                 any           `json:"ItemReader,omitempty"`
	ResultWriter               any           `json:"ResultWriter,omitempty"`
	ItemBatcher                any           `json:"ItemBatcher,omitempty"`
	ToleratedFailurePercentage any           `json:"ToleratedFailurePercentage,omitempty"`
	ToleratedFailureCount      any           `json:"ToleratedFailureCount,omitempty"`
	Label                      string        `json:"Label,omitempty"`

	name string
	// parsed
	inputPath, outputPath, resultPath *path // nil: discard (JSON null); see pathOrDefault
	inputNull, outputNull, resultNull bool
	params, selector                  *template
	itemsPath                         *path
	choices                           []*rule
	// usesContext: some path or template of the state reads $$, so the
	// context object must be built for it.
	usesContext bool
}

// Retrier is one entry of Retry.
type Retrier struct {
	ErrorEquals     []string `json:"ErrorEquals"`
	IntervalSeconds *float64 `json:"IntervalSeconds,omitempty"`
	MaxAttempts     *int     `json:"MaxAttempts,omitempty"`
	BackoffRate     *float64 `json:"BackoffRate,omitempty"`
	MaxDelaySeconds *float64 `json:"MaxDelaySeconds,omitempty"`
	JitterStrategy  string   `json:"JitterStrategy,omitempty"`
}

// Catcher is one entry of Catch.
type Catcher struct {
	ErrorEquals []string  `json:"ErrorEquals"`
	Next        string    `json:"Next"`
	ResultPath  pathField `json:"ResultPath"`

	resultPath *path
	resultNull bool
}

// UnsupportedError names a feature of the definition the engine does not
// run, and the state that uses it; CreateStateMachine refuses it.
type UnsupportedError struct{ Feature, State string }

func (e *UnsupportedError) Error() string {
	if e.State == "" {
		return "the local engine does not support " + e.Feature
	}
	return fmt.Sprintf("state %q uses %s, which the local engine does not support", e.State, e.Feature)
}

// ParseDefinition parses and checks a definition, refusing what it cannot run.
func ParseDefinition(doc string) (*Definition, error) {
	dec := json.NewDecoder(strings.NewReader(doc))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("invalid definition: %w", err)
	}
	if err := d.check(true); err != nil {
		return nil, err
	}
	return &d, nil
}

func (d *Definition) check(top bool) error {
	if d.QueryLanguage != "" && d.QueryLanguage != "JSONPath" {
		return &UnsupportedError{Feature: "the " + d.QueryLanguage + " query language"}
	}
	if top && d.ProcessorConfig != nil {
		return errors.New("invalid definition: ProcessorConfig belongs to a Map state's ItemProcessor")
	}
	if _, ok := d.States[d.StartAt]; !ok {
		return fmt.Errorf("invalid definition: StartAt %q is not a state", d.StartAt)
	}
	names := make([]string, 0, len(d.States))
	for n := range d.States {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		s := d.States[name]
		s.name = name
		if err := s.check(d); err != nil {
			return err
		}
	}
	return nil
}

func (s *State) unsupported(feature string) error {
	return &UnsupportedError{Feature: feature, State: s.name}
}

func (s *State) target(d *Definition, next string) error {
	if _, ok := d.States[next]; !ok {
		return fmt.Errorf("invalid definition: state %q goes to %q, which does not exist", s.name, next)
	}
	return nil
}

func (s *State) check(d *Definition) error {
	if s.QueryLanguage != "" && s.QueryLanguage != "JSONPath" {
		return s.unsupported("the " + s.QueryLanguage + " query language")
	}
	if s.Arguments != nil || s.Output != nil || s.Assign != nil {
		return s.unsupported("JSONata fields (Arguments, Output, Assign)")
	}
	if s.Credentials != nil {
		return s.unsupported("cross-account Credentials")
	}
	var err error
	if s.inputPath, s.inputNull, err = optionalPath(s.InputPath, "InputPath"); err != nil {
		return fmt.Errorf("state %q: %w", s.name, err)
	}
	if s.outputPath, s.outputNull, err = optionalPath(s.OutputPath, "OutputPath"); err != nil {
		return fmt.Errorf("state %q: %w", s.name, err)
	}
	if s.resultPath, s.resultNull, err = optionalPath(s.ResultPath, "ResultPath"); err != nil {
		return fmt.Errorf("state %q: %w", s.name, err)
	}
	if s.resultPath != nil && (s.resultPath.context || !s.resultPath.definite()) {
		return fmt.Errorf("state %q: ResultPath must be a reference path into the input", s.name)
	}
	if s.params, err = compileTemplate(s.Parameters); err != nil {
		return fmt.Errorf("state %q: Parameters: %w", s.name, err)
	}
	if s.selector, err = compileTemplate(s.ResultSelector); err != nil {
		return fmt.Errorf("state %q: ResultSelector: %w", s.name, err)
	}
	for i := range s.Catch {
		c := &s.Catch[i]
		if err := s.target(d, c.Next); err != nil {
			return err
		}
		if c.resultPath, c.resultNull, err = optionalPath(c.ResultPath, "ResultPath"); err != nil {
			return fmt.Errorf("state %q Catch: %w", s.name, err)
		}
	}
	for _, r := range s.Retry {
		if r.JitterStrategy != "" && r.JitterStrategy != "FULL" && r.JitterStrategy != "NONE" {
			return fmt.Errorf("state %q: JitterStrategy must be FULL or NONE", s.name)
		}
	}
	if !s.End && s.Type != "Choice" && s.Type != "Succeed" && s.Type != "Fail" {
		if err := s.target(d, s.Next); err != nil {
			return err
		}
	}
	switch s.Type {
	case "Pass", "Succeed", "Fail":
	case "Wait":
		n := 0
		for _, set := range []bool{s.Seconds != nil, s.SecondsPath != "", s.Timestamp != "", s.TimestampPath != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("state %q: a Wait needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath", s.name)
		}
	case "Task":
		if err := checkResource(s); err != nil {
			return err
		}
	case "Choice":
		if len(s.Choices) == 0 {
			return fmt.Errorf("state %q: a Choice needs Choices", s.name)
		}
		for _, c := range s.Choices {
			r, err := compileRule(c, true)
			if err != nil {
				return fmt.Errorf("state %q: %w", s.name, err)
			}
			if err := s.target(d, r.next); err != nil {
				return err
			}
			s.choices = append(s.choices, r)
		}
		if s.Default != "" {
			if err := s.target(d, s.Default); err != nil {
				return err
			}
		}
	case "Parallel":
		for _, b := range s.Branches {
			if err := b.check(false); err != nil {
				return err
			}
		}
	case "Map":
		if s.ItemReader != nil || s.ResultWriter != nil || s.ItemBatcher != nil || s.ToleratedFailureCount != nil || s.ToleratedFailurePercentage != nil {
			return s.unsupported("distributed Map (ItemReader, ResultWriter, ItemBatcher, tolerated failures)")
		}
		proc := s.ItemProcessor
		if proc == nil {
			proc = s.Iterator
		}
		if proc == nil {
			return fmt.Errorf("state %q: a Map needs an ItemProcessor", s.name)
		}
		if c := proc.ProcessorConfig; c != nil {
			switch {
			case c.Mode == "DISTRIBUTED" || c.ExecutionType != "":
				return s.unsupported("distributed Map (ProcessorConfig Mode DISTRIBUTED, ExecutionType)")
			case c.Mode != "" && c.Mode != "INLINE":
				return fmt.Errorf("state %q: ProcessorConfig Mode %q: want INLINE or DISTRIBUTED", s.name, c.Mode)
			}
		}
		if err := proc.check(false); err != nil {
			return err
		}
		if s.ItemSelector != nil && s.Parameters != nil {
			return fmt.Errorf("state %q: ItemSelector and Parameters both set", s.name)
		}
		if s.ItemSelector != nil {
			if s.params, err = compileTemplate(s.ItemSelector); err != nil {
				return fmt.Errorf("state %q: ItemSelector: %w", s.name, err)
			}
		}
		if s.itemsPath, _, err = optionalPath(s.ItemsPath, "ItemsPath"); err != nil {
			return fmt.Errorf("state %q: %w", s.name, err)
		}
	default:
		return fmt.Errorf("state %q: unknown Type %q", s.name, s.Type)
	}
	s.usesContext = s.params.usesContext() || s.selector.usesContext() || s.Type == "Map" ||
		strings.HasPrefix(s.ErrorPath, "$$") || strings.HasPrefix(s.CausePath, "$$") || strings.HasPrefix(s.SecondsPath, "$$") ||
		strings.HasPrefix(s.TimestampPath, "$$") || strings.HasPrefix(s.TimeoutPath, "$$") || strings.HasPrefix(s.HeartbeatPath, "$$")
	for _, r := range s.choices {
		s.usesContext = s.usesContext || r.usesContext()
	}
	return nil
}

// pathField is an optional path field that may also be JSON null.
type pathField struct {
	Set, Null bool
	Value     string
}

// UnmarshalJSON keeps absent, null and a path apart.
func (f *pathField) UnmarshalJSON(b []byte) error {
	f.Set = true
	if string(b) == "null" {
		f.Null = true
		return nil
	}
	return json.Unmarshal(b, &f.Value)
}

// optionalPath parses a path field: absent → "$"; JSON null → (nil, true).
func optionalPath(f pathField, field string) (*path, bool, error) {
	if !f.Set {
		pp, _ := parsePath("$")
		return &pp, false, nil
	}
	if f.Null {
		return nil, true, nil
	}
	pp, err := parsePath(f.Value)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", field, err)
	}
	return &pp, false, nil
}
