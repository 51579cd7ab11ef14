// Command hello is the hello-world Go function the functions' cold starts
// are measured against: lambda.Start and nothing else.
package main

import "github.com/aws/aws-lambda-go/lambda"

func main() {
	lambda.Start(func(in map[string]any) (map[string]any, error) { return map[string]any{"hello": in["name"]}, nil })
}
