import { MigrationInterface, QueryRunner } from 'typeorm';

export class CampaignPacingSlots1797000000000 implements MigrationInterface {
  name = 'CampaignPacingSlots1797000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"campaign_pacing_slots\" (\"channel\" character varying(10) NOT NULL, \"slot\" integer NOT NULL, \"attempt_id\" uuid, \"requested_at\" TIMESTAMP WITH TIME ZONE, \"answered_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_468b91a91c3cc4cc1d8aec26c39\" PRIMARY KEY (\"channel\", \"slot\"))");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP TABLE \"campaign_pacing_slots\"");
  }
}
