import { MigrationInterface, QueryRunner } from 'typeorm';

export class HangupRequests1796626867808 implements MigrationInterface {
  name = 'HangupRequests1796626867808';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"hangup_requested_at\" TIMESTAMP WITH TIME ZONE");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"hangup_requested_at\"");
  }
}
