import { MigrationInterface, QueryRunner } from 'typeorm';

export class ThrottleCounters1796167045384 implements MigrationInterface {
  name = 'ThrottleCounters1796167045384';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"throttle_counters\" (\"key\" character varying(200) NOT NULL, \"hits\" integer NOT NULL, \"window_ends_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"blocked_until\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_0d6e00f6811746d8c018db8d58d\" PRIMARY KEY (\"key\"))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"throttle_counters\"");
  }
}
