/** A throwaway PostgreSQL cluster (scripts/postgres.mjs). */
export interface TestCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres (trust auth). */
  url: string;
  dir: string;
  /** `pg_ctl restart|stop -m fast` or `pg_ctl start`, without blocking the event loop. */
  control(action: 'restart' | 'stop' | 'start'): Promise<void>;
  /** Stops the cluster at once and removes its folder. */
  stop(): void;
}
export function startPostgres(options?: { durableCommits?: boolean }): Promise<TestCluster>;
