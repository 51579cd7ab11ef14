package iam

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Secrets checks, without a call, what the functions read from Secrets
// Manager, for which the local stack has no service: each secret a
// function's environment in the template names — a variable
// "secretsmanager:<name>" (the *_SOURCE variables) or
// STRIPE_SECRET_KEY_SECRET=<name> — must be readable
// (secretsmanager:GetSecretValue on the secret's ARN, whose name AWS ends
// with "-" and six random characters) under its role. Each is recorded as
// a call would be: used, or refused.
func (c *Checker) Secrets(raw []byte) error {
	var t struct {
		Resources map[string]resource `json:"Resources"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return fmt.Errorf("iam: template: %w", err)
	}
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		r := t.Resources[id]
		fn := tag(r.Properties, "xborder:function")
		if r.Type != "AWS::Lambda::Function" || fn == "" {
			continue
		}
		env, _ := r.Properties["Environment"].(map[string]any)
		vars, _ := env["Variables"].(map[string]any)
		names := make([]string, 0, len(vars))
		for k := range vars {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			v, _ := vars[k].(string)
			secret, ok := strings.CutPrefix(v, "secretsmanager:")
			if k == "STRIPE_SECRET_KEY_SECRET" {
				secret, ok = v, v != ""
			}
			if ok {
				c.check(fn, call{"secretsmanager:GetSecretValue", arn("secretsmanager", "secret:"+secret+"-AbCdEf")})
			}
		}
	}
	return nil
}

// TemplateWithout is a copy of the template raw with action taken out of
// every statement of function's role: what a test that proves the check
// live runs under.
func TemplateWithout(raw []byte, function, action string) ([]byte, error) {
	var t map[string]any
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, fmt.Errorf("iam: template: %w", err)
	}
	resources, _ := t["Resources"].(map[string]any)
	role := ""
	for _, r := range resources {
		m, _ := r.(map[string]any)
		props, _ := m["Properties"].(map[string]any)
		if m["Type"] == "AWS::Lambda::Function" && tag(props, "xborder:function") == function {
			att, _ := props["Role"].(map[string]any)["Fn::GetAtt"].([]any)
			if len(att) == 2 {
				role, _ = att[0].(string)
			}
		}
	}
	if role == "" {
		return nil, fmt.Errorf("iam: no role for function %s in the template", function)
	}
	removed := 0
	for _, r := range resources {
		m, _ := r.(map[string]any)
		props, _ := m["Properties"].(map[string]any)
		if m["Type"] != "AWS::IAM::Policy" || !refersTo(props["Roles"], role) {
			continue
		}
		doc, _ := props["PolicyDocument"].(map[string]any)
		for _, s := range list(doc["Statement"]) {
			st, _ := s.(map[string]any)
			var kept []any
			for _, a := range list(st["Action"]) {
				if a == action {
					removed++
					continue
				}
				kept = append(kept, a)
			}
			st["Action"] = kept
		}
	}
	if removed == 0 {
		return nil, fmt.Errorf("iam: %s's role has no %s to take out", function, action)
	}
	return json.Marshal(t)
}

func refersTo(roles any, role string) bool {
	for _, r := range list(roles) {
		if m, ok := r.(map[string]any); ok && m["Ref"] == role {
			return true
		}
	}
	return false
}
