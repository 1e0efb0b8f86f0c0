import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

@Entity('recordings')
@Index('idx_recordings_call', ['callSid', 'createdAt'])
export class RecordingEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('uq_recordings_sid', { unique: true })
  @Column({ type: 'varchar', length: 34 })
  sid: string;

  @Column({ name: 'call_sid', type: 'varchar', length: 34 })
  callSid: string;

  @Column({ type: 'text', nullable: true })
  url: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  @Column({ name: 'duration_seconds', type: 'integer', nullable: true })
  durationSeconds: number | null;

  @Column({ type: 'integer', nullable: true })
  channels: number | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  source: string | null;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
