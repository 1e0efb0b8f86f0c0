import { MigrationInterface, QueryRunner } from 'typeorm';

export class Campaigns1796639709183 implements MigrationInterface {
  name = 'Campaigns1796639709183';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"campaign_attempts\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"campaign_id\" uuid NOT NULL, \"recipient_id\" uuid NOT NULL, \"attempt_number\" integer NOT NULL, \"state\" character varying(10) NOT NULL, \"record_id\" uuid, \"sid\" character varying(64), \"status\" character varying(20), \"outcome\" character varying(20), \"error\" text, \"requested_at\" TIMESTAMP WITH TIME ZONE, \"answered_at\" TIMESTAMP WITH TIME ZONE, \"ended_at\" TIMESTAMP WITH TIME ZONE, \"price\" numeric(12,5), \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_c13c50b103a8ae4306069b9f18b\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_campaign_attempts_requested\" ON \"campaign_attempts\"  (\"campaign_id\", \"requested_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_campaign_attempts_open\" ON \"campaign_attempts\"  (\"campaign_id\", \"state\") WHERE state <> 'done'");
    await queryRunner.query("CREATE UNIQUE INDEX \"idx_campaign_attempts_number\" ON \"campaign_attempts\"  (\"recipient_id\", \"attempt_number\") ");
    await queryRunner.query("CREATE TABLE \"campaign_recipients\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"campaign_id\" uuid NOT NULL, \"position\" integer NOT NULL, \"to_number\" character varying(32) NOT NULL, \"time_zones\" text NOT NULL, \"variables\" jsonb NOT NULL, \"metadata\" jsonb NOT NULL, \"content\" text, \"state\" character varying(20) NOT NULL, \"skip_reason\" character varying(40), \"skip_message\" text, \"attempts\" integer NOT NULL DEFAULT '0', \"next_attempt_at\" TIMESTAMP WITH TIME ZONE, \"last_outcome\" character varying(20), \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_30d346f6af084aa7b916945a4f1\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_campaign_recipients_state\" ON \"campaign_recipients\"  (\"campaign_id\", \"state\") ");
    await queryRunner.query("CREATE INDEX \"idx_campaign_recipients_due\" ON \"campaign_recipients\"  (\"campaign_id\", \"next_attempt_at\") WHERE state IN ('pending', 'retrying')");
    await queryRunner.query("CREATE UNIQUE INDEX \"idx_campaign_recipients_position\" ON \"campaign_recipients\"  (\"campaign_id\", \"position\") ");
    await queryRunner.query("CREATE TABLE \"campaigns\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"name\" character varying(200) NOT NULL, \"channel\" character varying(10) NOT NULL, \"content_kind\" character varying(20) NOT NULL, \"template\" text NOT NULL, \"from_numbers\" text array NOT NULL, \"state\" character varying(20) NOT NULL, \"paused_reason\" text, \"start_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"window_start\" character varying(5) NOT NULL, \"window_end\" character varying(5) NOT NULL, \"window_days\" text array NOT NULL, \"per_second\" integer NOT NULL, \"max_live\" integer NOT NULL, \"retry_on\" text array NOT NULL, \"max_attempts\" integer NOT NULL, \"retry_after_seconds\" integer NOT NULL, \"import_report\" jsonb NOT NULL, \"created_by\" character varying(200) NOT NULL, \"started_at\" TIMESTAMP WITH TIME ZONE, \"finished_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_831e3fcd4fc45b4e4c3f57a9ee4\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_campaigns_created\" ON \"campaigns\"  (\"created_at\", \"id\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaigns_created\"");
    await queryRunner.query("DROP TABLE \"campaigns\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_recipients_position\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_recipients_due\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_recipients_state\"");
    await queryRunner.query("DROP TABLE \"campaign_recipients\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_attempts_number\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_attempts_open\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_campaign_attempts_requested\"");
    await queryRunner.query("DROP TABLE \"campaign_attempts\"");
  }
}
