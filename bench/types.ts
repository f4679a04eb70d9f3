/** The JSON bench/load.ts prints (one object on stdout), as bench/run.ts and bench/profile.ts read it. */

export interface LatencySummary {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadResult {
  base: string;
  client: 'http' | 'fetch';
  clients: number;
  readyClients: number;
  registration: LatencySummary;
  login: LatencySummary;
  errors: number;
  firstErrors: { phase: string; step: string; status: number; body: string }[];
  server?: {
    pid: number;
    cpuMsPerLogin?: number;
    /** The kernel's part of it (stime): syscalls, WAL writes, loopback TCP. */
    systemCpuMsPerLogin?: number;
    cpuUtilization?: number;
    threadCores: Record<string, number>;
    mainThread?: { running: number; waitingForCpu: number; offCpu: number };
    /** Writes per login from /proc/<pid>/io: bytes passed to write calls (sockets included), write calls, bytes sent to storage. */
    io?: { wcharBytesPerLogin: number; writeCallsPerLogin: number; storageBytesPerLogin: number };
    rssPeakSampledMB: number;
    vmHwmMB: number;
  };
  postgres?: { cpuMsPerLogin: number; cpuUtilization: number };
  /** With --sqlite: the largest -wal file seen (sampled every 100 ms, warm-up included), its size when the window closed, and what each login adds to the database. */
  sqlite?: { walPeakMB: number; walAtEndMB: number; dbGrowthBytesPerLogin?: number; rowsPerLogin?: Record<string, number> };
  machine: { busyCores: number; foreignCores: number };
  loadgen: { cpuMsPerLogin: number; cpuUtilization: number };
}

export interface RawVerifyResult {
  es256VerifyPerSecond: number;
  es256SubtleVerifyPerSecond: number;
  messageBytes: number;
}
