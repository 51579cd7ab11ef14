// Package workflow is the order workflow's contract and its pure logic: the
// names the CDK stack, the Lambda handlers and the local stack share; the
// payload each step receives and returns; the named errors Step Functions'
// Retry and Catch match; and which terminal status each failure leads to.
//
// The workflow (Standard, JSONPath):
//
//	Screen → ReserveStock → AuthorizePayment → Customs → CapturePayment → Dispatch → MarkDispatched → Dispatched
//	                                         (SQS + task token)          (SQS + task token)
//
// A business error from any step is caught into Compensate, which undoes
// whatever the order's records show was done (void or refund the payment,
// release the stock), writes the terminal status with its reason and ends in
// Compensated. A transient error is retried with backoff and jitter; when the
// retries run out the execution fails without compensating and the order is
// marked STALLED, for an operator to redrive or cancel.
package workflow

// Lambda functions, by the folder of their main under functions/.
const (
	FnAPI              = "api"
	FnStarter          = "starter"
	FnReconciler       = "reconciler"
	FnScreen           = "screen"
	FnReserveStock     = "reserve-stock"
	FnAuthorizePayment = "authorize-payment"
	FnCapturePayment   = "capture-payment"
	FnMarkDispatched   = "mark-dispatched"
	FnCompensate       = "compensate"
	FnMarkStalled      = "mark-stalled"
	FnCustomsWorker    = "customs-worker"
	FnWarehouseWorker  = "warehouse-worker"
	FnCallbackSender   = "callback-sender"
)

// Queues (each has a dead-letter queue named <name>-dlq) and the topic.
const (
	QueueOrdersAccepted   = "orders-accepted"
	QueueCustoms          = "customs"
	QueueWarehouse        = "warehouse"
	QueuePartnerCallbacks = "partner-callbacks"
	TopicOrderEvents      = "order-events"
	StateMachineName      = "order-workflow"
)

// States of the definition.
const (
	StateScreen           = "Screen"
	StateReserveStock     = "ReserveStock"
	StateAuthorizePayment = "AuthorizePayment"
	StateCustoms          = "Customs"
	StateCapturePayment   = "CapturePayment"
	StateDispatch         = "Dispatch"
	StateMarkDispatched   = "MarkDispatched"
	StateCompensate       = "Compensate"
	StateCompensated      = "Compensated"
	StateDispatched       = "Dispatched"
)

// Environment variables the functions read.
const (
	EnvTable           = "TABLE_NAME"
	EnvTopicARN        = "ORDER_EVENTS_TOPIC_ARN"
	EnvStateMachineARN = "STATE_MACHINE_ARN"
	EnvQueueURL        = "QUEUE_URL"         // the queue a function sends to (api → orders-accepted)
	EnvCustomsQueueURL = "CUSTOMS_QUEUE_URL" // the customs queue (reconciler: wakes the steps waiting for China's customs)
)

// Retry policy for transient errors of every Lambda step: six retries
// after the first attempt, at most 2, 4, 8, 16, 30 and 30 s apart (full
// jitter), so that a dependency's outage of a minute or so — DynamoDB, a
// partner, the Lambda service — is ridden out rather than stalling the
// order (make chaos: a 6 s outage of DynamoDB Local stalled an order under
// four retries).
const (
	RetryIntervalSeconds = 2
	RetryMaxAttempts     = 6
	RetryBackoffRate     = 2.0
	RetryMaxDelaySeconds = 30
)

// Task-token steps: how long the workflow waits for the customs broker and
// the warehouse, and how often their workers must show signs of life.
const (
	CustomsTimeoutSeconds    = 6 * 3600
	CustomsHeartbeatSeconds  = 900
	DispatchTimeoutSeconds   = 48 * 3600
	DispatchHeartbeatSeconds = 3600
)

// TaskMessage is the body the workflow sends to the customs and warehouse
// queues with sqs:sendMessage.waitForTaskToken; the same body sent again
// wakes the waiting step.
type TaskMessage struct {
	OrderID   string `json:"orderId"`
	TaskToken string `json:"taskToken"`
}

// OrderAccepted is the orders-accepted message that hands an order to the
// workflow; it is also the execution's input.
type OrderAccepted struct {
	OrderID string `json:"orderId"`
}

// EnvWarehouseQueueURL is the warehouse queue (warehouse-worker: asks the
// warehouse again, later, about a shipment it answered pending).
const EnvWarehouseQueueURL = "WAREHOUSE_QUEUE_URL"

// Functions are the thirteen Lambdas, each a main under functions/.
var Functions = []string{FnAPI, FnStarter, FnReconciler, FnScreen, FnReserveStock, FnAuthorizePayment, FnCapturePayment,
	FnMarkDispatched, FnCompensate, FnMarkStalled, FnCustomsWorker, FnWarehouseWorker, FnCallbackSender}
