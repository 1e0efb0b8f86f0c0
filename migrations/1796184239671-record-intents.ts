import { MigrationInterface, QueryRunner } from 'typeorm';

export class RecordIntents1796184239671 implements MigrationInterface {
  name = 'RecordIntents1796184239671';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"message_records\" ALTER COLUMN \"sid\" DROP NOT NULL");
    await queryRunner.query("ALTER TABLE \"call_records\" ALTER COLUMN \"sid\" DROP NOT NULL");
    await queryRunner.query("CREATE INDEX \"idx_message_records_unresolved\" ON \"message_records\"  (\"to_number\", \"created_at\") WHERE sid IS NULL");
    await queryRunner.query("CREATE INDEX \"idx_call_records_unresolved\" ON \"call_records\"  (\"to_number\", \"created_at\") WHERE sid IS NULL");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_unresolved\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_unresolved\"");
    await queryRunner.query("ALTER TABLE \"call_records\" ALTER COLUMN \"sid\" SET NOT NULL");
    await queryRunner.query("ALTER TABLE \"message_records\" ALTER COLUMN \"sid\" SET NOT NULL");
  }
}
