import { MigrationInterface, QueryRunner } from 'typeorm';

export class IdempotencyKeys1796183277023 implements MigrationInterface {
  name = 'IdempotencyKeys1796183277023';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"idempotency_keys\" (\"subject\" character varying(255) NOT NULL, \"key\" character varying(255) NOT NULL, \"request_method\" character varying(10) NOT NULL, \"request_path\" character varying(255) NOT NULL, \"fingerprint\" character(64) NOT NULL, \"state\" character varying(16) NOT NULL, \"lock_token\" uuid, \"response_status\" integer, \"response_body\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"locked_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"completed_at\" TIMESTAMP WITH TIME ZONE, \"expires_at\" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT \"PK_1ba62989dcb5b1f00b90d92d427\" PRIMARY KEY (\"subject\", \"key\"))");
    await queryRunner.query("CREATE INDEX \"IDX_idempotency_keys_expires_at\" ON \"idempotency_keys\"  (\"expires_at\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"IDX_idempotency_keys_expires_at\"");
    await queryRunner.query("DROP TABLE \"idempotency_keys\"");
  }
}
