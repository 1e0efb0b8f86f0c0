import { MigrationInterface, QueryRunner } from 'typeorm';

export class Conversations1796639599857 implements MigrationInterface {
  name = 'Conversations1796639599857';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"assistants\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"name\" text NOT NULL, \"agent_url\" text NOT NULL, \"first_message\" text, \"greeting\" text, \"voice\" text NOT NULL, \"language\" text NOT NULL, \"speech_hints\" text array NOT NULL DEFAULT '{}', \"input_timeout_seconds\" integer NOT NULL, \"speech_timeout\" text NOT NULL, \"profanity_filter\" boolean NOT NULL, \"speech_model\" text, \"max_turns\" integer NOT NULL, \"max_duration_seconds\" integer NOT NULL, \"silence_limit\" integer NOT NULL, \"end_phrases\" text array NOT NULL DEFAULT '{}', \"transfer_number\" text, \"voicemail_message\" text, \"metadata\" jsonb NOT NULL DEFAULT '{}', \"secret\" text NOT NULL, \"previous_secret\" text, \"previous_secret_expires_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_640d8c25456e38fc20f6081d754\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE TABLE \"call_turns\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"call_sid\" character varying(34) NOT NULL, \"seq\" integer NOT NULL, \"step\" integer, \"role\" character varying(16) NOT NULL, \"text\" text, \"confidence\" double precision, \"digits\" text, \"answer_twiml\" text, \"agent_latency_ms\" integer, \"agent_error\" text, \"twilio_token\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"answered_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_2bfc685cc1104d07effea901274\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_call_turns_step\" ON \"call_turns\"  (\"call_sid\", \"step\") WHERE step IS NOT NULL");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_call_turns_seq\" ON \"call_turns\"  (\"call_sid\", \"seq\") ");
    await queryRunner.query("ALTER TABLE \"call_records\" ADD \"assistant_id\" uuid");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" ADD \"assistant_id\" uuid");
    await queryRunner.query("CREATE INDEX \"idx_phone_numbers_assistant\" ON \"phone_numbers\"  (\"assistant_id\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_phone_numbers_assistant\"");
    await queryRunner.query("ALTER TABLE \"phone_numbers\" DROP COLUMN \"assistant_id\"");
    await queryRunner.query("ALTER TABLE \"call_records\" DROP COLUMN \"assistant_id\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_call_turns_seq\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_call_turns_step\"");
    await queryRunner.query("DROP TABLE \"call_turns\"");
    await queryRunner.query("DROP TABLE \"assistants\"");
  }
}
