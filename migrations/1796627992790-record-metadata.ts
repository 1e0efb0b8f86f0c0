import { MigrationInterface, QueryRunner } from 'typeorm';

export class RecordMetadata1796627992790 implements MigrationInterface {
  name = 'RecordMetadata1796627992790';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"metadata\" jsonb NOT NULL DEFAULT '{}'");
    await queryRunner.query("ALTER TABLE \"message_records\" ADD \"metadata\" jsonb NOT NULL DEFAULT '{}'");
    // written by hand: TypeORM cannot declare a GIN index with the jsonb_path_ops operator class (the entities mark it synchronize: false)
    await queryRunner.query("CREATE INDEX \"idx_call_records_metadata\" ON \"call_records\" USING gin (\"metadata\" jsonb_path_ops)");
    await queryRunner.query("CREATE INDEX \"idx_message_records_metadata\" ON \"message_records\" USING gin (\"metadata\" jsonb_path_ops)");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_metadata\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_metadata\"");
    await queryRunner.query("ALTER TABLE \"message_records\" DROP COLUMN \"metadata\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"metadata\"");
  }
}
