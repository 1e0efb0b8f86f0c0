// `npm start` builds only when a source, migration or build setting is newer than the build
// (dist/src/main.js and the sandbox's dist); otherwise it starts at once.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const INPUTS = [
  'src',
  'migrations',
  'packages/twilio-sandbox/src',
  'tsconfig.json',
  'nest-cli.json',
  'package-lock.json',
  'packages/twilio-sandbox/tsconfig.json',
];
const OUTPUTS = ['dist/src/main.js', 'packages/twilio-sandbox/dist/index.js'];

function newest(path) {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs);
}

function oldest(paths) {
  let min = Infinity;
  for (const path of paths) {
    try {
      min = Math.min(min, statSync(path).mtimeMs);
    } catch {
      return 0;
    }
  }
  return min;
}

const built = oldest(OUTPUTS);
const changed = Math.max(...INPUTS.map(newest));
if (built === 0 || changed > built) {
  process.stdout.write(built === 0 ? 'Building (first run)...\n' : 'Sources changed since the last build; rebuilding...\n');
  execFileSync('npm', ['run', '-s', 'build'], { stdio: 'inherit' });
}
