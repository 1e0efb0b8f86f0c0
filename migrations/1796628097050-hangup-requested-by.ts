import { MigrationInterface, QueryRunner } from 'typeorm';

export class HangupRequestedBy1796628097050 implements MigrationInterface {
  name = 'HangupRequestedBy1796628097050';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"hangup_requested_by\" character varying(200)");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"hangup_requested_by\"");
  }
}
