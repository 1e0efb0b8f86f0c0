import { MigrationInterface, QueryRunner } from 'typeorm';

export class CallTwimlEnd1796640000000 implements MigrationInterface {
  name = 'CallTwimlEnd1796640000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "call_records" ADD "twiml_ends_as" character varying(8)');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "call_records" DROP COLUMN "twiml_ends_as"');
  }
}
