import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncApiDocument } from '../src/asyncapi';
import { jsonSchemas } from '../src/json-schema';
import { topicReferenceMarkdown } from '../src/topics';

const dir = join(__dirname, '..', 'json-schema');
mkdirSync(dir, { recursive: true });
for (const [file, schema] of Object.entries(jsonSchemas())) {
  writeFileSync(join(dir, file), `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote json-schema/${file}`);
}

// The AsyncAPI 3.0 document of every topic, beside the design.
const asyncapi = join(__dirname, '..', '..', '..', 'docs', 'asyncapi.json');
writeFileSync(asyncapi, `${JSON.stringify(asyncApiDocument(), null, 2)}\n`);
console.log('wrote docs/asyncapi.json');

// The README's topic table sits between these markers and is rewritten from the contracts.
const readme = join(__dirname, '..', '..', '..', 'README.md');
const text = readFileSync(readme, 'utf8');
const start = '<!-- topics:start -->';
const end = '<!-- topics:end -->';
if (text.includes(start) && text.includes(end)) {
  const before = text.slice(0, text.indexOf(start) + start.length);
  const after = text.slice(text.indexOf(end));
  writeFileSync(readme, `${before}\n${topicReferenceMarkdown()}\n${after}`);
  console.log('wrote the topic table in README.md');
}
