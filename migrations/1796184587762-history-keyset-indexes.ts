import { MigrationInterface, QueryRunner } from 'typeorm';

export class HistoryKeysetIndexes1796184587762 implements MigrationInterface {
  name = 'HistoryKeysetIndexes1796184587762';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_direction_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_workflow_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_status_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_direction_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_status_created\"");
    await queryRunner.query("CREATE INDEX \"idx_call_records_direction_created\" ON \"call_records\"  (\"direction\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_workflow_created\" ON \"call_records\"  (\"workflow_id\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_agent_created\" ON \"call_records\"  (\"agent_name\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_from_created\" ON \"call_records\"  (\"from_number\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_to_created\" ON \"call_records\"  (\"to_number\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_status_created\" ON \"call_records\"  (\"status\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_direction_created\" ON \"message_records\"  (\"direction\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_agent_created\" ON \"message_records\"  (\"agent_name\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_from_created\" ON \"message_records\"  (\"from_number\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_to_created\" ON \"message_records\"  (\"to_number\", \"created_at\", \"id\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_status_created\" ON \"message_records\"  (\"status\", \"created_at\", \"id\") ");
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_status_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_message_records_direction_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_status_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_to_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_from_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_agent_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_workflow_created\"");
    await queryRunner.query("DROP INDEX \"public\".\"idx_call_records_direction_created\"");
    await queryRunner.query("CREATE INDEX \"idx_message_records_status_created\" ON \"message_records\" USING btree (\"created_at\", \"status\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_to_created\" ON \"message_records\" USING btree (\"created_at\", \"to_number\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_from_created\" ON \"message_records\" USING btree (\"created_at\", \"from_number\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_agent_created\" ON \"message_records\" USING btree (\"agent_name\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_message_records_direction_created\" ON \"message_records\" USING btree (\"created_at\", \"direction\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_status_created\" ON \"call_records\" USING btree (\"created_at\", \"status\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_to_created\" ON \"call_records\" USING btree (\"created_at\", \"to_number\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_from_created\" ON \"call_records\" USING btree (\"created_at\", \"from_number\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_agent_created\" ON \"call_records\" USING btree (\"agent_name\", \"created_at\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_workflow_created\" ON \"call_records\" USING btree (\"created_at\", \"workflow_id\") ");
    await queryRunner.query("CREATE INDEX \"idx_call_records_direction_created\" ON \"call_records\" USING btree (\"created_at\", \"direction\") ");
  }
}
