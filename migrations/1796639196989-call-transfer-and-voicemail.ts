import { MigrationInterface, QueryRunner } from 'typeorm';

export class CallTransferAndVoicemail1796639196989 implements MigrationInterface {
  name = 'CallTransferAndVoicemail1796639196989';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"voicemail_message\" text");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"voicemail_left_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_to\" character varying(32)");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_whisper\" text");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_caller_id\" character varying(32)");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_requested_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_requested_by\" character varying(200)");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_status\" character varying(16)");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_call_sid\" character varying(34)");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"transfer_duration_seconds\" integer");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_duration_seconds\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_call_sid\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_status\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_requested_by\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_requested_at\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_caller_id\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_whisper\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"transfer_to\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"voicemail_left_at\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"voicemail_message\"");
  }
}
