import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type IdempotencyKeyState = 'in_flight' | 'completed';

/**
 * One Idempotency-Key a caller sent, and the answer its first request got. The key is the
 * caller's own, so it is unique per token subject only.
 */
@Entity('idempotency_keys')
@Index('IDX_idempotency_keys_expires_at', ['expiresAt'])
export class IdempotencyKeyEntity {
  /** The JWT subject that sent the key. */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  subject: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  key: string;

  @Column({ name: 'request_method', type: 'varchar', length: 10 })
  requestMethod: string;

  /** The route the key was first used on (its pattern, not the URL sent). */
  @Column({ name: 'request_path', type: 'varchar', length: 255 })
  requestPath: string;

  /** SHA-256 (hex) of the canonical JSON of the first request's body. */
  @Column({ type: 'char', length: 64 })
  fingerprint: string;

  @Column({ type: 'varchar', length: 16 })
  state: IdempotencyKeyState;

  /** Set while in flight: only the request holding it may complete or release the key. */
  @Column({ name: 'lock_token', type: 'uuid', nullable: true })
  lockToken: string | null;

  @Column({ name: 'response_status', type: 'integer', nullable: true })
  responseStatus: number | null;

  /** The answer's JSON exactly as it was sent. */
  @Column({ name: 'response_body', type: 'text', nullable: true })
  responseBody: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'locked_at', type: 'timestamptz' })
  lockedAt: Date;

  @Column({ name: 'completed_at', type: 'timestamptz', nullable: true })
  completedAt: Date | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}
