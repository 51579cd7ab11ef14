package stack

import (
	"fmt"
	"sort"
	"strings"

	"github.com/xborder/xborder/localstack/apigw"
)

// Environments are the functions' environments as the template gives them,
// by function (its xborder:function tag), resolved against what Provision
// created: a Ref to the table is its name, to a queue its URL, to the topic
// its ARN, to the state machine stateMachineARN; Fn::Join joins the
// resolved parts. A value the local stack cannot resolve (another
// intrinsic, a Ref to a resource it does not create) is an error naming
// the function and the variable, never a silent placeholder: a function
// process run with it would fail only at its first call.
//
// local is added to every environment, and replaces what the template sets
// for the same names: the endpoints of the local services
// (AWS_ENDPOINT_URL_<SERVICE>), credentials, and the local stand-ins of
// what the local stack has no service for (the Secrets Manager sources).
func Environments(t *Template, res *Resources, stateMachineARN string, local map[string]string) (map[string][]string, error) {
	refs := map[string]string{}
	for _, id := range t.byType("AWS::DynamoDB::Table") {
		refs[id] = res.Table
	}
	for _, id := range t.byType("AWS::SQS::Queue") {
		url, ok := res.QueueURLs[tag(t.Resources[id], "xborder:queue")]
		if !ok {
			return nil, fmt.Errorf("stack: queue %s was not provisioned", id)
		}
		refs[id] = url
	}
	for _, id := range t.byType("AWS::SNS::Topic") {
		refs[id] = res.TopicARN
	}
	for _, id := range t.byType("AWS::StepFunctions::StateMachine") {
		refs[id] = stateMachineARN
	}
	envs := map[string][]string{}
	for _, id := range t.byType("AWS::Lambda::Function") {
		r := t.Resources[id]
		name := tag(r, "xborder:function")
		if name == "" {
			return nil, fmt.Errorf("stack: function %s has no xborder:function tag", id)
		}
		vars := map[string]string{}
		env, _ := r.Properties["Environment"].(map[string]any)
		given, _ := env["Variables"].(map[string]any)
		for k, v := range given {
			if _, replaced := local[k]; replaced {
				continue // the local stack's own value (an API URL it serves, a source it has)
			}
			s, err := resolve(v, refs)
			if err != nil {
				return nil, fmt.Errorf("stack: function %s: %s: %w", name, k, err)
			}
			vars[k] = s
		}
		for k, v := range local {
			vars[k] = v
		}
		list := make([]string, 0, len(vars))
		for k, v := range vars {
			list = append(list, k+"="+v)
		}
		sort.Strings(list)
		envs[name] = list
	}
	return envs, nil
}

// resolve is one environment value: text, a Ref, or an Fn::Join of those.
func resolve(v any, refs map[string]string) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case map[string]any:
		if id, ok := v["Ref"].(string); ok {
			s, ok := refs[id]
			if !ok {
				return "", fmt.Errorf("a Ref to %s, a resource the local stack does not create", id)
			}
			return s, nil
		}
		if join, ok := v["Fn::Join"].([]any); ok && len(join) == 2 {
			sep, _ := join[0].(string)
			parts, _ := join[1].([]any)
			out := make([]string, len(parts))
			for i, p := range parts {
				s, err := resolve(p, refs)
				if err != nil {
					return "", err
				}
				out[i] = s
			}
			return strings.Join(out, sep), nil
		}
	}
	return "", fmt.Errorf("%v: an intrinsic the local stack does not resolve", v)
}

// QueueNames are the names (xborder:queue) of the template's queues.
func QueueNames(t *Template) []string {
	var names []string
	for _, id := range t.byType("AWS::SQS::Queue") {
		names = append(names, tag(t.Resources[id], "xborder:queue"))
	}
	return names
}

// APIRoutes are the HTTP API's routes as the template declares them: the
// route key, and whether the route has no authorizer.
func APIRoutes(t *Template) []apigw.Route {
	var out []apigw.Route
	for _, id := range t.byType("AWS::ApiGatewayV2::Route") {
		p := t.Resources[id].Properties
		key, _ := p["RouteKey"].(string)
		kind, _ := p["AuthorizationType"].(string)
		if key != "" {
			out = append(out, apigw.Route{Key: key, Open: kind == "" || kind == "NONE"})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
