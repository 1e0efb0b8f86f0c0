import { MigrationInterface, QueryRunner } from 'typeorm';

export class Init1795523155463 implements MigrationInterface {
  name = 'Init1795523155463';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"call_records\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"sid\" character varying(34) NOT NULL, \"direction\" character varying(16) NOT NULL, \"from_number\" character varying(32) NOT NULL, \"to_number\" character varying(32) NOT NULL, \"status\" character varying(16) NOT NULL, \"status_sequence\" integer NOT NULL DEFAULT '-1', \"message\" text, \"audio_url\" text, \"twiml\" text, \"voice\" character varying(64), \"language\" character varying(16), \"record\" boolean NOT NULL DEFAULT false, \"machine_detection\" boolean NOT NULL DEFAULT false, \"timeout_seconds\" integer, \"agent_name\" character varying(200), \"call_purpose\" character varying(200), \"workflow_id\" character varying(200), \"created_by\" character varying(200), \"start_time\" TIMESTAMP WITH TIME ZONE, \"end_time\" TIMESTAMP WITH TIME ZONE, \"duration_seconds\" integer, \"price\" numeric(12,5), \"price_unit\" character varying(3), \"answered_by\" character varying(32), \"queue_time_ms\" integer, \"error_code\" integer, \"error_message\" text, \"synced_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_ca3ee401ef0cd1a9cebf8f494b0\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_call_records_sid\" ON \"call_records\"  (\"sid\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_direction_created\" ON \"call_records\"  (\"direction\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_workflow_created\" ON \"call_records\"  (\"workflow_id\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_agent_created\" ON \"call_records\"  (\"agent_name\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_from_created\" ON \"call_records\"  (\"from_number\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_to_created\" ON \"call_records\"  (\"to_number\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_status_created\" ON \"call_records\"  (\"status\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_created\" ON \"call_records\"  (\"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"message_records\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"sid\" character varying(34) NOT NULL, \"direction\" character varying(16) NOT NULL, \"from_number\" character varying(32) NOT NULL, \"to_number\" character varying(32) NOT NULL, \"body\" text NOT NULL, \"segments\" integer NOT NULL DEFAULT '1', \"media_urls\" jsonb NOT NULL, \"status\" character varying(16) NOT NULL, \"agent_name\" character varying(200), \"created_by\" character varying(200), \"error_code\" integer, \"error_message\" text, \"price\" numeric(12,5), \"price_unit\" character varying(3), \"sent_at\" TIMESTAMP WITH TIME ZONE, \"synced_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_b814e1ce4b9ad3f819e92243fb0\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_message_records_sid\" ON \"message_records\"  (\"sid\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_direction_created\" ON \"message_records\"  (\"direction\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_agent_created\" ON \"message_records\"  (\"agent_name\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_from_created\" ON \"message_records\"  (\"from_number\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_to_created\" ON \"message_records\"  (\"to_number\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_status_created\" ON \"message_records\"  (\"status\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_created\" ON \"message_records\"  (\"created_at\", \"id\") ");
    await queryRunner.query("CREATE TABLE \"opt_outs\" (\"phone_number\" character varying(32) NOT NULL, \"opted_out\" boolean NOT NULL, \"keyword\" character varying(16) NOT NULL, \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_b190f67b720fda01a8f90c96635\" PRIMARY KEY (\"phone_number\"))");
    await queryRunner.query("CREATE TABLE \"phone_numbers\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"sid\" character varying(34) NOT NULL, \"phone_number\" character varying(32) NOT NULL, \"friendly_name\" character varying(64) NOT NULL, \"capabilities\" jsonb NOT NULL, \"voice_url\" text, \"sms_url\" text, \"status_callback_url\" text, \"purchased_by\" character varying(200), \"released_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_a72cf9a1834a1417e195fdd2c02\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_phone_numbers_sid\" ON \"phone_numbers\"  (\"sid\") ");
    await queryRunner.query("CREATE INDEX \"idx_phone_numbers_created\" ON \"phone_numbers\"  (\"created_at\", \"id\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_phone_numbers_active_number\" ON \"phone_numbers\"  (\"phone_number\") WHERE released_at IS NULL");
    await queryRunner.query("CREATE TABLE \"recordings\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"sid\" character varying(34) NOT NULL, \"call_sid\" character varying(34) NOT NULL, \"url\" text, \"status\" character varying(16) NOT NULL, \"duration_seconds\" integer, \"channels\" integer, \"source\" character varying(32), \"started_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_8c3247d5ee4551d59bb2115a484\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_recordings_sid\" ON \"recordings\"  (\"sid\") ");
    await queryRunner.query("CREATE INDEX \"idx_recordings_call\" ON \"recordings\"  (\"call_sid\", \"created_at\") ");
    await queryRunner.query("CREATE TABLE \"status_events\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"resource_type\" character varying(8) NOT NULL, \"resource_sid\" character varying(34) NOT NULL, \"status\" character varying(16) NOT NULL, \"sequence_number\" integer NOT NULL DEFAULT '-1', \"source\" character varying(16) NOT NULL, \"occurred_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"error_code\" integer, CONSTRAINT \"PK_9d6b2aec145f59238d523c484ef\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_status_events_resource_time\" ON \"status_events\"  (\"resource_sid\", \"occurred_at\") ");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_status_events_resource_status\" ON \"status_events\"  (\"resource_sid\", \"status\", \"sequence_number\") ");
    await queryRunner.query("CREATE TABLE \"webhook_events\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"kind\" character varying(24) NOT NULL, \"sid\" character varying(34) NOT NULL, \"dedupe_key\" character varying(200) NOT NULL, \"idempotency_token\" character varying(200), \"payload\" jsonb NOT NULL, \"received_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"applied_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_4cba37e6a0acb5e1fc49c34ebfd\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_webhook_events_dedupe_key\" ON \"webhook_events\"  (\"dedupe_key\") ");
    await queryRunner.query("CREATE INDEX \"idx_webhook_events_unapplied\" ON \"webhook_events\"  (\"applied_at\", \"received_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_webhook_events_sid_received\" ON \"webhook_events\"  (\"sid\", \"received_at\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhook_events_sid_received\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_webhook_events_unapplied\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_webhook_events_dedupe_key\"");
    await queryRunner.query("DROP TABLE \"webhook_events\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_status_events_resource_status\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_status_events_resource_time\"");
    await queryRunner.query("DROP TABLE \"status_events\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_recordings_call\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_recordings_sid\"");
    await queryRunner.query("DROP TABLE \"recordings\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_phone_numbers_active_number\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_phone_numbers_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_phone_numbers_sid\"");
    await queryRunner.query("DROP TABLE \"phone_numbers\"");
    await queryRunner.query("DROP TABLE \"opt_outs\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_status_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_direction_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_message_records_sid\"");
    await queryRunner.query("DROP TABLE \"message_records\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_status_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_workflow_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_direction_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_call_records_sid\"");
    await queryRunner.query("DROP TABLE \"call_records\"");
  }
}
