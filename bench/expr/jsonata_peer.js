// The peer: the same expression through jsonata-js, one JSON line per input line (undefined
// results print nothing), as `canonry expr -f` does. Usage: node jsonata_peer.js EXPR_FILE INPUT OUT
const fs = require('fs');
const readline = require('readline');
const jsonata = require(__dirname + '/node_modules/jsonata');

async function main() {
  const [exprFile, input, output] = process.argv.slice(2);
  const expression = jsonata(fs.readFileSync(exprFile, 'utf8'));
  const out = fs.createWriteStream(output);
  const lines = readline.createInterface({ input: fs.createReadStream(input), crlfDelay: Infinity });
  let buffer = [];
  for await (const line of lines) {
    if (!line.trim()) continue;
    const result = await expression.evaluate(JSON.parse(line));
    if (result !== undefined) buffer.push(JSON.stringify(result));
    if (buffer.length >= 1000) {
      out.write(buffer.join('\n') + '\n');
      buffer = [];
    }
  }
  if (buffer.length) out.write(buffer.join('\n') + '\n');
  out.end();
}

main().catch((e) => { console.error(e); process.exit(1); });
