package stack

import (
	"sort"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/jsii-runtime-go"

	"github.com/xborder/xborder/shared/order"
	"github.com/xborder/xborder/shared/workflow"
)

// MetricsNamespace is where the step Lambdas' status-change metrics go
// (CloudWatch embedded metric format in their logs: no API calls).
const MetricsNamespace = "xborder"

// Thresholds of the alarms.
const (
	failureRatePercent = 5 // failed executions per started, over 15 minutes
	api5xxPerFiveMin   = 5
)

// newObservability is the operations dashboard and the alarms: anything in
// a dead-letter queue, a workflow failure rate above 5 %, and API 5xx.
func newObservability(st awscdk.Stack, m *messaging, f *functions, wf *workflowParts, api *apiParts) {
	minute := awscdk.Duration_Minutes(jsii.Number(1))
	five := awscdk.Duration_Minutes(jsii.Number(5))
	names := make([]string, 0, len(m.dlqs))
	for name := range m.dlqs {
		names = append(names, name)
	}
	sort.Strings(names)
	var dlqDepth []awscloudwatch.IMetric
	for _, name := range names {
		dlq := m.dlqs[name]
		depth := dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{Period: minute, Label: jsii.String(name)})
		dlqDepth = append(dlqDepth, depth)
		why := "Messages in the " + name + " dead-letter queue: they could not be processed (the ops console can peek and replay them)"
		if _, fed := m.queues[name]; !fed {
			why = "Status changes of failed executions that mark-stalled could not process: the reconciler marks their orders STALLED within a minute; the messages say why"
		}
		awscloudwatch.NewAlarm(st, jsii.String(pascal(name)+"DLQNotEmpty"), &awscloudwatch.AlarmProps{
			AlarmDescription:   jsii.String(why),
			Metric:             depth,
			Threshold:          jsii.Number(0),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
			EvaluationPeriods:  jsii.Number(1),
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
	}

	// Orders per status: the count of status changes into each status.
	var perStatus []awscloudwatch.IMetric
	for _, s := range order.Statuses {
		perStatus = append(perStatus, awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace: jsii.String(MetricsNamespace), MetricName: jsii.String("StatusChanges"),
			DimensionsMap: &map[string]*string{"Status": jsii.String(string(s))}, Statistic: jsii.String("Sum"),
			Period: five, Label: jsii.String(string(s)),
		}))
	}

	machine := wf.machine
	started := machine.MetricStarted(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
	failed := machine.MetricFailed(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
	failureRate := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression: jsii.String("IF(started > 0, 100 * failed / started, 0)"),
		UsingMetrics: &map[string]awscloudwatch.IMetric{
			"started": started, "failed": failed,
		},
		Label: jsii.String("failed executions (%)"), Period: five,
	})
	awscloudwatch.NewAlarm(st, jsii.String("WorkflowFailureRate"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("More than 5 % of order workflow executions failed (orders STALLED: redrive or cancel them in the ops console)"),
		Metric:           failureRate, Threshold: jsii.Number(failureRatePercent),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(3), TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
	api5xx := api.api.MetricServerError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})
	awscloudwatch.NewAlarm(st, jsii.String("Api5xx"), &awscloudwatch.AlarmProps{
		AlarmDescription: jsii.String("The HTTP API answered 5xx more than 5 times in 5 minutes"),
		Metric:           api5xx, Threshold: jsii.Number(api5xxPerFiveMin),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_THRESHOLD,
		EvaluationPeriods:  jsii.Number(1), TreatMissingData: awscloudwatch.TreatMissingData_NOT_BREACHING,
	})

	steps := []string{workflow.FnScreen, workflow.FnReserveStock, workflow.FnAuthorizePayment, workflow.FnCapturePayment,
		workflow.FnMarkDispatched, workflow.FnCompensate, workflow.FnCustomsWorker, workflow.FnWarehouseWorker}
	var latency, errs, throttles []awscloudwatch.IMetric
	for _, name := range steps {
		fn := f.fn[name]
		latency = append(latency, fn.MetricDuration(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("p99"), Label: jsii.String(name)}))
	}
	for _, name := range AllFunctions {
		fn := f.fn[name]
		errs = append(errs, fn.MetricErrors(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum"), Label: jsii.String(name)}))
		throttles = append(throttles, fn.MetricThrottles(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum"), Label: jsii.String(name)}))
	}
	graph := func(title string, left []awscloudwatch.IMetric, width float64) awscloudwatch.IWidget {
		return awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{Title: jsii.String(title), Left: &left, Width: jsii.Number(width), Height: jsii.Number(6)})
	}
	dash := awscloudwatch.NewDashboard(st, jsii.String("Operations"), &awscloudwatch.DashboardProps{
		DashboardName: jsii.String("xborder-operations"),
	})
	dash.AddWidgets(graph("Orders entering each status", perStatus, 24))
	dash.AddWidgets(
		graph("Workflow executions", []awscloudwatch.IMetric{started,
			machine.MetricSucceeded(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}), failed,
			machine.MetricTimedOut(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")}),
			machine.MetricAborted(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum")})}, 12),
		graph("Workflow failure rate (%)", []awscloudwatch.IMetric{failureRate}, 12),
	)
	dash.AddWidgets(graph("Step latency, p99 (ms)", latency, 12), graph("Dead-letter queue depth", dlqDepth, 12))
	dash.AddWidgets(graph("Lambda errors", errs, 12), graph("Lambda throttles", throttles, 12))
	dash.AddWidgets(graph("API 4xx and 5xx", []awscloudwatch.IMetric{
		api.api.MetricClientError(&awscloudwatch.MetricOptions{Period: five, Statistic: jsii.String("Sum"), Label: jsii.String("4xx")}),
		api5xx,
	}, 24))
}
