export const CACHE_DIR: string;
export const BASE_IMAGE: string;
/** Resource-limit options for podman run/build on this kind of machine. */
export const ULIMITS: string[];
/** podman's global options (the runtime) for this machine. */
export function podmanGlobal(): string[];
/** Installs Debian's podman, runc and mmdebstrap when missing (as root); throws with the apt-get line otherwise. */
export function ensureTools(): void;
export function imageExists(name: string): boolean;
/** Builds (or reuses) the local Debian + Node 24 base image; returns its name. */
export function ensureBaseImage(): string;
/** Builds the repository's Dockerfile on the local base image; returns the image name. */
export function buildImage(tag?: string): string;
