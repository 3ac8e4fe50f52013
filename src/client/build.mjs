// Builds the client's two bundles from the ES module sources in src/ with esbuild:
//   dist/holdfast.mjs  ES module (named exports + a default object with all of them)
//   dist/holdfast.js   classic script for a <script> tag: defines globalThis.Holdfast
// `node build.mjs` writes them; `node build.mjs --check` builds in memory and fails (exit 1)
// when a committed bundle differs from what the sources give, byte for byte.
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));
const banner = `/*! Holdfast browser client ${pkg.version}. Built from src/client/src by build.mjs ` +
  `(do not edit); see docs/client.md. */`;

const common = {
  absWorkingDir: here,
  bundle: true,
  target: 'es2018',
  platform: 'neutral',
  legalComments: 'none',
  banner: { js: banner },
  write: false,
  logLevel: 'warning'
};
const BUNDLES = [
  { ...common, entryPoints: ['src/index.js'], format: 'esm', outfile: 'dist/holdfast.mjs' },
  { ...common, entryPoints: ['src/classic.js'], format: 'iife', outfile: 'dist/holdfast.js' }
];

async function main() {
  const check = process.argv.includes('--check');
  const stale = [];
  for (const options of BUNDLES) {
    const result = await esbuild.build(options);
    for (const file of result.outputFiles) {
      const rel = path.relative(here, file.path);
      if (check) {
        const old = fs.existsSync(file.path) ? fs.readFileSync(file.path) : null;
        if (!old || !Buffer.from(file.contents).equals(old)) stale.push(rel);
      } else {
        fs.mkdirSync(path.dirname(file.path), { recursive: true });
        fs.writeFileSync(file.path, file.contents);
        console.log(`build: src/client/${rel} (${file.contents.length} bytes)`);
      }
    }
  }
  if (stale.length) {
    console.error(`build --check: ${stale.map((f) => 'src/client/' + f).join(', ')} differ from what ` +
      'src/client/src builds: run `npm run build` in src/client and commit dist/');
    process.exit(1);
  }
  if (check) console.log(`build --check: dist/ matches src/ (esbuild ${esbuild.version})`);
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
