package sfn

import (
	"strings"
)

// Resources the engine runs. Anything else is refused at creation.
const (
	resLambdaInvoke    = "arn:aws:states:::lambda:invoke"
	resSQSSend         = "arn:aws:states:::sqs:sendMessage"
	suffixWaitForToken = ".waitForTaskToken"
)

// integrations the engine runs.
var integrations = map[string]bool{
	resLambdaInvoke: true, resSQSSend: true,
	"arn:aws:states:::sns:publish": true, "arn:aws:states:::events:putEvents": true,
	"arn:aws:states:::dynamodb:getItem": true, "arn:aws:states:::dynamodb:putItem": true,
	"arn:aws:states:::dynamodb:updateItem": true, "arn:aws:states:::dynamodb:deleteItem": true,
}

// isLambdaARN reports a plain function ARN (arn:aws:lambda:region:account:function:name).
func isLambdaARN(r string) bool {
	return strings.HasPrefix(r, "arn:aws:lambda:") && strings.Contains(r, ":function:")
}

// splitResource returns the integration and whether it waits for a task token.
func splitResource(r string) (string, bool) {
	base, wait := strings.CutSuffix(r, suffixWaitForToken)
	return base, wait
}

func checkResource(s *State) error {
	r := s.Resource
	if isLambdaARN(r) {
		return nil
	}
	if strings.HasPrefix(r, "arn:aws:states:") && strings.Contains(r, ":activity:") {
		return s.unsupported("activities")
	}
	if strings.HasSuffix(r, ".sync") || strings.HasSuffix(r, ".sync:2") {
		return s.unsupported("the .sync (run a job) integration pattern")
	}
	base, _ := splitResource(r)
	if !integrations[base] {
		return s.unsupported("the resource " + r)
	}
	return nil
}
