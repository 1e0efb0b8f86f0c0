import { MigrationInterface, QueryRunner } from 'typeorm';

export class GuardrailDays1796639602269 implements MigrationInterface {
  name = 'GuardrailDays1796639602269';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"guardrail_days\" (\"day\" date NOT NULL, \"admitted_spend_units\" bigint NOT NULL DEFAULT '0', \"admitted_calls\" bigint NOT NULL DEFAULT '0', CONSTRAINT \"PK_5d02e0080c4e42c3d74d6dbab63\" PRIMARY KEY (\"day\"))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"guardrail_days\"");
  }
}
