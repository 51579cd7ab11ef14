// Runs a definition N times in npm aws-local-stepfunctions (its tasks answered
// by local handlers, in-process like the Go engine's) and prints
// executions/s and state transitions/s as JSON. Used by `make bench` to
// compare with the Go engine in the same run.
import { readFileSync } from 'node:fs';
import { StateMachine } from 'aws-local-stepfunctions';

const [defPath, nArg, transitionsArg] = process.argv.slice(2);
const definition = JSON.parse(readFileSync(defPath, 'utf8'));
const n = Number(nArg);
const transitions = Number(transitionsArg);
const sm = new StateMachine(definition, { validationOptions: { checkArn: false, checkPaths: false } });
const handlers = {};
for (const [name, st] of Object.entries(definition.States)) {
  if (st.Type === 'Task') handlers[name] = async (input) => input;
}
// Warm up, then measure.
for (let i = 0; i < 200; i++) await sm.run({ value: i }, { overrides: { taskResourceLocalHandlers: handlers } }).result;
const start = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  await sm.run({ value: i }, { overrides: { taskResourceLocalHandlers: handlers } }).result;
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(JSON.stringify({ executionsPerSecond: n / secs, transitionsPerSecond: (n * transitions) / secs }));
