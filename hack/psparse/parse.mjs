// Parses PowerShell files with tree-sitter's PowerShell grammar (run in
// WebAssembly, so nothing is compiled here) and prints each syntax error as
// FILE:LINE:COLUMN: TEXT; exits 1 when there is one. The provisioner's
// tests run it on the generated Windows checklist scripts: no PowerShell
// can be installed on this Linux machine, a parser can.
//
// Usage: PSPARSE_MODULES=DIR/node_modules node parse.mjs FILE...
// (hack/install-psparse.sh installs the two npm packages into DIR.)
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const modules = process.env.PSPARSE_MODULES;
if (!modules) {
  console.error('PSPARSE_MODULES is not set: run hack/install-psparse.sh');
  process.exit(2);
}
const require = createRequire(join(modules, 'x.js'));
const { Parser, Language } = require('web-tree-sitter');
await Parser.init();
const powershell = await Language.load(join(modules, 'tree-sitter-powershell', 'tree-sitter-powershell.wasm'));
const parser = new Parser();
parser.setLanguage(powershell);

let errors = 0;
for (const file of process.argv.slice(2)) {
  const tree = parser.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  const walk = (node) => {
    if (node.isError || node.isMissing) {
      errors++;
      const { row, column } = node.startPosition;
      const what = node.isMissing ? `missing ${node.type}` : `syntax error at ${JSON.stringify(node.text.slice(0, 60))}`;
      console.log(`${file}:${row + 1}:${column + 1}: ${what}`);
      return;
    }
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
}
process.exit(errors > 0 ? 1 : 0);
