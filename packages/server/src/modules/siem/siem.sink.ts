/** One exported event, ready for a sink: the OCSF JSON and what a syslog header needs. */
export interface SiemLine {
  seq: number;
  json: string;
  /** OCSF `severity_id`. */
  severityId: number;
  /** Epoch ms: the event's time. */
  time: number;
  /** Syslog MSGID: the OCSF `type_uid`. */
  msgId: string;
}

/** Where exported events go: a syslog receiver, a file, stdout. */
export interface SiemSink {
  /** The cursor's name in `siem_cursors`. */
  readonly name: string;
  /**
   * A batch counts as delivered once `send` resolved and, with no acknowledgement from the
   * receiver, its connection stayed up this long after (0: `send` resolving is delivery).
   */
  readonly confirmAfterMs: number;
  /** Writes the batch, in order; rejects when it may not have arrived (it is sent again). */
  send(lines: readonly SiemLine[]): Promise<void>;
  /** True once after the sink lost what it had written but not confirmed (a dropped connection). */
  takeBroken(): boolean;
  /** Closes; true when everything written is known to have been taken (a clean close), false when that is unknown. */
  close(): Promise<boolean>;
}
