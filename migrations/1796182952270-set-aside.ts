import { MigrationInterface, QueryRunner } from 'typeorm';

export class SetAside1796182952270 implements MigrationInterface {
  name = 'SetAside1796182952270';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"reconcile_failures\" integer NOT NULL DEFAULT '0'");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"reconcile_error\" text");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"reconcile_set_aside_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"message_records\" ADD \"reconcile_failures\" integer NOT NULL DEFAULT '0'");
    await queryRunner.query("ALTER TABLE \"message_records\" ADD \"reconcile_error\" text");
    await queryRunner.query("ALTER TABLE \"message_records\" ADD \"reconcile_set_aside_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"webhook_events\" ADD \"attempts\" integer NOT NULL DEFAULT '0'");
    await queryRunner.query("ALTER TABLE \"webhook_events\" ADD \"last_error\" text");
    await queryRunner.query("ALTER TABLE \"webhook_events\" ADD \"next_attempt_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("ALTER TABLE \"webhook_events\" ADD \"set_aside_at\" TIMESTAMP WITH TIME ZONE");
    await queryRunner.query("CREATE INDEX \"idx_call_records_set_aside\" ON \"call_records\"  (\"reconcile_set_aside_at\") WHERE reconcile_set_aside_at IS NOT NULL");
    await queryRunner.query("CREATE INDEX \"idx_message_records_set_aside\" ON \"message_records\"  (\"reconcile_set_aside_at\") WHERE reconcile_set_aside_at IS NOT NULL");
    await queryRunner.query("CREATE INDEX \"idx_webhook_events_set_aside\" ON \"webhook_events\"  (\"set_aside_at\") WHERE set_aside_at IS NOT NULL");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhook_events_set_aside\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_set_aside\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_set_aside\"");
    await queryRunner.query("ALTER TABLE \"webhook_events\" DROP COLUMN \"set_aside_at\"");
    await queryRunner.query("ALTER TABLE \"webhook_events\" DROP COLUMN \"next_attempt_at\"");
    await queryRunner.query("ALTER TABLE \"webhook_events\" DROP COLUMN \"last_error\"");
    await queryRunner.query("ALTER TABLE \"webhook_events\" DROP COLUMN \"attempts\"");
    await queryRunner.query("ALTER TABLE \"message_records\" DROP COLUMN \"reconcile_set_aside_at\"");
    await queryRunner.query("ALTER TABLE \"message_records\" DROP COLUMN \"reconcile_error\"");
    await queryRunner.query("ALTER TABLE \"message_records\" DROP COLUMN \"reconcile_failures\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"reconcile_set_aside_at\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"reconcile_error\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"reconcile_failures\"");
  }
}
