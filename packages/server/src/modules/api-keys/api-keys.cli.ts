import { parseArgs } from 'node:util';
import type { RequestContext } from '../../platform/request-context.ts';
import { API_KEY_SCOPES } from './api-keys.scopes.ts';
import type { ApiKeysService, ApiKeyView } from './api-keys.service.ts';

export const API_KEYS_USAGE = `  api-keys create --name <name> --scopes <s1,s2,…> [--expires-in <n>d | --expires-at <ISO date>]
                   make a management API key (works on a fresh install); prints the secret once
  api-keys list    list keys (never their secrets)
  api-keys revoke <id>
                   revoke a key at once

Scopes:
${Object.entries(API_KEY_SCOPES)
  .map(([scope, what]) => `  ${scope.padEnd(20)} ${what}`)
  .join('\n')}`;

/** A usage mistake: the CLI prints it with the usage and exits 64. */
export class UsageError extends Error {}

function describe(key: ApiKeyView): string {
  const state = key.revokedAt ? `revoked ${key.revokedAt}` : key.expiresAt && Date.parse(key.expiresAt) <= Date.now() ? `expired ${key.expiresAt}` : 'active';
  return [
    `${key.id}  ${key.name}  (${state})`,
    `    prefix:    ${key.prefix}`,
    `    scopes:    ${key.scopes.join(', ')}`,
    `    created:   ${key.createdAt} by ${key.createdBy.kind}${key.createdBy.id ? ` ${key.createdBy.id}` : ''}`,
    `    expires:   ${key.expiresAt ?? 'never'}`,
    `    last used: ${key.lastUsedAt ?? 'never'}`,
  ].join('\n');
}

function expiryOf(values: { 'expires-in'?: string | undefined; 'expires-at'?: string | undefined }, now: number): number | null {
  if (values['expires-in'] && values['expires-at']) throw new UsageError('give --expires-in or --expires-at, not both');
  if (values['expires-in']) {
    const match = /^(\d{1,5})d$/.exec(values['expires-in']);
    if (!match) throw new UsageError('--expires-in takes a number of days, e.g. 90d');
    return now + Number(match[1]) * 86_400_000;
  }
  if (values['expires-at']) {
    const at = Date.parse(values['expires-at']);
    if (Number.isNaN(at)) throw new UsageError('--expires-at takes an ISO 8601 date, e.g. 2027-06-30T00:00:00Z');
    return at;
  }
  return null;
}

/** `latchkey api-keys …`: returns the text to print; throws UsageError or the service's AppError. */
export async function runApiKeysCommand(args: string[], service: ApiKeysService, context: RequestContext, now: number): Promise<string> {
  const [sub, ...rest] = args;
  if (sub === 'create') {
    let values: { name?: string | undefined; scopes?: string | undefined; 'expires-in'?: string | undefined; 'expires-at'?: string | undefined };
    try {
      ({ values } = parseArgs({
        args: rest,
        options: { name: { type: 'string' }, scopes: { type: 'string' }, 'expires-in': { type: 'string' }, 'expires-at': { type: 'string' } },
        strict: true,
      }));
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    if (!values.name) throw new UsageError('--name is required');
    if (!values.scopes) throw new UsageError('--scopes is required (comma-separated)');
    const { key, secret } = await service.create({ name: values.name, scopes: values.scopes.split(','), expiresAt: expiryOf(values, now), context });
    return [
      `Created API key ${key.id} "${key.name}".`,
      '',
      `    ${secret}`,
      '',
      'This secret is shown ONCE and cannot be shown again: store it now (e.g. in your secret manager).',
      'Latchkey keeps only its SHA-256 hash. If it is lost, revoke this key and make a new one.',
      '',
      describe(key),
    ].join('\n');
  }
  if (sub === 'list') {
    if (rest.length > 0) throw new UsageError('api-keys list takes no arguments');
    const keys = await service.list();
    return keys.length === 0 ? 'No API keys.' : keys.map(describe).join('\n');
  }
  if (sub === 'revoke') {
    const [id, ...extra] = rest;
    if (!id || extra.length > 0) throw new UsageError('usage: api-keys revoke <id>');
    const key = await service.revoke(id, context);
    return `Revoked API key ${key.id} "${key.name}" (${key.revokedAt}). It no longer works.`;
  }
  throw new UsageError(sub ? `unknown api-keys command "${sub}"` : 'api-keys needs a command');
}
