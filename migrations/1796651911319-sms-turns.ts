import { MigrationInterface, QueryRunner } from 'typeorm';

export class SmsTurns1796651911319 implements MigrationInterface {
  name = 'SmsTurns1796651911319';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"sms_turns\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"assistant_id\" uuid NOT NULL, \"our_number\" character varying(32) NOT NULL, \"their_number\" character varying(32) NOT NULL, \"role\" character varying(16) NOT NULL, \"text\" text NOT NULL, \"message_sid\" character varying(34), \"agent_latency_ms\" integer, \"agent_error\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT clock_timestamp(), CONSTRAINT \"PK_260223df4402cfd26c92b8b0bf3\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE UNIQUE INDEX \"uq_sms_turns_message\" ON \"sms_turns\"  (\"message_sid\") WHERE message_sid IS NOT NULL");
    await queryRunner.query("CREATE INDEX \"idx_sms_turns_conversation\" ON \"sms_turns\"  (\"their_number\", \"our_number\", \"created_at\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_sms_turns_conversation\"");
    await queryRunner.query("DROP INDEX \"public\".\"uq_sms_turns_message\"");
    await queryRunner.query("DROP TABLE \"sms_turns\"");
  }
}
