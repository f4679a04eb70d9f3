/** `KEY=VALUE,KEY=VALUE` of LATCHKEY_* settings from a bench option (`--server-env`, `--env-<label>`); anything else is refused. */
export function parseServerEnv(text: string | undefined, option = '--server-env'): Record<string, string> {
  return Object.fromEntries(
    (text ?? '')
      .split(',')
      .filter(Boolean)
      .map((pair) => {
        const [key = '', ...value] = pair.split('=');
        if (!key.startsWith('LATCHKEY_')) throw new Error(`${option}: ${key} is not a LATCHKEY_* variable`);
        return [key, value.join('=')];
      }),
  );
}
