// Package iam reads what each function's role may do from the synthesized
// template — the role the function's Role names and the AWS::IAM::Policy
// resources attached to it — and answers whether an action on a resource
// is allowed, as IAM evaluates identity policies: an explicit Deny wins,
// else any Allow, else an implicit deny; actions and resource ARNs match
// with the wildcards * and ?. The local stack resolves the template's
// references to the ARNs of what it provisioned (Names). Conditions are
// not evaluated: a statement with one counts as not matching, so a grant
// that needs one is never assumed.
package iam

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Local stand-ins for the pseudo parameters.
const (
	Partition = "aws"
	Region    = "us-east-1"
	Account   = "000000000000"
)

// Policies are the functions' identity policies.
type Policies struct {
	byFunction map[string][]statement
}

type statement struct {
	allow     bool
	actions   []string
	resources []string // resolved ARN patterns; "" never matches
	condition bool
}

type resource struct {
	Type       string         `json:"Type"`
	Properties map[string]any `json:"Properties"`
}

// FromTemplate reads the policies of every function (by its
// xborder:function tag) from a template. arns gives the ARN of each
// resource a policy names by logical id (what Fn::GetAtt [id, "Arn"] and,
// for a state machine or topic, Ref resolve to).
func FromTemplate(raw []byte, arns map[string]string) (*Policies, error) {
	var t struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("iam: template: %w", err)
	}
	roleOf := map[string]string{} // role logical id → function
	for _, r := range t.Resources {
		if r.Type != "AWS::Lambda::Function" {
			continue
		}
		fn := tag(r.Properties, "xborder:function")
		if att, ok := r.Properties["Role"].(map[string]any)["Fn::GetAtt"].([]any); ok && len(att) == 2 && fn != "" {
			id, _ := att[0].(string)
			roleOf[id] = fn
		}
	}
	p := &Policies{byFunction: map[string][]statement{}}
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := t.Resources[id]
		if r.Type != "AWS::IAM::Policy" {
			continue
		}
		var fns []string
		roles, _ := r.Properties["Roles"].([]any)
		for _, ref := range roles {
			if m, ok := ref.(map[string]any); ok {
				if role, ok := m["Ref"].(string); ok && roleOf[role] != "" {
					fns = append(fns, roleOf[role])
				}
			}
		}
		doc, _ := r.Properties["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			m, _ := s.(map[string]any)
			st := statement{allow: m["Effect"] == "Allow", actions: strings1(m["Action"]), condition: m["Condition"] != nil}
			for _, res := range list(m["Resource"]) {
				v, err := resolve(res, arns)
				if err != nil {
					v = "" // unresolvable here: never matches
				}
				st.resources = append(st.resources, v)
			}
			for _, fn := range fns {
				p.byFunction[fn] = append(p.byFunction[fn], st)
			}
		}
	}
	return p, nil
}

// Allowed reports whether function may do action on resource (an ARN).
func (p *Policies) Allowed(function, action, resource string) bool {
	allowed := false
	for _, st := range p.byFunction[function] {
		if st.condition || !st.matches(action, resource) {
			continue
		}
		if !st.allow {
			return false
		}
		allowed = true
	}
	return allowed
}

// Grants lists function's allowed actions, each with its resource
// patterns ("dynamodb:GetItem arn:aws:dynamodb:…:table/t"), sorted.
func (p *Policies) Grants(function string) []string {
	seen := map[string]bool{}
	for _, st := range p.byFunction[function] {
		if !st.allow {
			continue
		}
		for _, a := range st.actions {
			for _, r := range st.resources {
				seen[a+" "+r] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

func (st statement) matches(action, resource string) bool {
	actionOK := false
	for _, a := range st.actions {
		// Action names are case-insensitive.
		if Match(strings.ToLower(a), strings.ToLower(action)) {
			actionOK = true
			break
		}
	}
	if !actionOK {
		return false
	}
	for _, r := range st.resources {
		if r != "" && Match(r, resource) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where * stands for any run of
// characters (slashes and colons included) and ? for one, as in IAM.
func Match(pattern, s string) bool {
	// Iterative glob with backtracking on the last *.
	p, i, star, mark := 0, 0, -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p, i = p+1, i+1
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p, mark = star+1, mark+1
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

func strings1(v any) []string {
	var out []string
	for _, x := range list(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func tag(props map[string]any, key string) string {
	tags, _ := props["Tags"].([]any)
	for _, t := range tags {
		m, _ := t.(map[string]any)
		if m["Key"] == key {
			s, _ := m["Value"].(string)
			return s
		}
	}
	return ""
}

// resolve turns a policy's resource value into an ARN (pattern): text,
// Ref, Fn::GetAtt [id, Arn], Fn::Join, Fn::Select and Fn::Split.
func resolve(v any, arns map[string]string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			switch id {
			case "AWS::Partition":
				return Partition, nil
			case "AWS::Region":
				return Region, nil
			case "AWS::AccountId":
				return Account, nil
			case "AWS::URLSuffix":
				return "amazonaws.com", nil
			}
			if a, ok := arns[id]; ok {
				return a, nil
			}
			return "", fmt.Errorf("iam: a Ref to %s, which has no local ARN", id)
		}
		if att, ok := v["Fn::GetAtt"].([]any); ok && len(att) == 2 {
			id, _ := att[0].(string)
			if a, ok := arns[id]; ok && att[1] == "Arn" {
				return a, nil
			}
			return "", fmt.Errorf("iam: Fn::GetAtt %v", att)
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			var parts []string
			for _, x := range list(join[1]) {
				s, err := resolve(x, arns)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, sep), nil
		}
		if sel, ok := v["Fn::Select"].([]any); ok && len(sel) == 2 {
			n, _ := sel[0].(float64)
			from, err := resolveList(sel[1], arns)
			if err != nil {
				return "", err
			}
			if int(n) < 0 || int(n) >= len(from) {
				return "", fmt.Errorf("iam: Fn::Select %d of %d", int(n), len(from))
			}
			return from[int(n)], nil
		}
	}
	return "", fmt.Errorf("iam: %v: an intrinsic not resolved here", v)
}

func resolveList(v any, arns map[string]string) ([]string, error) {
	if m, ok := v.(map[string]any); ok {
		if split, ok := m["Fn::Split"].([]any); ok && len(split) == 2 {
			sep, _ := split[0].(string)
			s, err := resolve(split[1], arns)
			if err != nil {
				return nil, err
			}
			return strings.Split(s, sep), nil
		}
	}
	var out []string
	for _, x := range list(v) {
		s, err := resolve(x, arns)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// LocalARNs are the ARNs of the template's table (named table), queues
// (by their xborder:queue tag), topic (xborder:topic) and state machine
// (named stateMachine) as the local stack provisions them, by logical id:
// what FromTemplate resolves references to.
func LocalARNs(raw []byte, table, stateMachine string) (map[string]string, error) {
	var t struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("iam: template: %w", err)
	}
	prefix := func(service string) string {
		return "arn:" + Partition + ":" + service + ":" + Region + ":" + Account + ":"
	}
	out := map[string]string{}
	for id, r := range t.Resources {
		switch r.Type {
		case "AWS::DynamoDB::Table":
			out[id] = prefix("dynamodb") + "table/" + table
		case "AWS::SQS::Queue":
			out[id] = prefix("sqs") + tag(r.Properties, "xborder:queue")
		case "AWS::SNS::Topic":
			out[id] = prefix("sns") + tag(r.Properties, "xborder:topic")
		case "AWS::StepFunctions::StateMachine":
			out[id] = prefix("states") + "stateMachine:" + stateMachine
		}
	}
	return out, nil
}

// Report is, per function, each grant of its role and whether a recorded
// call (used: "action resource", as Checker.Used lists them) needed it —
// least privilege in both directions: a refused call shows in Denied, a
// grant never used is a candidate to drop. A grant no call used is
// "callable" when the function's code can call the action (callable, by
// function: CallableIn its binary), or "kept" with the reason kept gives,
// by "function action" (or "* action"); else "never used".
func (p *Policies) Report(used, callable map[string][]string, kept map[string]string) string {
	fns := make([]string, 0, len(p.byFunction))
	for fn := range p.byFunction {
		fns = append(fns, fn)
	}
	sort.Strings(fns)
	var b strings.Builder
	for _, fn := range fns {
		grants := p.Grants(fn)
		if len(grants) == 0 && len(used[fn]) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s\n", fn)
		for _, g := range grants {
			action, pattern, _ := strings.Cut(g, " ")
			mark := "never used"
			for _, u := range used[fn] {
				ua, ur, _ := strings.Cut(u, " ")
				if Match(strings.ToLower(action), strings.ToLower(ua)) && Match(pattern, ur) {
					mark = "used"
					break
				}
			}
			why := ""
			switch {
			case mark == "used":
			case slices.Contains(callable[fn], action):
				mark = "callable"
			case cmp.Or(kept[fn+" "+action], kept["* "+action]) != "":
				mark, why = "kept", " — "+cmp.Or(kept[fn+" "+action], kept["* "+action])
			}
			fmt.Fprintf(&b, "  %-10s %s%s\n", mark, g, why)
		}
	}
	return b.String()
}
