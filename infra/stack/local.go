package stack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// The local stack is one fixed account and region, like LocalStack's.
const (
	LocalAccount = "000000000000"
	LocalRegion  = "us-east-1"
	// LocalSQS is where the local SQS emulator listens (`make dev`).
	LocalSQS = "http://sqs.us-east-1.localhost:9324"
)

// LocalASL resolves the state machine's DefinitionString (an Fn::Join with
// Ref and Fn::GetAtt tokens) to the concrete ASL the local engine runs:
// functions become arn:aws:lambda:us-east-1:000000000000:function:<name>
// (name as under functions/), queues their local URLs and ARNs by name.
func LocalASL(template map[string]any) (string, error) {
	resources, _ := template["Resources"].(map[string]any)
	var def any
	for _, r := range resources {
		res := r.(map[string]any)
		if res["Type"] == "AWS::StepFunctions::StateMachine" {
			def = res["Properties"].(map[string]any)["DefinitionString"]
		}
	}
	if def == nil {
		return "", fmt.Errorf("stack: no state machine in the template")
	}
	s, err := resolve(def, resources)
	if err != nil {
		return "", err
	}
	var pretty any
	if err := json.Unmarshal([]byte(s), &pretty); err != nil {
		return "", fmt.Errorf("stack: resolved definition is not JSON: %w", err)
	}
	b, _ := json.MarshalIndent(pretty, "", "  ")
	return string(b) + "\n", nil
}

func tagOf(res map[string]any, key string) string {
	props, _ := res["Properties"].(map[string]any)
	tags, _ := props["Tags"].([]any)
	for _, t := range tags {
		tm := t.(map[string]any)
		if tm["Key"] == key {
			return tm["Value"].(string)
		}
	}
	return ""
}

// resolve turns a CloudFormation value into a string for the local stack.
func resolve(v any, resources map[string]any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case map[string]any:
		if j, ok := x["Fn::Join"].([]any); ok {
			sep := j[0].(string)
			var parts []string
			for _, p := range j[1].([]any) {
				s, err := resolve(p, resources)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
			return strings.Join(parts, sep), nil
		}
		if ref, ok := x["Ref"].(string); ok {
			return localRef(ref, "", resources)
		}
		if ga, ok := x["Fn::GetAtt"].([]any); ok {
			return localRef(ga[0].(string), ga[1].(string), resources)
		}
	}
	return "", fmt.Errorf("stack: cannot resolve %v for the local stack", v)
}

func localRef(id, attr string, resources map[string]any) (string, error) {
	switch id {
	case "AWS::Partition":
		return "aws", nil
	case "AWS::Region":
		return LocalRegion, nil
	case "AWS::AccountId":
		return LocalAccount, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	r, ok := resources[id].(map[string]any)
	if !ok {
		return "", fmt.Errorf("stack: unknown resource %s", id)
	}
	switch typ := r["Type"]; {
	case typ == "AWS::Lambda::Function" && (attr == "Arn" || attr == ""):
		name := tagOf(r, "xborder:function")
		if attr == "" {
			return name, nil
		}
		return fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", LocalRegion, LocalAccount, name), nil
	case typ == "AWS::SQS::Queue":
		name := tagOf(r, "xborder:queue")
		switch attr {
		case "":
			return LocalSQS + "/" + LocalAccount + "/" + name, nil
		case "Arn":
			return fmt.Sprintf("arn:aws:sqs:%s:%s:%s", LocalRegion, LocalAccount, name), nil
		case "QueueName":
			return name, nil
		}
	case typ == "AWS::SNS::Topic" && attr == "":
		return fmt.Sprintf("arn:aws:sns:%s:%s:%s", LocalRegion, LocalAccount, tagOf(r, "xborder:topic")), nil
	}
	return "", fmt.Errorf("stack: no local value for %s.%s (%v)", id, attr, r["Type"])
}

var assetHash = regexp.MustCompile(`[0-9a-f]{64}`)

// Masked is the template with build-dependent values (asset hashes of the
// Lambda binaries) masked, so a rebuild alone never makes the checked-in copy stale.
func Masked(template map[string]any) (string, error) {
	b, err := json.MarshalIndent(template, "", "  ")
	if err != nil {
		return "", err
	}
	return assetHash.ReplaceAllString(string(b), "<asset-hash>") + "\n", nil
}
