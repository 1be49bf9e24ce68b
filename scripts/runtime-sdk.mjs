// The packages the runtime image provides to functions (src/build/provided-packages.json) and
// every package they depend on, as installed in this project's node_modules.
//
//   node scripts/runtime-sdk.mjs            prints one `name@version` a line (hashed into the image tag)
//   node scripts/runtime-sdk.mjs --copy DIR copies them into DIR/node_modules, without type
//                                           declarations, source maps or docs (not needed to run)
import { cp, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const root = process.cwd();
const roots = JSON.parse(await readFile(join(root, 'src/build/provided-packages.json'), 'utf8'));

/** Node's lookup: the nearest node_modules/NAME above `from`, inside this project. */
function resolve(name, from) {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  throw new Error(
    `${name} (needed by ${relative(root, from) || 'the runtime image'}) is not installed: run npm ci`,
  );
}

/** @type {Map<string, string>} package dir → name@version */
const closure = new Map();
async function walk(dir) {
  if (closure.has(dir)) return;
  const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  closure.set(dir, `${pkg.name}@${pkg.version}`);
  for (const dep of Object.keys(pkg.dependencies ?? {})) await walk(resolve(dep, dir));
  for (const dep of Object.keys(pkg.optionalDependencies ?? {})) {
    let found;
    try {
      found = resolve(dep, dir);
    } catch {
      continue; // an optional dependency not installed here is not needed here either
    }
    await walk(found);
  }
}
for (const name of roots) await walk(resolve(name, root));

const copyTo = process.argv[2] === '--copy' ? process.argv[3] : undefined;
if (process.argv[2] === '--copy' && !copyTo) throw new Error('usage: runtime-sdk.mjs --copy DIR');
const dirs = [...closure.keys()].sort();
if (!copyTo) {
  for (const d of dirs) console.log(`${relative(root, d)} ${closure.get(d)}`);
} else {
  const skip = (src) => /\/dist-types(\/|$)|\.d\.[cm]?ts$|\.map$|\.md$/i.test(src);
  for (const d of dirs) {
    await cp(d, join(copyTo, relative(root, d)), {
      recursive: true,
      filter: (src) => !skip(relative(d, src) === '' ? '' : '/' + relative(d, src)),
    });
  }
}
