// Peer of `canonry discover` in bench/discover/run.sh: MongoDB Compass's analyzer
// (npm mongodb-schema) over a file of extended JSON lines, documents decoded with the bson
// package's EJSON so that ObjectId, Date and Decimal128 reach the analyzer as BSON types, as they
// do from a MongoDB cursor. Prints the number of documents and of field paths it found.
'use strict';
const fs = require('fs');
const readline = require('readline');
const { EJSON } = require('bson');
const { parseSchema } = require('mongodb-schema');

async function* documents(path) {
  const lines = readline.createInterface({ input: fs.createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let document;
    try {
      document = EJSON.parse(line);
    } catch (e) {
      continue; // like canonry, a line that does not decode is skipped, not fatal
    }
    yield document;
  }
}

function countFields(fields) {
  let n = 0;
  for (const field of fields || []) {
    n += 1;
    for (const type of field.types || []) {
      n += countFields(type.fields);
      if (type.types) for (const inner of type.types) n += countFields(inner.fields);
    }
  }
  return n;
}

(async () => {
  const schema = await parseSchema(documents(process.argv[2]));
  console.log(JSON.stringify({ documents: schema.count, paths: countFields(schema.fields) }));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
