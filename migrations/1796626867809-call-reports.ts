import { MigrationInterface, QueryRunner } from 'typeorm';

export class CallReports1796626867809 implements MigrationInterface {
  name = 'CallReports1796626867809';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"report_ready_at\" TIMESTAMP WITH TIME ZONE");
    // calls that ended before reports existed count as reported: no call.report.ready for the past
    await queryRunner.query(
      "UPDATE \"call_records\" SET \"report_ready_at\" = COALESCE(\"end_time\", \"updated_at\") WHERE \"status\" IN ('completed', 'busy', 'no-answer', 'failed', 'canceled')",
    );
    await queryRunner.query("CREATE INDEX \"idx_call_records_report_pending\" ON \"call_records\"  (\"updated_at\") WHERE report_ready_at IS NULL");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_report_pending\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"report_ready_at\"");
  }
}
