#!/usr/bin/env node
// Decides IAM requests with @cloud-copilot/iam-simulate, an evaluator written independently of ours,
// so the differential test can compare decisions. Test-time only (AGPL-3.0): never shipped.
// Reads a JSON array of cases on stdin:
//   {id, principal, action, resource, accountId, context: {key: value | [values]},
//    policies: [document, ...], boundary: document | null}
// and prints [{id, decision: "allowed" | "explicitDeny" | "implicitDeny" | "error", errors}] on stdout.
'use strict';

const { runSimulation } = require('@cloud-copilot/iam-simulate');

const DECISIONS = {
  Allowed: 'allowed',
  ExplicitlyDenied: 'explicitDeny',
  ImplicitlyDenied: 'implicitDeny',
};

async function decide(testCase) {
  const simulation = {
    request: {
      principal: testCase.principal,
      action: testCase.action,
      resource: { resource: testCase.resource, accountId: testCase.accountId },
      contextVariables: testCase.context || {},
    },
    identityPolicies: testCase.policies.map((policy, i) => ({ name: `policy${i + 1}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
  };
  if (testCase.boundary) {
    simulation.permissionBoundaryPolicies = [{ name: 'boundary', policy: testCase.boundary }];
  }
  // Strict mode: the request is evaluated exactly as given (no guessing of absent context keys).
  const response = await runSimulation(simulation, { simulationMode: 'Strict' });
  if (response.resultType === 'error') {
    return { id: testCase.id, decision: 'error', errors: response.errors };
  }
  return { id: testCase.id, decision: DECISIONS[response.overallResult] || response.overallResult };
}

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const cases = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const testCase of cases) results.push(await decide(testCase));
  console.log(JSON.stringify(results));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(2);
});
