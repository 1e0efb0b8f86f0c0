import { MigrationInterface, QueryRunner } from 'typeorm';

export class UsageDailyRollups1796185454456 implements MigrationInterface {
  name = 'UsageDailyRollups1796185454456';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"call_daily_stats\" (\"day\" date NOT NULL, \"direction\" character varying(16) NOT NULL, \"status\" character varying(16) NOT NULL, \"calls\" integer NOT NULL, \"billable_minutes\" bigint NOT NULL, \"cost\" numeric(16,5) NOT NULL, \"unpriced\" integer NOT NULL, \"refreshed_at\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_b980a93b6e6884cd899a54a4ab9\" PRIMARY KEY (\"day\", \"direction\", \"status\"))");
    await queryRunner.query("CREATE TABLE \"message_daily_stats\" (\"day\" date NOT NULL, \"direction\" character varying(16) NOT NULL, \"status\" character varying(16) NOT NULL, \"messages\" integer NOT NULL, \"segments\" bigint NOT NULL, \"cost\" numeric(16,5) NOT NULL, \"unpriced\" integer NOT NULL, \"refreshed_at\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_d591db4133d54fbc5cbfa4696b3\" PRIMARY KEY (\"day\", \"direction\", \"status\"))");
    await queryRunner.query("CREATE INDEX \"idx_call_records_updated\" ON \"call_records\"  (\"updated_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_updated\" ON \"message_records\"  (\"updated_at\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_updated\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_updated\"");
    await queryRunner.query("DROP TABLE \"message_daily_stats\"");
    await queryRunner.query("DROP TABLE \"call_daily_stats\"");
  }
}
