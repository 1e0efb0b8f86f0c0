import { MigrationInterface, QueryRunner } from 'typeorm';

export class ReconcileWatermarks1796183578835 implements MigrationInterface {
  name = 'ReconcileWatermarks1796183578835';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"reconcile_watermarks\" (\"resource\" character varying(16) NOT NULL, \"listed_until\" TIMESTAMP WITH TIME ZONE NOT NULL, \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_fa863e744991b23f296700e7347\" PRIMARY KEY (\"resource\"))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"reconcile_watermarks\"");
  }
}
