import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/** An assistant: where its agent lives, what it says first, how it listens, and when it stops. */
@Entity('assistants')
export class AssistantEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  /** Where each turn is POSTed, signed with `secret`. */
  @Column({ name: 'agent_url', type: 'text' })
  agentUrl: string;

  /** Spoken when an outbound call is answered. */
  @Column({ name: 'first_message', type: 'text', nullable: true })
  firstMessage: string | null;

  /** Spoken when an inbound call is answered. */
  @Column({ type: 'text', nullable: true })
  greeting: string | null;

  @Column({ type: 'text' })
  voice: string;

  @Column({ type: 'text' })
  language: string;

  @Column({ name: 'speech_hints', type: 'text', array: true, default: () => "'{}'" })
  speechHints: string[];

  /** Seconds Gather waits for the caller to start (Gather `timeout`). */
  @Column({ name: 'input_timeout_seconds', type: 'integer' })
  inputTimeoutSeconds: number;

  /** Gather `speechTimeout`: `auto` or seconds of silence that end the utterance. */
  @Column({ name: 'speech_timeout', type: 'text' })
  speechTimeout: string;

  @Column({ name: 'profanity_filter', type: 'boolean' })
  profanityFilter: boolean;

  @Column({ name: 'speech_model', type: 'text', nullable: true })
  speechModel: string | null;

  @Column({ name: 'max_turns', type: 'integer' })
  maxTurns: number;

  @Column({ name: 'max_duration_seconds', type: 'integer' })
  maxDurationSeconds: number;

  /** Silent turns in a row after which the call ends. */
  @Column({ name: 'silence_limit', type: 'integer' })
  silenceLimit: number;

  @Column({ name: 'end_phrases', type: 'text', array: true, default: () => "'{}'" })
  endPhrases: string[];

  @Column({ name: 'transfer_number', type: 'text', nullable: true })
  transferNumber: string | null;

  @Column({ name: 'voicemail_message', type: 'text', nullable: true })
  voicemailMessage: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Record<string, string>;

  /** Standard Webhooks secret (whsec_ + base64); signs every turn sent to the agent. */
  @Column({ type: 'text' })
  secret: string;

  /** The secret before the last rotation: it signs too until previous_secret_expires_at. */
  @Column({ name: 'previous_secret', type: 'text', nullable: true })
  previousSecret: string | null;

  @Column({ name: 'previous_secret_expires_at', type: 'timestamptz', nullable: true })
  previousSecretExpiresAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
