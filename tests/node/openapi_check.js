// Validates an OpenAPI document with swagger-parser (structure against the OpenAPI 3.1 schema,
// every $ref resolved). Usage: node openapi_check.js <document.json>. Prints "valid" and exits
// 0, or prints the problems and exits 1.
'use strict';
const SwaggerParser = require('@apidevtools/swagger-parser');

const file = process.argv[2];
if (!file) {
  console.error('usage: node openapi_check.js <document.json>');
  process.exit(2);
}
SwaggerParser.validate(file).then(
  (api) => {
    console.log(`valid: ${api.info.title}, ${Object.keys(api.paths).length} paths`);
  },
  (err) => {
    console.log(`invalid: ${err.message}`);
    process.exit(1);
  },
);
