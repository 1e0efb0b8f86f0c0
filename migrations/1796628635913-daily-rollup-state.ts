import { MigrationInterface, QueryRunner } from 'typeorm';

export class DailyRollupState1796628635913 implements MigrationInterface {
  name = 'DailyRollupState1796628635913';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"daily_rollup_state\" (\"rollup\" character varying(63) NOT NULL, \"as_of\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_4ab31868060c8395c9c082254f8\" PRIMARY KEY (\"rollup\"))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"daily_rollup_state\"");
  }
}
