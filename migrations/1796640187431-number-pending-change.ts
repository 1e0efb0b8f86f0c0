import { MigrationInterface, QueryRunner } from 'typeorm';

export class NumberPendingChange1796640187431 implements MigrationInterface {
  name = 'NumberPendingChange1796640187431';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "phone_numbers" ADD "pending_change" jsonb');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query('ALTER TABLE "phone_numbers" DROP COLUMN "pending_change"');
  }
}
