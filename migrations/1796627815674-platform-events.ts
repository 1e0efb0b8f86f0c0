import { MigrationInterface, QueryRunner } from 'typeorm';

export class PlatformEvents1796627815674 implements MigrationInterface {
  name = 'PlatformEvents1796627815674';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("CREATE TABLE \"event_attempts\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"delivery_id\" uuid NOT NULL, \"attempted_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"status_code\" integer, \"latency_ms\" integer NOT NULL, \"response_excerpt\" text, \"error\" text, CONSTRAINT \"PK_a3cf4ee2c22e3a280b72fcb4fa8\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_event_attempts_delivery\" ON \"event_attempts\"  (\"delivery_id\", \"attempted_at\") ");
    await queryRunner.query("CREATE TABLE \"event_deliveries\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"event_id\" uuid NOT NULL, \"endpoint_id\" uuid NOT NULL, \"state\" character varying(16) NOT NULL DEFAULT 'pending', \"attempts\" integer NOT NULL DEFAULT '0', \"delivered_at\" TIMESTAMP WITH TIME ZONE, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"uq_event_deliveries_event_endpoint\" UNIQUE (\"event_id\", \"endpoint_id\"), CONSTRAINT \"PK_ca0ffb54b343624dfb988080657\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_event_deliveries_endpoint\" ON \"event_deliveries\"  (\"endpoint_id\") ");
    await queryRunner.query("CREATE TABLE \"event_endpoints\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"url\" text NOT NULL, \"event_types\" text array NOT NULL, \"description\" text, \"enabled\" boolean NOT NULL DEFAULT true, \"secret\" text NOT NULL, \"previous_secret\" text, \"previous_secret_expires_at\" TIMESTAMP WITH TIME ZONE, \"consecutive_failures\" integer NOT NULL DEFAULT '0', \"failing_since\" TIMESTAMP WITH TIME ZONE, \"disabled_reason\" text, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"updated_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT \"PK_0f2fcf3fc0c30c49b14bab3d81a\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE TABLE \"events\" (\"id\" uuid NOT NULL DEFAULT gen_random_uuid(), \"type\" character varying(40) NOT NULL, \"resource_type\" character varying(20) NOT NULL, \"resource_id\" uuid, \"resource_sid\" character varying(64), \"occurred_at\" TIMESTAMP WITH TIME ZONE NOT NULL, \"payload\" jsonb NOT NULL, \"created_at\" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), \"relayed_at\" TIMESTAMP WITH TIME ZONE, CONSTRAINT \"PK_40731c7151fe4be3116e45ddf73\" PRIMARY KEY (\"id\"))");
    await queryRunner.query("CREATE INDEX \"idx_events_unrelayed\" ON \"events\"  (\"created_at\") WHERE relayed_at IS NULL");
    await queryRunner.query("CREATE INDEX \"idx_events_resource_sid_created\" ON \"events\"  (\"resource_sid\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_events_type_created\" ON \"events\"  (\"type\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_events_created\" ON \"events\"  (\"created_at\", \"id\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_type_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_resource_sid_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_events_unrelayed\"");
    await queryRunner.query("DROP TABLE \"events\"");
    await queryRunner.query("DROP TABLE \"event_endpoints\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_event_deliveries_endpoint\"");
    await queryRunner.query("DROP TABLE \"event_deliveries\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_event_attempts_delivery\"");
    await queryRunner.query("DROP TABLE \"event_attempts\"");
  }
}
