package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// newObservability alarms when anything lands in a dead-letter queue. The
// dashboard and the other alarms come with the operations console issue.
func newObservability(st awscdk.Stack, m *messaging) {
	for name, dlq := range m.dlqs {
		awscloudwatch.NewAlarm(st, jsii.String(pascal(name)+"DLQNotEmpty"), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String("Messages in the " + name + " dead-letter queue: they could not be processed"),
			Metric:             dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: awscdk.Duration_Minutes(jsii.Number(1))}),
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}
}
