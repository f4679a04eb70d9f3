/** The console's client-side routes, all under `/admin` (the server answers every one with the same page). */
export type Route =
  | { name: 'find' }
  | { name: 'user'; id: string }
  | { name: 'audit' }
  | { name: 'staff' }
  | { name: 'api-keys' }
  | { name: 'settings' }
  | { name: 'webhooks' }
  | { name: 'adoption' }
  | { name: 'rollout' }
  | { name: 'experiments' }
  | { name: 'enroll' }
  | { name: 'not-found' };

export const BASE = '/admin';
/** The routes that are one word under BASE. */
const PAGES = ['audit', 'staff', 'api-keys', 'settings', 'webhooks', 'adoption', 'rollout', 'experiments', 'enroll'] as const;

export function parseRoute(pathname: string): Route {
  const path = pathname.replace(/\/+$/, '') || '/';
  if (path === BASE) return { name: 'find' };
  if (!path.startsWith(`${BASE}/`)) return { name: 'not-found' };
  const parts = path.slice(BASE.length + 1).split('/');
  const [first, second] = parts;
  if (parts.length === 2 && first === 'users' && second) {
    try {
      return { name: 'user', id: decodeURIComponent(second) };
    } catch {
      return { name: 'not-found' };
    }
  }
  if (parts.length === 1 && PAGES.includes(first as (typeof PAGES)[number])) return { name: first as (typeof PAGES)[number] };
  return { name: 'not-found' };
}

export function userPath(id: string): string {
  return `${BASE}/users/${encodeURIComponent(id)}`;
}
