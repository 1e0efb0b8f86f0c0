import { MigrationInterface, QueryRunner } from 'typeorm';

export class PurchaseIntents1796628097049 implements MigrationInterface {
  name = 'PurchaseIntents1796628097049';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ADD \"status\" character varying(16) NOT NULL DEFAULT 'active'");
    await queryRunner.query("UPDATE \"phone_numbers\" SET \"status\" = 'released' WHERE \"released_at\" IS NOT NULL");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ALTER COLUMN \"sid\" DROP NOT NULL");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ALTER COLUMN \"capabilities\" DROP NOT NULL");
    await queryRunner.query("DROP INDEX \"public\".\"uq_phone_numbers_active_number\"");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_phone_numbers_active_number\" ON \"phone_numbers\"  (\"phone_number\") WHERE status IN ('purchasing', 'unknown', 'active')");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"uq_phone_numbers_active_number\"");
    await queryRunner.query("DELETE FROM \"phone_numbers\" WHERE \"sid\" IS NULL");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_phone_numbers_active_number\" ON \"phone_numbers\"  (\"phone_number\") WHERE released_at IS NULL");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ALTER COLUMN \"capabilities\" SET NOT NULL");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ALTER COLUMN \"sid\" SET NOT NULL");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" DROP COLUMN \"status\"");
  }
}
