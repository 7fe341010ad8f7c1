// Judges request bodies against the schema of an operation's request body in an OpenAPI
// document (JSON Schema 2020-12, as OpenAPI 3.1 uses, with formats). Usage:
//   node schema_check.js <document.json> <path> <method> <bodies.json>
// bodies.json holds an array of bodies; prints a JSON array of true/false, one per body.
'use strict';
const fs = require('fs');
const Ajv2020 = require('ajv/dist/2020');
const addFormats = require('ajv-formats');

const [file, path, method, bodiesFile] = process.argv.slice(2);
const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: false });
addFormats(ajv);
// OpenAPI keywords that JSON Schema does not know.
ajv.addKeyword('example');
const schema = doc.paths[path][method].requestBody.content['application/json'].schema;
const validate = ajv.compile({ ...schema, components: doc.components });
const bodies = JSON.parse(fs.readFileSync(bodiesFile, 'utf8'));
console.log(JSON.stringify(bodies.map((b) => validate(b))));
