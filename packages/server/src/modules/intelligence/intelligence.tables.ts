/** Owned by the intelligence module: what one device did lately (device_key = HMAC of its random id). */
export interface DeviceSignalsTable {
  id: string;
  device_key: string;
  /** 'success', 'failure' (cancelled, timed out, error) or 'declined' (a "not now" to the append prompt). */
  kind: string;
  /** 'registration' | 'authentication' for ceremony outcomes, null for declines. */
  ceremony: string | null;
  user_id: string | null;
  /** The passkey a successful ceremony used or made, when the client named one of the user's. */
  credential_id: string | null;
  os: string | null;
  browser: string | null;
  platform: string | null;
  created_at: number;
}
