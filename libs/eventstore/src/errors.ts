/** Another writer appended to the stream first: reload and decide again, nothing was written. */
export class StreamVersionConflictError extends Error {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number | null,
  ) {
    super(
      `stream ${streamId}: expected version ${expectedVersion}` +
        (actualVersion === null ? ', another writer appended concurrently' : `, found ${actualVersion}`),
    );
    this.name = 'StreamVersionConflictError';
  }
}

/** PostgreSQL's SQLSTATE of a driver error, through TypeORM's QueryFailedError wrapper. */
export function sqlState(error: unknown): string | undefined {
  const e = error as { code?: unknown; driverError?: { code?: unknown } };
  const code = e?.driverError?.code ?? e?.code;
  return typeof code === 'string' ? code : undefined;
}

export function constraintName(error: unknown): string | undefined {
  const e = error as { constraint?: unknown; driverError?: { constraint?: unknown } };
  const name = e?.driverError?.constraint ?? e?.constraint;
  return typeof name === 'string' ? name : undefined;
}
