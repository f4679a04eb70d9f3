import { ConfigSchema, ENVIRONMENT } from './schema.ts';

interface SchemaNode {
  description?: string;
  default?: unknown;
  properties?: Record<string, SchemaNode>;
  anyOf?: { const?: unknown }[];
  type?: string;
}

/** The README's configuration table, written from the schema so the two cannot drift apart. */
export function configurationTable(): string {
  const root = ConfigSchema as unknown as SchemaNode;
  const rows = ENVIRONMENT.map(({ env, path, list }) => {
    const node = root.properties?.[path[0]]?.properties?.[path[1]] ?? {};
    const choices = node.anyOf?.map((a) => a.const).filter((c) => c !== undefined);
    const fallback = env === 'LATCHKEY_ORIGINS' ? 'http://localhost:<port>' : JSON.stringify(node.default ?? '') === '""' ? '(unset)' : Array.isArray(node.default) && node.default.length === 0 ? '(empty)' : String(node.default);
    const kind = choices?.length ? choices.map((c) => `\`${String(c)}\``).join(' / ') : list ? 'comma-separated list' : (node.type ?? 'string');
    return `| \`${env}\` | ${node.description ?? ''} | ${kind} | \`${fallback}\` |`;
  });
  return ['| variable | meaning | values | default |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) process.stdout.write(`${configurationTable()}\n`);
