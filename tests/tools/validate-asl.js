#!/usr/bin/env node
// Runs two independent ASL checkers on one resolved state machine definition and prints their
// findings as JSON on stdout: {"amazonStatesLanguageService": [...], "aslValidator": [...]}.
// Usage: node tests/tools/validate-asl.js DEFINITION.json
// The caller resolves the ${...} DefinitionSubstitutions first: both tools check ARN shapes.
'use strict';

const fs = require('fs');
const { getLanguageService, TextDocument } = require('amazon-states-language-service');
const aslValidator = require('asl-validator');

async function main() {
  const path = process.argv[2];
  if (!path) {
    console.error('usage: validate-asl.js DEFINITION.json');
    process.exit(2);
  }
  const text = fs.readFileSync(path, 'utf8');

  // AWS's own validator (the one the AWS Toolkit uses): schema, enum and type checks.
  const service = getLanguageService({});
  const document = TextDocument.create(`file://${path}`, 'json', 1, text);
  const diagnostics = await service.doValidation(document, service.parseJSONDocument(document));
  const amazonStatesLanguageService = diagnostics.map((d) => ({
    line: d.range.start.line + 1,
    severity: d.severity,
    message: d.message,
  }));

  // asl-validator: state graph (reachability, Next targets) and JSONPath checks.
  const result = aslValidator(JSON.parse(text), { checkArn: true, checkPaths: true });
  const aslValidatorErrors = result.isValid ? [] : result.errors.map((e) => e.Message ?? e.message ?? JSON.stringify(e));

  console.log(JSON.stringify({ amazonStatesLanguageService, aslValidator: aslValidatorErrors }, null, 2));
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exit(2);
});
