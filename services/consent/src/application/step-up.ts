import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { quoteIdent } from '@assent/eventstore';

/** Delivers a one-time code to the shopper out of band (SMS, e-mail, authenticator push...). */
export abstract class OneTimeCodeSender {
  abstract send(shopperId: string, confirmationId: string, code: string): Promise<void>;
}

/**
 * Development delivery: the code goes to the service log (at warn level, so it shows by default).
 * The log line names the confirmation, not the shopper. Replace it with a real channel in production.
 */
@Injectable()
export class LogCodeSender extends OneTimeCodeSender {
  private readonly logger = new Logger('StepUp');
  async send(_shopperId: string, confirmationId: string, code: string): Promise<void> {
    this.logger.warn(`development delivery: step-up code for confirmation ${confirmationId} is ${code}`);
  }
}

const MAX_ATTEMPTS = 5;
const CODE_TTL_SECONDS = 300;

const hashOf = (confirmationId: string, code: string) =>
  createHash('sha256').update(`${confirmationId}:${code}`).digest('hex');

/** One-time codes: random, stored only as a hash, expiring, a bounded number of tries. */
export class StepUpCodes {
  private readonly s: string;

  constructor(
    schema: string,
    private readonly sender: OneTimeCodeSender,
  ) {
    this.s = quoteIdent(schema);
  }

  /** A fresh code replaces any earlier one for this confirmation; it is sent once the caller commits. */
  async issue(
    manager: EntityManager,
    confirmationId: string,
    now: Date,
  ): Promise<{ expiresAt: string; deliver: (shopperId: string) => Promise<void> }> {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(now.getTime() + CODE_TTL_SECONDS * 1000).toISOString();
    await manager.query(
      `INSERT INTO ${this.s}.step_up_codes (confirmation_id, code_hash, expires_at, attempts) VALUES ($1, $2, $3, 0)
       ON CONFLICT (confirmation_id) DO UPDATE SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at, attempts = 0`,
      [confirmationId, hashOf(confirmationId, code), expiresAt],
    );
    return { expiresAt, deliver: (shopperId) => this.sender.send(shopperId, confirmationId, code) };
  }

  async verify(
    manager: EntityManager,
    confirmationId: string,
    code: string,
    now: Date,
  ): Promise<'verified' | 'wrong_code' | 'locked'> {
    const rows = (await manager.query(
      // In a CTE: TypeORM answers a bare UPDATE ... RETURNING with [rows, count] rather than rows.
      `WITH tried AS (
         UPDATE ${this.s}.step_up_codes SET attempts = attempts + 1 WHERE confirmation_id = $1
         RETURNING code_hash, expires_at, attempts
       ) SELECT * FROM tried`,
      [confirmationId],
    )) as Array<{ code_hash: string; expires_at: Date | string; attempts: number }>;
    const row = rows[0];
    if (!row) return 'wrong_code';
    if (row.attempts > MAX_ATTEMPTS) return 'locked';
    if (new Date(row.expires_at).getTime() <= now.getTime()) return 'wrong_code';
    const ok = timingSafeEqual(Buffer.from(row.code_hash, 'hex'), Buffer.from(hashOf(confirmationId, code), 'hex'));
    if (!ok) return row.attempts >= MAX_ATTEMPTS ? 'locked' : 'wrong_code';
    await manager.query(`DELETE FROM ${this.s}.step_up_codes WHERE confirmation_id = $1`, [confirmationId]);
    return 'verified';
  }
}
